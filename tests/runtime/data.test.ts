/**
 * Data loading: CSV, JSON and IDX parsing, and that every bad file gets a message naming the
 * file and the line or record, what is wrong, and a hint.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import type { CsvSource } from "../../compiler/program.js";
import { FILE_START } from "../../grammar/span.js";
import { parseCsv } from "../../runtime/csv.js";
import { GENERATORS } from "../../runtime/generators.js";
import { parseIdx } from "../../runtime/idx.js";
import { parseJsonData } from "../../runtime/json.js";
import { loadData } from "../../runtime/load.js";
import { FileReader } from "../../runtime/node/files.js";
import { programOf } from "./helpers.js";
import { readFileSync } from "node:fs";
import { ROOT } from "./helpers.js";

const csv = (over: Partial<CsvSource> = {}): CsvSource => ({
  kind: "csv",
  path: "d.csv",
  header: true,
  label: undefined,
  features: undefined,
  categorical: [],
  missing: "error",
  delimiter: ",",
  span: FILE_START,
  ...over,
});

/** One line per diagnostic: `file:line:col code message`. */
const lines = (ds: readonly { file?: string; span: { line: number; column: number }; code: string; message: string }[]) =>
  ds.map((d) => `${d.file}:${d.span.line}:${d.span.column} ${d.code} ${d.message}`);

describe("CSV", () => {
  it("reads the shipped Iris file: 150 rows, 4 features, 3 named classes", () => {
    const text = readFileSync(join(ROOT, "examples/data/iris.csv"), "utf8");
    const r = parseCsv(text, csv({ label: "species" }), { labels: "class" });
    const d = r.value.dataset!;
    expect(r.diagnostics).toEqual([]);
    expect([d.n, d.features, d.classes]).toEqual([150, 4, ["setosa", "versicolor", "virginica"]]);
    expect(Array.from(d.x.subarray(0, 4))).toEqual([5.1, 3.5, 1.4, 0.2].map(Math.fround));
    expect(d.y[0]).toBe(0);
    expect(d.y[149]).toBe(2);
  });

  it("one-hot encodes categorical columns, picks columns by name, handles quotes and CRLF", () => {
    const text = 'size,colour,note,y\r\n1,red,"a, b",0\r\n2,blue,x,1\r\n3,red,"say ""hi""",1\r\n';
    const r = parseCsv(text, csv({ features: ["size", "colour"], categorical: ["colour"], label: "y" }), { labels: "class" });
    const d = r.value.dataset!;
    expect(d.featureNames).toEqual(["size", "colour=blue", "colour=red"]);
    expect(Array.from(d.x)).toEqual([1, 0, 1, 2, 1, 0, 3, 0, 1]);
    expect(Array.from(d.y)).toEqual([0, 1, 1]);
  });

  it("drops, fills with the mean, or zero-fills missing values as declared", () => {
    const text = "a,b,y\n1,,0\n3,4,1\nNA,8,1\n";
    const get = (missing: CsvSource["missing"]) => parseCsv(text, csv({ missing }), { labels: "class" });
    expect(Array.from(get("drop").value.dataset!.x)).toEqual([3, 4]);
    expect(Array.from(get("mean").value.dataset!.x)).toEqual([1, 6, 3, 4, 2, 8]);
    expect(Array.from(get("zero").value.dataset!.x)).toEqual([1, 0, 3, 4, 0, 8]);
    expect(lines(get("error").diagnostics)).toEqual([
      "d.csv:2:3 NN4004 column `b` has no value here (an empty cell)",
      "d.csv:4:1 NN4004 column `a` has no value here (`NA`)",
    ]);
    expect(get("error").diagnostics[0]!.hint).toMatch(/missing: drop/);
  });

  it("reads pandas' missing-value strings (n/a, None, #N/A, …) as missing, whatever their case", () => {
    const text = "a,b,y\nn/a,1,0\nNone,2,1\n#N/A,3,0\n<NA>,4,1\n5,6,1\n";
    expect(Array.from(parseCsv(text, csv({ missing: "zero" }), { labels: "class" }).value.dataset!.x)).toEqual([0, 1, 0, 2, 0, 3, 0, 4, 5, 6]);
  });

  it("says an unseen category is one, naming the training data's categories", () => {
    const train = parseCsv("c,y\nred,0\nblue,1\n", csv({ categorical: ["c"] }), { labels: "class" });
    const test = parseCsv("c,y\ngreen,0\n", csv({ categorical: ["c"] }), { labels: "class", schema: train.value.schema! });
    expect(lines(test.diagnostics)).toEqual(["d.csv:2:1 NN4018 column `c` holds `green`, a category the training data does not have"]);
    expect(test.diagnostics[0]!.hint).toContain("blue, red");
  });

  it("names the line of a wrong column count and of a non-numeric cell", () => {
    const text = "a,b,y\n1,2,0\n1,2\n1,x2,1\n";
    const r = parseCsv(text, csv(), { labels: "class" });
    expect(r.value.dataset).toBeUndefined();
    expect(lines(r.diagnostics)).toEqual([
      "d.csv:3:1 NN4002 row has 2 columns, but the header has 3",
      "d.csv:4:3 NN4003 column `b` holds `x2`, which is not a number",
    ]);
    expect(r.diagnostics.every((d) => d.hint !== undefined)).toBe(true);
  });

  it("refuses an unknown column and a label outside the training classes", () => {
    const none = parseCsv("a,b\n1,2\n", csv({ label: "species" }), { labels: "class" });
    expect(lines(none.diagnostics)).toEqual(["d.csv:1:1 NN4005 there is no column `species`"]);
    expect(none.diagnostics[0]!.hint).toBe("the label column; the columns are: a, b");

    const train = parseCsv("a,y\n1,cat\n2,dog\n", csv(), { labels: "class" });
    const test = parseCsv("a,y\n1,dog\n2,cow\n", csv({ path: "t.csv" }), { labels: "class", schema: train.value.schema! });
    expect(lines(test.diagnostics)).toEqual(["t.csv:3:3 NN4006 label `cow` is outside the 2 classes of the model"]);
    expect(test.diagnostics[0]!.hint).toBe("the training data's classes are: cat, dog");
  });
});

