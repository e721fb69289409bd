/**
 * tanh(x); derivative from the output: 1 − y².
 *
 * V8's `Math.tanh` is an out-of-line call, about half of a small tanh network's step; the
 * helper computes it from `Math.expm1` (inlined) to within 2 ulp, and saturates past ±20.
 */
import { activationOp, type ActivationDef } from "./activation.js";

export const TANH = `function tanh(x: number): number {
  if (x > 20) return 1;
  if (x < -20) return -1;
  const e = Math.expm1(2 * x);
  return e / (e + 2);
}`;

export const tanhDef: ActivationDef = {
  kind: "tanh",
  fwd: (x) => `tanh(${x})`,
  uses: "out",
  grad: (g, y) => `${g} * (1 - ${y} * ${y})`,
  helpers: [TANH],
};

export const tanh = activationOp(tanhDef);
