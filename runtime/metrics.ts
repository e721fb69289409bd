/**
 * Metrics, accumulated batch by batch without allocating: loss, accuracy, mse, mae, macro
 * precision / recall / F1 and the confusion matrix (rows: true class, columns: predicted).
 */
import type { LossKind, MetricKind, Program } from "../compiler/program.js";

/** What the outputs mean, which decides how a prediction becomes a class. */
export type Task =
  | { readonly kind: "multiclass"; readonly classes: number }
  | { readonly kind: "binary"; readonly threshold: number }
  | { readonly kind: "multilabel"; readonly outputs: number; readonly threshold: number }
  | { readonly kind: "regression"; readonly outputs: number };

export function taskOf(loss: LossKind, outputSize: number, lastActivation: string): Task {
  if (loss === "cross_entropy") return { kind: "multiclass", classes: outputSize };
  if (loss === "binary_cross_entropy") {
    // Probabilities after a sigmoid split at 0.5; raw logits at 0.
    const threshold = lastActivation === "sigmoid" || lastActivation === "softmax" ? 0.5 : 0;
    return outputSize === 1 ? { kind: "binary", threshold } : { kind: "multilabel", outputs: outputSize, threshold };
  }
  return { kind: "regression", outputs: outputSize };
}

export function taskOfProgram(p: Program, outputSize: number): Task {
  let act = "linear";
  for (const l of p.model.layers) if (l.activation !== undefined) act = l.activation.kind;
  return taskOf(p.loss.kind, outputSize, act);
}

export function isClassifier(t: Task): boolean {
  return t.kind === "multiclass" || t.kind === "binary";
}

/** Number of classes of a classifier (binary: 2). */
export function classCount(t: Task): number {
  return t.kind === "multiclass" ? t.classes : t.kind === "binary" ? 2 : 0;
}

export interface MetricValues {
  loss: number;
  accuracy?: number;
  mse?: number;
  mae?: number;
  precision?: number;
  recall?: number;
  f1?: number;
  /** confusion[t][p]: samples of true class t predicted as p. */
  confusion?: number[][];
}

/** The running sums of a `MetricAccumulator` (confusion as [index, count] pairs of its non-zero cells). */
export interface AccumulatorState {
  readonly n: number;
  readonly lossSum: number;
  readonly correct: number;
  readonly elements: number;
  readonly sqErr: number;
  readonly absErr: number;
  readonly confusion: readonly (readonly [number, number])[];
}

/** "Higher is better" for accuracy-like metrics, "lower" for losses and errors. */
export function metricMode(name: string): "max" | "min" {
  const base = name.replace(/^val_/, "");
  return base === "accuracy" || base === "precision" || base === "recall" || base === "f1" ? "max" : "min";
}

export class MetricAccumulator {
  private n = 0;
  private lossSum = 0;
  private correct = 0;
  private elements = 0;
  private sqErr = 0;
  private absErr = 0;
  private readonly confusion: Float64Array;
  private readonly k: number;

  constructor(
    readonly task: Task,
    readonly outputSize: number,
  ) {
    this.k = classCount(task);
    this.confusion = new Float64Array(this.k * this.k);
  }

  reset(): void {
    this.n = this.lossSum = this.correct = this.elements = this.sqErr = this.absErr = 0;
    this.confusion.fill(0);
  }

  /** Adds a batch: `pred` and `target` are n × outputSize; `loss` is the batch's mean loss. */
  add(pred: ArrayLike<number>, target: ArrayLike<number>, n: number, loss: number): void {
    const m = this.outputSize;
    this.n += n;
    this.lossSum += loss * n;
    for (let i = 0; i < n * m; i++) {
      const d = pred[i]! - target[i]!;
      this.sqErr += d * d;
      this.absErr += Math.abs(d);
    }
    this.elements += n * m;
    const t = this.task;
    if (t.kind === "multiclass") {
      for (let i = 0; i < n; i++) {
        const p = argmax(pred, i * m, m);
        const y = argmax(target, i * m, m);
        if (p === y) this.correct++;
        this.confusion[y * this.k + p]!++;
      }
    } else if (t.kind === "binary") {
      for (let i = 0; i < n; i++) {
        const p = pred[i]! >= t.threshold ? 1 : 0;
        const y = target[i]! >= 0.5 ? 1 : 0;
        if (p === y) this.correct++;
        this.confusion[y * 2 + p]!++;
      }
    } else if (t.kind === "multilabel") {
      for (let i = 0; i < n * m; i++) if ((pred[i]! >= t.threshold ? 1 : 0) === (target[i]! >= 0.5 ? 1 : 0)) this.correct++;
    }
  }

