/**
 * A convolution's gradients when its output gradient dz is mostly zeros — behind a max pool
 * whose windows are disjoint, each window passes one gradient per channel to one of its kh·kw
 * pixels, so at most 1 in 4 values of dz is non-zero behind a 2×2 pool (fewer after ReLU's
 * gradient). The products then run over the non-zero values alone, as the TypeScript kernels
 * do (`if (a === 0) continue`), one sample at a time:
 *
 *   sparseDwFunction  dw[f, :] += Σ_p dz[p, f] · windows[p, :]: the sample's windows unfolded
 *                     (im2col, `im2col.ts`), then for each filter f the non-zero dz[p, f] listed
 *                     and their window rows multiplied into dw[f, :].
 *   sparseDxFunction  dcol[p, :] = Σ_f dz[p, f] · w[f, :]: for each position p the non-zero
 *                     dz[p, f] listed and their filter rows summed into the position's row,
 *                     then the rows added back onto their windows (col2im).
 *
 * A list is built without a branch: each value and its row's offset are written at the list's
 * end, which moves on when the value is not 0. Each block of up to 8 vectors of the output row
 * then stays in registers while the list's rows are multiplied into it.
 *
 * Sums run in float32 in the order of the samples and positions (dw, from its value: the
 * float32 form of the TypeScript loop, which adds the same terms in that order in float64
 * before each store rounds) and of the filters (dcol, from 0: the bits of the dense axpy loop,
 * to which a zero term adds nothing).
 */
import { Body, type WasmFunction } from "./encode.js";
import { countedLoop, E } from "./loops.js";
import { foldSample, unfoldSample, zeroFloats, type WindowSpec } from "./im2col.js";

export interface SparseSpec {
  readonly name: string;
  /** The image (x for dw, dx for dx) and the sample's window rows [P, K] (windows for dw, dcol for dx). */
  readonly windows: WindowSpec;
  /** Byte addresses: dz [n, P, F], the output (dw [F, K], or w [F, K] read by dx), and the list (offsets, then values). */
  readonly dz: number;
  readonly w: number;
  readonly list: number;
  readonly f: number;
}

/** Vectors of an output row kept in registers per pass over a list. */
const BLOCK = 8;

interface Scratch {
  readonly len: number;
  readonly at: number;
  readonly q: number;
  readonly e: number;
  readonly o: number;
  readonly v: number;
  readonly sv: number;
  readonly s: number;
  readonly acc: readonly number[];
  readonly sacc: readonly number[];
}

function scratch(f: Body): Scratch {
  const i32 = (name: string): number => f.local("i32", name);
  return {
    len: i32("len"),
    at: i32("at"),
    q: i32("q"),
    e: i32("e"),
    o: i32("o"),
    v: f.local("f32", "v"),
    sv: f.local("f32", "sv"),
    s: f.local("v128", "s"),
    acc: Array.from({ length: BLOCK }, (_, j) => f.local("v128", `acc${j}`)),
    sacc: Array.from({ length: 3 }, (_, j) => f.local("f32", `sacc${j}`)),
  };
}

/**
 * The list of `count` values of dz from byte `S.at` (+ `dz`), `stride` bytes apart: value i's
 * row offset is i·`rowBytes`; afterwards `S.len` is the list's length in bytes (4 per entry).
 */
function listNonZeros(f: Body, S: Scratch, dz: number, stride: number, count: number, rowBytes: number, list: number, values: number): void {
  f.i32(0).set(S.len).i32(0).set(S.q);
  f.loop();
  f.get(S.at).f32Load(dz).set(S.v);
  f.get(S.len).get(S.q).i32Store(list);
  f.get(S.len).get(S.v).f32Store(values);
  f.get(S.len).get(S.v).f32(0).f32Ne().i32(E).i32Mul().i32Add().set(S.len);
  f.get(S.at).i32(stride).i32Add().set(S.at);
  f.get(S.q).i32(rowBytes).i32Add().tee(S.q).i32(count * rowBytes).i32LtU().brIf(0).end();
}

/**
 * The output row at byte `out` + local `row`, k values: each listed value times its row of
 * `rows` (at `rows` + its offset) summed in, from the row's value (`accumulate`) or from 0.
 */
