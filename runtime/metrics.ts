/**
 * Metrics, accumulated batch by batch: loss, accuracy, mse, rmse, mae, r2, macro precision /
 * recall / F1 (and per class), the confusion matrix (rows: true class, columns: predicted) and
 * ROC AUC. All but AUC are running sums that allocate nothing per batch; AUC is a ranking, so
 * when it is asked for the accumulator keeps every sample's scores (in buffers that double
 * when full) and ranks them when the result is read.
 */
import type { LossKind, MetricKind, Program } from "../compiler/program.js";
import { RealSteps } from "./tagged.js";

/** What the outputs mean, which decides how a prediction becomes a class. */
export type Task =
  /** With `steps`: one class per step of a sequence output [steps, classes] (a language model's next tokens). */
  | { readonly kind: "multiclass"; readonly classes: number; readonly steps?: number }
  | { readonly kind: "binary"; readonly threshold: number }
  | { readonly kind: "multilabel"; readonly outputs: number; readonly threshold: number }
  | { readonly kind: "regression"; readonly outputs: number };

export function taskOf(loss: LossKind, outputSize: number, lastActivation: string, outputShape?: readonly number[]): Task {
  if (loss === "cross_entropy") {
    // A sequence output [T, V]: a class per step.
    if (outputShape !== undefined && outputShape.length === 2) return { kind: "multiclass", classes: outputShape[1]!, steps: outputShape[0]! };
    return { kind: "multiclass", classes: outputSize };
  }
  if (loss === "binary_cross_entropy") {
    // Probabilities after a sigmoid split at 0.5; raw logits at 0.
    const threshold = lastActivation === "sigmoid" || lastActivation === "softmax" ? 0.5 : 0;
    return outputSize === 1 ? { kind: "binary", threshold } : { kind: "multilabel", outputs: outputSize, threshold };
  }
  return { kind: "regression", outputs: outputSize };
}

export function taskOfProgram(p: Program, outputSize: number, outputShape?: readonly number[]): Task {
  let act = "linear";
  for (const l of p.model.layers) if (l.activation !== undefined) act = l.activation.kind;
  return taskOf(p.loss.kind, outputSize, act, outputShape);
}

/** Outputs per step: the classes of a sequence task, else every output. */
export function rowWidth(t: Task, outputSize: number): number {
  return t.kind === "multiclass" && t.steps !== undefined ? t.classes : outputSize;
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
  rmse?: number;
  mae?: number;
  r2?: number;
  auc?: number;
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
  /** With `r2`: per output, the targets' running mean and squared deviations (Welford) and the squared errors. */
  readonly r2?: { readonly mean: readonly number[]; readonly m2: readonly number[]; readonly res: readonly number[] };
  /** With `auc`: the scores and 0/1 labels kept so far (see `MetricAccumulator`). */
  readonly auc?: { readonly scores: readonly number[]; readonly labels: readonly number[] };
}

const MAXIMIZED = new Set(["accuracy", "precision", "recall", "f1", "auc", "r2"]);

/** "Higher is better" for accuracy-like metrics, "lower" for losses and errors. */
export function metricMode(name: string): "max" | "min" {
  const base = name.replace(/^val_/, "");
  return MAXIMIZED.has(base) ? "max" : "min";
}

export class MetricAccumulator {
  private n = 0;
  private lossSum = 0;
  private correct = 0;
  private elements = 0;
  private sqErr = 0;
  private absErr = 0;
  /** Counts by true × predicted class: dense up to `DENSE_CONFUSION` classes, else only the non-zero cells (at most one per sample). */
  private readonly confusion: Confusion;
  private readonly k: number;
  /** `r2`: per output, the targets' mean and squared deviations (Welford) and the squared errors; undefined when not asked for. */
  private readonly r2: { mean: Float64Array; m2: Float64Array; res: Float64Array } | undefined;
  /** `auc`: the scores per sample (`outputSize` each) and labels (one class, or one 0/1 per output), `kept` samples so far. */
  private auc: { scores: Float64Array; labels: Int32Array; kept: number } | undefined;
  private readonly labelWidth: number;

