/**
 * Max pooling (NHWC) as a WebAssembly SIMD function: the maximum of each window and its
 * position (the argmax the backward pass routes the gradient through), 4 channels per step.
 */
import { Body, type WasmFunction } from "./encode.js";
import type { Geometry } from "../../ops/conv_geometry.js";
import { countedLoop, E, scaled } from "./loops.js";

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
