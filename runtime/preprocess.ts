/**
 * Feature preprocessing, fitted on the training split only and saved with the weights so that
 * `eval`, `predict` and an application apply exactly the same transform:
 *
 *     x' = (x · scale − shift[j]) / divide[j]
 */
import type { TokenizerState } from "./text.js";
import type { Normalization } from "../compiler/program.js";
import type { CsvSchema } from "./csv.js";
import type { Floats } from "../compiler/model-api.js";

export interface Preprocess {
  readonly scale: number;
  readonly normalize: Normalization;
  /** Per feature: the mean (standard) or minimum (minmax); empty for `none`. */
  readonly shift: readonly number[];
  /** Per feature: the standard deviation (standard) or range (minmax); empty for `none`. */
  readonly divide: readonly number[];
  /** Class names, index = class, when the labels were text. */
  readonly classes?: readonly string[];
  /** How the training CSV was read (columns, categories, fill values), to read later files alike. */
  readonly csv?: CsvSchema;
  /** The tokenizer fitted on the training split, for a text model. */
  readonly tokenizer?: TokenizerState;
  /** `normalize_target standard`: per output, the training targets' mean and standard deviation (y' = (y − mean) / std). */
  readonly target?: TargetScaling;
}

export interface TargetScaling {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/** Fits the targets' statistics on `y` (n × outputs); a constant target keeps std 1. */
export function fitTarget(y: Float32Array, outputs: number): TargetScaling {
  const n = y.length / outputs;
  const mean = new Array<number>(outputs).fill(0);
  const std = new Array<number>(outputs).fill(1);
  for (let j = 0; j < outputs; j++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += y[i * outputs + j]!;
    const m = n > 0 ? sum / n : 0;
    let sq = 0;
    for (let i = 0; i < n; i++) sq += (y[i * outputs + j]! - m) ** 2;
    const s = n > 0 ? Math.sqrt(sq / n) : 0;
    mean[j] = m;
    std[j] = s > 1e-12 ? s : 1;
  }
  return { mean, std };
}

/** Targets into the model's units, in place: (y − mean) / std. */
export function scaleTargets(t: TargetScaling, y: Float32Array): void {
  const k = t.mean.length;
  for (let i = 0; i < y.length; i++) y[i] = (y[i]! - t.mean[i % k]!) / t.std[i % k]!;
}

/** The model's outputs (or standardized targets) back into the data's units: `out` = v · std + mean. */
export function unscaleTargets(t: TargetScaling, v: ArrayLike<number>, out: { [i: number]: number }, count: number): void {
  const k = t.mean.length;
  for (let i = 0; i < count; i++) out[i] = v[i]! * t.std[i % k]! + t.mean[i % k]!;
}

/** Fits the statistics on `x` (n × features), after scaling. */
export function fitPreprocess(
  x: Float32Array,
  n: number,
  features: number,
  normalize: Normalization,
  scale: number,
): Preprocess {
  if (normalize === "none" || n === 0) return { scale, normalize, shift: [], divide: [] };
  const shift = new Array<number>(features).fill(0);
  const divide = new Array<number>(features).fill(1);
  for (let j = 0; j < features; j++) {
    if (normalize === "standard") {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += x[i * features + j]! * scale;
      const mean = sum / n;
      let sq = 0;
      for (let i = 0; i < n; i++) {
        const d = x[i * features + j]! * scale - mean;
        sq += d * d;
      }
      const std = Math.sqrt(sq / n);
      shift[j] = mean;
      divide[j] = std > 1e-12 ? std : 1;
    } else {
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = 0; i < n; i++) {
        const v = x[i * features + j]! * scale;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      shift[j] = lo;
      divide[j] = hi - lo > 1e-12 ? hi - lo : 1;
    }
  }
  return { scale, normalize, shift, divide };
}

/** Applies the transform in place. */
export function applyPreprocess(p: Preprocess, x: Float32Array, features: number): void {
  const n = x.length / features;
  const norm = p.normalize !== "none" && p.shift.length === features;
  if (!norm && p.scale === 1) return;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < features; j++) {
      const k = i * features + j;
      const v = x[k]! * p.scale;
      x[k] = norm ? (v - p.shift[j]!) / p.divide[j]! : v;
    }
  }
}

/** `normalize_target`: outputs and targets back in the data's units (buffers made once), so mse, rmse, mae and r2 are the data's. */
export interface DataUnits {
  of(output: Floats, y: Floats, count: number): [Floats, Floats];
}

export function dataUnits(t: TargetScaling, size: number): DataUnits {
  const o = new Float64Array(size);
  const y = new Float64Array(size);
  return {
    of(output, target, count) {
      unscaleTargets(t, output, o, count);
      unscaleTargets(t, target, y, count);
      return [o, y];
    },
  };
}