  /** Rows per sample: the steps of a sequence task (each its own row of classes), else 1. */
  private readonly steps: number;
  /** For a sequence task: the rows with a target (`tagged.ts`). */
  private readonly realSteps: RealSteps | undefined;
  readonly outputSize: number;

  constructor(
    readonly task: Task,
    /** Outputs per sample (for a sequence task, steps × classes). */
    outputSize: number,
    /** The metrics to compute; `r2` and `auc` keep state only when listed (default: all). */
    wanted?: readonly MetricKind[],
  ) {
    this.steps = task.kind === "multiclass" && task.steps !== undefined ? task.steps : 1;
    this.realSteps = task.kind === "multiclass" && task.steps !== undefined ? new RealSteps() : undefined;
    this.outputSize = rowWidth(task, outputSize);
    outputSize = this.outputSize;
    this.k = classCount(task);
    this.confusion = new Confusion(this.k);
    const m = outputSize;
    if (wanted === undefined || wanted.includes("r2")) this.r2 = { mean: new Float64Array(m), m2: new Float64Array(m), res: new Float64Array(m) };
    this.labelWidth = task.kind === "multiclass" ? 1 : m;
    // No AUC over a language model's steps: it would keep every step's every score.
    if ((wanted === undefined || wanted.includes("auc")) && task.kind !== "regression" && this.steps === 1) this.auc = { scores: new Float64Array(0), labels: new Int32Array(0), kept: 0 };
  }

  reset(): void {
    this.n = this.lossSum = this.correct = this.elements = this.sqErr = this.absErr = 0;
    this.confusion.clear();
    if (this.r2) for (const a of [this.r2.mean, this.r2.m2, this.r2.res]) a.fill(0);
    if (this.auc) this.auc.kept = 0;
  }

  /** Adds a batch: `pred` and `target` are n × outputSize; `loss` is the batch's mean loss (per step, for a sequence task). */
  add(pred: ArrayLike<number>, target: ArrayLike<number>, n: number, loss: number): void {
    n *= this.steps;
    const m = this.outputSize;
    // A tagger's padded steps have no target: left out of every figure.
    if (this.realSteps !== undefined) ({ pred, target, rows: n } = this.realSteps.pack(pred, target, n, m));
    const before = this.n;
    this.n += n;
    this.lossSum += loss * n;
    for (let i = 0; i < n * m; i++) {
      const d = pred[i]! - target[i]!;
      this.sqErr += d * d;
      this.absErr += Math.abs(d);
    }
    this.elements += n * m;
    if (this.r2) {
      const { mean, m2, res } = this.r2;
      for (let i = 0; i < n; i++) {
        const count = before + i + 1;
        for (let j = 0; j < m; j++) {
          const y = target[i * m + j]!;
          const d = y - mean[j]!;
          mean[j] = mean[j]! + d / count;
          m2[j] = m2[j]! + d * (y - mean[j]!);
          const e = pred[i * m + j]! - y;
          res[j] = res[j]! + e * e;
        }
      }
    }
    const t = this.task;
    if (this.auc) this.keep(pred, target, n);
    if (t.kind === "multiclass") {
      for (let i = 0; i < n; i++) {
        const p = argmax(pred, i * m, m);
        const y = argmax(target, i * m, m);
        if (p === y) this.correct++;
        this.confusion.add(y, p);
      }
    } else if (t.kind === "binary") {
      for (let i = 0; i < n; i++) {
        const p = pred[i]! >= t.threshold ? 1 : 0;
        const y = target[i]! >= 0.5 ? 1 : 0;
        if (p === y) this.correct++;
        this.confusion.add(y, p);
      }
    } else if (t.kind === "multilabel") {
      for (let i = 0; i < n * m; i++) if ((pred[i]! >= t.threshold ? 1 : 0) === (target[i]! >= 0.5 ? 1 : 0)) this.correct++;
    }
  }

