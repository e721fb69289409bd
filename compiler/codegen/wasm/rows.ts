/**
 * Row-wise kernels of the WebAssembly target, 4 values of a row at a time and the last m % 4 one
 * by one (rows under 4 wide, and a causal mask's T not a multiple of 4, keep their TypeScript
 * lowering, `ts/norm.ts`):
 *
 * - softmax over the last axis: the row's maximum subtracted, exp, divided by the sum; exp is
 *   `expOnStack` (Cephes' expf: a degree-5 polynomial on the reduced argument and 2^k from the
 *   exponent bits; within 2 float32 ulp of Math.exp, and exactly 0 for −Infinity, so a causal
 *   mask's −Infinity gives 0 as in TypeScript);
 * - its backward, dz = p ⊙ (dp − Σ dp·p);
 * - attention's causal mask: the values on and below the diagonal of each [T, T] block, −Infinity
 *   (or 0, for its adjoint) above it, lanes picked by a comparison of column and row.
 *
 * Sums run over 4 lanes, then across them, so they differ from the TypeScript loop's by float32
 * rounding only (`tests/compiler/wasm-rows.test.ts`).
 */
import type { IrNode } from "../../ir.js";
import { Body, type WasmFunction } from "./encode.js";
import { countedLoop, E } from "./loops.js";
import type { EmitContext } from "../ts/context.js";

export type RowKind = "softmax" | "softmax_grad" | "causal_mask";

/** A row kernel for `WasmKernels.rows`: buffers by name, rows per sample (or in all, without a batch axis) of `m` values. */
export interface RowsRequest<A = string> {
  readonly kind: RowKind;
  readonly out: A;
  /** softmax: z; softmax_grad: dp, p; causal_mask: x. */
  readonly inputs: readonly A[];
  readonly rows: number;
  readonly batch: boolean;
  readonly m: number;
  /** causal_mask: what goes above the diagonal. */
  readonly fill?: number;
  /**
   * softmax (of a causal mask's output) and its gradient (of such a softmax): the rows are
   * those of [m, m] blocks whose values above the diagonal are −Infinity (so their softmax is
   * 0), and only the 4-value chunks up to the diagonal are computed, the rest written as 0 —
   * the same values, for about half the work.
   */
  readonly causal?: boolean;
}

/** What the row lowerings ask of the kernels. */
export interface RowKernels {
  rows(r: RowsRequest): string | undefined;
}

/** The row kernel of a softmax, its gradient or a causal mask; undefined for rows under 4 wide (a mask's: not a multiple of 4). */
export function lowerRows(node: IrNode, ctx: EmitContext, kernels: RowKernels): string | undefined {
  const m = node.shape[node.shape.length - 1] as number;
  const kind = node.op as RowKind;
  const mask = kind === "causal_mask";
  if (m < 4 || (mask && m % 4 !== 0)) return undefined;
  let values = 1;
  for (const d of node.shape) if (d !== "n") values *= d;
  const masked = (id: number): boolean => ctx.node(id).op === "causal_mask" && ctx.node(id).attrs["grad"] !== 1;
  const probabilities = kind === "softmax_grad" ? ctx.node(node.inputs[1] as number) : undefined;
  const causal = m % 4 === 0 && (kind === "softmax" ? masked(node.inputs[0] as number) : probabilities?.op === "softmax" && masked(probabilities.inputs[0] as number));
  return kernels.rows({
    kind,
    out: ctx.ref(node.id),
    inputs: node.inputs.map((i) => ctx.ref(i)),
    rows: values / (mask ? m * m : m),
    batch: node.shape[0] === "n",
    m,
    ...(mask ? { fill: node.attrs["grad"] === 1 ? 0 : -Infinity } : {}),
    ...(causal ? { causal } : {}),
  });
}

