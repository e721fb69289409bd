/**
 * dropout(h) with attribute `rate`: in training, each value is kept with probability 1 − rate
 * and scaled by 1 / (1 − rate) (inverted dropout), the mask saved in its `mask` buffer; in
 * inference, a copy. Adjoint: `dropout_grad`, dy ⊙ mask (fused into the matmul below it when
 * there is one).
 */
import type { OpDef } from "./types.js";

export const dropout: OpDef = {
  name: "dropout",
  doc: "inverted dropout with a saved mask",
  shape: (inputs) => inputs[0] ?? [],
  auxBuffers: ["mask"],
  usesTraining: true,
  adjoint(node, dOut, g) {
    if (dOut === undefined) throw new Error("bug: dropout as loss");
    const h = node.inputs[0] as number;
    return [g.add("dropout_grad", [dOut, node.id], {}, g.gradName(h), node.origin)];
  },
};

/** dropout_grad(dy, dropoutNode): dy ⊙ the mask drawn by that dropout node. */
export const dropoutGrad: OpDef = {
  name: "dropout_grad",
  doc: "dy ⊙ mask",
  shape: (inputs) => inputs[0] ?? [],
};