  /** Keeps the batch's scores and labels for AUC, growing the buffers by doubling. */
  private keep(pred: ArrayLike<number>, target: ArrayLike<number>, n: number): void {
    const a = this.auc!;
    const m = this.outputSize;
    const lw = this.labelWidth;
    if ((a.kept + n) * m > a.scores.length) {
      const cap = Math.max(a.kept + n, 2 * (a.scores.length / Math.max(1, m)), 64);
      const scores = new Float64Array(cap * m);
      scores.set(a.scores.subarray(0, a.kept * m));
      const labels = new Int32Array(cap * lw);
      labels.set(a.labels.subarray(0, a.kept * lw));
      a.scores = scores;
      a.labels = labels;
    }
    for (let i = 0; i < n * m; i++) a.scores[a.kept * m + i] = pred[i]!;
    if (this.task.kind === "multiclass") for (let i = 0; i < n; i++) a.labels[a.kept + i] = argmax(target, i * m, m);
    else for (let i = 0; i < n * m; i++) a.labels[a.kept * m + i] = target[i]! >= 0.5 ? 1 : 0;
    a.kept += n;
  }

  get count(): number {
    return this.n;
  }

  /** The sums so far, exactly (a checkpoint taken in the middle of an epoch keeps them). */
  save(): AccumulatorState {
    const confusion = this.confusion.cells();
    const r2 = this.r2 ? { r2: { mean: Array.from(this.r2.mean), m2: Array.from(this.r2.m2), res: Array.from(this.r2.res) } } : {};
    const a = this.auc;
    const auc = a ? { auc: { scores: Array.from(a.scores.subarray(0, a.kept * this.outputSize)), labels: Array.from(a.labels.subarray(0, a.kept * this.labelWidth)) } } : {};
    return { n: this.n, lossSum: this.lossSum, correct: this.correct, elements: this.elements, sqErr: this.sqErr, absErr: this.absErr, confusion, ...r2, ...auc };
  }

  /** Continues from saved sums; false (and unchanged) when they do not fit this accumulator. */
  load(s: AccumulatorState): boolean {
    const nums = [s.n, s.lossSum, s.correct, s.elements, s.sqErr, s.absErr];
    if (!nums.every((x) => typeof x === "number" && Number.isFinite(x)) || !Array.isArray(s.confusion)) return false;
    for (const e of s.confusion) {
      if (!Array.isArray(e) || !Number.isInteger(e[0]) || e[0] < 0 || e[0] >= this.k * this.k || typeof e[1] !== "number" || !Number.isFinite(e[1])) return false;
    }
    const m = this.outputSize;
    const numbers = (x: unknown, len: number): x is number[] => Array.isArray(x) && x.length === len && x.every((v) => typeof v === "number" && Number.isFinite(v));
    if (this.r2 && !(typeof s.r2 === "object" && s.r2 !== null && numbers(s.r2.mean, m) && numbers(s.r2.m2, m) && numbers(s.r2.res, m))) return false;
    if (this.auc) {
      const kept = s.auc && Array.isArray(s.auc.scores) ? s.auc.scores.length / m : NaN;
      if (!(Number.isSafeInteger(kept) && numbers(s.auc!.scores, kept * m) && numbers(s.auc!.labels, kept * this.labelWidth))) return false;
      if (!s.auc!.labels.every((l) => Number.isInteger(l) && l >= 0 && l < Math.max(2, this.k))) return false;
    }
    this.reset();
    ({ n: this.n, lossSum: this.lossSum, correct: this.correct, elements: this.elements, sqErr: this.sqErr, absErr: this.absErr } = s);
    for (const [i, c] of s.confusion) this.confusion.set(i, c);
    if (this.r2 && s.r2) {
      this.r2.mean.set(s.r2.mean);
      this.r2.m2.set(s.r2.m2);
      this.r2.res.set(s.r2.res);
    }
    if (this.auc && s.auc) this.auc = { scores: Float64Array.from(s.auc.scores), labels: Int32Array.from(s.auc.labels), kept: s.auc.scores.length / m };
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
    if (want.has("rmse")) out.rmse = Math.sqrt(this.sqErr / Math.max(1, this.elements));
    if (want.has("mae")) out.mae = this.absErr / Math.max(1, this.elements);
    if (want.has("r2") && this.r2) out.r2 = this.n > 0 ? r2Score(this.r2.res, this.r2.m2) : NaN;
    if (this.k > 0 && (want.has("precision") || want.has("recall") || want.has("f1"))) {
      const { precision, recall, f1 } = this.confusion.macro();
      if (want.has("precision")) out.precision = precision;
      if (want.has("recall")) out.recall = recall;
      if (want.has("f1")) out.f1 = f1;
    }
    if (want.has("auc") && this.auc) out.auc = this.aucScore();
    // A matrix of more classes is not something to print or draw (and would be k² numbers).
    if (want.has("confusion_matrix") && this.k > 0 && this.k <= MAX_CONFUSION_MATRIX) out.confusion = this.confusionMatrix();
    return out;
  }

