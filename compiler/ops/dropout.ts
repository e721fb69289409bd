/**
 * dropout(h): in training, each value is kept with probability 1 − rate and scaled by
 * 1 / (1 − rate) (inverted dropout), the mask saved in a buffer; in inference, a copy.
 * Adjoint: `dropout_grad`, dy ⊙ mask (fused into the matmul below it when there is one).
 */
import type { OpDef } from "./types.js";
import { attrNum, eachElement } from "./types.js";

export const dropout: OpDef = {
  name: "dropout",
  doc: "inverted dropout with a saved mask",
  shape: (inputs) => inputs[0] ?? [],
  saves: [],
  auxBuffers: ["mask"],
  usesTraining: true,
  adjoint(node, dOut, g) {
    if (dOut === undefined) throw new Error("bug: dropout as loss");
    const h = node.inputs[0] as number;
    return [g.add("dropout_grad", [dOut, node.id], {}, g.gradName(h), node.origin)];
  },
  emit(node, ctx) {
    const rate = attrNum(node.attrs, "rate");
    const h = ctx.ref(node.inputs[0] as number);
    const out = ctx.ref(node.id);
    const mask = ctx.aux(node.id, "mask");
    const train = eachElement(
      node,
      `const m = ${ctx.rand}() < ${ctx.num(rate)} ? 0 : ${ctx.num(1 / (1 - rate))};\n${mask}[i] = m;\n${out}[i] = ${h}[i] * m;`,
    );
    return `if (${ctx.training}) {\n${train}\n} else {\n${eachElement(node, `${out}[i] = ${h}[i];`)}\n}`;
  },
};
