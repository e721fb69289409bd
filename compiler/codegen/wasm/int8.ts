/**
 * The int8 matrix product of a quantized model (`nnc quantize`, `compiler/quantize/`): one
 * kernel per dense or conv2d layer, y[r, o] = act(float(Σ_k x[r, k]·w[o, k]) · scale[o] + bias[o]).
 *
 * x holds the layer's input quantized to 8 bits minus its zero point (so a zero is 0 and every
 * value lies in [−255, 255]), w the weights quantized symmetrically per output channel to
 * [−127, 127]; both are stored widened to i16, rows padded with zeros to a multiple of 8, so
 * `i32x4.dot_i16x8_s` multiplies 8 pairs and adds adjacent products into 4 i32 lanes: every
 * product and every sum is an exact integer (|Σ| < 2^31 for rows under 66 000 values). The
 * requantization is float32: the exact sum converted, times scale[o] (the input's scale times
 * the channel's), plus the float bias, then relu if the layer has it. Rows come in pairs and
 * output channels in fours, so each loaded row of x serves four channels and each row of w two
 * samples; the last row and the last channels are narrower blocks of the same code.
 */
import type { Geometry } from "../../ops/conv_geometry.js";
import { Body, type WasmFunction } from "./encode.js";
import { colBlocks, countedLoop, locals, rowBlocks, type Locals } from "./loops.js";

/** Where one layer's operands live in the kernels' memory (byte addresses) and its sizes. */
export interface Int8Product {
  /** Export name. */
  readonly name: string;
  /** x: n rows of `k` i16 values. */
  readonly x: number;
  /** w: `m` rows of `k` i16 values. */
  readonly w: number;
  /** m f32 values: input scale × channel scale. */
  readonly scale: number;
  /** m f32 values (zeros for a layer without bias). */
  readonly bias: number;
  /** y: n rows of `m` f32 values. */
  readonly y: number;
  /** Row length, a multiple of 8. */
  readonly k: number;
  /** Output channels. */
  readonly m: number;
  readonly relu: boolean;
}

/** Samples per block of rows, channels per block of columns. */
const RH = 2;
const CW = 4;

export function int8ProductKernel(p: Int8Product): WasmFunction {
  if (p.k % 8 !== 0 || p.k <= 0) throw new Error(`bug: int8 row length ${p.k} is not a positive multiple of 8`);
  const f = new Body(["i32"], ["n"]);
  const L = locals(f);
  const rowBytes = 2 * p.k;
  rowBlocks(f, L, "n", RH, (h) => {
    // pa = x + r·rowBytes; o = y + r·m·4
    f.get(L.r).i32(rowBytes).i32Mul().i32(p.x).i32Add().set(L.pa);
    f.get(L.r).i32(4 * p.m).i32Mul().i32(p.y).i32Add().set(L.o);
    colBlocks(f, L, p.m, CW, (w) => block(f, L, p, h, w));
  });
  return { name: p.name, body: f };
}

/** h rows × w channels: the dot products over k, then the requantizing epilogue. */
function block(f: Body, L: Locals, p: Int8Product, h: number, w: number): void {
  const rowBytes = 2 * p.k;
  f.get(L.c).i32(rowBytes).i32Mul().i32(p.w).i32Add().set(L.pb);
  for (let a = 0; a < h * w; a++) f.v128Zero().set(L.acc(a));
  countedLoop(f, L.d, 0, rowBytes, 16, () => {
    for (let i = 0; i < h; i++) f.get(L.pa).get(L.d).i32Add().v128Load(i * rowBytes).set(L.av(i));
    for (let j = 0; j < w; j++) f.get(L.pb).get(L.d).i32Add().v128Load(j * rowBytes).set(L.bv(j));
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++) f.get(L.acc(i * w + j)).get(L.av(i)).get(L.bv(j)).i32x4DotI16x8S().i32x4Add().set(L.acc(i * w + j));
  }, L.n);
  if (w === CW) {
    for (let i = 0; i < h; i++) epilogue4(f, L, p, i, [0, 1, 2, 3].map((j) => L.acc(i * w + j)));
    return;
  }
  for (let i = 0; i < h; i++)
    for (let j = 0; j < w; j++) {
      // y[r + i, c + j] = float(Σ lanes) · scale[c + j] + bias[c + j]
      f.get(L.o).get(L.c).i32(4).i32Mul().i32Add();
      const acc = L.acc(i * w + j);
      f.get(acc).i32x4ExtractLane(0).get(acc).i32x4ExtractLane(1).i32Add();
      f.get(acc).i32x4ExtractLane(2).i32Add().get(acc).i32x4ExtractLane(3).i32Add();
      f.f32ConvertI32S();
      f.get(L.c).i32(4).i32Mul().f32Load(p.scale + 4 * j).f32Mul();
      f.get(L.c).i32(4).i32Mul().f32Load(p.bias + 4 * j).f32Add();
      if (p.relu) f.f32(0).f32Max();
      f.f32Store(4 * (i * p.m + j));
    }
}

