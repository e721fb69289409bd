/**
 * rmse, r2, ROC AUC and per-class precision / recall / F1: against hand-computed values,
 * scikit-learn's documented examples, and (AUC) a brute-force count of every positive–negative
 * pair on random scores with ties; their use as `early_stop` monitors; their running sums
 * across a mid-epoch checkpoint.
 */
import { describe, expect, it } from "vitest";
import { checkSource } from "../../compiler/check.js";
import type { MetricKind } from "../../compiler/program.js";
import { classScores, macroScores, MetricAccumulator, metricMode, rocAuc, type Task } from "../../runtime/metrics.js";
import { Rng } from "../../runtime/rng.js";
import { compileModel } from "../../runtime/node/model.js";
import { programOf, session } from "./helpers.js";

/** AUC by definition: over every (positive, negative) pair, 1 when the positive scores higher, ½ for a tie. */
function pairwiseAuc(scores: readonly number[], positive: readonly number[]): number {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < scores.length; i++) {
    if (!positive[i]) continue;
    for (let j = 0; j < scores.length; j++) {
      if (positive[j]) continue;
      pairs++;
      wins += scores[i]! > scores[j]! ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    }
  }
  return wins / pairs;
}

function accumulate(task: Task, m: number, pred: readonly number[], y: readonly number[], wanted: readonly MetricKind[], batch = 3) {
  const acc = new MetricAccumulator(task, m, wanted);
  const n = y.length / m;
  for (let s = 0; s < n; s += batch) {
    const k = Math.min(batch, n - s);
    acc.add(pred.slice(s * m, (s + k) * m), y.slice(s * m, (s + k) * m), k, 0);
  }
  return acc;
}

describe("rmse and r2", () => {
  it("match scikit-learn's documented example, accumulated over batches", () => {
    // sklearn.metrics.r2_score([3, -0.5, 2, 7], [2.5, 0.0, 2, 8]) = 0.948608137…
    const acc = accumulate({ kind: "regression", outputs: 1 }, 1, [2.5, 0, 2, 8], [3, -0.5, 2, 7], ["rmse", "r2", "mse"], 3);
    const v = acc.result(["rmse", "r2", "mse"]);
    expect(v.mse).toBeCloseTo(0.375, 15);
    expect(v.rmse).toBeCloseTo(Math.sqrt(0.375), 15);
    expect(v.r2).toBeCloseTo(0.9486081370449679, 14);
  });

  it("averages r2 over the outputs; a constant target scores 1 if predicted exactly, else 0", () => {
    // output 0: y = 1, 2, 3 (mean 2, SS_tot 2), pred 1, 2, 4 → SS_res 1 → 0.5; output 1: constant, predicted exactly → 1
    const acc = accumulate({ kind: "regression", outputs: 2 }, 2, [1, 5, 2, 5, 4, 5], [1, 5, 2, 5, 3, 5], ["r2"], 2);
    expect(acc.result(["r2"]).r2).toBeCloseTo(0.75, 14);
    const off = accumulate({ kind: "regression", outputs: 1 }, 1, [5, 6], [5, 5], ["r2"]);
    expect(off.result(["r2"]).r2).toBe(0);
  });
});

