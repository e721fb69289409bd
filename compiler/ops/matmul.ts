/**
 * matmul(x, w): x [n, K] times w [K, M] (stored input by input, like Keras' kernel, so a tile's
 * columns are adjacent values of a w row and the n = 1 path reads w contiguously). Adjoint:
 * dx = dy·wᵀ (`matmul_nn`), dw = xᵀ·dy (`matmul_tn`).
 */
import type { OpDef } from "./types.js";
import { gemm } from "../codegen/gemm.js";
import type { IrNode } from "../ir.js";
import type { EmitContext } from "./types.js";

export function forwardGemm(node: IrNode, ctx: EmitContext, colSetup: ((ci: number, c: string) => string) | undefined, store: (acc: string, o: string, ci: number) => string): string {
  const [x, w] = node.inputs as [number, number];
  const [k, m] = ctx.node(w).shape as [number, number];
  return gemm({
    a: ctx.ref(x),
    b: ctx.ref(w),
    rows: "n",
    cols: m,
    depth: k,
    aR: k,
    aD: 1,
    bD: m,
    bC: 1,
    oR: m,
    oC: 1,
    ...(colSetup !== undefined ? { colSetup } : {}),
    store,
  });
}

export const matmul: OpDef = {
  name: "matmul",
  doc: "x·w: [n, K] × [K, M] → [n, M]",
  shape: (inputs) => [inputs[0]?.[0] ?? "n", inputs[1]?.[1] ?? 0],
  saves: [0, 1],
  adjoint(node, dOut, g) {
    if (dOut === undefined) throw new Error("bug: matmul as loss");
    const [x, w] = node.inputs as [number, number];
    const dx = g.needsGrad(x) ? g.add("matmul_nn", [dOut, w], {}, g.gradName(x), node.origin) : undefined;
    const dw = g.needsGrad(w) ? g.add("matmul_tn", [dOut, x], {}, g.gradName(w), node.origin) : undefined;
    return [dx, dw];
  },
  emit(node, ctx) {
    const out = ctx.ref(node.id);
    return forwardGemm(node, ctx, undefined, (acc, o) => `${out}[${o}] = ${acc};`);
  },
};
