/**
 * Stochastic gradient descent with optional (Nesterov) momentum, as PyTorch's `SGD`:
 * v = μ·v + g; p −= lr·v, or p −= lr·(g + μ·v) with Nesterov (dampening 0).
 */
import { arg } from "../schema.js";
import { fractionArg, lrArg } from "./common.js";
import { defineOptimizer, setting } from "./types.js";

export const sgd = defineOptimizer({
  word: "sgd",
  doc: "Stochastic gradient descent, with optional (Nesterov) momentum.",
  args: [lrArg(0.01), fractionArg("momentum", "fraction of the last step kept", 0), arg.bool("nesterov", "use Nesterov momentum", false)],
  decay: "l2",
  conflict: (o) =>
    o.settings["nesterov"] === true && setting(o, "momentum") === 0 ? { arg: "nesterov", message: "Nesterov momentum needs a momentum above 0", hint: "add e.g. `momentum: 0.9`" } : undefined,
  moments: (o) => (setting(o, "momentum") > 0 ? 1 : 0),
  describe: (o) => (setting(o, "momentum") > 0 ? [`momentum ${setting(o, "momentum")}${o.settings["nesterov"] === true ? ", nesterov" : ""}`] : []),
  update(o, w) {
    const mu = setting(o, "momentum");
    if (mu === 0) return { pre: [], loop: [`params[i] -= lr * g;`] };
    return {
      pre: [],
      loop: [`const v = (${w.moment(0)} = ${w.num(mu)} * ${w.moment(0)} + g);`, o.settings["nesterov"] === true ? `params[i] -= lr * (g + ${w.num(mu)} * v);` : `params[i] -= lr * v;`],
    };
  },
  wasm: (o) => ({
    kernel: { kind: "sgd", momentum: setting(o, "momentum"), nesterov: o.settings["nesterov"] === true, beta1: 0, beta2: 0, epsilon: 0 },
    pre: [],
    args: ["lr", "0", "0"],
  }),
});
