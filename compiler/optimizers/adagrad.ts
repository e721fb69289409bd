/**
 * Adagrad (Duchi et al.) as PyTorch's `Adagrad`: s += g²; p −= lr·g/(√s + ε), with ε after the
 * square root, the sum starting at 0 and PyTorch's defaults (lr 0.01, ε 1e-10). Keras differs:
 * its sum starts at 0.1 and ε goes inside the root. No wasm kernel: under `--kernels wasm` its
 * update runs in TypeScript, and the compiler says so (NN3016).
 */
import { epsilonArg, lrArg } from "./common.js";
import { defineOptimizer, setting } from "./types.js";

export const adagrad = defineOptimizer({
  word: "adagrad",
  doc: "Per-parameter rates that shrink with the sum of squared gradients; for sparse features.",
  args: [lrArg(0.01), epsilonArg(1e-10)],
  decay: "l2",
  moments: () => 1,
  describe: (o) => [`epsilon ${setting(o, "epsilon")}`],
  update: (o, w) => ({
    pre: [],
    loop: [`const s = (${w.moment(0)} += g * g);`, `params[i] -= (lr * g) / (Math.sqrt(s) + ${w.num(setting(o, "epsilon"))});`],
  }),
});