  /** Binary: the AUC of the one output; several classes (one-vs-rest) or outputs: the macro average. */
  private aucScore(): number {
    const a = this.auc!;
    const m = this.outputSize;
    const n = a.kept;
    const column = new Float64Array(n);
    const positive = new Uint8Array(n);
    let sum = 0;
    let used = 0;
    for (let j = 0; j < m; j++) {
      for (let i = 0; i < n; i++) {
        column[i] = a.scores[i * m + j]!;
        positive[i] = this.task.kind === "multiclass" ? (a.labels[i] === j ? 1 : 0) : a.labels[i * m + j]!;
      }
      const auc = rocAuc(column, positive);
      if (Number.isNaN(auc)) continue; // a class without positives or without negatives
      sum += auc;
      used++;
    }
    return used > 0 ? sum / used : NaN;
  }

  confusionMatrix(): number[][] {
    return this.confusion.matrix();
  }
}

/** Classes up to which a confusion matrix is reported (printed, drawn in the report, in JSON). */
export const MAX_CONFUSION_MATRIX = 100;
/** Classes up to which the counts are a dense k × k array. */
const DENSE_CONFUSION = 256;

/**
 * Confusion counts with the per-class sums kept as they grow, so that macro precision, recall
 * and F1 cost O(k), and the memory is O(k + samples) for many classes (3,000 classes used to
 * take 72 MB per accumulator, 20,000 classes 3.2 GB) instead of O(k²).
 */
class Confusion {
  private readonly dense: Float64Array | undefined;
  private readonly sparse: Map<number, number> | undefined;
  private readonly tp: Float64Array;
  private readonly actual: Float64Array;
  private readonly predicted: Float64Array;

  constructor(readonly k: number) {
    if (k <= DENSE_CONFUSION) this.dense = new Float64Array(k * k);
    else this.sparse = new Map();
    this.tp = new Float64Array(k);
    this.actual = new Float64Array(k);
    this.predicted = new Float64Array(k);
  }

  clear(): void {
    this.dense?.fill(0);
    this.sparse?.clear();
    this.tp.fill(0);
    this.actual.fill(0);
    this.predicted.fill(0);
  }

  add(t: number, p: number, count = 1): void {
    const i = t * this.k + p;
    if (this.dense) this.dense[i] = this.dense[i]! + count;
    else this.sparse!.set(i, (this.sparse!.get(i) ?? 0) + count);
    this.actual[t] = this.actual[t]! + count;
    this.predicted[p] = this.predicted[p]! + count;
    if (t === p) this.tp[t] = this.tp[t]! + count;
  }

  /** Sets cell `i` (t·k + p) of a cleared table (restoring saved counts). */
  set(i: number, count: number): void {
    this.add(Math.floor(i / this.k), i % this.k, count);
  }

  /** The non-zero cells as [t·k + p, count], in index order. */
  cells(): [number, number][] {
    const out: [number, number][] = [];
    if (this.dense) {
      for (let i = 0; i < this.dense.length; i++) if (this.dense[i] !== 0) out.push([i, this.dense[i]!]);
    } else {
      for (const [i, c] of this.sparse!) if (c !== 0) out.push([i, c]);
      out.sort((a, b) => a[0] - b[0]);
    }
    return out;
  }

  matrix(): number[][] {
    const rows = Array.from({ length: this.k }, () => new Array<number>(this.k).fill(0));
    for (const [i, c] of this.cells()) rows[Math.floor(i / this.k)]![i % this.k] = c;
    return rows;
  }