/**
 * Four channels of row i at once: the four accumulators' lanes summed by a transpose of
 * shuffles (a0 b0 a1 b1 + a2 b2 a3 b3, then the halves of the two pairs), converted, scaled,
 * biased, relu'd and stored as one f32x4: the same float32 operations as one at a time.
 */
function epilogue4(f: Body, L: Locals, p: Int8Product, i: number, acc: readonly number[]): void {
  const [a, b, c, d] = acc as [number, number, number, number];
  const pair = (x: number, y: number, into: number): void => {
    f.get(x).get(y).i32x4Shuffle([0, 4, 1, 5]).get(x).get(y).i32x4Shuffle([2, 6, 3, 7]).i32x4Add().set(into);
  };
  pair(a, b, L.vt(0));
  pair(c, d, L.vt(1));
  f.get(L.o).get(L.c).i32(4).i32Mul().i32Add();
  f.get(L.vt(0)).get(L.vt(1)).i32x4Shuffle([0, 1, 4, 5]).get(L.vt(0)).get(L.vt(1)).i32x4Shuffle([2, 3, 6, 7]).i32x4Add();
  f.f32x4ConvertI32x4S();
  f.get(L.c).i32(4).i32Mul().v128Load(p.scale).f32x4Mul();
  f.get(L.c).i32(4).i32Mul().v128Load(p.bias).f32x4Add();
  if (p.relu) f.v128Zero().f32x4Max();
  f.v128Store(4 * i * p.m);
}

/** What each kernel computes, for the module's comment. */
export function describeInt8Product(p: Int8Product): string {
  return `${p.name}(n): [n, ${p.k}] i16 · [${p.m}, ${p.k}]ᵀ i16 → i32, × scale + bias${p.relu ? ", relu" : ""} → [n, ${p.m}] f32`;
}

/** A tensor of n·k float32 values (k a multiple of 8) → the same count of i16 values q − zero. */
export interface Int8Quantize {
  readonly name: string;
  readonly src: number;
  readonly dst: number;
  /** Values per sample, a multiple of 8. */
  readonly k: number;
  /** 1 / scale. */
  readonly inv: number;
  readonly zero: number;
}

/**
 * q − zero with q = clamp(nearest(x · inv) + zero, 0, 255), 8 values per step: two f32x4 scaled,
 * rounded to nearest even, truncated (saturating), shifted, clamped, and narrowed to one i16x8.
 */
