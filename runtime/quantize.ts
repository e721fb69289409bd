/**
 * Post-training quantization of a trained model (`nnc quantize`): the plan of its steps
 * (`compiler/quantize/plan.ts`), the float module run over the first N training samples to see
 * each product's input (min/max, and a sample for the percentiles), those ranges turned into
 * 8-bit parameters, and the int8 module written with them.
 */
import type { CompiledModel } from "../compiler/model-api.js";
import type { Model } from "../compiler/program.js";
import type { Result } from "../grammar/diagnostics.js";
import { isClassifier, MetricAccumulator, type Task } from "./metrics.js";
import { fmt } from "./train.js";
import { predictAll } from "./batches.js";
import { planOf, type Plan } from "../compiler/quantize/plan.js";
import { emitQuantized, type Emitted } from "../compiler/quantize/emit.js";
import { loadQuantized, type QuantizedModel } from "../compiler/quantize/load.js";
import { activationParams, Observer, quantizeLayers, type ActivationParams, type Calibration, type Int8Layer } from "../compiler/quantize/scheme.js";

export interface QuantizeOptions {
  /** Training samples the calibration runs (the first ones). */
  readonly calibrate: number;
  readonly calibration: Calibration;
  /** Samples per pass of the module. */
  readonly maxBatch?: number;
}

export interface Quantized {
  readonly plan: Plan;
  readonly int8: Emitted;
  /** The same steps with float products: the float32 reference of the plan. */
  readonly float: Emitted;
  readonly activations: readonly ActivationParams[];
  /** The int8 products (what `weights.int8.json` holds). */
  readonly layers: readonly Int8Layer[];
  /** Training samples the calibration ran. */
  readonly calibrated: number;
}

export function quantize(model: Model, trained: CompiledModel, calibration: { readonly x: Float32Array; readonly n: number }, o: QuantizeOptions): Result<Quantized | undefined> {
  const planned = planOf(model, trained.layout);
  const plan = planned.value;
  if (!plan) return { value: undefined, diagnostics: planned.diagnostics };
  const params = Float32Array.from(trained.params);
  const maxBatch = o.maxBatch ?? 64;
  const float = emitQuantized(plan, { mode: "float", params, maxBatch });
  const observers = plan.steps.filter((s) => s.kind === "product").map(() => new Observer());
  const reference = loadQuantized(float.js).createModel((p, values, count) => observers[p]!.add(values, 0, count));
  const n = Math.min(o.calibrate, calibration.n);
  reference.forward(calibration.x.subarray(0, n * plan.inputShape.reduce((a, b) => a * b, 1)), n);
  const activations = observers.map((ob) => {
    const [lo, hi] = ob.range(o.calibration);
    return activationParams(lo, hi);
  });
  const what = `Calibrated by ${o.calibration} on ${n} training samples.`;
  const layers = quantizeLayers(plan, params, activations);
  const int8 = emitQuantized(plan, { mode: "int8", layers, maxBatch, calibration: what });
  return { value: { plan, int8, float, activations, layers, calibrated: n }, diagnostics: planned.diagnostics };
}

/** A model of a module text, ready to run (the float module without its hook). */
export function instantiate(js: string): QuantizedModel {
  return loadQuantized(js).createModel(() => {});
}

/** Accuracy of a classifier's outputs (n × outputSize) on a split, or its mean squared error. */
export function score(out: ArrayLike<number>, split: { readonly y: Float32Array; readonly n: number }, task: Task, outputSize: number): { readonly metric: "accuracy" | "mse"; readonly value: number } {
  const metric = isClassifier(task) ? "accuracy" : "mse";
  const acc = new MetricAccumulator(task, outputSize, [metric]);
  acc.add(out, split.y, split.n, 0);
  return { metric, value: acc.result([metric])[metric] as number };
}

/**
 * Samples per second of `run` over batches of `batch` rows of x (the last one partial), timed for
 * at least `ms` after one warm-up pass; 0 for no rows. A split smaller than one batch is one
 * partial batch (it used to time nothing for a second and report 0).
 */
export function throughput(run: (x: Float32Array, n: number) => unknown, x: Float32Array, n: number, inputSize: number, batch: number, ms = 1000): number {
  if (n <= 0) return 0;
  const pass = (): number => {
    for (let start = 0; start < n; start += batch) {
      const m = Math.min(batch, n - start);
      run(x.subarray(start * inputSize, (start + m) * inputSize), m);
    }
    return n;
  };
  pass();
  let samples = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) samples += pass();
  return samples / ((performance.now() - t0) / 1000);
}

