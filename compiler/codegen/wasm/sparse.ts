/**
 * A convolution's weight gradient when its output gradient dz is mostly zeros — behind a max
 * pool whose windows are disjoint, each window passes one gradient per channel to one of its
 * kh·kw pixels, so at most 1 in 4 values of dz is non-zero behind a 2×2 pool (fewer after
 * ReLU's gradient). The product dw[f, :] += Σ_p dz[p, f] · windows[p, :] then runs over the
 * non-zero dz[p, f] alone, as the TypeScript kernel does (`if (a === 0) continue`):
 *
 *   for each sample: its windows unfolded (im2col, `im2col.ts`); then for each filter f, the
 *   non-zero dz[p, f] listed (value and window row, without a branch: each p is written at the
 *   list's end, which moves on when the value is not 0), and each block of up to 8 vectors of
 *   dw[f, :] kept in registers while the list's rows are multiplied into it.
 *
 * dw is zeroed once, then every term is added to it in the order of the samples and positions
 * (float32 products and sums: within rounding of the TypeScript loop, which adds the same
 * terms in the same order in float64 before each store rounds). A fraction of the dense
 * product's multiplications, for a scan of dz per filter.
 */
import { Body, type WasmFunction } from "./encode.js";
import { countedLoop, E } from "./loops.js";
import { unfoldSample, zeroFloats, type WindowSpec } from "./im2col.js";

export interface SparseDwSpec {
  readonly name: string;
  /** The image and the sample's window rows [P, K]. */
  readonly windows: WindowSpec;
  /** Byte addresses: dz [n, P, F], dw [F, K], and the list (2·P values: window-row offsets, then dz values). */
  readonly dz: number;
  readonly dw: number;
  readonly list: number;
  readonly f: number;
}

/** Vectors of dw kept in registers per pass over a list. */
const BLOCK = 8;

export function sparseDwFunction(p: SparseDwSpec): WasmFunction {
  const g = p.windows;
  const positions = g.oh * g.ow;
  const k = g.kh * g.kw * g.c;
  const F = p.f;
  const f = new Body(["i32"], ["n"]);
  const i32 = (name: string): number => f.local("i32", name);
  const [sample, fr, dzAt, pz, q, len, e, row, o] = [i32("sample"), i32("filter"), i32("dzAt"), i32("pz"), i32("q"), i32("len"), i32("e"), i32("row"), i32("o")];
  const v = f.local("f32", "v");
  const s = f.local("v128", "s");
  const sv = f.local("f32", "sv");
  const acc = Array.from({ length: BLOCK }, (_, j) => f.local("v128", `acc${j}`));
  const sacc = Array.from({ length: 3 }, (_, j) => f.local("f32", `sacc${j}`));
  const values = p.list + positions * E;
  zeroFloats(f, undefined, p.dw, F * k);
  countedLoop(
    f,
    sample,
    0,
    "n",
    1,
    () => {
      unfoldSample(f, g, sample);
      f.get(sample).i32(positions * F * E).i32Mul().set(dzAt);
      countedLoop(
        f,
        fr,
        0,
        F,
        1,
        () => {
          // The list: for each p, (p·K·4, dz[p, f]) at its end; the end moves on when dz[p, f] ≠ 0.
          f.i32(0).set(len);
          f.get(fr).i32(E).i32Mul().get(dzAt).i32Add().set(pz);
          f.i32(0).set(q);
          f.loop();
          f.get(pz).f32Load(p.dz).set(v);
          f.get(len).get(q).i32Store(p.list);
          f.get(len).get(v).f32Store(values);
          f.get(len).get(v).f32(0).f32Ne().i32(E).i32Mul().i32Add().set(len);
          f.get(pz).i32(F * E).i32Add().set(pz);
          f.get(q).i32(k * E).i32Add().tee(q).i32(positions * k * E).i32LtU().brIf(0).end();
          // dw[f, :] += each listed value × its window row, BLOCK vectors at a time.
          f.get(len).if();
          f.get(fr).i32(k * E).i32Mul().set(row);
          const vectors = Math.floor(k / 4);
          for (let c0 = 0; c0 < vectors; c0 += BLOCK) {
            const w = Math.min(BLOCK, vectors - c0);
            for (let j = 0; j < w; j++) f.get(row).v128Load(p.dw + (c0 + j) * 16).set(acc[j] as number);
            f.i32(0).set(e).loop();
            f.get(e).v128Load32Splat(values).set(s);
            f.get(e).i32Load(p.list).set(o);
            for (let j = 0; j < w; j++) {
              const a = acc[j] as number;
              f.get(a).get(s).get(o).v128Load(g.col + (c0 + j) * 16).f32x4Mul().f32x4Add().set(a);
            }
            f.get(e).i32(E).i32Add().tee(e).get(len).i32LtU().brIf(0).end();
            for (let j = 0; j < w; j++) f.get(row).get(acc[j] as number).v128Store(p.dw + (c0 + j) * 16);
          }
          const rest = k % 4;
          if (rest > 0) {
            const c0 = 4 * vectors;
            for (let j = 0; j < rest; j++) f.get(row).f32Load(p.dw + (c0 + j) * E).set(sacc[j] as number);
            f.i32(0).set(e).loop();
            f.get(e).f32Load(values).set(sv);
            f.get(e).i32Load(p.list).set(o);
            for (let j = 0; j < rest; j++) {
              const a = sacc[j] as number;
              f.get(a).get(sv).get(o).f32Load(g.col + (c0 + j) * E).f32Mul().f32Add().set(a);
            }
            f.get(e).i32(E).i32Add().tee(e).get(len).i32LtU().brIf(0).end();
            for (let j = 0; j < rest; j++) f.get(row).get(sacc[j] as number).f32Store(p.dw + (c0 + j) * E);
          }
          f.end();
        },
        0,
      );
    },
    0,
  );
  return { name: p.name, body: f };
}
