/** relu(x) = max(x, 0); derivative from the output: 1 where y > 0. */
import { activationOp, type ActivationDef } from "./activation.js";

export const reluDef: ActivationDef = {
  kind: "relu",
  fwd: (x) => `${x} > 0 ? ${x} : 0`,
  uses: "out",
  grad: (g, y) => `${y} > 0 ? ${g} : 0`,
};

export const relu = activationOp(reluDef);
