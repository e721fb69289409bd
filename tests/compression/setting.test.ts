/**
 * `quantize` in `train { … }`: its arguments and the model are checked with one diagnostic each
 * at the setting's line and column (NN2082 names the layer with no int8 kernel or float step and
 * points at it, NN2083 names the steps that would all stay float); a run that sets it writes
 * `model.q.js` and `weights.int8.json` whose int8 accuracy on digits is within 0.5 points of the
 * float model's; `nnc eval` shows before and after from those files; `nnc export --quantized`
 * writes one module that predicts raw records exactly as the in-process int8 module does; a
 * weights.int8.json with any one field replaced is valid or one NN5004, never an exception.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkSource } from "../../compiler/check.js";
import { loadQuantized } from "../../compiler/quantize/load.js";
import { nncInProcess } from "../cli/in-process.js";
import { model, programOf, ROOT } from "../runtime/helpers.js";
import { planOf } from "../../compiler/quantize/plan.js";
import { decodeInt8Weights } from "../../runtime/quantize-weights.js";

const HEAD = (layers: string): string => `model M {\n  input 64\n${layers}}\nloss cross_entropy\n`;

describe("the quantize setting", () => {
  it("reads calibrate and calibration, with their defaults", () => {
    const a = checkSource(HEAD("  dense 10, softmax\n") + "train {\n  quantize calibrate 300, calibration percentile\n}\n");
    expect(a.diagnostics).toEqual([]);
    expect(a.value?.train.quantize).toMatchObject({ calibrate: 300, calibration: "percentile" });
    const b = checkSource(HEAD("  dense 10, softmax\n") + "train {\n  quantize\n}\n");
    expect(b.value?.train.quantize).toMatchObject({ calibrate: 1000, calibration: "minmax" });
    expect(checkSource(HEAD("  dense 10, softmax\n")).value?.train.quantize).toBeUndefined();
  });

  it("reports a bad argument at its line and column", () => {
    const r = checkSource(HEAD("  dense 10, softmax\n") + "train {\n  quantize calibrate 0, calibration kl\n}\n");
    const at = r.diagnostics.map((d) => `${d.code} ${d.span.line}:${d.span.column}`);
    expect(at).toEqual(["NN2019 7:22", "NN2011 7:37"]);
    expect(r.diagnostics[1]!.hint).toContain("`minmax`, `percentile`");
    expect(r.value).toBeUndefined();
  });

  it("names a layer that has no int8 kernel and no float step (NN2082), at the setting, the layer related", () => {
    const r = checkSource(HEAD("  dense 32, relu\n  layernorm\n  dense 10, softmax\n") + "train {\n  epochs 2\n  quantize calibrate 100\n}\n");
    expect(r.diagnostics).toHaveLength(1);
    const d = r.diagnostics[0]!;
    expect([d.code, d.severity, d.span.line, d.span.column]).toEqual(["NN2082", "error", 10, 3]);
    expect(d.message).toBe("`quantize` cannot run layer `layernorm_1` (layernorm) after training: no int8 kernel and no float fallback for this kind of layer yet");
    expect(d.related?.[0]?.span.line).toBe(4);
    expect(d.hint).toMatch(/^remove `quantize`/);
  });

  it("warns when every step would stay float (NN2083), naming them", () => {
    const r = checkSource("model M {\n  input 10\n  activation softmax\n}\nloss cross_entropy\ntrain {\n  quantize\n}\n");
    expect(r.diagnostics.map((d) => [d.code, d.severity, d.span.line, d.span.column])).toEqual([["NN2083", "warning", 7, 3]]);
    expect(r.diagnostics[0]!.message).toContain("every step stays float (activation_1 (softmax))");
    expect(r.value?.train.quantize).toBeDefined();
  });
});

describe("nnc train with quantize, then eval and export", () => {
  const tmp = mkdtempSync(join(tmpdir(), "nnc-quantize-setting-"));
  const file = join(ROOT, "examples", "digits-pruned.nn");
  const out = join(tmp, "run");
  let done: Record<string, unknown> = {};
  beforeAll(async () => {
    const r = await nncInProcess("train", file, "--out", out, "--json");
    if (r.code !== 0) throw new Error(r.err);
    done = JSON.parse(r.out.trim().split("\n").at(-1)!) as Record<string, unknown>;
  }, 180_000);
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it("writes the int8 module and weights beside weights.json, within 0.5 points of float32 on digits", () => {
    for (const f of ["weights.json", "model.q.js", "weights.int8.json", "report.html"]) expect(existsSync(join(out, f)), f).toBe(true);
    const q = done["quantized"] as { split: string; metric: string; before: number; after: number; samples: number; floatBytes: number; int8Bytes: number; speedBefore: number; speedAfter: number };
    expect(q).toMatchObject({ split: "test", metric: "accuracy", samples: 359 });
    expect((done["test"] as Record<string, number>)["accuracy"]).toBe(q.before);
    expect(q.before).toBeGreaterThan(0.9);
    expect(Math.abs(q.after - q.before)).toBeLessThanOrEqual(0.005);
    expect(q.floatBytes / q.int8Bytes).toBeGreaterThan(3.5);
    expect(q.speedBefore).toBeGreaterThan(0);
    expect(q.speedAfter).toBeGreaterThan(0);
    // The weights file is a quarter of the float32 values (and far smaller than weights.json's text).
    expect(readFileSync(join(out, "weights.int8.json")).length * 3).toBeLessThan(readFileSync(join(out, "weights.json")).length);
    const report = readFileSync(join(out, "report.html"), "utf8");
    expect(report).toContain("<h2>int8 quantization</h2>");
    expect(report).toContain("test accuracy (359 samples)");
  });

  it("refuses before training a `calibrate` larger than the training split (NN5053), at the setting", async () => {
    const nn = join(tmp, "many.nn");
    const csv = JSON.stringify(join(ROOT, "examples", "data", "digits.csv"));
    writeFileSync(nn, `${HEAD("  dense 10, softmax\n")}data {\n  train csv(${csv}, label: label)\n  test  20%\n}\ntrain {\n  epochs   1\n  quantize calibrate 5000\n}\n`);
    const r = await nncInProcess("train", nn, "--out", join(tmp, "many"));
    expect(r.code).not.toBe(0);
    expect(r.err).toContain("many.nn:12:3 - error NN5053: `quantize calibrate 5000` asks for more samples than the training split holds (1438)");
    expect(r.err).toContain("hint: e.g. `quantize calibrate 1000`");
    expect(existsSync(join(tmp, "many", "weights.json"))).toBe(false);
  });

  it("nnc eval shows size, accuracy and speed before and after from the files", async () => {
    const weights = join(out, "weights.json");
    const r = await nncInProcess("eval", file, "--weights", weights);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain("int8 (");
    expect(r.out).toMatch(/weights \(dense and conv products\) +18\.8 KiB +5\.2 KiB +3\.\d\d× smaller/);
    expect(r.out).toMatch(/test accuracy \(359 samples\) +0\.\d+ +0\.\d+/);
    expect(r.out).toMatch(/samples\/s, batches of 64 of the test split +\d+ \(float32 [^)]+\) +\d+ \(int8 WebAssembly SIMD\) +[\d.]+×/);
    const j = await nncInProcess("eval", file, "--weights", weights, "--json");
    const v = JSON.parse(j.out) as { accuracy: number; quantized: { before: number; after: number } };
    expect(v.quantized.before).toBe(v.accuracy);
    expect(v.quantized.after).toBe((done["quantized"] as { after: number }).after);
    const no = await nncInProcess("eval", file, "--weights", weights, "--no-quantized");
    expect(no.out).not.toContain("int8");
  }, 60_000);

  it("nnc eval warns of int8 weights of other float weights and evaluates without them; damaged ones are NN5004, never a stack trace", async () => {
    const other = join(tmp, "other");
    mkdirSync(other);
    copyFileSync(join(out, "weights.json"), join(other, "weights.json"));
    const text = readFileSync(join(out, "weights.int8.json"), "utf8");
    writeFileSync(join(other, "weights.int8.json"), text.replace(/"float": "[0-9a-f]+"/, '"float": "0000000000000000"'));
    const r = await nncInProcess("eval", file, "--weights", join(other, "weights.json"));
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/warning NN5004.*quantized from other weights/);
    expect(r.out).toMatch(/accuracy/);
    expect(r.out).not.toContain("int8");
    writeFileSync(join(other, "weights.int8.json"), text.replace(/"weights":"[A-Za-z0-9+/]{8}/, '"weights":"!!!!!!!!'));
    const d = await nncInProcess("eval", file, "--weights", join(other, "weights.json"));
    expect(d.err).toMatch(/NN5004.*weights, scales or bias of dense_1 are damaged/);
    expect(d.err).not.toMatch(/at .*\.ts:\d+/);
  });

  it("decodes any one field of weights.int8.json replaced by another JSON value as valid or one NN5004, never an exception", () => {
    const program = programOf(readFileSync(file, "utf8"));
    const m = model(program);
    const floats = JSON.parse(readFileSync(join(out, "weights.json"), "utf8")) as { params: number[] };
    const params = Float32Array.from(floats.params);
    const plan = planOf(program.model, m.layout).value!;
    const text = readFileSync(join(out, "weights.int8.json"), "utf8");
    expect(decodeInt8Weights(text, plan, params, "w", "f").diagnostics).toEqual([]);
    const values: unknown[] = [null, 0, -1, 1.5, 1e309, "", "x", [], {}, [1, 2], { a: 1 }, true];
    const paths: (string | number)[][] = [["format"], ["model"], ["float"], ["calibration"], ["calibration", "method"], ["calibration", "samples"], ["products"], ["products", 0], ["products", 1, "layer"], ["products", 0, "k"], ["products", 0, "input"], ["products", 0, "input", "scale"], ["products", 1, "input", "zero"], ["products", 0, "weights"], ["products", 1, "scales"], ["products", 1, "bias"]];
    for (const path of paths) {
      for (const v of values) {
        const doc = JSON.parse(text) as Record<string | number, unknown>;
        let at = doc as Record<string | number, unknown>;
        for (const k of path.slice(0, -1)) at = at[k] as Record<string | number, unknown>;
        at[path.at(-1)!] = v;
        const r = decodeInt8Weights(JSON.stringify(doc), plan, params, "w", "f");
        expect(r.value === undefined ? r.diagnostics.map((d) => d.code) : [], `${path.join(".")} = ${JSON.stringify(v)}`).toEqual(r.value === undefined ? ["NN5004"] : []);
      }
    }
  });

  it("nnc export --quantized predicts raw records exactly as the int8 module in process", async () => {
    const app = join(tmp, "app.js");
    const r = await nncInProcess("export", file, "--weights", join(out, "weights.json"), "--quantized", "-o", app);
    expect(r.code, r.err).toBe(0);
    const text = readFileSync(app, "utf8");
    expect(text).not.toMatch(/^import /m);
    const mod = (await import(pathToFileURL(app).href)) as {
      createPredictor(): { predictBatch(records: readonly Record<string, number>[]): { label: number; probabilities: number[] }[] };
      columns: readonly { name: string }[];
      preprocessing: { scale: number; shift: number[]; divide: number[] };
      meta: { kind: string };
    };
    expect(mod.meta.kind).toBe("int8");
    // Raw records from the data file; the same rows preprocessed here for the module `nnc train` wrote.
    const lines = readFileSync(join(ROOT, "examples", "data", "digits.csv"), "utf8").trim().split("\n");
    const header = lines[0]!.split(",");
    const records = lines.slice(1, 101).map((l) => Object.fromEntries(l.split(",").map((v, j) => [header[j]!, Number(v)])));
    const cols = mod.columns.map((c) => c.name);
    const { scale, shift, divide } = mod.preprocessing;
    const rows = new Float32Array(records.length * cols.length);
    records.forEach((rec, i) => cols.forEach((c, j) => (rows[i * cols.length + j] = (rec[c]! * scale - shift[j]!) / divide[j]!)));
    const inProcess = loadQuantized(readFileSync(join(out, "model.q.js"), "utf8")).createModel().predict(rows, records.length);
    const predicted = mod.createPredictor().predictBatch(records);
    expect(predicted.flatMap((p) => p.probabilities)).toEqual(Array.from(inProcess));
    const refused = await nncInProcess("export", file, "--weights", join(out, "weights.json"), "--quantized", "-o", join(tmp, "app.ts"));
    expect(refused.code).not.toBe(0);
    expect(refused.err).toContain("NN3013: the compile option --target must be js with --quantized");
  }, 60_000);
});
