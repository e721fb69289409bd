/**
 * The sum of sharded training (`runtime/shards.ts`): the shards' gradient slots, weighted by
 * each shard's share of the batch, added in shard order in float64 and rounded once —
 *
 *     sum[i] = fround(((w₀·s₀[i] + w₁·s₁[i]) + w₂·s₂[i]) + …)
 *
 * — over a range of the parameters at a time (a "chunk"), so that several threads can each sum
 * their own chunks: the order of the terms of each element never depends on who sums it.
 *
 * For float32 gradients where WebAssembly SIMD runs, the slots, the sum and the weights live in
 * one WebAssembly memory (shared between threads when it can be) and a small kernel written
 * here does the sum two float64 lanes at a time: `f64x2.promote_low_f32x4` of each slot's
 * floats, `f64x2.mul` by the shard's weight, `f64x2.add` into the running sum,
 * `f32x4.demote_f64x2_zero` once at the end — the very operations, in the very order, of the
 * JavaScript `weightedSum` (which WebAssembly, like JavaScript, never fuses), so the two give the
 * same bits. That kernel is ~8× faster than the JavaScript loop (W1's 109,386 parameters over
 * 4 slots: ≈ 45 against 350 µs). Float64 gradients, or an engine without SIMD, take
 * `weightedSum` over the same chunks.
 */
import type { Floats } from "../compiler/model-api.js";
import { simdSupported } from "../compiler/load.js";
import { sleb, uleb } from "../compiler/codegen/wasm/encode.js";

/**
 * into[i] = w₀·s₀[i] + w₁·s₁[i] + … (a left fold over the first `used` slots, in float64,
 * rounded once). Up to four slots in one fused pass: V8 runs that ~2.5× faster than a pass
 * per slot through a float64 accumulator.
 */
export function weightedSum(into: Floats, slots: readonly Floats[], w: Float64Array, used: number, acc: Float64Array): void {
  const P = into.length;
  const a = slots[0]!, b = slots[1]!, c = slots[2]!, d = slots[3]!;
  const wa = w[0]!, wb = w[1]!, wc = w[2]!, wd = w[3]!;
  if (used === 1) for (let i = 0; i < P; i++) into[i] = wa * a[i]!;
  else if (used === 2) for (let i = 0; i < P; i++) into[i] = wa * a[i]! + wb * b[i]!;
  else if (used === 3) for (let i = 0; i < P; i++) into[i] = wa * a[i]! + wb * b[i]! + wc * c[i]!;
  else if (used === 4) for (let i = 0; i < P; i++) into[i] = wa * a[i]! + wb * b[i]! + wc * c[i]! + wd * d[i]!;
  else {
    for (let i = 0; i < P; i++) acc[i] = wa * a[i]! + wb * b[i]! + wc * c[i]! + wd * d[i]!;
    for (let k = 4; k < used; k++) {
      const g = slots[k]!;
      const wk = w[k]!;
      for (let i = 0; i < P; i++) acc[i] = acc[i]! + wk * g[i]!;
    }
    into.set(acc.subarray(0, P));
  }
}

/** Floats per chunk: a multiple of 8 (the kernel's step), ≈ 33 KB of each slot, a few µs of the kernel. */
export const CHUNK = 1 << 13;

/** Where the kernel finds things in its memory (bytes), and the sizes it was written for. */
interface Layout {
  /** Floats per slot. */
  readonly length: number;
  readonly slots: number;
  /** Byte addresses: the sum, then the weights (float64). The slots start at 0, one after the other. */
  readonly sumAt: number;
  readonly weightsAt: number;
}

/**
 * The kernel, `sum(c, used)`: for every 8 floats of chunk c (bytes [lo, hi) of each slot, slot k
 * at k·4·length), four float64 pairs start as w₀·s₀ and take + w_k·s_k for k = 1 … used − 1,
 * then are rounded to float32 into the sum. The last chunk runs to the next multiple of 8
 * floats: what it reads past the last slot's end and writes past the sum's end is padding.
 */
