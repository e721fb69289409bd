/**
 * Max pooling (NHWC) as a WebAssembly SIMD function: the maximum of each window and its
 * position (the argmax the backward pass routes the gradient through), 4 channels per step.
 */
import { Body, type WasmFunction } from "./encode.js";
import type { Geometry } from "../../ops/conv_geometry.js";
import { countedLoop, E, scaled } from "./loops.js";
import { zeroFloats } from "./im2col.js";

/** A max-pooling layer (NHWC, windows inside the image) for `maxpoolFunction`. */
export interface PoolSpec extends Geometry {
  readonly name: string;
  /** Byte addresses of the input, the output and the argmax (positions within the sample, i32). */
  readonly x: number;
  readonly out: number;
  readonly arg: number;
}

/**
 * Max pooling, 4 channels per step: each window position is one vector load, compared with
 * the running maximum (`f32x4.gt`, so NaN never wins and the first maximum is kept, as in the
 * TypeScript loop); `v128.bitselect` keeps the larger value and its position.
 */
export function maxpoolFunction(p: PoolSpec): WasmFunction {
  const f = new Body(["i32"], ["n"]);
  const i32 = (name: string): number => f.local("i32", name);
  const [r, oy, ox, cv, px, po, idx] = [i32("r"), i32("oy"), i32("ox"), i32("cv"), i32("px"), i32("po"), i32("idx")];
  const v128 = (name: string): number => f.local("v128", name);
  const [best, at, v, m, lanes] = [v128("best"), v128("at"), v128("v"), v128("m"), v128("lanes")];
  const inSize = p.h * p.w * p.c;
  const outSize = p.oh * p.ow * p.c;
  f.i32x4Const([0, 1, 2, 3]).set(lanes);
  countedLoop(
    f,
    r,
    0,
    "n",
    1,
    () => {
      countedLoop(
        f,
        oy,
        0,
        p.oh,
        1,
        () => {
          countedLoop(
            f,
            ox,
            0,
            p.ow,
            1,
            () => {
              // idx = (oy·sh·w + ox·sw)·c: the window's first value within the sample
              scaled(f, oy, p.sh * p.w * p.c);
              scaled(f, ox, p.sw * p.c);
              f.i32Add().set(idx);
              scaled(f, r, inSize * E);
              f.get(idx).i32(E).i32Mul().i32Add().set(px);
              scaled(f, r, outSize * E);
              scaled(f, oy, p.ow * p.c * E);
              f.i32Add();
              scaled(f, ox, p.c * E);
              f.i32Add().set(po);
              countedLoop(
                f,
                cv,
                0,
                p.c / 4,
                1,
                () => {
                  f.f32x4Const([-Infinity, -Infinity, -Infinity, -Infinity]).set(best);
                  f.v128Zero().set(at);
                  for (let ky = 0; ky < p.kh; ky++) {
                    for (let kx = 0; kx < p.kw; kx++) {
                      const off = (ky * p.w + kx) * p.c;
                      f.get(px).v128Load(p.x + off * E).set(v);
                      f.get(v).get(best).f32x4Gt().set(m);
                      f.get(v).get(best).get(m).v128Bitselect().set(best);
                      f.get(idx);
                      if (off !== 0) f.i32(off).i32Add();
                      f.i32x4Splat().get(lanes).i32x4Add();
                      f.get(at).get(m).v128Bitselect().set(at);
                    }
                  }
                  f.get(po).get(best).v128Store(p.out);
                  f.get(po).get(at).v128Store(p.arg);
                  f.get(px).i32(16).i32Add().set(px);
                  f.get(po).i32(16).i32Add().set(po);
                  f.get(idx).i32(4).i32Add().set(idx);
                },
                0,
              );
            },
            0,
          );
        },
        0,
      );
    },
    0,
  );
  return { name: p.name, body: f };
}

/** Max pooling's gradient for `maxpoolGradFunction`: dy and the argmax laid out like the pool's output, dx like its input. */
export interface PoolGradSpec extends Geometry {
  readonly name: string;
  /** Byte addresses of the output gradient, the argmax (i32 positions within the sample) and dx. */
  readonly dy: number;
  readonly arg: number;
  readonly dx: number;
  /**
   * The saved ReLU output of the layer before the pool, laid out like dx: dx is then ReLU's
   * gradient of the pool's gradient (zero where it is ≤ 0), the `activation_grad` after it done here.
   */
  readonly reluGradOf?: number;
}

/** Whether no two windows share an input position (then each position's gradient comes from one window at most). */
export function disjointWindows(g: Geometry): boolean {
  return g.sh >= g.kh && g.sw >= g.kw;
}

/** Whether the windows cover the whole input, each position once (then no position is left at 0 unwritten). */
function tiling(g: Geometry): boolean {
  return g.sh === g.kh && g.sw === g.kw && g.oh * g.sh === g.h && g.ow * g.sw === g.w;
}

