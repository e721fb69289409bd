/**
 * A character language model from a `text(…)` source (Moby-Dick, chapters 1–3): windows whose
 * targets are the next characters, held-out text from the end, the tokenizer fitted on the
 * training text only; training beats a unigram model on the held-out text; `nnc sample` is
 * seeded and writes only characters of the vocabulary.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { evaluate } from "../../runtime/batches.js";
import { sample } from "../../runtime/sample.js";
import { tokens } from "../../runtime/text.js";
import type { Session } from "../../runtime/session.js";
import { example, model, programOf, ROOT, session } from "./helpers.js";

/** examples/moby-dick.nn on the committed excerpt, its last 10% held out, trained 2 epochs. */
const SOURCE = example("moby-dick")
  .replace('text("data/moby-dick/train.txt")', 'text("data/moby-dick-1-3.txt")')
  .replace('  test       text("data/moby-dick/test.txt")', "  test       10%")
  .replace("epochs 4", "epochs 2");
const TEXT = readFileSync(join(ROOT, "examples", "data", "moby-dick-1-3.txt"), "utf8");

let s: Session;
beforeAll(async () => {
  const p = programOf(SOURCE);
  s = await session(p, model(p));
  s.trainer.init();
  s.trainer.run();
}, 120_000);

describe("a language model's data: windows of the text, each step's target the next character", () => {
  it("cuts the text into windows of 64 + 1 characters: the test from its end, the validation before it", () => {
    const { train, validation, test, preprocess } = s.data;
    const tok = preprocess.tokenizer!;
    expect(train.ids).toEqual({ steps: 64, classes: 98 });
    const chars = Array.from(TEXT);
    const held = Math.round(chars.length * 0.1);
    const checked = Math.round((chars.length - held) * 0.05);
    const rest = chars.length - held - checked;
    const windows = (k: number): number => Math.floor((k - 1) / 64);
    expect([train.n, validation!.n, test!.n]).toEqual([windows(rest), windows(checked), windows(held)]);
    // Every window's targets are its inputs moved one step on.
    // The model reads the text lower-cased (`tokenize` lowercases by default).
    const id = (c: string): number => tok.tokens.indexOf(c.toLowerCase()) + 2 || 1;
    for (const [split, start] of [[train, 0], [validation!, rest], [test!, rest + checked]] as const) {
      for (let t = 0; t < 64; t++) {
        expect(split.x[64 + t]).toBe(id(chars[start + 64 + t]!));
        expect(split.y[64 + t]).toBe(id(chars[start + 64 + t + 1]!));
      }
    }
  });

  it("fits the tokenizer on the training text alone: a character only in the held-out end is unknown (id 1)", async () => {
    // "Q" and "~" appear only in the last tenth of the text, the test share.
    const text = "the whale swam on and on. ".repeat(40) + "QQ~ the whale QQ~ ".repeat(6);
    const { prepareData } = await import("../../runtime/prepare.js");
    const p = programOf(SOURCE.replace("length: 64", "length: 8").replace("input      64", "input      8").replace("  validation 5%\n", ""));
    const r = prepareData(
      p.data!,
      { train: { n: 1, features: 0, x: new Float32Array(0), labelWidth: 0, y: new Float32Array(0), texts: [text], stream: true } },
      { inputShape: [8], inputSize: 8, outputSize: 8 * 98, outputShape: [8, 98] },
      s.task,
      p.data!.span,
    );
    const tok = r.value!.preprocess.tokenizer!;
    expect(tok.tokens).not.toContain("q");
    expect(tok.tokens).not.toContain("~");
    expect(tok.tokens).toContain("w");
    const held = r.value!.test!;
    const chars = Array.from(text.toLowerCase());
    const start = chars.length - Math.round(chars.length * 0.1);
    const unknown = Array.from(held.x).filter((_v, i) => chars[start + i] === "q" || chars[start + i] === "~");
    expect(unknown.length).toBeGreaterThan(0);
    expect(unknown.every((v) => v === 1)).toBe(true);
  });
});

describe("training and sampling", () => {
  it("predicts the held-out text better than the training text's character frequencies (a unigram model)", () => {
    const chars = Array.from(TEXT.toLowerCase());
    const held = Math.round(chars.length * 0.1);
    const counts = new Map<string, number>();
    for (const c of chars.slice(0, chars.length - held)) counts.set(c, (counts.get(c) ?? 0) + 1);
    let nats = 0;
    for (const c of chars.slice(chars.length - held)) nats -= Math.log(((counts.get(c) ?? 0) + 1) / (chars.length - held + counts.size + 1));
    const unigram = nats / held;
    const test = evaluate(s.model, s.data.test!, s.task, ["loss", "accuracy"]);
    expect(test.loss).toBeLessThan(unigram - 0.4);
    expect(test.accuracy).toBeGreaterThan(0.2);
  });

  it("writes text seeded: the same seed the same text, another seed another; only the vocabulary's characters", () => {
    const tok = s.data.preprocess.tokenizer!;
    const write = (seed: number, temperature = 0.8): string => sample(s.model, tok, { prompt: "Call me ", length: 60, temperature, seed });
    const a = write(1);
    expect(a.startsWith("Call me ")).toBe(true);
    expect(Array.from(a).length).toBe(8 + 60);
    expect(write(1)).toBe(a);
    expect(write(2)).not.toBe(a);
    expect(tokens(a.slice(8), "chars", false).every((c) => tok.tokens.includes(c))).toBe(true);
    // Temperature 0 takes the likeliest character: no draw, so every seed agrees.
    expect(write(1, 0)).toBe(write(7, 0));
  });
});