const LOG2E = 1.4426950408889634;
// ln 2 in two parts (Cephes' C1 + C2), so k·ln 2 is subtracted without losing the argument's low bits.
const LN2_HI = 0.693359375;
const LN2_LO = -2.12194440e-4;
const EXP_POLY = [1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1];

const splat = (f: Body, x: number): void => void f.f32x4Const([x, x, x, x]);

/** exp of the 4 lanes on the stack: clamped to ±88, x = k·ln 2 + r, e^r by its polynomial, times 2^k (k = −127 gives 0). */
export function expOnStack(f: Body, t: readonly [number, number, number]): void {
  const [x, k, r] = t;
  splat(f, -88);
  f.f32x4Max();
  splat(f, 88);
  f.f32x4Min().tee(x);
  splat(f, LOG2E);
  f.f32x4Mul().f32x4Nearest().tee(k);
  // r = x − k·C1 − k·C2
  splat(f, LN2_HI);
  f.f32x4Mul().set(r).get(x).get(r).f32x4Sub();
  f.get(k);
  splat(f, LN2_LO);
  f.f32x4Mul().f32x4Sub().set(r);
  splat(f, EXP_POLY[0] as number);
  for (const c of EXP_POLY.slice(1)) {
    f.get(r).f32x4Mul();
    splat(f, c);
    f.f32x4Add();
  }
  // y·r² + r + 1
  f.get(r).f32x4Mul().get(r).f32x4Mul().get(r).f32x4Add();
  splat(f, 1);
  f.f32x4Add();
  // 2^k from its exponent bits
  f.get(k).i32x4TruncSatF32x4S().i32x4Const([127, 127, 127, 127]).i32x4Add().i32(23).i32x4Shl();
  f.f32x4Mul();
}

/** The four lanes on the stack combined into one f32 by `op` (max or add), lane 0 first. */
function across(f: Body, v: number, op: (f: Body) => void): void {
  f.get(v).f32x4ExtractLane(0).get(v).f32x4ExtractLane(1);
  op(f);
  f.get(v).f32x4ExtractLane(2);
  op(f);
  f.get(v).f32x4ExtractLane(3);
  op(f);
}