function rowOverList(f: Body, S: Scratch, k: number, out: number, row: number, rows: number, accumulate: boolean, list: number, values: number): void {
  const vectors = Math.floor(k / 4);
  const overList = (body: () => void): void => {
    f.get(S.len).if();
    f.i32(0).set(S.e).loop();
    body();
    f.get(S.e).i32(E).i32Add().tee(S.e).get(S.len).i32LtU().brIf(0).end();
    f.end();
  };
  for (let c0 = 0; c0 < vectors; c0 += BLOCK) {
    const w = Math.min(BLOCK, vectors - c0);
    for (let j = 0; j < w; j++) {
      if (accumulate) f.get(row).v128Load(out + (c0 + j) * 16);
      else f.v128Zero();
      f.set(S.acc[j] as number);
    }
    overList(() => {
      f.get(S.e).v128Load32Splat(values).set(S.s);
      f.get(S.e).i32Load(list).set(S.o);
      for (let j = 0; j < w; j++) {
        const a = S.acc[j] as number;
        f.get(a).get(S.s).get(S.o).v128Load(rows + (c0 + j) * 16).f32x4Mul().f32x4Add().set(a);
      }
    });
    for (let j = 0; j < w; j++) f.get(row).get(S.acc[j] as number).v128Store(out + (c0 + j) * 16);
  }
  const rest = k % 4;
  if (rest === 0) return;
  const c0 = 4 * vectors;
  for (let j = 0; j < rest; j++) {
    if (accumulate) f.get(row).f32Load(out + (c0 + j) * E);
    else f.f32(0);
    f.set(S.sacc[j] as number);
  }
  overList(() => {
    f.get(S.e).f32Load(values).set(S.sv);
    f.get(S.e).i32Load(list).set(S.o);
    for (let j = 0; j < rest; j++) {
      const a = S.sacc[j] as number;
      f.get(a).get(S.sv).get(S.o).f32Load(rows + (c0 + j) * E).f32Mul().f32Add().set(a);
    }
  });
  for (let j = 0; j < rest; j++) f.get(row).get(S.sacc[j] as number).f32Store(out + (c0 + j) * E);
}

/** conv2d_dw: dw (at `w`) zeroed, then per sample its windows unfolded and, per filter, the non-zero dz[·, f] times their window rows added in. */
export function sparseDwFunction(p: SparseSpec): WasmFunction {
  const g = p.windows;
  const positions = g.oh * g.ow;
  const k = g.kh * g.kw * g.c;
  const f = new Body(["i32"], ["n"]);
  const [sample, filter, dzAt, row] = [f.local("i32", "sample"), f.local("i32", "filter"), f.local("i32", "dzAt"), f.local("i32", "row")];
  const S = scratch(f);
  const values = p.list + positions * E;
  zeroFloats(f, undefined, p.w, p.f * k);
  countedLoop(
    f,
    sample,
    0,
    "n",
    1,
    () => {
      unfoldSample(f, g, sample);
      f.get(sample).i32(positions * p.f * E).i32Mul().set(dzAt);
      countedLoop(
        f,
        filter,
        0,
        p.f,
        1,
        () => {
          f.get(filter).i32(E).i32Mul().get(dzAt).i32Add().set(S.at);
          listNonZeros(f, S, p.dz, p.f * E, positions, k * E, p.list, values);
          f.get(filter).i32(k * E).i32Mul().set(row);
          rowOverList(f, S, k, p.w, row, g.col, true, p.list, values);
        },
        0,
      );
    },
    0,
  );
  return { name: p.name, body: f };
}

/** conv2d_dx: per sample, each position's row of dcol from the non-zero dz[p, ·] times their filter rows (w at `w`), then the rows folded onto dx. */
export function sparseDxFunction(p: SparseSpec): WasmFunction {
  const g = p.windows;
  const positions = g.oh * g.ow;
  const k = g.kh * g.kw * g.c;
  const f = new Body(["i32"], ["n"]);
  const [sample, position, row] = [f.local("i32", "sample"), f.local("i32", "position"), f.local("i32", "row")];
  const S = scratch(f);
  const values = p.list + p.f * E;
  countedLoop(
    f,
    sample,
    0,
    "n",
    1,
    () => {
      // S.at walks dz[sample, p, 0], row walks dcol[p, 0] (bytes)
      f.get(sample).i32(positions * p.f * E).i32Mul().set(S.at);
      f.i32(0).set(row);
      countedLoop(
        f,
        position,
        0,
        positions,
        1,
        () => {
          listNonZeros(f, S, p.dz, E, p.f, k * E, p.list, values);
          rowOverList(f, S, k, g.col, row, p.w, false, p.list, values);
          f.get(row).i32(k * E).i32Add().set(row);
        },
        0,
      );
      foldSample(f, g, sample);
    },
    0,
  );
  return { name: p.name, body: f };
}
