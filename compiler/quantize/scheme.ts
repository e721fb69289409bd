/**
 * The numbers of post-training quantization (as TensorFlow Lite's and PyTorch's default
 * scheme): weights symmetric per output channel, q = round(w / s) in [−127, 127] with
 * s = max|w| / 127 of the channel's row; activations asymmetric per tensor, 8-bit unsigned,
 * q = clamp(round(x / s) + z, 0, 255) with the range [lo, hi] (widened to hold 0, so 0 is exact)
 * from calibration: the smallest and largest value seen (`minmax`), or the 0.01 % and 99.99 %
 * quantiles (`percentile`), which ignore rare outliers that would widen every step.
 */
import type { Plan, ProductStep, Step } from "./plan.js";

export interface ChannelWeights {
  /** m rows of k values, each in [−127, 127]. */
  readonly q: Int8Array;
  /** Per output channel: w ≈ q · scale. */
  readonly scales: Float32Array;
}

/** Symmetric per-channel int8 of a [m, k] row-major matrix. */
export function quantizeWeights(w: ArrayLike<number>, m: number, k: number): ChannelWeights {
  const q = new Int8Array(m * k);
  const scales = new Float32Array(m);
  for (let o = 0; o < m; o++) {
    let amax = 0;
    for (let i = 0; i < k; i++) amax = Math.max(amax, Math.abs(w[o * k + i] as number));
    const s = amax > 0 ? Math.fround(amax / 127) : 1;
    scales[o] = s;
    for (let i = 0; i < k; i++) q[o * k + i] = Math.max(-127, Math.min(127, Math.round((w[o * k + i] as number) / s)));
  }
  return { q, scales };
}

/** An activation tensor's 8-bit parameters: x ≈ (q − zero) · scale. */
export interface ActivationParams {
  readonly scale: number;
  readonly zero: number;
}

export function activationParams(lo: number, hi: number): ActivationParams {
  lo = Math.min(lo, 0);
  hi = Math.max(hi, 0);
  const scale = hi > lo ? Math.fround((hi - lo) / 255) : 1;
  const zero = Math.max(0, Math.min(255, Math.round(-lo / scale)));
  return { scale, zero };
}

/** x quantized and back: what the int8 module reads for x. */
export function fakeQuantize(x: number, p: ActivationParams): number {
  const q = Math.max(0, Math.min(255, Math.round(x / p.scale) + p.zero));
  return (q - p.zero) * p.scale;
}

/** One product of the int8 module: its weights, channel scales, float32 bias (or none) and its input's parameters. */
export interface Int8Layer extends ChannelWeights {
  readonly bias: Float32Array;
  readonly input: ActivationParams;
}

/** The products of a plan in int8: weights per channel from the float parameters, inputs as calibrated. */
export function quantizeLayers(plan: Plan, params: Float32Array, inputs: readonly ActivationParams[]): Int8Layer[] {
  return plan.steps
    .filter((s): s is Step & ProductStep => s.kind === "product")
    .map((s, p) => ({
      ...quantizeWeights(params.subarray(s.weight.offset, s.weight.offset + s.weight.size), s.m, s.k),
      bias: s.bias !== undefined ? params.slice(s.bias.offset, s.bias.offset + s.bias.size) : new Float32Array(0),
      input: inputs[p]!,
    }));
}

/** Bytes of a plan's products as float32 values (weights and biases). */
export function floatBytes(plan: Plan): number {
  return plan.steps.reduce((a, s) => a + (s.kind === "product" ? 4 * (s.weight.size + (s.bias?.size ?? 0)) : 0), 0);
}

/** Bytes of int8 products: int8 weights, float32 scales and biases. */
export function int8Bytes(layers: readonly Int8Layer[]): number {
  return layers.reduce((a, l) => a + l.q.length + 4 * (l.scales.length + l.bias.length), 0);
}

export type Calibration = "minmax" | "percentile";
export const CALIBRATIONS: readonly Calibration[] = ["minmax", "percentile"];

/** The quantile kept by `percentile` at each end. */
export const PERCENTILE = 99.99;
/** Values kept per tensor for the quantiles (a strided sample beyond it). */
const KEEP = 1 << 20;

/** What calibration saw of one tensor: its extremes, and a sample of its values for the quantiles. */
export class Observer {
  lo = Infinity;
  hi = -Infinity;
  private readonly kept: number[] = [];
  private seen = 0;

  add(x: ArrayLike<number>, from: number, count: number): void {
    for (let i = from; i < from + count; i++) {
      const v = x[i] as number;
      if (v < this.lo) this.lo = v;
      if (v > this.hi) this.hi = v;
      // Every value while there is room, then every value whose index falls on the stride.
      if (this.kept.length < KEEP) this.kept.push(v);
      else if (this.seen % 7 === 0) this.kept[(this.seen / 7) % KEEP] = v;
      this.seen++;
    }
  }

  range(how: Calibration): readonly [number, number] {
    if (this.seen === 0) return [0, 0];
    if (how === "minmax") return [this.lo, this.hi];
    const sorted = Float64Array.from(this.kept).sort();
    const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.round((p / 100) * (sorted.length - 1))))] as number;
    return [at(100 - PERCENTILE), at(PERCENTILE)];
  }
}
