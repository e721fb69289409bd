/** Backward of an elementwise activation: dx = dy · f′, from the saved output or input. */
import type { OpDef } from "./types.js";
import { alphaOf, attrStr, eachElement } from "./types.js";
import { activationDef } from "./activations.js";

export const activationGrad: OpDef = {
  name: "activation_grad",
  doc: "dL/dx of an activation from dL/dy and the saved value",
  shape: (inputs) => inputs[0] ?? [],
  saves: [],
  emit(node, ctx) {
    const def = activationDef(attrStr(node.attrs, "act"));
    const [g, v] = node.inputs as [number, number];
    const alpha = ctx.num(alphaOf(node.attrs));
    return eachElement(node, `${ctx.ref(node.id)}[i] = ${def.grad(`${ctx.ref(g)}[i]`, `${ctx.ref(v)}[i]`, alpha)};`);
  },
};
