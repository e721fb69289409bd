/**
 * matmul(x, w): x [n, K] times wᵀ, w stored [M, K] (one row per output unit, so the inner
 * loop reads a row of x and a row of w, both contiguous). Adjoint: dx = dy·w (`matmul_nn`),
 * dw = dyᵀ·x (`matmul_tn`).
 */
import type { OpDef } from "./types.js";
import { gemm } from "../codegen/gemm.js";
import type { IrNode } from "../ir.js";
import type { EmitContext, KernelRequest } from "./types.js";

/** Inputs worth gathering: the model's input (images are mostly background) and ReLU outputs. */
function likelySparse(ctx: EmitContext, id: number): boolean {
  let n = ctx.node(id);
  while (n.op === "reshape") n = ctx.node(n.inputs[0] as number);
  return n.op === "input" || n.op === "relu" || (n.op === "dense" && n.attrs["act"] === "relu");
}

/** Reductions shorter than this gain nothing from gathering. */
const GATHER_MIN_DEPTH = 64;

/**
 * The forward product x·wᵀ with its epilogue given twice: as code for the TypeScript kernel
 * (`colSetup`, `store`) and, when it has one, as data for a WebAssembly kernel (`wasm`).
 */
export function forwardGemm(
  node: IrNode,
  ctx: EmitContext,
  colSetup: ((ci: number, c: string) => string) | undefined,
  store: (acc: string, o: string, ci: number) => string,
  wasm: Pick<KernelRequest, "bias" | "relu" | "act"> | undefined,
): string {
  const [x, w] = node.inputs as [number, number];
  const [m, k] = ctx.node(w).shape as [number, number];
  const product = { a: ctx.ref(x), b: ctx.ref(w), rows: "n", cols: m, depth: k, aR: k, aD: 1, bD: 1, bC: k, oR: m, oC: 1 } as const;
  const call = wasm !== undefined ? ctx.kernel?.({ ...product, out: ctx.ref(node.id), ...wasm }) : undefined;
  if (call !== undefined) return call;
  const gather = k >= GATHER_MIN_DEPTH && likelySparse(ctx, x) ? ctx.gather(k) : undefined;
  return gemm({
    ...(gather !== undefined ? { gather } : {}),
    ...product,
    ...(colSetup !== undefined ? { colSetup } : {}),
    store,
  });
}

export const matmul: OpDef = {
  name: "matmul",
  doc: "x·wᵀ: [n, K] × [M, K] → [n, M]",
  shape: (inputs) => [inputs[0]?.[0] ?? "n", inputs[1]?.[0] ?? 0],
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
    return forwardGemm(node, ctx, undefined, (acc, o) => `${out}[${o}] = ${acc};`, {});
  },
};
