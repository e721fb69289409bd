/**
 * Graph models trained on real data: a model with two inputs whose branches both learn, and a
 * residual MLP. The inputs are fed packed (as the runtime does) and by name (as an application
 * would), and must give the same predictions.
 */
import { describe, expect, it } from "vitest";
import { evaluate } from "../../runtime/batches.js";
import type { Split } from "../../runtime/prepare.js";
import { example, model, programOf, session } from "./helpers.js";

async function trained(name: string) {
  const p = programOf(example(name));
  const s = await session(p, model(p));
  s.trainer.init();
  const before = s.model.params.slice();
  s.trainer.run();
  return { p, s, before };
}

/** The split with the columns [from, to) of every row set to 0 (the training mean, once standardized). */
function without(split: Split, from: number, to: number): Split {
  const x = split.x.slice();
  for (let i = 0; i < split.n; i++) x.fill(0, i * split.features + from, i * split.features + to);
  return { ...split, x };
}

describe("a model with two inputs (penguins: body measurements and place)", () => {
  it("reaches 95% test accuracy, and both branches learn: each moved, and taking either input away costs loss", async () => {
    const { p, s, before } = await trained("penguins");
    const inputs = s.model.meta.inputs ?? [];
    expect(inputs.map((i) => [i.name, i.offset, i.size])).toEqual([
      ["body", 0, 4],
      ["place", 4, 5],
    ]);
    const metrics = ["accuracy", "loss"] as const;
    const full = evaluate(s.model, s.data.test!, s.task, metrics);
    expect(full.accuracy).toBeGreaterThanOrEqual(0.95);
    // Each branch's first layer moved away from its initial weights.
    for (const name of ["dense_1.weight", "dense_3.weight"]) {
      const e = s.model.layout.find((l) => l.name === name)!;
      let moved = 0;
      for (let i = e.offset; i < e.offset + e.size; i++) moved += Math.abs(s.model.params[i]! - before[i]!);
      expect(moved / e.size, name).toBeGreaterThan(0.05);
    }
    // Taking either input away makes the test loss worse: the model relies on both.
    const noBody = evaluate(s.model, without(s.data.test!, 0, 4), s.task, metrics);
    const noPlace = evaluate(s.model, without(s.data.test!, 4, 9), s.task, metrics);
    expect(noBody.loss).toBeGreaterThan(full.loss! * 2);
    expect(noPlace.loss).toBeGreaterThan(full.loss! * 2);
    expect(noBody.accuracy).toBeLessThan(full.accuracy!);
    expect(p.model.inputs.map((i) => i.name)).toEqual(["body", "place"]);
  });

  it("predicts the same from named inputs as from packed rows", async () => {
    const { s } = await trained("penguins");
    const t = s.data.test!;
    const n = Math.min(8, t.n);
    const packed = s.model.predict(t.x.subarray(0, n * 9), n);
    const body = new Float32Array(n * 4);
    const place = new Float32Array(n * 5);
    for (let i = 0; i < n; i++) {
      body.set(t.x.subarray(i * 9, i * 9 + 4), i * 4);
      place.set(t.x.subarray(i * 9 + 4, i * 9 + 9), i * 5);
    }
    expect(Array.from(s.model.predict({ body, place }, n))).toEqual(Array.from(packed));
    expect(() => s.model.predict({ body }, n)).toThrow(/no input named place/);
    expect(() => s.model.predict({ body, place: place.subarray(0, 5) }, n)).toThrow(/input place holds 5 values/);
  });
});

describe("a residual MLP (cars: miles per gallon from 7 columns)", () => {
  it("predicts the test cars' fuel use within 2.3 mpg on average, where the training mean misses by over 5", async () => {
    const { s, p } = await trained("cars-resmlp");
    expect(p.model.layers.filter((l) => l.kind === "add").map((l) => l.name)).toEqual(["residual_1.add_1", "residual_2.add_1", "residual_3.add_1"]);
    const test = evaluate(s.model, s.data.test!, s.task, ["mae"]);
    expect(test.mae).toBeLessThan(2.3);
    const train = s.data.train;
    let mean = 0;
    for (let i = 0; i < train.n; i++) mean += train.y[i]! / train.n;
    let baseline = 0;
    for (let i = 0; i < s.data.test!.n; i++) baseline += Math.abs(s.data.test!.y[i]! - mean) / s.data.test!.n;
    expect(baseline).toBeGreaterThan(5);
  });
});