function kernelBytes(l: Layout, shared: boolean): Uint8Array {
  // Parameters c, used; locals i, hi, p, k (i32), w, a0–a3 (v128).
  const [C, USED, I, HI, P, K, WK, A0] = [0, 1, 2, 3, 4, 5, 6, 7];
  const chunkBytes = 4 * CHUNK;
  const end = 4 * Math.ceil(l.length / 8) * 8;
  const get = (x: number): number[] => [0x20, x];
  const set = (x: number): number[] => [0x21, x];
  const tee = (x: number): number[] => [0x22, x];
  const i32 = (n: number): number[] => [0x41, ...sleb(n)];
  const simd = (op: number, ...imm: number[]): number[] => [0xfd, ...uleb(op), ...imm];
  // memarg: log2 of the alignment promised (4 bytes: a slot starts at any float), offset.
  const load64Zero = (offset: number): number[] => simd(0x5d, 2, ...uleb(offset)); // v128.load64_zero
  const weight = simd(0x0a, 3, ...uleb(l.weightsAt)); // v128.load64_splat: the shard's weight in both lanes
  const store64Lane = (offset: number): number[] => simd(0x5b, 2, ...uleb(l.sumAt + offset), 0); // v128.store64_lane 0
  const promote = simd(0x5f); // f64x2.promote_low_f32x4
  const demote = simd(0x5e); // f32x4.demote_f64x2_zero
  const add = simd(0xf0); // f64x2.add
  const mul = simd(0xf2); // f64x2.mul
  const lanes = [0, 1, 2, 3];
  const body = [
    ...get(C), ...i32(chunkBytes), 0x6c, ...tee(I), // i = lo = c · chunk
    ...i32(chunkBytes), 0x6a, ...tee(HI), ...i32(end), ...get(HI), ...i32(end), 0x49, 0x1b, ...set(HI), // hi = min(lo + chunk, end)
    0x02, 0x40, 0x03, 0x40, // block, loop: over i
    ...get(I), ...get(HI), 0x4f, 0x0d, 1, // i ≥ hi → out
    ...get(I), ...set(P), // p: slot 0
    ...i32(0), ...weight, ...set(WK), // w₀
    ...lanes.flatMap((j) => [...get(P), ...load64Zero(8 * j), ...promote, ...get(WK), ...mul, ...set(A0 + j)]),
    ...i32(1), ...set(K), // k = 1
    0x02, 0x40, 0x03, 0x40, // block, loop: over k
    ...get(K), ...get(USED), 0x4e, 0x0d, 1, // k ≥ used → out
    ...get(P), ...i32(4 * l.length), 0x6a, ...set(P), // p: slot k
    ...get(K), ...i32(3), 0x74, ...weight, ...set(WK), // w_k
    ...lanes.flatMap((j) => [...get(A0 + j), ...get(P), ...load64Zero(8 * j), ...promote, ...get(WK), ...mul, ...add, ...set(A0 + j)]),
    ...get(K), ...i32(1), 0x6a, ...set(K),
    0x0c, 0, 0x0b, 0x0b, // br loop, end, end
    ...lanes.flatMap((j) => [...get(I), ...get(A0 + j), ...demote, ...store64Lane(8 * j)]),
    ...get(I), ...i32(32), 0x6a, ...set(I), // i += 32
    0x0c, 0, 0x0b, 0x0b, // br loop, end, end
    0x0b, // end of the function
  ];
  const code = [2, 4, 0x7f, 5, 0x7b, ...body]; // locals: 4 × i32, 5 × v128
  const section = (id: number, content: number[]): number[] => [id, ...uleb(content.length), ...content];
  const name = (s: string): number[] => [s.length, ...[...s].map((ch) => ch.charCodeAt(0))];
  // The memory is imported: min 0 pages; shared (flag 3) needs a max (65536); flag 0: not shared, no max.
  const limits = shared ? [0x03, 0, ...uleb(65536)] : [0x00, 0];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 2, 0x7f, 0x7f, 0]), // (i32, i32) → ()
    ...section(2, [1, ...name("env"), ...name("memory"), 0x02, ...limits]),
    ...section(3, [1, 0]),
    ...section(7, [1, ...name("sum"), 0x00, 0]),
    ...section(10, [1, ...uleb(code.length), ...code]),
  ]);
}

