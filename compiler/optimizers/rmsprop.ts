/**
 * RMSprop as PyTorch's `RMSprop` (not centered): v = ρv + (1 − ρ)g²; p −= lr·g/(√v + ε), or
 * with momentum b = μb + g/(√v + ε); p −= lr·b. ε after the square root (PyTorch; Keras adds
 * it inside in TF 1 and after in Keras 3); default 1e-7 as Keras. No wasm kernel.
 */
import { epsilonArg, fractionArg, lrArg } from "./common.js";
import { defineOptimizer, setting } from "./types.js";

export const rmsprop = defineOptimizer({
  word: "rmsprop",
  doc: "Divides the gradient by a running average of its magnitude.",
  args: [lrArg(0.001), fractionArg("rho", "decay of the squared-gradient average", 0.9), fractionArg("momentum", "fraction of the last step kept", 0), epsilonArg(1e-7)],
  decay: "l2",
  moments: (o) => (setting(o, "momentum") > 0 ? 2 : 1),
  describe: (o) => [`rho ${setting(o, "rho")}`, `epsilon ${setting(o, "epsilon")}`, ...(setting(o, "momentum") > 0 ? [`momentum ${setting(o, "momentum")}`] : [])],
  update(o, w) {
    const [rho, eps, mu] = [w.num(setting(o, "rho")), w.num(setting(o, "epsilon")), setting(o, "momentum")];
    const loop = [`const v = (${w.moment(0)} = ${rho} * ${w.moment(0)} + (1 - ${rho}) * g * g);`];
    if (mu > 0) loop.push(`const b = (${w.moment(1)} = ${w.num(mu)} * ${w.moment(1)} + g / (Math.sqrt(v) + ${eps}));`, `params[i] -= lr * b;`);
    else loop.push(`params[i] -= (lr * g) / (Math.sqrt(v) + ${eps});`);
    return { pre: [], loop };
  },
});
