/**
 * A split in batches: gathering a batch's inputs and targets (`gather`, which the training loop
 * uses too), a split's loss and metrics in inference mode (`evaluate`), and predictions for
 * every sample (`predictAll`). Browser-safe.
 */
import type { CompiledModel, Floats } from "../compiler/model-api.js";
import type { MetricKind } from "../compiler/program.js";
import { MetricAccumulator, type MetricValues, type Task } from "./metrics.js";
import type { Split } from "./prepare.js";
import { dataUnits } from "./preprocess.js";
import { NO_TAG, realStepsWeight } from "./tagged.js";

/** Loss and metrics of `split` in inference mode, in batches of the model's maxBatch. */
export function evaluate(model: CompiledModel, split: Split, task: Task, metrics: readonly MetricKind[]): MetricValues {
  const meta = model.meta;
  const bs = Math.max(1, meta.maxBatch);
  const Arr = model.params instanceof Float64Array ? Float64Array : Float32Array;
  const xb = new Arr(bs * meta.inputSize);
  const yb = new Arr(bs * meta.outputSize);
  const acc = new MetricAccumulator(task, meta.outputSize, metrics);
  const order = new Uint32Array(0); // unused: identity order
  const units = split.target ? dataUnits(split.target, bs * meta.outputSize) : undefined;
  for (let start = 0; start < split.n; start += bs) {
    const n = Math.min(bs, split.n - start);
    gather(split, order, start, n, xb, yb, meta.inputSize, meta.outputSize, true);
    const loss = model.loss(xb, yb, n);
    if (units) acc.add(...units.of(model.output(), yb, n * meta.outputSize), n, loss);
    else acc.add(model.output(), yb, n, loss);
  }
  return acc.result(metrics);
}

/** Predictions for every sample of x (n × inputSize), n × outputSize. */
export function predictAll(model: CompiledModel, x: Float32Array, n: number): Float32Array {
  const meta = model.meta;
  const bs = Math.max(1, meta.maxBatch);
  const Arr = model.params instanceof Float64Array ? Float64Array : Float32Array;
  const xb = new Arr(bs * meta.inputSize);
  const out = new Float32Array(n * meta.outputSize);
  for (let start = 0; start < n; start += bs) {
    const m = Math.min(bs, n - start);
    xb.set(x.subarray(start * meta.inputSize, (start + m) * meta.inputSize));
    const y = model.forward(xb, m, false);
    out.set(y.subarray(0, m * meta.outputSize), start * meta.outputSize);
  }
  return out;
}

/** Samples of a split into a batch's inputs and targets (class ids as one-hot rows; a tagger's padded steps get none). */
export function gather(
  s: Split,
  order: Uint32Array,
  start: number,
  n: number,
  xb: Floats,
  yb: Floats,
  fi: number,
  fo: number,
  identity = false,
): void {
  let real = 0;
  for (let i = 0; i < n; i++) {
    const k = identity ? start + i : order[start + i]!;
    for (let j = 0; j < fi; j++) xb[i * fi + j] = s.x[k * fi + j]!;
    if (s.ids === undefined) {
      for (let j = 0; j < fo; j++) yb[i * fo + j] = s.y[k * fo + j]!;
      continue;
    }
    // Class ids → one-hot rows, one per step.
    const { steps, classes } = s.ids;
    yb.fill(0, i * fo, (i + 1) * fo);
    for (let t = 0; t < steps; t++) {
      const c = s.y[k * steps + t]!;
      if (c === NO_TAG) continue; // a tagger's padded step: no target, no loss (`tagged.ts`)
      yb[i * fo + t * classes + c] = 1;
      real++;
    }
  }
  const w = s.ids === undefined ? 1 : realStepsWeight(n * s.ids.steps, real);
  if (w !== 1) for (let j = 0; j < n * fo; j++) yb[j] = yb[j]! * w;
}
