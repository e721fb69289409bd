/**
 * Sequence layers (embedding, conv1d, global pools over steps) against float64 finite
 * differences, with real token ids (padding 0, unknown 1, and ids past the table, which read
 * zeros and take no gradient); and the tokenizer: fitted on the training texts only.
 */
import { describe, expect, it } from "vitest";
import { gradcheck, randomLabels } from "../../cli/commands/gradcheck.js";
import { checkSource } from "../../compiler/check.js";
import { compileToModule } from "../../compiler/load.js";
import { encodeTexts, fitTokenizer, tokens } from "../../runtime/text.js";
import { FILE_START } from "../../grammar/span.js";

void randomLabels;

function module(body: string, loss = "cross_entropy", out = "dense 3, softmax", steps = 7) {
  const r = checkSource(`model S {\n  seed 4\n  input ${steps}\n${body}\n  ${out}\n}\nloss ${loss}\n`);
  const errors = r.diagnostics.filter((d) => d.severity === "error");
  if (r.value === undefined || errors.length > 0) throw new Error(errors.map((d) => d.message).join("\n"));
  const built = compileToModule(r.value, { maxBatch: 4, dtype: "float64", kernels: "js" });
  if (built.value === undefined) throw new Error(built.diagnostics.map((d) => d.message).join("\n"));
  return built.value;
}

/** Ids 0 … 11 for a table of 10 rows: padding, unknown, known ids and two past the table. */
const ids = (i: number): number => (i * 7 + 3) % 12;

describe("sequence layers: gradients agree with finite differences (float64)", () => {
  for (const [name, body] of [
    ["embedding → conv1d (same) → global max pool", "  embedding 10, 4\n  conv1d 5, 3, tanh, padding: same\n  globalmaxpool1d"],
    ["embedding → conv1d (valid, stride 2) → global average pool", "  embedding 10, 3\n  conv1d 4, 3, relu, stride: 2\n  globalavgpool1d"],
    ["embedding → flatten (the table read at every step)", "  embedding 10, 2\n  flatten"],
    ["two conv1d branches merged (fan-out of the embedded sequence)", "  e = embedding 10, 4\n  a = conv1d 3, 2, elu(alpha: 0.7), padding: same\n  e -> conv1d 3, 3, padding: same\n  add a\n  globalmaxpool1d"],
  ] as const) {
    it(name, () => {
      const result = gradcheck(module(body), { seed: 2, perTensor: 40, h: 1e-6, x: ids });
      expect(result.worst, JSON.stringify(result.tensors)).toBeLessThan(1e-6);
      const table = result.tensors.find((t) => t.name.startsWith("embedding"));
      expect(table?.checked).toBeGreaterThan(0);
    });
  }

  it("rows past the table take no gradient, and read zeros", () => {
    const mod = module("  embedding 10, 2\n  flatten", "mse", "dense 1");
    const m = mod.createModel();
    const x = new Float64Array([10, 11, 10, 11, 10, 11, 10]);
    m.lossAndGrad(x, new Float64Array([1]), 1);
    const table = mod.layout.find((e) => e.name === "embedding_1.weight")!;
    expect(Array.from(m.grads.subarray(table.offset, table.offset + table.size)).every((g) => g === 0)).toBe(true);
  });
});

describe("tokenizer", () => {
  const settings = { kind: "words" as const, length: 5, lowercase: true, vocabulary: 5, span: FILE_START };

  it("ranks the training texts' tokens by count (ties in code-point order); 0 pads, 1 is unknown", () => {
    const tok = fitTokenizer(["The cat sat", "the dog", "THE cat's hat"], settings);
    expect(tok.tokens).toEqual(["the", "cat", "cat's"]);
    expect(Array.from(encodeTexts(["the cat ran", "a the the the the the the"], tok))).toEqual([2, 3, 1, 0, 0, 1, 2, 2, 2, 2]);
  });

  it("characters keep case when asked, and count code points, not UTF-16 units", () => {
    expect(tokens("Aé😀", "chars", false)).toEqual(["A", "é", "😀"]);
    expect(tokens("Don't STOP-now 42", "words", true)).toEqual(["don't", "stop", "now", "42"]);
  });
});

