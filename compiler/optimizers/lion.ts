/**
 * Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms"): the sign of an
 * interpolated momentum, c = β₁m + (1 − β₁)g; p ← p·(1 − lr·wd) − lr·sign(c); then
 * m = β₂m + (1 − β₂)g. Decoupled weight decay, one moment. Defaults as the paper and
 * `lion-pytorch`: lr 1e-4 (3–10× smaller than AdamW's), β₁ 0.9, β₂ 0.99. No wasm kernel.
 */
import { fractionArg, lrArg } from "./common.js";
import { defineOptimizer, setting } from "./types.js";

export const lion = defineOptimizer({
  word: "lion",
  doc: "The sign of an interpolated momentum: one moment, uniform step sizes (Chen et al. 2023).",
  args: [lrArg(0.0001), fractionArg("beta1", "weight of the momentum in the step's direction", 0.9), fractionArg("beta2", "decay of the momentum", 0.99)],
  decay: "decoupled",
  moments: () => 1,
  describe: (o) => [`beta1 ${setting(o, "beta1")}`, `beta2 ${setting(o, "beta2")}`],
  update(o, w) {
    const [b1, b2] = [w.num(setting(o, "beta1")), w.num(setting(o, "beta2"))];
    const decay = o.weightDecay > 0;
    return {
      pre: decay ? [`const decay = 1 - lr * ${w.num(o.weightDecay)}; // decoupled weight decay`] : [],
      loop: [
        `const c = ${b1} * ${w.moment(0)} + (1 - ${b1}) * g;`,
        `${decay ? "params[i] = params[i] * decay" : "params[i] -="} ${decay ? "- " : ""}lr * (c > 0 ? 1 : c < 0 ? -1 : 0);`,
        `${w.moment(0)} = ${b2} * ${w.moment(0)} + (1 - ${b2}) * g;`,
      ],
    };
  },
});
