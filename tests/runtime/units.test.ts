/** Small pieces of the runtime: metrics, schedules, preprocessing, checkpoint and weights files, report. */
import { describe, expect, it } from "vitest";
import type { Schedule } from "../../compiler/program.js";
import { FILE_START } from "../../grammar/span.js";
import { decodeCheckpoint, encodeCheckpoint } from "../../runtime/checkpoint.js";
import { macroScores, MetricAccumulator } from "../../runtime/metrics.js";
import { applyPreprocess, fitPreprocess } from "../../runtime/preprocess.js";
import { renderReport } from "../../runtime/report.js";
import { Rng } from "../../runtime/rng.js";
import { learningRate } from "../../runtime/schedule.js";
import type { TrainerState } from "../../runtime/train.js";
import { decodeWeights, encodeWeights } from "../../runtime/weights.js";
import { fixtureModel } from "./fixtures/mlp.js";
import { example, programOf } from "./helpers.js";

describe("metrics", () => {
  it("accuracy, confusion matrix and macro precision / recall / F1 of a classifier", () => {
    const acc = new MetricAccumulator({ kind: "multiclass", classes: 3 }, 3);
    // true: 0 0 1 2; predicted: 0 1 1 2
    const pred = [0.9, 0.1, 0, 0.2, 0.7, 0.1, 0, 1, 0, 0.1, 0.1, 0.8];
    const y = [1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1];
    acc.add(pred, y, 4, 0.5);
    const v = acc.result(["accuracy", "precision", "recall", "f1", "confusion_matrix"]);
    expect(v.loss).toBe(0.5);
    expect(v.accuracy).toBe(0.75);
    expect(v.confusion).toEqual([[1, 1, 0], [0, 1, 0], [0, 0, 1]]);
    expect(v.precision).toBeCloseTo((1 + 0.5 + 1) / 3, 12);
    expect(v.recall).toBeCloseTo((0.5 + 1 + 1) / 3, 12);
    expect(v.f1).toBeCloseTo((2 / 3 + 2 / 3 + 1) / 3, 12);
  });

  it("binary threshold, regression errors, and a batch-size-weighted loss", () => {
    const b = new MetricAccumulator({ kind: "binary", threshold: 0.5 }, 1);
    b.add([0.2, 0.6, 0.7], [0, 0, 1], 3, 1);
    b.add([0.4], [1], 1, 3);
    const vb = b.result(["accuracy", "confusion_matrix"]);
    expect([vb.accuracy, vb.loss, vb.confusion]).toEqual([0.5, 1.5, [[1, 1], [1, 1]]]);
    const r = new MetricAccumulator({ kind: "regression", outputs: 1 }, 1);
    r.add([1, 2], [0, 4], 2, 0);
    expect(r.result(["mse", "mae"])).toEqual({ loss: 0, mse: 2.5, mae: 1.5 });
    expect(macroScores([[0, 0], [0, 0]])).toEqual({ precision: 0, recall: 0, f1: 0 });
  });
});

describe("learning-rate schedules", () => {
  const plan = (schedule: Schedule, warmup = 0) => ({ base: 0.1, schedule, warmup, epochs: 11, stepsPerEpoch: 4 });
  const span = FILE_START;
  it("step, exponential, cosine and linear warm-up", () => {
    expect(learningRate(plan({ kind: "constant", span: undefined }), 7, 2)).toBe(0.1);
    expect([0, 2, 3, 6].map((e) => learningRate(plan({ kind: "step", every: 3, gamma: 0.5, span }), e, 0))).toEqual([0.1, 0.1, 0.05, 0.025]);
    expect(learningRate(plan({ kind: "exponential", gamma: 0.9, span }), 2, 0)).toBeCloseTo(0.081, 12);
    const cos = { ...plan({ kind: "cosine", minLr: 0.001, span }), epochs: 10 };
    expect([0, 5, 10].map((e) => learningRate(cos, e, 0))).toEqual([0.1, expect.closeTo(0.0505, 12), expect.closeTo(0.001, 12)]);
    const warm = plan({ kind: "constant", span: undefined }, 2);
    expect([learningRate(warm, 0, 0), learningRate(warm, 0, 3), learningRate(warm, 1, 3), learningRate(warm, 2, 0)]).toEqual([
      0.0125, 0.05, 0.1, 0.1,
    ]);
  });
});

describe("preprocessing", () => {
  it("fits standard and minmax on the given rows and applies scale first", () => {
    const x = new Float32Array([0, 10, 2, 10, 4, 10]);
    const s = fitPreprocess(x, 3, 2, "standard", 0.5);
    expect(s.shift).toEqual([1, 5]);
    expect(s.divide[0]).toBeCloseTo(Math.sqrt(2 / 3), 12);
    expect(s.divide[1]).toBe(1); // a constant column keeps its scale
    const m = fitPreprocess(x, 3, 2, "minmax", 1);
    const y = new Float32Array(x);
    applyPreprocess(m, y, 2);
    expect(Array.from(y)).toEqual([0, 0, 0.5, 0, 1, 0]);
  });
});

