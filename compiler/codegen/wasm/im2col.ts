/**
 * A convolution's window unfolding as WebAssembly SIMD functions: im2col (each output
 * position's window copied into a row of `col`, so the convolution becomes a matrix product)
 * and its adjoint col2im (the rows of `col` added back onto the image), both over the window
 * loops of `eachWindow`.
 */
import { Body, type WasmFunction } from "./encode.js";
import type { Geometry } from "../../ops/conv_geometry.js";
import { countedLoop, E, scaled } from "./loops.js";

/** A convolution's window unfolding (NHWC) for `im2colFunction`: byte addresses and geometry. */
export interface Im2colSpec extends Geometry {
  readonly name: string;
  readonly x: number;
  readonly col: number;
}

/**
 * The loops both window kernels share: every sample r, output position (oy, ox) and window
 * offset (ky, kx), with `q` the position's row of col (bytes) and `dst` the offset's constant
 * address in col. `inside(v, q, src, dst)` runs per 4 channels v where the window pixel is in
 * the image (`src`: its byte offset in x), `outside(v, q, dst)` where it hangs over the
 * padding (one unsigned comparison per side: a negative row or column is a huge unsigned
 * number).
 */
function eachWindow(
  f: Body,
  p: Im2colSpec,
  inside: (v: number, q: number, src: number, dst: number) => void,
  outside?: (v: number, q: number, dst: number) => void,
): void {
  const i32 = (name: string): number => f.local("i32", name);
  const [r, oy, ox, q, xs, iy0, ix0, src] = [i32("r"), i32("oy"), i32("ox"), i32("q"), i32("xs"), i32("iy0"), i32("ix0"), i32("src")];
  const k = p.kh * p.kw * p.c;
  const vectors = p.c / 4;
  countedLoop(
    f,
    r,
    0,
    "n",
    1,
    () => {
      scaled(f, r, p.h * p.w * p.c * E);
      f.set(xs);
      countedLoop(
        f,
        oy,
        0,
        p.oh,
        1,
        () => {
          scaled(f, oy, p.sh);
          f.i32(p.pt).i32Sub().set(iy0);
          countedLoop(
            f,
            ox,
            0,
            p.ow,
            1,
            () => {
              scaled(f, ox, p.sw);
              f.i32(p.pl).i32Sub().set(ix0);
              // q = ((r·OH + oy)·OW + ox)·K, in bytes
              scaled(f, r, p.oh * p.ow * k * E);
              scaled(f, oy, p.ow * k * E);
              f.i32Add();
              scaled(f, ox, k * E);
              f.i32Add().set(q);
              for (let ky = 0; ky < p.kh; ky++) {
                for (let kx = 0; kx < p.kw; kx++) {
                  const dst = p.col + (ky * p.kw + kx) * p.c * E;
                  // inside = (iy0 + ky) <u h && (ix0 + kx) <u w
                  f.get(iy0).i32(ky).i32Add().i32(p.h).i32LtU();
                  f.get(ix0).i32(kx).i32Add().i32(p.w).i32LtU();
                  f.i32And().if();
                  // src = xs + ((iy0 + ky)·w + ix0 + kx)·c·4
                  f.get(iy0).i32(ky).i32Add().i32(p.w).i32Mul().get(ix0).i32Add().i32(kx).i32Add();
                  f.i32(p.c * E).i32Mul().get(xs).i32Add().set(src);
                  for (let v = 0; v < vectors; v++) inside(v, q, src, dst);
                  if (outside !== undefined) {
                    f.else();
                    for (let v = 0; v < vectors; v++) outside(v, q, dst);
                  }
                  f.end();
                }
              }
            },
            0,
          );
        },
        0,
      );
    },
    0,
  );
}

/**
 * im2col with 4 channels per copy: each output pixel's row gets its window's pixels in
 * (ky, kx, channel) order, zeros where the window hangs over the padding.
 */
export function im2colFunction(p: Im2colSpec): WasmFunction {
  const f = new Body(["i32"], ["n"]);
  eachWindow(
    f,
    p,
    (v, q, src, dst) => void f.get(q).get(src).v128Load(p.x + 16 * v).v128Store(dst + 16 * v),
    (v, q, dst) => void f.get(q).v128Zero().v128Store(dst + 16 * v),
  );
  return { name: p.name, body: f };
}

/**
 * The adjoint of im2col (col2im): x = 0, then each row of col is added back onto the window of
 * the image it came from, 4 channels per step; overlapping windows sum. With the product
 * dcol = dz·w before it, this is a convolution's input gradient.
 */
export function col2imFunction(p: Im2colSpec): WasmFunction {
  const f = new Body(["i32"], ["n"]);
  // x = 0 over the n samples, 4 values per store
  const at = f.local("i32", "at");
  f.i32(0).set(at);
  f.block().loop();
  f.get(at);
  scaled(f, 0, p.h * p.w * p.c * E);
  f.i32GeU().brIf(1);
  f.get(at).v128Zero().v128Store(p.x);
  f.get(at).i32(16).i32Add().set(at).br(0).end().end();
  // x[src] += col[q + dst]
  eachWindow(f, p, (v, q, src, dst) => void f.get(src).get(src).v128Load(p.x + 16 * v).get(q).v128Load(dst + 16 * v).f32x4Add().v128Store(p.x + 16 * v));
  return { name: p.name, body: f };
}