  get count(): number {
    return this.n;
  }

  /** The sums so far, exactly (a checkpoint taken in the middle of an epoch keeps them). */
  save(): AccumulatorState {
    const confusion: [number, number][] = [];
    for (let i = 0; i < this.confusion.length; i++) if (this.confusion[i] !== 0) confusion.push([i, this.confusion[i]!]);
    return { n: this.n, lossSum: this.lossSum, correct: this.correct, elements: this.elements, sqErr: this.sqErr, absErr: this.absErr, confusion };
  }

  /** Continues from saved sums; false (and unchanged) when they do not fit this accumulator. */
  load(s: AccumulatorState): boolean {
    const nums = [s.n, s.lossSum, s.correct, s.elements, s.sqErr, s.absErr];
    if (!nums.every((x) => typeof x === "number" && Number.isFinite(x)) || !Array.isArray(s.confusion)) return false;
    for (const e of s.confusion) {
      if (!Array.isArray(e) || !Number.isInteger(e[0]) || e[0] < 0 || e[0] >= this.confusion.length || typeof e[1] !== "number") return false;
    }
    this.reset();
    ({ n: this.n, lossSum: this.lossSum, correct: this.correct, elements: this.elements, sqErr: this.sqErr, absErr: this.absErr } = s);
    for (const [i, c] of s.confusion) this.confusion[i] = c;
    return true;
  }

  /** The values of `wanted` (plus the loss). */
  result(wanted: readonly MetricKind[]): MetricValues {
    const out: MetricValues = { loss: this.n > 0 ? this.lossSum / this.n : NaN };
    const want = new Set(wanted);
    const t = this.task;
    if (want.has("accuracy") && t.kind !== "regression") {
      out.accuracy = t.kind === "multilabel" ? this.correct / Math.max(1, this.elements) : this.correct / Math.max(1, this.n);
    }
    if (want.has("mse")) out.mse = this.sqErr / Math.max(1, this.elements);
    if (want.has("mae")) out.mae = this.absErr / Math.max(1, this.elements);
    if (this.k > 0 && (want.has("precision") || want.has("recall") || want.has("f1"))) {
      const { precision, recall, f1 } = macroScores(this.confusionMatrix());
      if (want.has("precision")) out.precision = precision;
      if (want.has("recall")) out.recall = recall;
      if (want.has("f1")) out.f1 = f1;
    }
    if (want.has("confusion_matrix") && this.k > 0) out.confusion = this.confusionMatrix();
    return out;
  }

  confusionMatrix(): number[][] {
    const rows: number[][] = [];
    for (let i = 0; i < this.k; i++) rows.push(Array.from(this.confusion.subarray(i * this.k, (i + 1) * this.k)));
    return rows;
  }
}

/** Macro-averaged precision, recall and F1 (classes that never occur and are never predicted are skipped). */
export function macroScores(c: readonly (readonly number[])[]): { precision: number; recall: number; f1: number } {
  const k = c.length;
  let p = 0;
  let r = 0;
  let f = 0;
  let used = 0;
  for (let j = 0; j < k; j++) {
    const tp = c[j]![j]!;
    let predicted = 0;
    let actual = 0;
    for (let i = 0; i < k; i++) {
      predicted += c[i]![j]!;
      actual += c[j]![i]!;
    }
    if (predicted === 0 && actual === 0) continue;
    used++;
    const pj = predicted > 0 ? tp / predicted : 0;
    const rj = actual > 0 ? tp / actual : 0;
    p += pj;
    r += rj;
    f += pj + rj > 0 ? (2 * pj * rj) / (pj + rj) : 0;
  }
  return used > 0 ? { precision: p / used, recall: r / used, f1: f / used } : { precision: 0, recall: 0, f1: 0 };
}

export function argmax(a: ArrayLike<number>, offset: number, m: number): number {
  let best = 0;
  let v = a[offset]!;
  for (let j = 1; j < m; j++) {
    if (a[offset + j]! > v) {
      v = a[offset + j]!;
      best = j;
    }
  }
  return best;
}
