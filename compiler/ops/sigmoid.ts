/** sigmoid(x) = 1 / (1 + e⁻ˣ); derivative from the output: y·(1 − y). */
import { activationOp, type ActivationDef } from "./activation.js";

export const sigmoidDef: ActivationDef = {
  kind: "sigmoid",
  fwd: (x) => `1 / (1 + Math.exp(-${x}))`,
  uses: "out",
  grad: (g, y) => `${g} * ${y} * (1 - ${y})`,
};

export const sigmoid = activationOp(sigmoidDef);