export function int8QuantizeKernel(p: Int8Quantize): WasmFunction {
  if (p.k % 8 !== 0) throw new Error(`bug: int8 quantize length ${p.k} is not a multiple of 8`);
  const f = new Body(["i32"], ["n"]);
  const src = f.local("i32", "src");
  const dst = f.local("i32", "dst");
  const end = f.local("i32", "end");
  const v = [f.local("v128", "v0"), f.local("v128", "v1")];
  f.i32(p.src).set(src).i32(p.dst).set(dst);
  f.get(0).i32(4 * p.k).i32Mul().i32(p.src).i32Add().set(end);
  f.block().loop();
  f.get(src).get(end).i32GeU().brIf(1);
  for (let h = 0; h < 2; h++) {
    f.get(src).v128Load(16 * h).f32x4Const([p.inv, p.inv, p.inv, p.inv]).f32x4Mul().f32x4Nearest().i32x4TruncSatF32x4S();
    f.i32x4Const([p.zero, p.zero, p.zero, p.zero]).i32x4Add().i32x4Const([0, 0, 0, 0]).i32x4MaxS().i32x4Const([255, 255, 255, 255]).i32x4MinS();
    f.i32x4Const([p.zero, p.zero, p.zero, p.zero]).i32x4Sub().set(v[h] as number);
  }
  f.get(dst).get(v[0] as number).get(v[1] as number).i16x8NarrowI32x4S().v128Store(0);
  f.get(src).i32(32).i32Add().set(src).get(dst).i32(16).i32Add().set(dst);
  f.br(0).end().end();
  return { name: p.name, body: f };
}

/** A convolution's windows over n quantized images (i16, NHWC) → rows of kp i16 values (zeros after k, and outside the image). */
export interface Int8Unfold extends Geometry {
  readonly name: string;
  /** Byte addresses of the images and of the rows. */
  readonly image: number;
  readonly rows: number;
  /** Row length, a multiple of 8, at least kh·kw·c. */
  readonly kp: number;
}

export function int8UnfoldKernel(p: Int8Unfold): WasmFunction {
  const f = new Body(["i32"], ["n"]);
  const b = f.local("i32", "b");
  const oy = f.local("i32", "oy");
  const ox = f.local("i32", "ox");
  const img = f.local("i32", "img");
  const row = f.local("i32", "row");
  const iy = f.local("i32", "iy");
  const ix = f.local("i32", "ix");
  const c = p.c;
  const imageBytes = 2 * p.h * p.w * c;
  f.i32(p.rows).set(row);
  f.block().loop();
  f.get(b).get(0).i32GeU().brIf(1);
  f.get(b).i32(imageBytes).i32Mul().i32(p.image).i32Add().set(img);
  countedLoop(f, oy, 0, p.oh, 1, () => {
    countedLoop(f, ox, 0, p.ow, 1, () => {
      // The last 8 values of the row zeroed first: they hold the padding after k.
      f.get(row).v128Zero().v128Store(2 * (p.kp - 8));
      for (let ky = 0; ky < p.kh; ky++)
        for (let kx = 0; kx < p.kw; kx++) {
          const at = 2 * (ky * p.kw + kx) * c;
          f.get(oy).i32(p.sh).i32Mul().i32(ky - p.pt).i32Add().set(iy);
          f.get(ox).i32(p.sw).i32Mul().i32(kx - p.pl).i32Add().set(ix);
          f.get(iy).i32(p.h).i32LtU().get(ix).i32(p.w).i32LtU().i32And().if();
          // pixel address: img + ((iy·W + ix)·C)·2
          const pixel = (): void => void f.get(iy).i32(p.w).i32Mul().get(ix).i32Add().i32(2 * c).i32Mul().get(img).i32Add();
          copy(f, c, at, row, pixel);
          f.else();
          zero(f, c, at, row);
          f.end();
        }
      f.get(row).i32(2 * p.kp).i32Add().set(row);
    }, 0);
  }, 0);
  f.get(b).i32(1).i32Add().set(b).br(0).end().end();
  return { name: p.name, body: f };
}

/** c i16 values from the address `pixel()` pushes to row + at: 8 per v128, the rest one by one. */
function copy(f: Body, c: number, at: number, row: number, pixel: () => void): void {
  for (let i = 0; i + 8 <= c; i += 8) {
    f.get(row);
    pixel();
    f.v128Load(2 * i).v128Store(at + 2 * i);
  }
  for (let i = c - (c % 8); i < c; i++) {
    f.get(row);
    pixel();
    f.i32Load16S(2 * i).i32Store16(at + 2 * i);
  }
}

function zero(f: Body, c: number, at: number, row: number): void {
  for (let i = 0; i + 8 <= c; i += 8) f.get(row).v128Zero().v128Store(at + 2 * i);
  for (let i = c - (c % 8); i < c; i++) f.get(row).i32(0).i32Store16(at + 2 * i);
}
