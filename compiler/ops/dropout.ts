/**
 * dropout_mask(x) with attribute `rate`: the mask of inverted dropout, a value shaped like x —
 * in training, each element is 0 with probability `rate`, else 1/(1 − rate), drawn from the
 * module's generator in element order (x is read for its shape only). The `dropout` layer
 * multiplies its input by it (`mul`), so the backward pass is `mul`'s adjoint, dy ⊙ mask, which
 * fusion puts into the epilogue of the matmul below it when there is one (`fuse.ts`, rule 3).
 *
 * At inference the mask is all ones and is not computed: the `mul` that reads a dropout mask
 * copies its other operand instead (`codegen/ts/elementwise.ts`). No gradient flows through the
 * mask (it does not depend on x's values).
 */
import type { OpDef } from "./types.js";

export const dropoutMask: OpDef = {
  name: "dropout_mask",
  doc: "inverted-dropout mask shaped like x: 0 with probability rate, else 1/(1 − rate) (training only)",
  shape: (inputs) => inputs[0] ?? [],
  usesTraining: true,
  noGradient: true,
};
