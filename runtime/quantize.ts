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
import { planOf, type Plan } from "../compiler/quantize/plan.js";
import { emitQuantized, type Emitted } from "../compiler/quantize/emit.js";
import { loadQuantized, type QuantizedModel } from "../compiler/quantize/load.js";
import { activationParams, Observer, type ActivationParams, type Calibration } from "../compiler/quantize/scheme.js";

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
  const int8 = emitQuantized(plan, { mode: "int8", params, activations, maxBatch, calibration: what });
  return { value: { plan, int8, float, activations }, diagnostics: planned.diagnostics };
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

/** Samples per second of `run` over batches of `batch` rows of x, timed for at least `ms` (after one warm-up pass). */
export function throughput(run: (x: Float32Array, n: number) => unknown, x: Float32Array, n: number, inputSize: number, batch: number, ms = 1000): number {
  const pass = (): number => {
    let done = 0;
    for (let start = 0; start + batch <= n; start += batch) {
      run(x.subarray(start * inputSize, (start + batch) * inputSize), batch);
      done += batch;
    }
    return done;
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