describe("text (names: a woman's or a man's first name, one character at a time)", () => {
  it("reaches 78% test accuracy (the larger class is 56%), with the tokenizer saved for later files", async () => {
    const { s, p } = await trained("names");
    const test = evaluate(s.model, s.data.test!, s.task, ["accuracy"]);
    expect(test.accuracy).toBeGreaterThanOrEqual(0.78);
    const tok = s.data.preprocess.tokenizer!;
    expect(tok.kind).toBe("chars");
    expect(tok.tokens.length).toBeLessThanOrEqual(30);
    expect(tok.tokens.slice(0, 3).every((t) => /^[a-z]$/.test(t))).toBe(true);
    expect(s.data.train.features).toBe(16);
    expect(p.data?.tokenize?.length).toBe(16);
  });
});

describe("an image source with side columns (IDX + a CSV row per record)", () => {
  it("packs each record's pixels, then its side columns, and a model with two inputs learns from both", async () => {
    const { mkdtempSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const dir = mkdtempSync(join(tmpdir(), "nnc-side-"));
    // 6×6 images; the class is (top half brighter than the bottom) XOR (the side value is positive):
    // neither the image nor the side column alone can tell it.
    const n = 600;
    let seed = 3;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
    const pixels = new Uint8Array(n * 36);
    const labels = new Uint8Array(n);
    const side: string[] = ["tilt,weight"];
    for (let i = 0; i < n; i++) {
      const top = rand() < 0.5;
      for (let p = 0; p < 36; p++) pixels[i * 36 + p] = Math.floor((p < 18 === top ? 160 : 40) + rand() * 60);
      const tilt = rand() * 2 - 1;
      labels[i] = Number(top !== tilt > 0);
      side.push(`${tilt.toFixed(4)},${(rand() * 10).toFixed(2)}`);
    }
    const header = (magic: number, dims: number[]): Buffer => Buffer.from([0, 0, 8, magic, ...dims.flatMap((d) => [(d >>> 24) & 255, (d >>> 16) & 255, (d >>> 8) & 255, d & 255])]);
    writeFileSync(join(dir, "images.idx"), Buffer.concat([header(3, [n, 6, 6]), Buffer.from(pixels)]));
    writeFileSync(join(dir, "labels.idx"), Buffer.concat([header(1, [n]), Buffer.from(labels)]));
    writeFileSync(join(dir, "side.csv"), side.join("\n") + "\n");
    const p = programOf(`
model Side {
  seed 1
  image = input [6, 6]
  meta  = input 2
  image -> conv2d 4, 3, relu
  flatten
  a = dense 8, relu
  meta -> dense 8, relu
  b = dense 8, relu
  concat a, b
  dense 16, relu
  dense 2, softmax
}
loss cross_entropy
optimizer adam(lr: 0.01)
data {
  train     idx("images.idx", "labels.idx", side: csv("side.csv"))
  test      20%
  normalize standard
  shuffle   seed 2
}
train {
  epochs 40
  batch  32
}
`);
    const s = await session(p, model(p), dir);
    expect(s.data.train.features).toBe(38);
    s.trainer.init();
    s.trainer.run();
    const metrics = ["accuracy", "loss"] as const;
    const full = evaluate(s.model, s.data.test!, s.task, metrics);
    expect(full.accuracy).toBeGreaterThanOrEqual(0.9);
    // Without the side columns (their training mean) the XOR cannot be told: near chance.
    const noSide = evaluate(s.model, without(s.data.test!, 36, 38), s.task, metrics);
    expect(noSide.accuracy).toBeLessThan(0.75);
  });
});

describe("an LSTM over text (names-lstm: the same names, the padding skipped)", () => {
  it("reaches 77% test accuracy", async () => {
    const { s } = await trained("names-lstm");
    expect(evaluate(s.model, s.data.test!, s.task, ["accuracy"]).accuracy).toBeGreaterThanOrEqual(0.77);
  });
});

describe("a transformer encoder over text (names-transformer: attention with the padding masked, in a block used twice)", () => {
  it("reaches 74% test accuracy in 3 epochs (the larger class is 56%)", async () => {
    const p = programOf(example("names-transformer").replace("epochs 15", "epochs 3"));
    const s = await session(p, model(p));
    s.trainer.init();
    s.trainer.run();
    const accuracy = evaluate(s.model, s.data.test!, s.task, ["accuracy"]).accuracy!;
    expect(accuracy).toBeGreaterThanOrEqual(0.74);
  });
});