/**
 * Samples per second of two ways to run the same model, timed in turns (a, b, a, b) and each
 * the better of its two: on a shared machine a burst of load then slows both, not one.
 */
export function compareThroughput(
  a: (x: Float32Array, n: number) => unknown,
  b: (x: Float32Array, n: number) => unknown,
  data: { readonly x: Float32Array; readonly n: number },
  inputSize: number,
  batch: number,
  ms = 1000,
): { readonly a: number; readonly b: number } {
  const n = Math.min(data.n, 32 * batch);
  const t = (run: (x: Float32Array, n: number) => unknown): number => throughput(run, data.x, n, inputSize, batch, ms);
  const [a1, b1, a2, b2] = [t(a), t(b), t(a), t(b)];
  return { a: Math.max(a1, a2), b: Math.max(b1, b2) };
}

/** Size, accuracy (or error) and speed of a model before (float32) and after (int8) quantization, on one split. */
export interface Comparison {
  readonly split: string;
  readonly samples: number;
  readonly metric: "accuracy" | "mse";
  readonly before: number;
  readonly after: number;
  /** Bytes of the products' parameters: float32 values, and int8 values with float32 scales and biases. */
  readonly floatBytes: number;
  readonly int8Bytes: number;
  /** Samples per second over batches of `batch` rows of the split, timed in turns (`compareThroughput`). */
  readonly batch: number;
  readonly speedBefore: number;
  readonly speedAfter: number;
}

export function compareQuantized(
  model: CompiledModel,
  quantized: QuantizedModel,
  sizes: { readonly floatBytes: number; readonly int8Bytes: number },
  data: { readonly x: Float32Array; readonly y: Float32Array; readonly n: number },
  split: string,
  task: Task,
  ms = 1000,
): Comparison {
  const outputSize = model.meta.outputSize;
  const before = score(predictAll(model, data.x, data.n), data, task, outputSize);
  const after = score(quantized.forward(data.x, data.n), data, task, outputSize);
  const batch = Math.min(64, model.meta.maxBatch, quantized.meta.maxBatch);
  const speed = compareThroughput((x, n) => model.forward(x, n, false), (x, n) => quantized.forward(x, n), data, model.meta.inputSize, batch, ms);
  return { split, samples: data.n, metric: before.metric, before: before.value, after: after.value, ...sizes, batch, speedBefore: speed.a, speedAfter: speed.b };
}

const kib = (b: number): string => `${(b / 1024).toFixed(1)} KiB`;
const signed = (x: number): string => `${x >= 0 ? "+" : ""}${fmt(x)}`;
/** An accuracy's change in points (hundredths), an error's as it is. */
const change = (c: Comparison): string => (c.metric === "accuracy" ? `${c.after >= c.before ? "+" : "−"}${(Math.abs(c.after - c.before) * 100).toFixed(2)} points` : signed(c.after - c.before));

/** The comparison as rows of (what, float32, int8, change), for the terminal and the report. */
export function comparisonRows(c: Comparison, kernels: string): readonly (readonly [string, string, string, string])[] {
  return [
    ["weights (dense and conv products)", kib(c.floatBytes), kib(c.int8Bytes), `${(c.floatBytes / c.int8Bytes).toFixed(2)}× smaller`],
    [`${c.split} ${c.metric} (${c.samples} samples)`, fmt(c.before), fmt(c.after), change(c)],
    [`samples/s, batches of ${c.batch} of the ${c.split} split`, `${Math.round(c.speedBefore)} (${kernels})`, `${Math.round(c.speedAfter)} (int8 WebAssembly SIMD)`, c.speedBefore > 0 ? `${(c.speedAfter / c.speedBefore).toFixed(2)}×` : "—"],
  ];
}

/** The rows as aligned text lines under a header. */
export function formatComparison(c: Comparison, kernels: string): string {
  const rows = [["", "float32", "int8", ""] as const, ...comparisonRows(c, kernels)];
  const widths = [0, 1, 2].map((j) => Math.max(...rows.map((r) => r[j]!.length)));
  return rows.map((r) => `  ${r[0].padEnd(widths[0]!)}  ${r[1].padEnd(widths[1]!)}  ${r[2].padEnd(widths[2]!)}  ${r[3]}`.trimEnd()).join("\n") + "\n";
}