export function rowsFunction(name: string, r: RowsRequest<number>): WasmFunction {
  const f = new Body(["i32"], ["n"]);
  const [ri, row, j, bound] = ["ri", "row", "j", "bound"].map((x) => f.local("i32", x)) as [number, number, number, number];
  const [acc, v] = ["acc", "v"].map((x) => f.local("v128", x)) as [number, number];
  const width = r.m * E;
  // Row ri (of n·rows, or rows) at byte offset row.
  const eachRow = (rows: number, body: () => void): void => {
    if (r.batch) f.get(0).i32(rows).i32Mul().set(bound);
    countedLoop(
      f,
      ri,
      0,
      r.batch ? "n" : rows,
      1,
      () => {
        f.get(ri).i32(width).i32Mul().set(row);
        body();
      },
      bound,
    );
  };
  // Causal rows: `live` bytes, the chunks up to the diagonal (row ri % m of its block).
  const live = f.local("i32", "live");
  const eachChunk = (body: () => void): void => (r.causal === true ? countedLoop(f, j, 0, "n", 16, body, live) : countedLoop(f, j, 0, (r.m - (r.m % 4)) * E, 16, body, 0));
  const causalRow = (body: () => void): (() => void) =>
    r.causal !== true
      ? body
      : () => {
          f.get(ri).i32(r.m).i32RemU().i32(-4).i32And().i32(E).i32Mul().i32(16).i32Add().set(live);
          body();
          // The chunks past the diagonal: 0.
          f.get(live).set(j).block().loop();
          f.get(j).i32(width).i32GeU().brIf(1);
          f.get(row).get(j).i32Add().v128Zero().v128Store(r.out);
          f.get(j).i32(16).i32Add().set(j).br(0).end().end();
        };
  // Address of the current 4 values (row + j) on the stack.
  const here = (): void => void f.get(row).get(j).i32Add();
  const [z, dp, p] = [r.inputs[0] as number, r.inputs[0] as number, r.inputs[1] as number];
  // The last m % 4 values of a row, one at a time (at constant offsets from the row).
  const full = r.m - (r.m % 4);
  const tail = Array.from({ length: r.m - full }, (_, k) => (full + k) * E);
  const [ts, tv] = [f.local("f32", "ts"), f.local("f32", "tv")];
  if (r.kind === "softmax") {
    const t = ["x", "k", "r"].map((x) => f.local("v128", x)) as [number, number, number];
    eachRow(r.rows, causalRow(() => {
      f.get(row).v128Load(z).set(acc);
      eachChunk(() => void f.get(acc).get(row).get(j).i32Add().v128Load(z).f32x4Max().set(acc));
      across(f, acc, (g) => void g.f32Max());
      for (const off of tail) f.get(row).f32Load(z + off).f32Max();
      f.f32x4Splat().set(v);
      f.v128Zero().set(acc);
      eachChunk(() => {
        here();
        here();
        f.v128Load(z).get(v).f32x4Sub();
        expOnStack(f, t);
        f.tee(t[0]).v128Store(r.out).get(acc).get(t[0]).f32x4Add().set(acc);
      });
      // A tail value: exp of its splat, lane 0.
      f.f32(0).set(ts);
      for (const off of tail) {
        f.get(row).get(row).f32Load(z + off).f32x4Splat().get(v).f32x4Sub();
        expOnStack(f, t);
        f.f32x4ExtractLane(0).tee(tv).f32Store(r.out + off).get(ts).get(tv).f32Add().set(ts);
      }
      across(f, acc, (g) => void g.f32Add());
      if (tail.length > 0) f.get(ts).f32Add();
      f.f32x4Splat().set(v);
      eachChunk(() => {
        here();
        here();
        f.v128Load(r.out).get(v).f32x4Div().v128Store(r.out);
      });
      for (const off of tail) f.get(row).get(row).f32Load(r.out + off).get(v).f32x4ExtractLane(0).f32Div().f32Store(r.out + off);
    }));
  } else if (r.kind === "softmax_grad") {
    eachRow(r.rows, causalRow(() => {
      f.v128Zero().set(acc);
      eachChunk(() => {
        f.get(acc);
        here();
        f.v128Load(dp);
        here();
        f.v128Load(p).f32x4Mul().f32x4Add().set(acc);
      });
      across(f, acc, (g) => void g.f32Add());
      for (const off of tail) f.get(row).f32Load(dp + off).get(row).f32Load(p + off).f32Mul().f32Add();
      f.f32x4Splat().set(v);
      eachChunk(() => {
        here();
        here();
        f.v128Load(p);
        here();
        f.v128Load(dp).get(v).f32x4Sub().f32x4Mul().v128Store(r.out);
      });
      for (const off of tail) f.get(row).get(row).f32Load(p + off).get(row).f32Load(dp + off).get(v).f32x4ExtractLane(0).f32Sub().f32Mul().f32Store(r.out + off);
    }));
  } else {
    // Row i of each [T, T] block: lanes with column ≤ i keep x, the others take the fill.
    const i = f.local("i32", "i");
    const fill = r.fill ?? 0;
    eachRow(r.rows * r.m, () => {
      // i = the row within its block; cols = the columns of the chunk, as 4 lanes.
      f.get(ri).i32(r.m).i32RemU().set(i);
      f.i32x4Const([0, 1, 2, 3]).set(v);
      eachChunk(() => {
        here();
        here();
        f.v128Load(r.inputs[0] as number);
        splat(f, fill);
        f.get(v).get(i).i32x4Splat().i32x4LeS().v128Bitselect().v128Store(r.out);
        f.get(v).i32x4Const([4, 4, 4, 4]).i32x4Add().set(v);
      });
    });
  }
  return { name, body: f };
}
