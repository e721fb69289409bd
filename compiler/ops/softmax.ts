/**
 * softmax over each row of the last axis (the classes of an output, the keys of attention's
 * scores). Adjoint: `softmax_grad`, dz = p ⊙ (dp − Σ dp·p), from the saved
 * output. (After cross-entropy `fuse.ts` computes both from the logits: `softmax_cross_entropy.ts`.)
 */
import type { OpDef } from "./types.js";

export const softmax: OpDef = {
  name: "softmax",
  doc: "softmax over each row of the last axis",
  shape: (inputs) => inputs[0] ?? [],
  adjoint(node, dOut, g) {
    if (dOut === undefined) throw new Error("bug: softmax as loss");
    const z = node.inputs[0] as number;
    return [g.add("softmax_grad", [dOut, node.id], {}, g.gradName(z), node.origin)];
  },
};

/** softmax_grad(dp, p): dz = p ⊙ (dp − Σ_j dp_j·p_j), row by row. */
export const softmaxGrad: OpDef = {
  name: "softmax_grad",
  doc: "backward of the softmax over the last axis",
  shape: (inputs) => inputs[0] ?? [],
};