/** The little of the WebAssembly API used here (the browser-safe layers are typed without the DOM's declarations). */
export interface WasmMemory {
  readonly buffer: ArrayBufferLike;
}
export type WasmModule = object;
declare const WebAssembly: {
  Memory: new (descriptor: { initial: number; maximum: number; shared?: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { readonly exports: Record<string, unknown> };
};

/** What another thread needs to sum chunks in the kernel: its module and the memory it runs on. */
export interface SumShare {
  /** Exports `sum(c, used)`; instantiate with `{ env: { memory } }`. */
  readonly kernel: WasmModule;
  readonly memory: WasmMemory;
}

export interface SlotSumOptions {
  /** Floats per slot (the parameters). */
  readonly length: number;
  readonly slots: number;
  readonly float64: boolean;
  /** Whether other threads see the memory (a SharedArrayBuffer, a shared WebAssembly.Memory). */
  readonly shared: boolean;
  /** Memory for the JavaScript path (default SharedArrayBuffer when shared, else ArrayBuffer). */
  readonly memory?: (bytes: number) => ArrayBufferLike;
  /** Test hook: the JavaScript path even where the kernel runs. */
  readonly js?: boolean;
}

/** The gradient slots of one step, their weights and their sum, and the chunks the sum is cut into. */
export class SlotSum {
  /** Slot k is [k·length, (k + 1)·length). */
  readonly grads: Floats;
  readonly slots: readonly Floats[];
  /** The weighted sum (`length` values). */
  readonly sum: Floats;
  /** Each slot's weight (its shard's share of the batch). */
  readonly weights: Float64Array;
  readonly chunks: number;
  /** Set when the sum runs in the kernel: what another thread needs to run it too. */
  readonly share: SumShare | undefined;
  private readonly run: ((c: number, used: number) => void) | undefined;
  private readonly acc: Float64Array;

  constructor(private readonly o: SlotSumOptions) {
    const P = o.length;
    this.chunks = Math.max(1, Math.ceil(P / CHUNK));
    if (!o.float64 && !o.js && simdSupported()) {
      // The slots, 8 floats of padding, the sum (padded to 8 floats, and 8 more), the weights.
      const sumAt = 16 * Math.ceil((4 * (o.slots * P + 8)) / 16);
      const weightsAt = sumAt + 4 * (Math.ceil(P / 8) * 8 + 8);
      const pages = Math.ceil((weightsAt + 8 * o.slots) / 65536);
      const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, ...(o.shared ? { shared: true } : {}) });
      const kernel = new WebAssembly.Module(kernelBytes({ length: P, slots: o.slots, sumAt, weightsAt }, o.shared));
      this.run = new WebAssembly.Instance(kernel, { env: { memory } }).exports["sum"] as (c: number, used: number) => void;
      this.share = { kernel, memory };
      this.grads = new Float32Array(memory.buffer, 0, o.slots * P);
      this.sum = new Float32Array(memory.buffer, sumAt, P);
      this.weights = new Float64Array(memory.buffer, weightsAt, o.slots);
    } else {
      const memory = o.memory ?? ((n: number) => (o.shared ? new SharedArrayBuffer(n) : new ArrayBuffer(n)));
      const floats = (n: number): Floats => (o.float64 ? new Float64Array(memory(8 * Math.max(1, n))) : new Float32Array(memory(4 * Math.max(1, n))));
      this.grads = floats(o.slots * P);
      this.sum = floats(P).subarray(0, P);
      this.weights = new Float64Array(memory(8 * o.slots));
      this.share = undefined;
      this.run = undefined;
    }
    this.slots = Array.from({ length: o.slots }, (_, k) => this.grads.subarray(k * P, (k + 1) * P));
    this.acc = new Float64Array(this.run || o.slots <= 4 ? 0 : Math.min(P, CHUNK));
  }

  /** The sum over chunk c (floats [c·CHUNK, (c + 1)·CHUNK)): the first `used` slots by their weights, in slot order. */
  add(c: number, used: number): void {
    if (this.run) return this.run(c, used);
    const lo = c * CHUNK;
    const hi = Math.min(this.o.length, lo + CHUNK);
    weightedSum(this.sum.subarray(lo, hi), this.slots.slice(0, used).map((s) => s.subarray(lo, hi)), this.weights, used, this.acc);
  }
}
