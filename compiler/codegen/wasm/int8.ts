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

/** What each kernel computes, for the module's comment. */
export function describeInt8Product(p: Int8Product): string {
  return `${p.name}(n): [n, ${p.k}] i16 · [${p.m}, ${p.k}]ᵀ i16 → i32, × scale + bias${p.relu ? ", relu" : ""} → [n, ${p.m}] f32`;
}