  /** As `macroScores` of the matrix, from the per-class sums. */
  macro(): { precision: number; recall: number; f1: number } {
    return macroOfSums(this.tp, this.predicted, this.actual);
  }
}

/**
 * The coefficient of determination, 1 − SS_res / SS_tot per output, averaged over the outputs
 * (scikit-learn's `r2_score`, `uniform_average`; an output whose targets are all equal scores
 * 1 when predicted exactly, else 0, as its `force_finite` does).
 */
export function r2Score(res: ArrayLike<number>, tot: ArrayLike<number>): number {
  let sum = 0;
  for (let j = 0; j < res.length; j++) sum += tot[j]! > 0 ? 1 - res[j]! / tot[j]! : res[j] === 0 ? 1 : 0;
  return sum / Math.max(1, res.length);
}

/**
 * Area under the ROC curve of `scores` against `positive` (1 = positive): the Mann–Whitney U
 * statistic, (rank sum of the positives − P(P + 1)/2) / (P·N), with tied scores sharing their
 * average rank (a tie between a positive and a negative counts one half, as scikit-learn's
 * `roc_auc_score`). NaN when there are no positives or no negatives.
 */
export function rocAuc(scores: ArrayLike<number>, positive: ArrayLike<number>): number {
  const n = scores.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((x, y) => scores[x]! - scores[y]!);
  let rankSum = 0;
  let pos = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]!] === scores[order[i]!]) j++;
    const rank = (i + j) / 2 + 1; // the average of the 1-based ranks i + 1 … j + 1
    for (let q = i; q <= j; q++) {
      if (positive[order[q]!]) {
        rankSum += rank;
        pos++;
      }
    }
    i = j + 1;
  }
  const neg = n - pos;
  return pos === 0 || neg === 0 ? NaN : (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** Precision, recall, F1 and support (true samples) of each class, from a confusion matrix (0 where undefined). */
export interface ClassScores {
  readonly precision: number[];
  readonly recall: number[];
  readonly f1: number[];
  readonly support: number[];
  /** Samples predicted as each class. */
  readonly predicted: number[];
}

export function classScores(c: readonly (readonly number[])[]): ClassScores {
  const k = c.length;
  const out: ClassScores = { precision: [], recall: [], f1: [], support: [], predicted: [] };
  for (let j = 0; j < k; j++) {
    const tp = c[j]![j]!;
    let predicted = 0;
    let actual = 0;
    for (let i = 0; i < k; i++) {
      predicted += c[i]![j]!;
      actual += c[j]![i]!;
    }
    const pj = predicted > 0 ? tp / predicted : 0;
    const rj = actual > 0 ? tp / actual : 0;
    out.precision.push(pj);
    out.recall.push(rj);
    out.f1.push(pj + rj > 0 ? (2 * pj * rj) / (pj + rj) : 0);
    out.support.push(actual);
    out.predicted.push(predicted);
  }
  return out;
}

/** Macro-averaged precision, recall and F1 (classes that never occur and are never predicted are skipped). */
export function macroScores(c: readonly (readonly number[])[]): { precision: number; recall: number; f1: number } {
  const s = classScores(c);
  return macroOfSums(c.map((row, j) => row[j]!), s.predicted, s.support);
}

/**
 * Macro precision, recall and F1 from each class's true positives, predictions and true
 * samples (a class never seen and never predicted is skipped): what `macroScores` computes from
 * a matrix, and a sparse `Confusion` from its running sums.
 */
function macroOfSums(tp: ArrayLike<number>, predicted: ArrayLike<number>, actual: ArrayLike<number>): { precision: number; recall: number; f1: number } {
  let p = 0;
  let r = 0;
  let f = 0;
  let used = 0;
  for (let j = 0; j < tp.length; j++) {
    if (predicted[j] === 0 && actual[j] === 0) continue;
    const pj = predicted[j]! > 0 ? tp[j]! / predicted[j]! : 0;
    const rj = actual[j]! > 0 ? tp[j]! / actual[j]! : 0;
    used++;
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
