/**
 * A convolution's window unfolding in WebAssembly, one sample at a time, as code written into
 * a kernel's body (`conv.ts` builds the kernels): `unfoldSample` (im2col: each output
 * position's window copied into a row of `col`, so the convolution becomes a matrix product)
 * and its adjoint `foldSample` (col2im: the rows of `col` added back onto the image), both over
 * the window loops of `eachWindow`. Channels go 4 per SIMD copy, the last `c % 4` one by one.
 */
import type { Body } from "./encode.js";
import type { Geometry } from "../../ops/conv_geometry.js";
import { countedLoop, E, scaled } from "./loops.js";

/** One sample's windows (NHWC): byte addresses of the image and of the rows [OH·OW, K], and the geometry. */
export interface WindowSpec extends Geometry {
  readonly x: number;
  readonly col: number;
}

/** SIMD copies and single-value copies per window pixel, and the cap on both (the loops over (ky, kx) are unrolled). */
function perPixel(c: number): { vectors: number; rest: number } {
  return { vectors: Math.floor(c / 4), rest: c % 4 };
}

/** Unrolled window copies above this many per output position make the kernel too large: no kernel then. */
export const MAX_WINDOW_COPIES = 1024;

/** Whether a kernel unfolds these windows (the unrolled copies per output position stay within `MAX_WINDOW_COPIES`). */
export function unfoldable(g: Geometry): boolean {
  const { vectors, rest } = perPixel(g.c);
  return g.kh * g.kw * (vectors + rest) <= MAX_WINDOW_COPIES;
}

/**
 * The loops both window codes share, for the sample in local `sample`: every output position
 * (oy, ox) and window offset (ky, kx), with `q` the position's row of col (bytes) and `dst`
 * the offset's constant address in col. `inside(q, src, dst, at)` runs where the window pixel
 * is in the image (its byte offset in x, sample included, is the local `src` plus the constant
 * `at`), `outside(q, dst)` where it hangs over the padding (one unsigned comparison per side: a
 * negative row or column is a huge unsigned number). Where the whole window is inside (every
 * position, without padding) `src` is the window's first pixel and no pixel is checked.
 */
function eachWindow(f: Body, p: WindowSpec, sample: number, inside: (q: number, src: number, dst: number, at: number) => void, outside?: (q: number, dst: number) => void): void {
  // Windows that can hang over the input's edge (padding) are checked pixel by pixel, but for
  // the positions whose whole window is inside; a window larger than the input never is.
  const padded = p.pt > 0 || p.pl > 0 || (p.oh - 1) * p.sh + p.kh > p.h || (p.ow - 1) * p.sw + p.kw > p.w;
  const fits = p.kh <= p.h && p.kw <= p.w;
  const i32 = (name: string): number => f.local("i32", name);
  const [oy, ox, q, xs, iy0, ix0, src] = [i32("oy"), i32("ox"), i32("q"), i32("xs"), i32("iy0"), i32("ix0"), i32("src")];
  const k = p.kh * p.kw * p.c;
  scaled(f, sample, p.h * p.w * p.c * E);
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
          // q = (oy·OW + ox)·K, in bytes
          scaled(f, oy, p.ow * k * E);
          scaled(f, ox, k * E);
          f.i32Add().set(q);
          // The whole window inside the image (iy0 ≤ h − kh and ix0 ≤ w − kw, unsigned: not
          // negative either; always, without padding): each pixel copied from src = the
          // window's first plus a constant, no check.
          if (fits) {
            if (padded) {
              f.get(iy0).i32(p.h - p.kh + 1).i32LtU();
              f.get(ix0).i32(p.w - p.kw + 1).i32LtU();
              f.i32And().if();
            }
            f.get(iy0).i32(p.w).i32Mul().get(ix0).i32Add().i32(p.c * E).i32Mul().get(xs).i32Add().set(src);
            for (let ky = 0; ky < p.kh; ky++) {
              for (let kx = 0; kx < p.kw; kx++) inside(q, src, p.col + (ky * p.kw + kx) * p.c * E, (ky * p.w + kx) * p.c * E);
            }
            if (!padded) return;
            f.else();
          }
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
              inside(q, src, dst, 0);
              if (outside !== undefined) {
                f.else();
                outside(q, dst);
              }
              f.end();
            }
          }
          if (fits) f.end();
        },
        0,
      );
    },
    0,
  );
}

/**
 * im2col of one sample: each output position's row of col gets its window's pixels in
 * (ky, kx, channel) order, zeros where the window hangs over the padding.
 */
export function unfoldSample(f: Body, p: WindowSpec, sample: number): void {
  const { vectors, rest } = perPixel(p.c);
  eachWindow(
    f,
    p,
    sample,
    (q, src, dst, at) => {
      for (let v = 0; v < vectors; v++) f.get(q).get(src).v128Load(p.x + at + 16 * v).v128Store(dst + 16 * v);
      for (let t = 0; t < rest; t++) f.get(q).get(src).f32Load(p.x + at + 16 * vectors + E * t).f32Store(dst + 16 * vectors + E * t);
    },
    (q, dst) => {
      for (let v = 0; v < vectors; v++) f.get(q).v128Zero().v128Store(dst + 16 * v);
      for (let t = 0; t < rest; t++) f.get(q).f32(0).f32Store(dst + 16 * vectors + E * t);
    },
  );
}

/**
 * The adjoint of im2col for one sample (col2im): the sample's image = 0, then each row of col
 * is added back onto the window it came from; overlapping windows sum.
 */
export function foldSample(f: Body, p: WindowSpec, sample: number): void {
  const base = f.local("i32", "xs0");
  scaled(f, sample, p.h * p.w * p.c * E);
  f.set(base);
  zeroFloats(f, base, p.x, p.h * p.w * p.c);
  const { vectors, rest } = perPixel(p.c);
  eachWindow(f, p, sample, (q, src, dst, at) => {
    for (let v = 0; v < vectors; v++) f.get(src).get(src).v128Load(p.x + at + 16 * v).get(q).v128Load(dst + 16 * v).f32x4Add().v128Store(p.x + at + 16 * v);
    for (let t = 0; t < rest; t++) {
      const off = at + 16 * vectors + E * t;
      f.get(src).get(src).f32Load(p.x + off).get(q).f32Load(dst + 16 * vectors + E * t).f32Add().f32Store(p.x + off);
    }
  });
}

/** `count` floats from byte `address` + the value of local `base` (none: 0) set to 0, 4 per store, then one by one. */
export function zeroFloats(f: Body, base: number | undefined, address: number, count: number): void {
  const at = f.local("i32", "zeroAt");
  const vectors = Math.floor(count / 4);
  if (base !== undefined) f.get(base);
  else f.i32(0);
  f.set(at);
  if (vectors > 0) {
    const end = f.local("i32", "zeroEnd");
    f.get(at).i32(16 * vectors).i32Add().set(end);
    // at < end: store, at += 16 (a do-while: there is at least one vector)
    f.loop();
    f.get(at).v128Zero().v128Store(address);
    f.get(at).i32(16).i32Add().tee(at).get(end).i32LtU().brIf(0).end();
  }
  for (let t = 0; t < count % 4; t++) f.get(at).f32(0).f32Store(address + E * t);
}