describe("files", () => {
  const p = programOf(example("iris"));
  const pre = { scale: 1, normalize: "standard" as const, shift: [1, 2, 3, 4], divide: [1, 1, 1, 1], classes: ["a", "b", "c"] };

  it("weights round-trip exactly and are refused for another model", () => {
    const m = fixtureModel(p);
    m.init(3);
    const text = encodeWeights(m, pre, { kind: "multiclass", classes: 3 }, 100);
    const m2 = fixtureModel(p);
    const w = decodeWeights(text, m2, "w.json");
    expect(w.diagnostics).toEqual([]);
    m2.params.set(w.value!.params);
    expect(Array.from(m2.params)).toEqual(Array.from(m.params));
    expect(w.value!.preprocess).toEqual(pre);
    const other = fixtureModel(programOf(example("xor")));
    const bad = decodeWeights(text, other, "w.json");
    expect(bad.diagnostics[0]!.code).toBe("NN5004");
    expect(bad.diagnostics[0]!.message).toMatch(/^the weights file w\.json does not fit this model: it holds 131 parameters, the model has 33/);
  });

  it("checkpoints round-trip bit-for-bit and detect damage", () => {
    const m = fixtureModel(p);
    m.init(5);
    const rng = new Rng(1);
    for (let i = 0; i < m.params.length; i++) m.params[i] = rng.normal();
    const state: TrainerState = {
      epoch: 7,
      model: { ...m.getState(), step: 42, rng: 123456789 },
      history: [{ epoch: 1, lr: 0.01, seconds: 0.1, samplesPerSecond: 10, values: { loss: 1.5 } }],
      best: { value: 0.25, epoch: 5, params: new Float32Array(m.params) },
      wait: 2,
      stopped: false,
    };
    const bytes = encodeCheckpoint(state, "abc", "Iris", pre);
    const c = decodeCheckpoint(bytes);
    if (typeof c === "string") throw new Error(c);
    expect(c.header.hash).toBe("abc");
    expect(c.state.epoch).toBe(7);
    expect(c.state.model.step).toBe(42);
    expect(c.state.model.rng).toBe(123456789);
    expect(Array.from(c.state.model.params)).toEqual(Array.from(state.model.params));
    expect(Array.from(c.state.model.optimizer)).toEqual(Array.from(state.model.optimizer));
    expect(Array.from(c.state.best!.params)).toEqual(Array.from(state.best!.params));
    expect(c.state.history).toEqual(state.history);
    const flipped = new Uint8Array(bytes);
    flipped[bytes.length - 20]! ^= 1;
    expect(decodeCheckpoint(flipped)).toBe("its checksum does not match (the file is truncated or altered)");
    expect(decodeCheckpoint(bytes.subarray(0, 100))).toBe("its checksum does not match (the file is truncated or altered)");
    expect(decodeCheckpoint(new Uint8Array(20))).toBe("it is not an nnc checkpoint");
  });

  it("the report draws one SVG chart per quantity with training and validation curves", () => {
    const html = renderReport({
      title: "t <x>",
      history: [1, 2, 3].map((e) => ({ epoch: e, lr: 0.1, seconds: 1, samplesPerSecond: 1, values: { loss: 1 / e, val_loss: 1.2 / e, accuracy: e / 4 } })),
      summary: { "test accuracy": 0.75 },
      confusion: [[1, 0], [0, 1]],
      classes: ["a", "b"],
    });
    expect(html.match(/<svg /g)).toHaveLength(2);
    expect(html).toContain("t &lt;x&gt;");
    expect(html).toContain('aria-label="loss per epoch"');
    expect(html.match(/<path d="M/g)).toHaveLength(3);
    expect(html).toContain("<th>test accuracy</th><td>0.75</td>");
  });
});

describe("in-memory data (the playground's path)", () => {
  it("trains from a CSV held in memory and names a missing file at its span in the .nn", async () => {
    const { MemoryReader } = await import("../../runtime/memory-reader.js");
    const { createSession } = await import("../../runtime/session.js");
    const { readFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { ROOT } = await import("./helpers.js");
    const p = programOf(example("iris"));
    const iris = readFileSync(join(ROOT, "examples/data/iris.csv"), "utf8");
    const ok = await createSession(p, fixtureModel(p), new MemoryReader({ "data/iris.csv": iris }));
    expect(ok.diagnostics).toEqual([]);
    expect([ok.value!.data.train.n, ok.value!.data.test!.n]).toEqual([120, 30]);
    const missing = await createSession(p, fixtureModel(p), new MemoryReader({}));
    const line = example("iris").split("\n").findIndex((l) => l.includes('csv("data/iris.csv"')) + 1;
    expect(missing.diagnostics.map((d) => `${d.span.line} ${d.code} ${d.message}`)).toEqual([`${line} NN4001 cannot read data/iris.csv: no such file`]);
  });
});
