/**
 * Graph models trained on real data: a model with two inputs whose branches both learn, and a
 * residual MLP. The inputs are fed packed (as the runtime does) and by name (as an application
 * would), and must give the same predictions.
 */
import { describe, expect, it } from "vitest";
import { compileModel } from "../../runtime/node/model.js";
import { evaluate } from "../../runtime/train.js";
import type { Split } from "../../runtime/prepare.js";
import type { Program } from "../../compiler/program.js";
import { example, programOf, session } from "./helpers.js";

function model(p: Program) {
  const m = compileModel(p);
  if (!m.value) throw new Error(m.diagnostics.map((d) => d.message).join("\n"));
  return m.value;
}

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
