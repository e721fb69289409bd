/**
 * `class_weight` (Keras' semantics): each training sample's cross-entropy weighed by its class,
 * the mean over the batch's n samples. The weighed loss and its gradient against the per-sample
 * losses and gradients summed by hand and against central differences, in float64; `balanced`
 * is scikit-learn's n / (k · count); on an imbalanced real data set (the digits as "nine or
 * not") it raises the minority class's recall; the checker's and the run's messages.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkSource } from "../../compiler/check.js";
import { FILE_START } from "../../grammar/span.js";
import { binaryTarget, resolveClassWeights, weighTargets } from "../../runtime/class-weight.js";
import { compileToModule } from "../../compiler/load.js";
import type { CompiledModel } from "../../compiler/model-api.js";
import { classScores } from "../../runtime/metrics.js";
import { compileModel } from "../../runtime/node/model.js";
import { FileReader } from "../../runtime/node/files.js";
import { createSession } from "../../runtime/session.js";
import { evaluate } from "../../runtime/batches.js";
import { programOf, ROOT, session } from "./helpers.js";

const net = (extra: string, loss = "cross_entropy", head = "dense 3, softmax"): string => `model M {
  seed 5
  input 4
  dense 6, tanh
  ${head}
}
loss ${loss}
optimizer sgd(lr: 0.1)
data {
  train csv("data/iris.csv", label: species)
  normalize standard
}
train {
  epochs 1
  batch 8
${extra}
}
`;

describe("the weighed loss and its gradient (float64)", () => {
  const program = programOf(net(""));
  const m = compileModel(program, "float64", "js").value!;
  m.init(11);
  const n = 5;
  const x = Float64Array.from({ length: n * 4 }, (_, i) => Math.sin(1.7 * i + 0.3));
  const cls = [0, 2, 1, 2, 0];
  const y = new Float64Array(n * 3);
  cls.forEach((c, i) => (y[i * 3 + c] = 1));
  const w = [0.5, 3, 1.25];
  const yw = new Float64Array(n * 3);
  weighTargets(y, yw, n, 3, w);

  it("is Σ w[y_i] · CE_i / n, with the gradient Σ w[y_i] · ∇CE_i / n", () => {
    let loss = 0;
    const grad = new Float64Array(m.grads.length);
    for (let i = 0; i < n; i++) {
      const li = m.lossAndGrad(x.subarray(i * 4, i * 4 + 4), y.subarray(i * 3, i * 3 + 3), 1);
      loss += (w[cls[i]!]! * li) / n;
      for (let j = 0; j < grad.length; j++) grad[j]! += (w[cls[i]!]! * m.grads[j]!) / n;
    }
    const got = m.lossAndGrad(x, yw, n);
    expect(got).toBeCloseTo(loss, 12);
    for (let j = 0; j < grad.length; j++) expect(m.grads[j]).toBeCloseTo(grad[j]!, 12);
    // Not the unweighed loss: the weights change it.
    expect(Math.abs(m.loss(x, y, n) - got)).toBeGreaterThan(1e-3);
  });

  it("matches central differences of the weighed loss", () => {
    m.lossAndGrad(x, yw, n);
    const g = Float64Array.from(m.grads);
    const h = 1e-6;
    for (let j = 0; j < m.params.length; j++) {
      const v = m.params[j]!;
      m.params[j] = v + h;
      const up = m.loss(x, yw, n);
      m.params[j] = v - h;
      const down = m.loss(x, yw, n);
      m.params[j] = v;
      expect(Math.abs((up - down) / (2 * h) - g[j]!)).toBeLessThan(1e-7 * Math.max(1, Math.abs(g[j]!)));
    }
  });
});

describe("one sigmoid unit with binary cross-entropy: the weighed loss and its gradient (float64)", () => {
  const n = 6;
  const x = Float64Array.from({ length: n * 4 }, (_, i) => Math.cos(1.3 * i + 0.2));
  const cls = [0, 1, 1, 0, 0, 1] as const;
  const y = Float64Array.from(cls);
  const w = [0.25, 3];
  const yw = new Float64Array(n);
  weighTargets(y, yw, n, 1, w);
  const binary = (fuse: boolean): CompiledModel => {
    const p = programOf(net("  class_weight [0.25, 3]", "binary_cross_entropy", "dense 1, sigmoid"));
    const m = compileToModule(p, { dtype: "float64", fuse }).value!.createModel();
    m.init(11);
    return m;
  };
  for (const fuse of [true, false]) {
    const m = binary(fuse);
    it(`is Σ w[y_i] · BCE_i / n, with the gradient Σ w[y_i] · ∇BCE_i / n (${fuse ? "fused with the sigmoid" : "unfused"})`, () => {
      let loss = 0;
      const grad = new Float64Array(m.grads.length);
      for (let i = 0; i < n; i++) {
        // A plain 0/1 target is itself, with weight 1: the per-sample loss as it is.
        const li = m.lossAndGrad(x.subarray(i * 4, i * 4 + 4), y.subarray(i, i + 1), 1);
        loss += (w[cls[i]!]! * li) / n;
        for (let j = 0; j < grad.length; j++) grad[j]! += (w[cls[i]!]! * m.grads[j]!) / n;
      }
      const got = m.lossAndGrad(x, yw, n);
      expect(got).toBeCloseTo(loss, 12);
      for (let j = 0; j < grad.length; j++) expect(m.grads[j]).toBeCloseTo(grad[j]!, 12);
      expect(Math.abs(m.loss(x, y, n) - got)).toBeGreaterThan(1e-3);
    });
    it(`matches central differences of the weighed loss (${fuse ? "fused" : "unfused"})`, () => {
      m.lossAndGrad(x, yw, n);
      const g = Float64Array.from(m.grads);
      const h = 1e-6;
      for (let j = 0; j < m.params.length; j++) {
        const v = m.params[j]!;
        m.params[j] = v + h;
        const up = m.loss(x, yw, n);
        m.params[j] = v - h;
        const down = m.loss(x, yw, n);
        m.params[j] = v;
        expect(Math.abs((up - down) / (2 * h) - g[j]!)).toBeLessThan(1e-7 * Math.max(1, Math.abs(g[j]!)));
      }
    });
  }
  it("a weight of 0 drops its class; the weights' targets are 2 + w and −1 − w", () => {
    expect([binaryTarget(1, 0), binaryTarget(0, 0), binaryTarget(1, 1.5), binaryTarget(0, 2)]).toEqual([2, -1, 3.5, -3]);
    const m = binary(true);
    const only1 = new Float64Array(n);
    weighTargets(y, only1, n, 1, [0, 1]);
    const ones = cls.flatMap((c, i) => (c === 1 ? [i] : []));
    let expected = 0;
    for (const i of ones) expected += m.loss(x.subarray(i * 4, i * 4 + 4), y.subarray(i, i + 1), 1) / n;
    expect(m.loss(x, only1, n)).toBeCloseTo(expected, 12);
  });
  it("a held-out soft label (0.8) is scored as itself by the weighted loss, as by the plain one", () => {
    const weighted = binary(true);
    const plain = compileToModule(programOf(net("", "binary_cross_entropy", "dense 1, sigmoid")), { dtype: "float64", fuse: true }).value!.createModel();
    plain.params.set(weighted.params);
    const soft = Float64Array.from(y, (v, i) => (i % 3 === 0 ? 0.8 : i % 3 === 1 ? 0.2 : v));
    expect(weighted.loss(x, soft, n)).toBeCloseTo(plain.loss(x, soft, n), 12);
  });
  it("soft training labels with class_weight are NN2026 at the setting, not rounded to a class", () => {
    const t = new Float32Array([0, 1, 0.8, 1]);
    const r = resolveClassWeights({ weights: [1, 3], span: FILE_START }, { n: 4, features: 0, x: new Float32Array(0), y: t }, 2, undefined, true);
    expect(r.value).toBeUndefined();
    expect(r.diagnostics.map((d) => d.code)).toEqual(["NN2026"]);
    expect(r.diagnostics[0]!.message).toMatch(/0\.8/);
  });
  it("balanced counts the 0/1 targets: n / (2 · count)", () => {
    const t = new Float32Array([0, 0, 0, 1, 0, 0, 0, 1]);
    const r = resolveClassWeights({ weights: "balanced", span: FILE_START }, { n: 8, features: 0, x: new Float32Array(0), y: t }, 2, undefined, true);
    expect(r.value).toEqual([8 / 12, 8 / 4]);
  });
});

describe("class_weight balanced", () => {
  it("is scikit-learn's compute_class_weight('balanced'): n / (k · count)", () => {
    // 6, 3 and 1 samples of classes 0, 1, 2 (one-hot rows).
    const cls = [0, 0, 0, 0, 0, 0, 1, 1, 1, 2];
    const y = new Float32Array(30);
    cls.forEach((c, i) => (y[i * 3 + c] = 1));
    const r = resolveClassWeights({ weights: "balanced", span: FILE_START }, { n: 10, features: 0, x: new Float32Array(0), y }, 3);
    // sklearn: 10 / (3 * [6, 3, 1]) = [0.5556, 1.1111, 3.3333]
    expect(r.value!.map((v) => v.toFixed(4))).toEqual(["0.5556", "1.1111", "3.3333"]);
  });

  it("a class without training samples is one NN4030 at the setting; a list of the wrong length is NN2026", () => {
    const y = new Float32Array([1, 0, 0, 1, 0, 0]);
    const span = { ...FILE_START, line: 7, column: 3 };
    const r = resolveClassWeights({ weights: "balanced", span }, { n: 2, features: 0, x: new Float32Array(0), y }, 3, ["a", "b", "c"]);
    expect(r.diagnostics.map((d) => [d.code, d.span.line, d.message])).toEqual([["NN4030", 7, "class `b` has no samples in the training split, so `class_weight balanced` cannot weigh it"]]);
    const l = resolveClassWeights({ weights: [1, 2], span }, { n: 2, features: 0, x: new Float32Array(0), y }, 3, ["a", "b", "c"]);
    expect(l.diagnostics[0]!.code).toBe("NN2026");
    expect(l.diagnostics[0]!.message).toContain("gives 2 weights, but the model has 3 classes");
    expect(l.diagnostics[0]!.hint).toContain("(a, b, c)");
  });

  it("in a run: the trainer trains on the weighed targets (the loss it reports is the weighed one)", async () => {
    const plain = await session(programOf(net("")), compileModel(programOf(net("")), "float64", "js").value!);
    const weighed = await session(programOf(net("  class_weight [1, 10, 1]")), compileModel(programOf(net("")), "float64", "js").value!);
    for (const s of [plain, weighed]) {
      s.trainer.init();
      s.trainer.beginEpoch();
    }
    const a = plain.trainer.step()!;
    const b = weighed.trainer.step()!;
    expect(b.loss).not.toBeCloseTo(a.loss, 6);
    expect(weighed.trainer.config.classWeights).toEqual([1, 10, 1]);
  });
});

describe("on imbalanced real data: the digits as `nine` or `other` (10% nines)", () => {
  const dir = mkdtempSync(join(tmpdir(), "nnc-class-weight-"));
  const lines = readFileSync(join(ROOT, "examples/data/digits.csv"), "utf8").trim().split("\n");
  writeFileSync(join(dir, "nines.csv"), [lines[0], ...lines.slice(1).map((l) => l.replace(/,(\d)$/, (_, d: string) => `,${d === "9" ? "nine" : "other"}`))].join("\n") + "\n");
  const file = (extra: string): string => `model Nines {
  seed 1
  input 64
  dense 2, softmax
}
loss cross_entropy
optimizer sgd(lr: 0.05)
metrics accuracy, recall
data {
  train csv("nines.csv", label: label)
  scale 0.0625
  test 30%
  shuffle seed 3
}
train {
  epochs 10
  batch 64
${extra}
}
`;
  async function nineRecall(extra: string, source = file): Promise<{ recall: number; accuracy: number }> {
    const p = programOf(source(extra));
    const m = compileModel(p).value!;
    const r = await createSession(p, m, new FileReader(dir));
    const s = r.value!;
    s.trainer.init();
    while (!s.trainer.done) {
      s.trainer.beginEpoch();
      while (s.trainer.step());
      s.trainer.endEpoch();
    }
    const v = evaluate(m, s.data.test!, s.task, ["accuracy", "confusion_matrix"]);
    const nine = s.data.preprocess.classes!.indexOf("nine");
    return { recall: classScores(v.confusion!).recall[nine]!, accuracy: v["accuracy"] as number };
  }

  it("with one sigmoid unit and binary cross-entropy too", async () => {
    const sigmoid = (extra: string): string => file(extra).replace("dense 2, softmax", "dense 1, sigmoid").replace("loss cross_entropy", "loss binary_cross_entropy");
    const plain = await nineRecall("", sigmoid);
    const balanced = await nineRecall("  class_weight balanced", sigmoid);
    console.log(`one sigmoid unit, the nines' test recall: ${plain.recall.toFixed(3)} plain, ${balanced.recall.toFixed(3)} balanced (accuracy ${plain.accuracy.toFixed(3)}, ${balanced.accuracy.toFixed(3)})`);
    expect(plain.recall).toBeLessThan(0.5);
    expect(balanced.recall).toBeGreaterThan(0.8);
    expect(balanced.accuracy).toBeGreaterThan(0.8);
  });

  it("balanced weights find most nines where the plain loss finds few", async () => {
    const plain = await nineRecall("");
    const balanced = await nineRecall("  class_weight balanced");
    if (process.env["SHOW"]) console.log({ plain, balanced });
    expect(plain.recall).toBeLessThan(0.5);
    expect(balanced.recall).toBeGreaterThan(0.8);
    expect(balanced.accuracy).toBeGreaterThan(0.8);
  });
});

describe("the checker", () => {
  const codes = (src: string): string[] => checkSource(src).diagnostics.map((d) => `${d.code} ${d.span.line}:${d.span.column}`);
  it("class_weight needs classes: a regression loss is NN2026 at the setting; binary cross-entropy passes", () => {
    const r = checkSource(net("  class_weight balanced", "mse", "dense 1"));
    expect(r.diagnostics.map((d) => `${d.code} ${d.span.line}:${d.span.column}`)).toEqual(["NN2026 16:3"]);
    expect(r.diagnostics[0]!.hint).toContain("`loss cross_entropy`");
    expect(checkSource(net("  class_weight balanced", "binary_cross_entropy", "dense 1, sigmoid")).diagnostics).toEqual([]);
  });
  it("binary cross-entropy over several sigmoid units (yes/no labels each) is NN2026 at the setting when compiled", () => {
    const r = compileToModule(programOf(net("  class_weight [1, 2]", "binary_cross_entropy", "dense 3, sigmoid")), { dtype: "float64" });
    expect(r.value).toBeUndefined();
    expect(r.diagnostics.map((d) => `${d.code} ${d.span.line}:${d.span.column}`)).toEqual(["NN2026 16:3"]);
    expect(r.diagnostics[0]!.message).toContain("the output has 3");
  });
  it("a single number, a one-item list, a negative weight, an unknown word", () => {
    expect(codes(net("  class_weight 3"))).toEqual(["NN2017 16:16"]);
    expect(codes(net("  class_weight [2]"))).toEqual(["NN2017 16:16"]);
    expect(codes(net("  class_weight [1, -2, 1]"))).toEqual(["NN2019 16:20"]);
    expect(codes(net("  class_weight balance"))).toEqual(["NN2011 16:16"]);
  });
});

describe("nnc check --data", () => {
  it("weighs the classes as training would: a list of the wrong length is one NN2026 at its line", async () => {
    const { nncInProcess } = await import("../cli/in-process.js");
    const { copyFileSync, mkdirSync } = await import("node:fs");
    const dir = mkdtempSync(join(tmpdir(), "nnc-cw-check-"));
    mkdirSync(join(dir, "data"));
    copyFileSync(join(ROOT, "examples/data/iris.csv"), join(dir, "data/iris.csv"));
    writeFileSync(join(dir, "w.nn"), net("  class_weight [1, 2]"));
    const bad = await nncInProcess("check", "--data", join(dir, "w.nn"));
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/w\.nn:16:3 - error NN2026: `class_weight` gives 2 weights, but the model has 3 classes/);
    writeFileSync(join(dir, "ok.nn"), net("  class_weight balanced"));
    expect((await nncInProcess("check", "--data", join(dir, "ok.nn"))).code).toBe(0);
  });
});