describe("JSON", () => {
  it("reads records and column objects, flattening nested x", () => {
    const a = parseJsonData('[{"x": [[1, 2], [3, 4]], "y": "b"}, {"x": [[5, 6], [7, 8]], "y": "a"}]', { labels: "class", file: "r.json" });
    expect([a.value!.n, a.value!.features, a.value!.classes, Array.from(a.value!.y)]).toEqual([2, 4, ["a", "b"], [1, 0]]);
    const b = parseJsonData('{"x": [[1], [2]], "y": [[0.5, 1], [2, 3]]}', { labels: "value", file: "c.json" });
    expect([b.value!.labelWidth, Array.from(b.value!.y)]).toEqual([2, [0.5, 1, 2, 3]]);
  });

  it("names the line of a syntax error and the record of a bad sample", () => {
    const bad = parseJsonData('[\n {"x": [1], "y": 0},\n {"x": [1] "y": 1}\n]', { labels: "class", file: "s.json" });
    expect(bad.diagnostics[0]!.code).toBe("NN4010");
    expect(bad.diagnostics[0]!.file).toBe("s.json");
    expect(bad.diagnostics[0]!.span.line).toBe(3);
    const rec = parseJsonData('[\n {"x": [1, 2], "y": 0},\n {"x": [1], "y": 1}\n]', { labels: "class", file: "s.json" });
    expect(lines(rec.diagnostics)).toEqual(["s.json:3:1 NN4010 invalid JSON data: record 1: `x` has 1 values, but the first record has 2"]);
  });
});

/** An IDX file: magic, dims, unsigned bytes. */
function idx(dims: number[], data: number[]): Uint8Array {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head[2] = 0x08;
  head[3] = dims.length;
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return new Uint8Array(Buffer.concat([head, Buffer.from(data)]));
}

