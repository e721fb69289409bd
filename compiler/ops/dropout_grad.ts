/** dropout_grad(dy, dropoutNode): dy ⊙ the mask drawn by that dropout node. */
import type { OpDef } from "./types.js";
import { eachElement } from "./types.js";

export const dropoutGrad: OpDef = {
  name: "dropout_grad",
  doc: "dy ⊙ mask",
  shape: (inputs) => inputs[0] ?? [],
  saves: [],
  emit(node, ctx) {
    const [dy, d] = node.inputs as [number, number];
    return eachElement(node, `${ctx.ref(node.id)}[i] = ${ctx.ref(dy)}[i] * ${ctx.aux(d, "mask")}[i];`);
  },
};
