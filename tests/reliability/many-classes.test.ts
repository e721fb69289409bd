/**
 * Issue 22, item 9: a model's memory used to grow with classes² (3,000 classes 0.77 GB, 6,000
 * 2.75 GB, 20,000 aborted V8): each metric accumulator held a dense k × k confusion table, and
 * the report drew it as a k²-cell table. The counts are now sparse above 256 classes, macro
 * precision/recall/F1 come from per-class sums, and no matrix is reported above 100 classes.
 */
import { describe, expect, it } from "vitest";
import { macroScores, MAX_CONFUSION_MATRIX, MetricAccumulator, type Task } from "../../runtime/metrics.js";
import { mulberry32 } from "../../bench/data.js";

const multiclass = (classes: number): Task => ({ kind: "multiclass", classes }) as Task;

/** n samples of k classes, one-hot targets and random scores, fed in batches. */
function feed(acc: MetricAccumulator, k: number, n: number, seed: number): number[][] {
  const rand = mulberry32(seed);
  const matrix = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const batch = 16;
  for (let s = 0; s < n; s += batch) {
    const m = Math.min(batch, n - s);
    const pred = new Float32Array(m * k);
    const target = new Float32Array(m * k);
    for (let i = 0; i < m; i++) {
      const t = Math.floor(rand() * k);
      // Right about half the time, so the diagonal and the off-diagonal cells are both filled.
      const p = rand() < 0.5 ? t : Math.floor(rand() * k);
      target[i * k + t] = 1;
      pred[i * k + p] = 1;
      matrix[t]![p]!++;
    }
    acc.add(pred, target, m, 0.5);
  }
  return matrix;
}

describe("many classes", () => {
  it.each([3, 40, 300])("%i classes: macro precision, recall and F1 equal those of the full matrix", (k) => {
    const acc = new MetricAccumulator(multiclass(k), k, ["precision", "recall", "f1", "confusion_matrix"]);
    const matrix = feed(acc, k, 2000, k);
    const r = acc.result(["precision", "recall", "f1", "confusion_matrix"]);
    const want = macroScores(matrix);
    expect(r.precision).toBe(want.precision);
    expect(r.recall).toBe(want.recall);
    expect(r.f1).toBe(want.f1);
    if (k <= MAX_CONFUSION_MATRIX) expect(r.confusion).toEqual(matrix);
    else expect(r.confusion).toBeUndefined();
  });

  it("a checkpoint's saved counts restore the same figures with sparse counts (300 classes)", () => {
    const k = 300;
    const a = new MetricAccumulator(multiclass(k), k, ["f1"]);
    feed(a, k, 500, 7);
    const b = new MetricAccumulator(multiclass(k), k, ["f1"]);
    expect(b.load(a.save())).toBe(true);
    expect(b.result(["f1"])).toEqual(a.result(["f1"]));
    expect(b.save().confusion).toEqual(a.save().confusion);
  });

  it("memory grows with the classes, not their square: 4× the classes take far less than 16× the bytes", () => {
    const bytes = (k: number): number => {
      const before = process.memoryUsage().arrayBuffers;
      const accs = Array.from({ length: 4 }, () => new MetricAccumulator(multiclass(k), k, ["accuracy"]));
      const used = process.memoryUsage().arrayBuffers - before;
      expect(accs).toHaveLength(4);
      return used;
    };
    const small = bytes(5_000);
    const large = bytes(20_000); // dense, 4 × 3.2 GB: V8 would abort here
    expect(large).toBeLessThan(small * 6);
    expect(large).toBeLessThan(20_000 * 4 * 64);
  });
});
