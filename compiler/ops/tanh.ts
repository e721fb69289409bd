/** tanh(x); derivative from the output: 1 − y². */
import { activationOp, type ActivationDef } from "./activation.js";

export const tanhDef: ActivationDef = {
  kind: "tanh",
  fwd: (x) => `Math.tanh(${x})`,
  uses: "out",
  grad: (g, y) => `${g} * (1 - ${y} * ${y})`,
};

export const tanh = activationOp(tanhDef);