describe("ROC AUC", () => {
  it("hand-computed examples, ties counting one half", () => {
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBe(0.75); // scikit-learn's roc_auc_score example
    // positives 0.5 and 0.9, negatives 0.5 and 0.2: pairs 0.5 (tie), 1, 1, 1 → 3.5 / 4
    expect(rocAuc([0.5, 0.5, 0.2, 0.9], [0, 1, 0, 1])).toBe(0.875);
    expect(rocAuc([0.3, 0.3, 0.3], [0, 1, 0])).toBe(0.5);
    expect(rocAuc([0.1, 0.2], [1, 1])).toBeNaN();
  });

  it("binary from the one output, multiclass one-vs-rest macro, by hand", () => {
    const b = accumulate({ kind: "binary", threshold: 0.5 }, 1, [0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1], ["auc"]);
    expect(b.result(["auc"]).auc).toBe(0.75);
    // 3 classes, labels 0, 1, 2, 0. Class 0: positives p0 = .6, .2 vs .1, .3 → pairs (.6>.1, .6>.3, .2>.1, .2<.3) = 3/4.
    // Class 1: positive .7 vs .3, .2, .2 → 1. Class 2: positive .4 vs .1, .2, .6 → 2/3.
    const pred = [0.6, 0.3, 0.1, 0.1, 0.7, 0.2, 0.3, 0.3, 0.4, 0.2, 0.2, 0.6];
    const y = [1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0];
    const m = accumulate({ kind: "multiclass", classes: 3 }, 3, pred, y, ["auc"], 2);
    expect(m.result(["auc"]).auc).toBeCloseTo((3 / 4 + 1 + 2 / 3) / 3, 15);
  });

  it("equals the brute-force pairwise count on random scores with many ties", () => {
    const rng = new Rng(7);
    for (let trial = 0; trial < 20; trial++) {
      const n = 5 + Math.floor(rng.next() * 60);
      const k = 2 + (trial % 4);
      const labels = Array.from({ length: n }, () => Math.floor(rng.next() * k));
      // coarse scores (tenths) so ties are frequent; rows need not sum to 1 for the ranking
      const pred = Array.from({ length: n * k }, () => Math.round(rng.next() * 10) / 10);
      const y = labels.flatMap((c) => Array.from({ length: k }, (_, j) => (j === c ? 1 : 0)));
      const acc = accumulate({ kind: "multiclass", classes: k }, k, pred, y, ["auc"], 4);
      const per: number[] = [];
      for (let c = 0; c < k; c++) {
        const pos = labels.map((l) => (l === c ? 1 : 0));
        if (pos.every((p) => p === 1) || pos.every((p) => p === 0)) continue;
        per.push(pairwiseAuc(pred.filter((_, i) => i % k === c), pos));
      }
      expect(acc.result(["auc"]).auc).toBeCloseTo(per.reduce((s, x) => s + x, 0) / per.length, 12);
      const bin = labels.map((l) => (l === 0 ? 1 : 0));
      const scores = pred.slice(0, n);
      const b = accumulate({ kind: "binary", threshold: 0.5 }, 1, scores, bin, ["auc"], 5);
      if (bin.includes(1) && bin.includes(0)) expect(b.result(["auc"]).auc).toBeCloseTo(pairwiseAuc(scores, bin), 12);
      else expect(b.result(["auc"]).auc).toBeNaN();
    }
  });

  it("a mid-epoch save and load continue the same sums (r2, auc)", () => {
    const task: Task = { kind: "multiclass", classes: 3 };
    const wanted: MetricKind[] = ["auc", "r2", "rmse"];
    const pred = [0.6, 0.3, 0.1, 0.1, 0.7, 0.2, 0.3, 0.3, 0.4, 0.2, 0.2, 0.6];
    const y = [1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0];
    const whole = accumulate(task, 3, pred, y, wanted, 4);
    const a = new MetricAccumulator(task, 3, wanted);
    a.add(pred.slice(0, 6), y.slice(0, 6), 2, 0);
    const b = new MetricAccumulator(task, 3, wanted);
    expect(b.load(JSON.parse(JSON.stringify(a.save())))).toBe(true);
    b.add(pred.slice(6), y.slice(6), 2, 0);
    expect(b.result(wanted)).toEqual(whole.result(wanted));
    expect(new MetricAccumulator(task, 3, wanted).load({ ...a.save(), auc: { scores: [1], labels: [0] } })).toBe(false);
  });
});

describe("per-class precision, recall and F1", () => {
  it("one figure per class, whose mean over the classes present is the macro average", () => {
    // true: 0 0 1 2 2; predicted: 0 1 1 2 0
    const c = [
      [1, 1, 0],
      [0, 1, 0],
      [1, 0, 1],
    ];
    const s = classScores(c);
    expect(s.precision).toEqual([0.5, 0.5, 1]);
    expect(s.recall).toEqual([0.5, 1, 0.5]);
    expect(s.f1.map((x) => Number(x.toFixed(12)))).toEqual([0.5, 0.666666666667, 0.666666666667]);
    expect(s.support).toEqual([2, 1, 2]);
    const macro = macroScores(c);
    expect(macro.precision).toBeCloseTo(2 / 3, 15);
    expect(macro.f1).toBeCloseTo((0.5 + 4 / 3) / 3, 15);
  });
});

