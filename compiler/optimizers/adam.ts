/**
 * Adam and AdamW (Kingma & Ba; Loshchilov & Hutter), bias-corrected as PyTorch and Keras do:
 * m = β₁m + (1 − β₁)g, v = β₂v + (1 − β₂)g², p −= lr/(1 − β₁ᵗ) · m / (√v/√(1 − β₂ᵗ) + ε).
 * ε is added after the square root and the bias correction (PyTorch's placement); its default
 * 1e-7 is Keras'. Adam's `weight_decay` is an L2 term added to the gradient (PyTorch `Adam`);
 * AdamW's is decoupled: p ← p·(1 − lr·wd) before the step (PyTorch `AdamW`, default 0.01).
 *
 * `amsgrad: true` (Reddi et al. 2018) as PyTorch 1.13's implementation: a third moment keeps
 * the largest v so far, v̂ = max(v̂, v), and the denominator is √v̂/√(1 − β₂ᵗ) + ε (the maximum
 * is taken of the uncorrected v, then bias-corrected). The wasm kernel has no AMSGrad: with it
 * the update runs in TypeScript, and the compiler says so (NN3016).
 */
import { arg } from "../schema.js";
import { epsilonArg, fractionArg, lrArg } from "./common.js";
import { defineOptimizer, setting, type OptimizerDef } from "./types.js";
import type { Optimizer } from "../program.js";

const args = [
  lrArg(0.001),
  fractionArg("beta1", "decay of the first moment", 0.9),
  fractionArg("beta2", "decay of the second moment", 0.999),
  epsilonArg(1e-7),
  arg.bool("amsgrad", "AMSGrad: divide by the largest second moment so far (PyTorch's definition); updates in TypeScript", false),
];

const amsgrad = (o: Optimizer): boolean => o.settings["amsgrad"] === true;

const describe = (o: Optimizer): string[] => [`beta1 ${setting(o, "beta1")}`, `beta2 ${setting(o, "beta2")}`, `epsilon ${setting(o, "epsilon")}`, ...(amsgrad(o) ? ["amsgrad"] : [])];

/** The bias-corrected step size and √(1 − β₂ᵗ), once per step. */
const scalars = (o: Optimizer, num: (x: number) => string): string[] => [
  `const stepSize = lr / (1 - Math.pow(${num(setting(o, "beta1"))}, step));`,
  `const root2 = Math.sqrt(1 - Math.pow(${num(setting(o, "beta2"))}, step));`,
];

function adamLike(word: "adam" | "adamw", doc: string, decoupled: boolean): OptimizerDef {
  return defineOptimizer({
    word,
    doc,
    args,
    decay: decoupled ? "decoupled" : "l2",
    ...(decoupled ? { defaultDecay: 0.01 } : {}),
    moments: (o) => (amsgrad(o) ? 3 : 2),
    describe,
    update(o, w) {
      const [b1, b2, eps] = [w.num(setting(o, "beta1")), w.num(setting(o, "beta2")), w.num(setting(o, "epsilon"))];
      const decay = decoupled && o.weightDecay > 0;
      return {
        pre: [...scalars(o, w.num), ...(decay ? [`const decay = 1 - lr * ${w.num(o.weightDecay)}; // decoupled weight decay`] : [])],
        loop: [
          `const m = (${w.moment(0)} = ${b1} * ${w.moment(0)} + (1 - ${b1}) * g);`,
          amsgrad(o) ? `const v1 = (${w.moment(1)} = ${b2} * ${w.moment(1)} + (1 - ${b2}) * g * g);` : `const v = (${w.moment(1)} = ${b2} * ${w.moment(1)} + (1 - ${b2}) * g * g);`,
          ...(amsgrad(o) ? [`const v = (${w.moment(2)} = Math.max(${w.moment(2)}, v1)); // AMSGrad: the largest second moment so far`] : []),
          decay ? `params[i] = params[i] * decay - stepSize * m / (Math.sqrt(v) / root2 + ${eps});` : `params[i] -= stepSize * m / (Math.sqrt(v) / root2 + ${eps});`,
        ],
      };
    },
    // The kernel has no AMSGrad moment: undefined sends that update to the TypeScript loop.
    wasm: (o, num) => amsgrad(o) ? undefined : ({
      kernel: { kind: "adam", momentum: 0, nesterov: false, beta1: setting(o, "beta1"), beta2: setting(o, "beta2"), epsilon: setting(o, "epsilon") },
      pre: scalars(o, num),
      args: ["stepSize", "root2", decoupled && o.weightDecay > 0 ? `lr * ${num(o.weightDecay)}` : "0"],
    }),
  });
}

export const adam = adamLike("adam", "Adaptive moments; a good default.", false);
export const adamw = adamLike("adamw", "Adam with decoupled weight decay.", true);
