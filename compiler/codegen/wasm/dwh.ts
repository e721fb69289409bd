/**
 * The gradient of a recurrent layer's matrix Wh (`recurrent_dwh`) as one kernel:
 *
 *     dWh(r, c) = Σ over the samples b and their steps t but the first: dz(b, t, at + r) · h(b, t ∓ 1, c)
 *
 * with the state before each step read straight from the tape (row b·T + t ∓ 1), so no copy of
 * the states is made; the first step is skipped, its state before being zero (the TypeScript
 * loop's terms there are exact zeros, which leave the sum as it is). Sample by sample — its
 * rows of dz and of the tape stay in the cache, where one pass over all n·T rows per block of
 * outputs did not — each block of 4 rows × 8 columns (the axpy loop's, `products.ts`) loads its
 * partial sums from dWh, adds the sample's steps in order and stores them back: the same terms
 * in the same order as the TypeScript loop's one sum over the n·T rows, so, dWh starting at
 * zero, the same float32 values to the bit. The last h % 4 columns use single-value sums.
 */
import { Body, type WasmFunction } from "./encode.js";
import { colBlocks, countedLoop, E, locals, rowBlocks, type Locals } from "./loops.js";

/** The kernel's sizes and byte addresses. */
export interface DwhSpec {
  readonly name: string;
  readonly dz: number;
  readonly tape: number;
  readonly out: number;
  /** Steps T (at least 2), units h (dWh's columns), dWh's rows g. */
  readonly steps: number;
  readonly h: number;
  readonly g: number;
  /** Floats in a row of the tape (S) and of dz (D), and where h·Whᵀ's pre-activations start in dz's. */
  readonly s: number;
  readonly d: number;
  readonly at: number;
  /** The steps are read last to first: the state before step t is t + 1's. */
  readonly reverse: boolean;
}

const ROWS = 4;
const VECS = 2;

export function dwhFunction(s: DwhSpec): WasmFunction {
  if (s.steps < 2) throw new Error(`bug: ${s.name}: a recurrent matrix's gradient over fewer than 2 steps`);
  const f = new Body(["i32"], ["n"]);
  const L = locals(f);
  const [b, zAt, hAt, k] = ["b", "zAt", "hAt", "k"].map((x) => f.local("i32", x)) as [number, number, number, number];
  const T = s.steps;
  // The first step summed: 1 forwards (its state before: step 0), 0 backwards (before it: step 1).
  const [zRow, hRow] = s.reverse ? [0, 1] : [1, 0];
  const vectors = Math.floor(s.h / 4);
  const rest = s.h % 4;
  countedLoop(
    f,
    b,
    0,
    "n",
    1,
    () => {
      f.get(b).i32(T).i32Mul().i32(zRow).i32Add().i32(s.d * E).i32Mul().set(zAt);
      f.get(b).i32(T).i32Mul().i32(hRow).i32Add().i32(s.s * E).i32Mul().set(hAt);
      rowBlocks(f, L, s.g, ROWS, (rh) => {
        if (vectors > 0) colBlocks(f, L, vectors, VECS, (cv) => tile(f, L, s, { zAt, hAt, k }, rh, cv));
        if (rest > 0) singles(f, L, s, { zAt, hAt, k }, rh, 4 * vectors, rest);
      });
    },
    L.n,
  );
  return { name: s.name, body: f };
}

interface At {
  readonly zAt: number;
  readonly hAt: number;
  readonly k: number;
}

/** Rows r … r + rh − 1, columns 4c … 4(c + cv) − 1: partial sums loaded, the sample's steps added, stored. */
function tile(f: Body, L: Locals, s: DwhSpec, a: At, rh: number, cv: number): void {
  const off = (i: number, j: number): number => s.out + (i * s.h + 4 * j) * E;
  // o = r·h·4 + c·16 (bytes): the block's first output
  f.get(L.r).i32(s.h * E).i32Mul().get(L.c).i32(16).i32Mul().i32Add().set(L.o);
  for (let i = 0; i < rh; i++) for (let j = 0; j < cv; j++) f.get(L.o).v128Load(off(i, j)).set(L.acc(i * cv + j));
  f.get(a.zAt).get(L.r).i32(E).i32Mul().i32Add().set(L.pa);
  f.get(a.hAt).get(L.c).i32(16).i32Mul().i32Add().set(L.pb);
  countedLoop(
    f,
    a.k,
    1,
    s.steps,
    1,
    () => {
      for (let j = 0; j < cv; j++) f.get(L.pb).v128Load(s.tape + 16 * j).set(L.bv(j));
      for (let i = 0; i < rh; i++) {
        f.get(L.pa).v128Load32Splat(s.dz + (s.at + i) * E).set(L.s);
        for (let j = 0; j < cv; j++) {
          const acc = L.acc(i * cv + j);
          f.get(acc).get(L.s).get(L.bv(j)).f32x4Mul().f32x4Add().set(acc);
        }
      }
      f.get(L.pa).i32(s.d * E).i32Add().set(L.pa);
      f.get(L.pb).i32(s.s * E).i32Add().set(L.pb);
    },
    L.n,
  );
  for (let i = 0; i < rh; i++) for (let j = 0; j < cv; j++) f.get(L.o).get(L.acc(i * cv + j)).v128Store(off(i, j));
}

/** Rows r … r + rh − 1, the last `count` columns from c0, one value at a time. */
function singles(f: Body, L: Locals, s: DwhSpec, a: At, rh: number, c0: number, count: number): void {
  const off = (i: number, j: number): number => s.out + (i * s.h + c0 + j) * E;
  f.get(L.r).i32(s.h * E).i32Mul().set(L.o);
  for (let i = 0; i < rh; i++) for (let j = 0; j < count; j++) f.get(L.o).f32Load(off(i, j)).set(L.sacc(i * count + j));
  f.get(a.zAt).get(L.r).i32(E).i32Mul().i32Add().set(L.pa);
  f.get(a.hAt).set(L.pb);
  countedLoop(
    f,
    a.k,
    1,
    s.steps,
    1,
    () => {
      for (let j = 0; j < count; j++) f.get(L.pb).f32Load(s.tape + (c0 + j) * E).set(L.sb(j));
      for (let i = 0; i < rh; i++) {
        f.get(L.pa).f32Load(s.dz + (s.at + i) * E).set(L.sa);
        for (let j = 0; j < count; j++) {
          const acc = L.sacc(i * count + j);
          f.get(acc).get(L.sa).get(L.sb(j)).f32Mul().f32Add().set(acc);
        }
      }
      f.get(L.pa).i32(s.d * E).i32Add().set(L.pa);
      f.get(L.pb).i32(s.s * E).i32Add().set(L.pb);
    },
    L.n,
  );
  for (let i = 0; i < rh; i++) for (let j = 0; j < count; j++) f.get(L.o).get(L.sacc(i * count + j)).f32Store(off(i, j));
}
