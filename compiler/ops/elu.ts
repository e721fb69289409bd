/** elu(x) = x for x > 0, alpha·(eˣ − 1) otherwise; for x ≤ 0 the derivative is y + alpha. */
import { activationOp, type ActivationDef } from "./activation.js";

export const eluDef: ActivationDef = {
  kind: "elu",
  fwd: (x, a) => `${x} > 0 ? ${x} : ${a} * (Math.exp(${x}) - 1)`,
  uses: "out",
  grad: (g, y, a) => `${y} > 0 ? ${g} : ${g} * (${y} + ${a})`,
};

export const elu = activationOp(eluDef);
