/**
 * matmul_tn(dy, x) = dyᵀ·x: the weight gradient [M, K] of `matmul`, summed over the batch.
 * Tiles of 4 units × 4 inputs; the inner loop walks the batch, reading 4 contiguous values of
 * dy and 4 of x per sample.
 */
import type { OpDef } from "./types.js";
import { gemm } from "../codegen/gemm.js";

export const matmulTn: OpDef = {
  name: "matmul_tn",
  doc: "dyᵀ·x: [n, M]ᵀ × [n, K] → [M, K]",
  shape: (inputs) => [inputs[0]?.[1] ?? 0, inputs[1]?.[1] ?? 0],
  saves: [],
  emit(node, ctx) {
    const [dy, x] = node.inputs as [number, number];
    const [m, k] = node.shape as [number, number];
    const out = ctx.ref(node.id);
    const product = { a: ctx.ref(dy), b: ctx.ref(x), rows: m, cols: k, depth: "n", aR: 1, aD: m, bD: k, bC: 1, oR: k, oC: 1 } as const;
    const call = ctx.kernel?.({ ...product, out });
    if (call !== undefined) return call;
    return gemm({
      ...product,
      store: (acc, o) => `${out}[${o}] = ${acc};`,
    });
  },
};
