/**
 * `nnc explain` and `nnc features` end to end on a trained iris and digits-cnn: CSV, JSON and
 * SVG outputs, the summary with permutation importance, features as CSV and as float32 + JSON
 * header, `nnc compile --explain`; and bad options as diagnostics with hints and a non-zero exit.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { nncInProcess as nnc } from "./in-process.js";
import { ROOT } from "./run-cli.js";
import { typeCheckModules } from "../fuzz/typecheck.js";

const tmp = mkdtempSync(join(tmpdir(), "nnc-explain-"));
const IRIS = join(ROOT, "examples/iris.nn");
const DIGITS = join(ROOT, "examples/digits-cnn.nn");
const irisW = join(tmp, "iris", "weights.json");
const digitsW = join(tmp, "digits", "weights.json");
const NAMES = join(ROOT, "examples/names.nn");
const namesW = join(tmp, "names", "weights.json");

beforeAll(async () => {
  for (const [file, out] of [
    [IRIS, "iris"],
    [DIGITS, "digits"],
  ] as const) {
    const r = await nnc("train", file, "--out", join(tmp, out), "--quiet");
    expect(r.code, r.err).toBe(0);
  }
  const r = await nnc("train", NAMES, "--out", join(tmp, "names"), "--quiet", "--epochs", "1");
  expect(r.code, r.err).toBe(0);
}, 120_000);

describe("nnc explain", () => {
  it("prints one CSV row of attributions per sample, with the feature names and the target", async () => {
    const r = await nnc("explain", IRIS, "--weights", irisW, "--limit", "5");
    expect(r.code, r.err).toBe(0);
    const lines = r.out.trim().split("\n");
    expect(lines[0]).toBe("sample,target,score,sepal_length,sepal_width,petal_length,petal_width");
    expect(lines).toHaveLength(6);
    for (const line of lines.slice(1)) {
      const cells = line.split(",");
      expect(["setosa", "versicolor", "virginica"]).toContain(cells[1]);
      // saliency is |gradient|
      for (const v of cells.slice(3)) expect(Number(v)).toBeGreaterThanOrEqual(0);
    }
  });

  it("integrated gradients in JSON: each sample's attributions sum to F(x) − F(baseline) + delta, and completeness goes to stderr", async () => {
    const r = await nnc("explain", IRIS, "--weights", irisW, "--method", "ig", "--format", "json", "--target", "virginica", "--limit", "6");
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/ig: 64 gauss steps; completeness error/);
    const j = JSON.parse(r.out) as { samples: { target: string; score: number; baselineScore: number; delta: number; attributions: number[] }[] };
    expect(j.samples).toHaveLength(6);
    for (const s of j.samples) {
      expect(s.target).toBe("virginica");
      const sum = s.attributions.reduce((a, b) => a + b, 0);
      expect(sum).toBeCloseTo(s.score - s.baselineScore + s.delta, 3);
      expect(Math.abs(s.delta)).toBeLessThan(0.05 * Math.abs(s.score - s.baselineScore) + 1e-3);
    }
  });

  it("--summary: mean |attribution| and permutation importance per feature; petal length matters most for iris", async () => {
    const svg = join(tmp, "iris-summary.svg");
    const r = await nnc("explain", IRIS, "--weights", irisW, "--method", "ig", "--summary", "--svg", svg);
    expect(r.code, r.err).toBe(0);
    const rows = r.out.trim().split("\n").slice(1).map((l) => l.split(","));
    expect(r.out.split("\n")[0]).toBe("feature,mean_abs,permutation");
    const top = (col: number): string => rows.reduce((a, b) => (Number(b[col]) > Number(a[col]) ? b : a))[0]!;
    expect(top(2)).toMatch(/^petal_/);
    expect(top(1)).toMatch(/^petal_/);
    const text = readFileSync(svg, "utf8");
    expect(text.startsWith("<svg")).toBe(true);
    expect(text).toContain("permutation importance");
  });

  it("images: Grad-CAM's map per sample, and heat maps drawn as SVG", async () => {
    const svg = join(tmp, "cam.svg");
    const r = await nnc("explain", DIGITS, "--weights", digitsW, "--method", "gradcam", "--limit", "4", "--svg", svg);
    expect(r.code, r.err).toBe(0);
    const lines = r.out.trim().split("\n");
    expect(lines[0]!.split(",").slice(3)).toHaveLength(64);
    expect(lines[0]).toContain("cam_r7c7");
    for (const l of lines.slice(1)) for (const v of l.split(",").slice(3)) expect(Number(v)).toBeGreaterThanOrEqual(0);
    expect(readFileSync(svg, "utf8").match(/<g transform/g)).toHaveLength(4);
  });
});

describe("every method and baseline on images", () => {
  const runs: [string, string[]][] = [
    ["ig from a blurred copy, trapezoid steps", ["--method", "ig", "--baseline", "blurred", "--quadrature", "trapezoid", "--steps", "128"]],
    ["ig from the training mean", ["--method", "ig", "--baseline", "mean"]],
    ["occlusion with 2×2 patches", ["--method", "occlusion", "--patch", "2"]],
    ["smoothgrad", ["--method", "smoothgrad", "--samples", "8", "--seed", "3"]],
    ["gradient × input", ["--method", "gradxinput"]],
  ];
  for (const [what, args] of runs) {
    it(what, async () => {
      const r = await nnc("explain", DIGITS, "--weights", digitsW, "--limit", "3", ...args);
      expect(r.code, r.err).toBe(0);
      const lines = r.out.trim().split("\n");
      expect(lines).toHaveLength(4);
      const ig = args.includes("ig");
      for (const l of lines.slice(1)) {
        const cells = l.split(",").map(Number);
        expect(cells.slice(ig ? 4 : 3)).toHaveLength(64);
        expect(cells.slice(3).every(Number.isFinite)).toBe(true);
        expect(cells.slice(ig ? 4 : 3).some((v) => v !== 0)).toBe(true);
      }
      if (ig) expect(r.err).toMatch(/completeness error/);
    });
  }
});

describe("nnc explain on two named inputs with categorical columns (penguins)", () => {
  it("names each one-hot value `column=category`, in the packed order of the inputs", async () => {
    const out = join(tmp, "penguins");
    const t = await nnc("train", join(ROOT, "examples/penguins.nn"), "--out", out, "--quiet");
    expect(t.code, t.err).toBe(0);
    const r = await nnc("explain", join(ROOT, "examples/penguins.nn"), "--weights", join(out, "weights.json"), "--method", "gradxinput", "--limit", "3");
    expect(r.code, r.err).toBe(0);
    expect(r.out.split("\n")[0]).toBe("sample,target,score,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,island=Biscoe,island=Dream,island=Torgersen,sex=female,sex=male");
  });
});

describe("a binary classifier with one sigmoid output", () => {
  it("explains the positive class by name; the negative one is a diagnostic that says why", async () => {
    const dir = join(tmp, "binary");
    const { mkdirSync } = await import("node:fs");
    mkdirSync(dir, { recursive: true });
    const rows = Array.from({ length: 40 }, (_, i) => `${(i % 7) / 7},${(i % 5) / 5},${(i % 7) / 7 + (i % 5) / 5 > 0.9 ? "yes" : "no"}`);
    writeFileSync(join(dir, "d.csv"), "a,b,label\n" + rows.join("\n") + "\n");
    writeFileSync(join(dir, "m.nn"), `model B {\n  seed 2\n  input 2\n  dense 8, tanh\n  dense 1, sigmoid\n}\nloss binary_cross_entropy\noptimizer adam(lr: 0.05)\ndata {\n  train csv("d.csv", label: label)\n  test 25%\n}\ntrain {\n  epochs 30\n  batch 8\n}\n`);
    const t = await nnc("train", join(dir, "m.nn"), "--out", join(dir, "run"), "--quiet");
    expect(t.code, t.err).toBe(0);
    const w = join(dir, "run", "weights.json");
    const r = await nnc("explain", join(dir, "m.nn"), "--weights", w, "--target", "yes", "--limit", "3");
    expect(r.code, r.err).toBe(0);
    expect(r.out.trim().split("\n").slice(1).map((l) => l.split(",")[1])).toEqual(["yes", "yes", "yes"]);
    const bad = await nnc("explain", join(dir, "m.nn"), "--weights", w, "--target", "no");
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/error NN2062: .*its one sigmoid output scores `yes`/);
    expect(bad.err).toMatch(/hint: explain `yes`: the attributions for `no` are their negatives/);
  });
});

describe("nnc features", () => {
  it("a layer's values as CSV, and the same values as float32 with a JSON header", async () => {
    const csv = await nnc("features", DIGITS, "--weights", digitsW, "--layer", "flatten_1", "--limit", "7");
    expect(csv.code, csv.err).toBe(0);
    const rows = csv.out.trim().split("\n");
    expect(rows).toHaveLength(8);
    expect(rows[0]!.split(",")).toHaveLength(128);
    const out = join(tmp, "feat");
    const bin = await nnc("features", DIGITS, "--weights", digitsW, "--layer", "flatten_1", "--limit", "7", "-o", `${out}.f32`);
    expect(bin.code, bin.err).toBe(0);
    const header = JSON.parse(readFileSync(`${out}.json`, "utf8")) as { shape: number[]; dtype: string; data: string };
    expect(header.shape).toEqual([7, 128]);
    expect(header.dtype).toBe("float32");
    expect(header.data).toBe("feat.f32");
    const bytes = readFileSync(`${out}.f32`);
    const values = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    expect(values).toHaveLength(7 * 128);
    const fromCsv = rows.slice(1).flatMap((l) => l.split(",").map(Number));
    fromCsv.forEach((v, i) => expect(values[i]).toBeCloseTo(v, 4));
    // relu then max pooling: never negative, and not all zero
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeGreaterThan(0);
  });

  it("samples from --input, read as nnc predict reads them", async () => {
    const input = join(tmp, "flowers.csv");
    writeFileSync(input, "sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n6.3,3.3,6.0,2.5\n");
    const r = await nnc("features", IRIS, "--weights", irisW, "--layer", "dense_2", "--input", input);
    expect(r.code, r.err).toBe(0);
    const rows = r.out.trim().split("\n").slice(1).map((l) => l.split(",").map(Number));
    expect(rows).toHaveLength(2);
    // dense_2's values are the logits: the first flower is a setosa, the second a virginica
    expect(rows[0]!.indexOf(Math.max(...rows[0]!))).toBe(0);
    expect(rows[1]!.indexOf(Math.max(...rows[1]!))).toBe(2);
  });
});

describe("bad options: one diagnostic with a hint, and a non-zero exit", () => {
  const cases: [string, string[], string, RegExp][] = [
    ["an unknown method", ["explain", IRIS, "--weights", irisW, "--method", "integrated"], "NN2061", /hint: the methods are `saliency`/],
    ["a misspelt method", ["explain", IRIS, "--weights", irisW, "--method", "saliancy"], "NN2061", /did you mean `saliency`/],
    ["an unknown layer", ["features", IRIS, "--weights", irisW, "--layer", "dense1"], "NN2060", /did you mean `dense_1`/],
    ["an unknown Grad-CAM layer", ["explain", DIGITS, "--weights", digitsW, "--method", "gradcam", "--layer", "conv"], "NN2060", /the layers are|did you mean/],
    ["Grad-CAM on a flat layer", ["explain", DIGITS, "--weights", digitsW, "--method", "gradcam", "--layer", "dense_1"], "NN3032", /the image layers are `conv2d_1`, `maxpool2d_1`/],
    ["Grad-CAM on a tabular model", ["explain", IRIS, "--weights", irisW, "--method", "gradcam"], "NN3032", /use --method ig or saliency/],
    ["a class the model does not have", ["explain", IRIS, "--weights", irisW, "--target", "setosaa"], "NN2062", /did you mean `setosa`/],
    ["a target index out of range", ["explain", IRIS, "--weights", irisW, "--target", "3"], "NN2062", /or an index in 0\.\.2/],
    ["a bad number of steps", ["explain", IRIS, "--weights", irisW, "--method", "ig", "--steps", "0"], "NN2063", /e\.g\. --steps 64/],
    ["a gradient method on a model of integer tokens", ["explain", NAMES, "--weights", namesW, "--limit", "2"], "NN3031", /use --method occlusion/],
    ["a blurred baseline for tabular data", ["explain", IRIS, "--weights", irisW, "--method", "ig", "--baseline", "blurred"], "NN2063", /use --baseline zeros or mean/],
  ];
  for (const [what, args, code, hint] of cases) {
    it(what, async () => {
      const r = await nnc(...args);
      expect(r.code).not.toBe(0);
      expect(r.err).toContain(`error ${code}`);
      expect(r.err).toMatch(hint);
      expect(r.err).not.toMatch(/at .*\.ts:\d+/); // no stack trace
      expect(r.out).toBe("");
    });
  }
});

describe("nnc compile --explain", () => {
  it("writes a module with the explain methods that type-checks against the contract; without the flag, none", async () => {
    const plain = await nnc("compile", DIGITS);
    const explained = await nnc("compile", DIGITS, "--explain");
    expect(explained.code, explained.err).toBe(0);
    expect(plain.out).not.toContain("inputGradient");
    expect(explained.out).toContain("inputGradient(");
    expect(explained.out).toContain(`case "conv2d_1":`);
    expect(typeCheckModules([explained.out])).toEqual([]);
  });
});
