/**
 * gelu, tanh approximation (as in BERT/GPT-2 and Keras' `approximate=True`):
 * 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). The derivative reads the input.
 */
import { activationOp, type ActivationDef } from "./activation.js";
import { TANH } from "./tanh.js";

const GELU = `function gelu(x: number): number {
  return 0.5 * x * (1 + tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
}`;
const GELU_GRAD = `function geluGrad(x: number): number {
  const t = tanh(0.7978845608028654 * (x + 0.044715 * x * x * x));
  return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * 0.7978845608028654 * (1 + 0.134145 * x * x);
}`;

export const geluDef: ActivationDef = {
  kind: "gelu",
  fwd: (x) => `gelu(${x})`,
  uses: "in",
  grad: (g, x) => `${g} * geluGrad(${x})`,
  helpers: [TANH, GELU, GELU_GRAD],
};

export const gelu = activationOp(geluDef);
