/** leaky_relu(x) = x for x > 0, alpha·x otherwise (alpha ≥ 0, so y > 0 exactly where x > 0). */
import { activationOp, type ActivationDef } from "./activation.js";

export const leakyReluDef: ActivationDef = {
  kind: "leaky_relu",
  fwd: (x, a) => `${x} > 0 ? ${x} : ${a} * ${x}`,
  uses: "out",
  grad: (g, y, a) => `${y} > 0 ? ${g} : ${a} * ${g}`,
};

export const leakyRelu = activationOp(leakyReluDef);