describe("as early_stop monitors", () => {
  it("auc and r2 are maximized, rmse minimized", () => {
    expect(["val_auc", "auc", "val_r2", "r2", "val_rmse", "rmse"].map(metricMode)).toEqual(["max", "max", "max", "max", "min", "min"]);
  });

  it("the checker accepts them when `metrics` computes them", () => {
    const src = (metrics: string, monitor: string) => `model M {
  input 2
  dense 2, softmax
}
loss cross_entropy
metrics ${metrics}
train {
  early_stop patience 3, monitor ${monitor}
}
`;
    for (const [m, mon] of [["auc", "val_auc"], ["r2", "val_r2"], ["rmse", "val_rmse"]] as const) {
      expect(checkSource(src(m, mon)).diagnostics.filter((d) => d.severity === "error")).toEqual([]);
      expect(checkSource(src("accuracy", mon)).diagnostics.some((d) => d.severity === "error")).toBe(true);
    }
    const missing = checkSource(src("accuracy", "val_auc")).diagnostics;
    expect(missing.some((d) => d.severity === "error" && d.message.includes("does not compute `auc`"))).toBe(true);
  });

  it("a run monitoring val_auc keeps the epoch with the highest validation AUC", async () => {
    const p = programOf(`model Auc {
  seed 2
  input 2
  dense 16, relu
  dense 2, softmax
}
loss cross_entropy
optimizer adam(lr: 0.01)
metrics accuracy, auc
data {
  train gaussian(size: 120, noise: 2.5, classes: 2, seed: 4)
  validation 40%
  shuffle seed 1
}
train {
  epochs 8
  batch 16
  early_stop patience 100, monitor val_auc
}
`);
    const m = compileModel(p).value!;
    const s = await session(p, m);
    s.trainer.init();
    s.trainer.run();
    const h = s.trainer.history;
    const vals = h.map((r) => r.values["val_auc"]!);
    expect(vals.every((x) => x >= 0 && x <= 1)).toBe(true);
    expect(h.every((r) => r.values["auc"]! > 0 && r.values["auc"]! <= 1)).toBe(true);
    const best = vals.indexOf(Math.max(...vals)) + 1;
    expect(s.trainer.finalWeights()).toMatchObject({ monitor: "val_auc", bestEpoch: best, bestValue: Math.max(...vals) });
    // not the epoch of the lowest validation loss: it is the AUC that is watched, and maximized
    const losses = h.map((r) => r.values["val_loss"]!);
    expect(losses.indexOf(Math.min(...losses)) + 1).not.toBe(best);
  });
});

describe("nnc eval shows per-class figures", () => {
  it("a row per class by name, the positive class's figures for two classes, and them in --json", async () => {
    const { mkdtempSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { nncInProcess: nnc } = await import("../cli/in-process.js");
    const d = mkdtempSync(join(tmpdir(), "nnc-perclass-"));
    const rng = new Rng(3);
    const rows = ["a,b,label"];
    for (let i = 0; i < 80; i++) {
      const yes = i % 2 === 1;
      rows.push(`${(yes ? 1 : -1) + 2 * (rng.next() - 0.5)},${rng.next()},${yes ? "yes" : "no"}`);
    }
    writeFileSync(join(d, "pts.csv"), rows.join("\n") + "\n");
    writeFileSync(
      join(d, "bin.nn"),
      `model Bin {
  input 2
  dense 1, sigmoid
}
loss binary_cross_entropy
optimizer adam(lr: 0.05)
metrics accuracy, precision, recall, f1, auc
data {
  train csv("pts.csv", label: label)
  test 25%
}
train {
  epochs 5
  batch 8
}
`,
    );
    const t = await nnc("train", join(d, "bin.nn"), "--out", join(d, "run"), "--quiet");
    expect(t.code).toBe(0);
    const e = await nnc("eval", join(d, "bin.nn"), "--weights", join(d, "run", "weights.json"));
    expect(e.code).toBe(0);
    expect(e.out).toMatch(/\n {2}class +precision +recall +f1 +support\n {2}no +[\d.]+ +[\d.]+ +[\d.]+ +\d+\n {2}yes +[\d.]+ +[\d.]+ +[\d.]+ +\d+\n {2}positive class yes: precision [\d.]+, recall [\d.]+, f1 [\d.]+\n/);
    expect(e.out).toMatch(/\n {2}auc +[\d.]+\n/);
    const j = await nnc("eval", join(d, "bin.nn"), "--weights", join(d, "run", "weights.json"), "--json");
    const v = JSON.parse(j.out) as { confusion: number[][]; perClass: { precision: number[]; recall: number[]; f1: number[]; support: number[] }; precision: number; classes: string[] };
    expect(v.classes).toEqual(["no", "yes"]);
    expect(v.perClass).toEqual({ ...classScores(v.confusion), predicted: undefined });
    expect(v.precision).toBeCloseTo((v.perClass.precision[0]! + v.perClass.precision[1]!) / 2, 12);
  });
});