describe("IDX", () => {
  it("decodes images and honours a record limit", () => {
    const r = parseIdx(idx([3, 2, 2], [...Array(12).keys()]), "im", 2);
    expect(r.value!.dims).toEqual([2, 2, 2]);
    expect(Array.from(r.value!.values)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it("reports a truncated file with the incomplete record, and a file that is not IDX", () => {
    const t = parseIdx(idx([3, 2, 2], [...Array(9).keys()]), "im");
    expect(lines(t.diagnostics)).toEqual(["im:1:1 NN4007 the IDX file is truncated: record 2 of 3 is incomplete (9 of 12 data bytes present)"]);
    const m = parseIdx(new TextEncoder().encode("a,b\n1,2\n"), "x.csv");
    expect(m.diagnostics[0]!.code).toBe("NN4008");
    expect(m.diagnostics[0]!.message).toMatch(/^not an IDX file: the first bytes are 61 2c 62 0a/);
  });

  it("streams .gz and raw files from disk, and names a truncated .gz and mismatched counts", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nnc-idx-"));
    writeFileSync(join(dir, "im.gz"), gzipSync(idx([4, 2, 2], [...Array(16).keys()])));
    writeFileSync(join(dir, "lb"), idx([4], [0, 1, 2, 1]));
    writeFileSync(join(dir, "lb3"), idx([3], [0, 1, 2]));
    const cut = gzipSync(idx([4, 2, 2], [...Array(16).keys()]));
    writeFileSync(join(dir, "cut.gz"), cut.subarray(0, cut.length - 12));
    const src = (images: string, labels: string) =>
      programOf(`model M {\n  input [2, 2]\n  flatten\n  dense 3, softmax\n}\nloss cross_entropy\noptimizer sgd(lr: 0.1)\ndata {\n  train idx("${images}", "${labels}")\n}\n`);
    const reader = new FileReader(dir, dir);
    const ok = await loadData(src("im.gz", "lb").data!, reader, "class");
    expect(ok.diagnostics).toEqual([]);
    expect([ok.value!.train.n, ok.value!.train.features, Array.from(ok.value!.train.y)]).toEqual([4, 4, [0, 1, 2, 1]]);

    const cutR = await loadData(src("cut.gz", "lb").data!, reader, "class");
    expect(cutR.diagnostics.map((d) => `${d.file} ${d.code}`)).toEqual(["cut.gz NN4007"]);

    const count = await loadData(src("im.gz", "lb3").data!, reader, "class");
    expect(lines(count.diagnostics)).toEqual(["lb3:1:1 NN4013 im.gz holds 4 records, but lb3 holds 3 (shape [3])"]);

    const missing = await loadData(src("nope.gz", "lb").data!, reader, "class");
    expect(missing.diagnostics[0]!.code).toBe("NN4001");
    expect(missing.diagnostics[0]!.message).toBe("cannot read nope.gz: no such file");
    expect(missing.diagnostics[0]!.span.line).toBe(9);
  });
});

describe("generators", () => {
  it("are seeded, balanced and shaped as documented", () => {
    for (const [name, g] of Object.entries(GENERATORS)) {
      const o = { size: 100, noise: 0.1, seed: 4, classes: 3 };
      const a = g(o);
      const b = g(o);
      expect(Array.from(a.x), name).toEqual(Array.from(b.x));
      expect(a.n).toBe(100);
      expect(a.features).toBe(name === "sine" ? 1 : 2);
      expect(Array.from(g({ ...o, seed: 5 }).x), name).not.toEqual(Array.from(a.x));
    }
    const xor = GENERATORS.xor({ size: 4, noise: 0, seed: 1, classes: 2 });
    expect([Array.from(xor.x), Array.from(xor.y)]).toEqual([[0, 0, 1, 0, 0, 1, 1, 1], [0, 1, 1, 0]]);
    const sp = GENERATORS.spiral({ size: 300, noise: 0, seed: 1, classes: 3 });
    expect([0, 1, 2].map((c) => Array.from(sp.y).filter((y) => y === c).length)).toEqual([100, 100, 100]);
  });
});

describe("data against the model", () => {
  const model = (input: number, units: number, file: string) =>
    programOf(`model M {\n  input ${input}\n  dense ${units}, softmax\n}\nloss cross_entropy\noptimizer sgd(lr: 0.1)\ndata {\n  train json("${file}")\n}\n`);

  it("names the record of a label outside the classes and a feature count that does not fit", async () => {
    const { MemoryReader } = await import("../../runtime/memory-reader.js");
    const { fixtureModel } = await import("./fixtures/mlp.js");
    const { createSession } = await import("../../runtime/session.js");
    const files = {
      "a.json": '[{"x": [1, 2], "y": 0}, {"x": [3, 4], "y": 5}, {"x": [5, 6], "y": 2}]',
      "c.csv": "a,b,y\n1,2,0\n3,4,7\n",
    };
    const p = model(2, 3, "a.json");
    const r = await createSession(p, fixtureModel(p), new MemoryReader(files));
    expect(lines(r.diagnostics)).toEqual(["a.json:1:1 NN4006 label 5 (record 1) is outside the 3 classes of the model"]);
    expect(r.diagnostics[0]!.hint).toBe("labels must be class numbers 0 … 2; give the last layer as many units as there are classes");

    const q = model(3, 3, "a.json");
    const s = await createSession(q, fixtureModel(q), new MemoryReader(files));
    expect(lines(s.diagnostics)).toEqual(["a.json:1:1 NN4009 samples have 2 features, but the model's input [3] needs 3"]);

    const c = programOf(`model M {\n  input 2\n  dense 3, softmax\n}\nloss cross_entropy\noptimizer sgd(lr: 0.1)\ndata {\n  train csv("c.csv")\n}\n`);
    const t = await createSession(c, fixtureModel(c), new MemoryReader(files));
    expect(lines(t.diagnostics)).toEqual(["c.csv:3:1 NN4006 label 7 is outside the 3 classes of the model"]);
  });
});