/**
 * Max pooling's gradient: each output gradient goes to the position its maximum came from.
 *
 * Windows that share no position (`disjointWindows`, 4 channels per step): each window
 * position of dx is written once, `(dy & (arg = position)) + 0` — the bits of the TypeScript
 * loop's `0 + dy` (−0 becomes +0), 0 elsewhere; the sample's dx is zeroed first only where the
 * windows leave positions uncovered. With `reluGradOf` the mask also needs the saved output
 * to be positive (ReLU's gradient, the same bits as applying it after). Overlapping windows:
 * the sample's dx zeroed, then each dy added at its position, one value at a time, in the
 * TypeScript loop's order.
 */
export function maxpoolGradFunction(p: PoolGradSpec): WasmFunction {
  const f = new Body(["i32"], ["n"]);
  const r = f.local("i32", "r");
  const inSize = p.h * p.w * p.c;
  const base = f.local("i32", "xs");
  countedLoop(
    f,
    r,
    0,
    "n",
    1,
    () => {
      scaled(f, r, inSize * E);
      f.set(base);
      if (!disjointWindows(p)) scatterSample(f, p, r, base);
      else {
        if (!tiling(p)) zeroFloats(f, base, p.dx, inSize);
        gatherSample(f, p, r, base);
      }
    },
    0,
  );
  return { name: p.name, body: f };
}

/** Disjoint windows of sample `r`: each window position of dx written from the window's dy and argmax, 4 channels at a time. */
function gatherSample(f: Body, p: PoolGradSpec, r: number, base: number): void {
  const i32 = (name: string): number => f.local("i32", name);
  const [oy, ox, cv, px, po, idx] = [i32("oy"), i32("ox"), i32("cv"), i32("px"), i32("po"), i32("idx")];
  const v128 = (name: string): number => f.local("v128", name);
  const [dy, at, lanes] = [v128("dy"), v128("at"), v128("lanes")];
  f.i32x4Const([0, 1, 2, 3]).set(lanes);
  countedLoop(
    f,
    oy,
    0,
    p.oh,
    1,
    () => {
      countedLoop(
        f,
        ox,
        0,
        p.ow,
        1,
        () => {
          // idx = (oy·sh·w + ox·sw)·c: the window's first value within the sample
          scaled(f, oy, p.sh * p.w * p.c);
          scaled(f, ox, p.sw * p.c);
          f.i32Add().set(idx);
          f.get(base).get(idx).i32(E).i32Mul().i32Add().set(px);
          scaled(f, r, p.oh * p.ow * p.c * E);
          scaled(f, oy, p.ow * p.c * E);
          f.i32Add();
          scaled(f, ox, p.c * E);
          f.i32Add().set(po);
          countedLoop(
            f,
            cv,
            0,
            p.c / 4,
            1,
            () => {
              f.get(po).v128Load(p.dy).set(dy);
              f.get(po).v128Load(p.arg).set(at);
              for (let ky = 0; ky < p.kh; ky++) {
                for (let kx = 0; kx < p.kw; kx++) {
                  const off = (ky * p.w + kx) * p.c;
                  f.get(px);
                  // dy & (arg = idx + off + lane) [& saved > 0], + 0
                  f.get(dy).get(at).get(idx);
                  if (off !== 0) f.i32(off).i32Add();
                  f.i32x4Splat().get(lanes).i32x4Add().i32x4Eq().v128And();
                  if (p.reluGradOf !== undefined) f.get(px).v128Load(p.reluGradOf + off * E).v128Zero().f32x4Gt().v128And();
                  f.v128Zero().f32x4Add().v128Store(p.dx + off * E);
                }
              }
              f.get(px).i32(16).i32Add().set(px);
              f.get(po).i32(16).i32Add().set(po);
              f.get(idx).i32(4).i32Add().set(idx);
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

/** Overlapping windows, sample `r`: its dx zeroed, then dx[arg[j]] += dy[j] for each of its outputs j in order. */
function scatterSample(f: Body, p: PoolGradSpec, r: number, base: number): void {
  const [po, end, q] = [f.local("i32", "po"), f.local("i32", "poEnd"), f.local("i32", "q")];
  const outBytes = p.oh * p.ow * p.c * E;
  zeroFloats(f, base, p.dx, p.h * p.w * p.c);
  scaled(f, r, outBytes);
  f.tee(po).i32(outBytes).i32Add().set(end);
  f.loop();
  // q = xs + arg[j]·4: dx[q] += dy[j]
  f.get(po).i32Load(p.arg).i32(E).i32Mul().get(base).i32Add().tee(q);
  f.get(q).f32Load(p.dx).get(po).f32Load(p.dy).f32Add().f32Store(p.dx);
  f.get(po).i32(E).i32Add().tee(po).get(end).i32LtU().brIf(0).end();
}