describe("recurrent layers: gradients through time agree with finite differences (float64)", () => {
  for (const [name, body] of [
    ["lstm, last state", "  embedding 10, 3\n  lstm 4"],
    ["lstm, every step, bidirectional", "  embedding 10, 3\n  lstm 3, return_sequences: true, bidirectional: true\n  flatten"],
    ["gru, last state, bidirectional", "  embedding 10, 3\n  gru 4, bidirectional: true"],
    ["masked padding: embedding mask_zero into lstm and gru with mask", "  e = embedding 10, 3, mask_zero: true\n  a = lstm 3, mask: true\n  e -> gru 3, mask: true\n  concat a"],
    ["stacked: lstm sequences into gru", "  embedding 10, 3\n  lstm 3, return_sequences: true\n  gru 2"],
  ] as const) {
    it(name, () => {
      const result = gradcheck(module(body), { seed: 3, perTensor: 40, h: 1e-6, x: (i) => [4, 7, 2, 0, 0, 9, 3, 5, 1, 0, 2, 8, 6, 0][i % 14]! });
      expect(result.worst, JSON.stringify(result.tensors)).toBeLessThan(1e-6);
      expect(result.tensors.filter((t) => /weight_hh/.test(t.name)).every((t) => t.checked > 0)).toBe(true);
    });
  }

  // Variable lengths: 4 samples of 7 steps — 7 real ids; 2, three padded, 1, padding; none; 2
  // then padding — so each direction meets padding first, last and in between.
  const lengths = [4, 7, 2, 5, 9, 3, 6, 1, 8, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 5, 2, 0, 0, 0, 0, 0];
  for (const [name, body] of [
    ["variable lengths: lstm every step, bidirectional, masked", "  embedding 10, 3, mask_zero: true\n  lstm 3, return_sequences: true, bidirectional: true, mask: true\n  flatten"],
    ["variable lengths: gru last state, bidirectional, masked", "  embedding 10, 3, mask_zero: true\n  gru 3, bidirectional: true, mask: true"],
    ["variable lengths: masked gru sequences into a masked lstm", "  embedding 10, 3, mask_zero: true\n  gru 3, return_sequences: true, mask: true\n  lstm 2, mask: true"],
  ] as const) {
    it(name, () => {
      const result = gradcheck(module(body), { seed: 5, perTensor: 40, h: 1e-6, batch: 4, x: (i) => lengths[i % 28]! });
      expect(result.worst, JSON.stringify(result.tensors)).toBeLessThan(1e-6);
      expect(result.tensors.filter((t) => /weight_hh|bias_hh/.test(t.name)).every((t) => t.checked > 0)).toBe(true);
    });
  }

  it("a masked step leaves the state as it was: padding anywhere changes nothing, and without the mask it does", () => {
    const predict = (body: string, ids: number[]): number => module(body, "mse", "dense 1").createModel().predict(new Float64Array(ids), 1)[0]!;
    const masked = "  embedding 10, 3, mask_zero: true\n  lstm 4, mask: true";
    const plain = "  embedding 10, 3\n  lstm 4";
    expect(predict(masked, [4, 0, 7, 0, 2, 0, 0])).toBe(predict(masked, [4, 7, 2, 0, 0, 0, 0]));
    expect(predict(masked, [4, 7, 5, 0, 0, 0, 0])).not.toBe(predict(masked, [4, 7, 2, 0, 0, 0, 0]));
    expect(predict(plain, [4, 0, 7, 0, 2, 0, 0])).not.toBe(predict(plain, [4, 7, 2, 0, 0, 0, 0]));
  });
});

describe("attention: gradients agree with finite differences (float64)", () => {
  const x = (i: number): number => [4, 7, 2, 0, 0, 9, 3, 5, 1, 0, 2, 8, 6, 0][i % 14]!;
  for (const [name, body] of [
    ["dense at every step of a sequence", "  embedding 10, 4\n  dense 3, tanh\n  flatten"],
    ["positional, then two-head attention, then the mean over steps", "  embedding 10, 4\n  positional\n  attention 2\n  globalavgpool1d"],
    ["causal attention with the padding masked", "  embedding 10, 4, mask_zero: true\n  attention 2, causal: true, mask: true\n  flatten"],
    [
      "a transformer encoder layer: attention and a feed-forward net, each added back and normalized",
      "  e = embedding 10, 4\n  attention 4, mask: true\n  a = add e\n  y = layernorm\n  dense 6, gelu\n  dense 4\n  add y\n  layernorm\n  globalmaxpool1d",
    ],
  ] as const) {
    it(name, () => {
      const result = gradcheck(module(body), { seed: 3, perTensor: 40, h: 1e-6, x });
      expect(result.worst, JSON.stringify(result.tensors)).toBeLessThan(1e-6);
      expect(result.tensors.every((t) => t.checked > 0)).toBe(true);
    });
  }

  /** The flattened attention output of ids, with a model of `steps` steps whose parameters are `params` (when given). */
  function attend(flags: string, ids: number[], params?: Float64Array): { out: number[]; params: Float64Array } {
    const mod = module(`  embedding 10, 4, mask_zero: true\n  attention 2${flags}`, "mse", "flatten", ids.length);
    const m = mod.createModel();
    if (params !== undefined) m.params.set(params);
    return { out: Array.from(m.predict(new Float64Array(ids), 1)), params: Float64Array.from(m.params) };
  }

  it("with mask: true, the real steps come out as if the padding were not there", () => {
    const short = attend(", mask: true", [4, 7, 2]);
    const padded = attend(", mask: true", [4, 7, 2, 0, 0, 0, 0], short.params).out.slice(0, 12);
    padded.forEach((v, i) => expect(v).toBeCloseTo(short.out[i]!, 12));
    const unmasked = attend("", [4, 7, 2, 0, 0, 0, 0], short.params).out.slice(0, 12);
    expect(unmasked.some((v, i) => Math.abs(v - short.out[i]!) > 1e-6)).toBe(true);
  });

  it("a language model's per-step cross-entropy: a softmax over each step's classes, the mean over every step", () => {
    const lm = module("  embedding 10, 4\n  positional\n  attention 2, causal: true\n  dense 6, relu", "cross_entropy", "dense 5, softmax");
    expect(lm.meta.outputShape).toEqual([7, 5]);
    const result = gradcheck(lm, { seed: 5, perTensor: 40, h: 1e-6, x });
    expect(result.worst, JSON.stringify(result.tensors)).toBeLessThan(1e-6);
    // The loss is the mean over the 7 steps of −log p(target): uniform predictions give log 5.
    const m = lm.createModel();
    m.params.fill(0);
    const y = new Float64Array(35);
    for (let t = 0; t < 7; t++) y[t * 5 + (t % 5)] = 1;
    expect(m.loss(new Float64Array([4, 7, 2, 0, 0, 9, 3]), y, 1)).toBeCloseTo(Math.log(5), 12);
  });

  it("with causal: true, a step does not see the steps after it", () => {
    const a = attend(", causal: true", [4, 7, 2, 5, 3]);
    const b = attend(", causal: true", [4, 7, 2, 8, 8], a.params);
    expect(b.out.slice(0, 12)).toEqual(a.out.slice(0, 12));
    expect(b.out.slice(12)).not.toEqual(a.out.slice(12));
  });
});
