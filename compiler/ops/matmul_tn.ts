/**
 * matmul_tn(dy, x) = xᵀ·dy: the weight gradient [K, M] of `matmul`, summed over the batch.
 * Tiles of 4 inputs × 3 units; the inner loop walks the batch, reading 4 adjacent values of x
 * and 3 of dy per sample.
 */
import type { OpDef } from "./types.js";
import { gemm } from "../codegen/gemm.js";

export const matmulTn: OpDef = {
  name: "matmul_tn",
  doc: "xᵀ·dy: [n, K]ᵀ × [n, M] → [K, M]",
  shape: (inputs) => [inputs[1]?.[1] ?? 0, inputs[0]?.[1] ?? 0],
  saves: [],
  emit(node, ctx) {
    const [dy, x] = node.inputs as [number, number];
    const [k, m] = node.shape as [number, number];
    const out = ctx.ref(node.id);
    return gemm({
      a: ctx.ref(x),
      b: ctx.ref(dy),
      rows: k,
      cols: m,
      depth: "n",
      aR: 1,
      aD: k,
      bD: m,
      bC: 1,
      oR: m,
      oC: 1,
      store: (acc, o) => `${out}[${o}] = ${acc};`,
    });
  },
};
