/**
 * Issue 22, items 5 and 11: values and labels nnc used to accept silently or misreport, each now
 * one clear message at the right place (in-process `main`, as the commands run):
 *
 * - a value float32 cannot hold (1e39 in a CSV cell or a JSON record; NaN or ∞ in an IDX file of
 *   doubles) is NN4040 at its cell, not "training diverged, lower the learning rate";
 * - JSON labels mixing class numbers and class names (0 and "b" both became class 0) are NN4041;
 *   a JSON file with a byte-order mark is read;
 * - the label column listed among the features is warned about (NN2048); a header that names a
 *   column twice is NN4043 (training read columns by position, test and predict by name); a
 *   missing column in a file of 100,000 columns gets a hint of a dozen names, not all of them;
 * - `--seed 4294967296` (silently seed 0) and `gradcheck --per-tensor abc` (checked nothing, "ok")
 *   are refused;
 * - `train --json` prints data problems as JSON lines;
 * - class names that changed between a checkpoint and the data refuse `--resume` (NN5009), and
 *   `eval` reads labels by name against the weights' classes (a file holding a subset of them is
 *   scored right; a class the weights do not know is NN4042).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { nncInProcess as nnc } from "../cli/in-process.js";
import { csvCell } from "../../runtime/csv.js";

afterEach(() => vi.restoreAllMocks());

const dir = mkdtempSync(join(tmpdir(), "nnc-data-trust-"));
const write = (name: string, text: string | Uint8Array): string => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};

const model = (source: string, opts: { units?: number; loss?: string; epochs?: number } = {}) => `model M {
  seed 1
  input 2
  dense ${opts.units ?? 3}, ${opts.loss === "mse" ? "linear" : "softmax"}
}
loss ${opts.loss ?? "cross_entropy"}
optimizer sgd(lr: 0.1)
data {
  train ${source}
  test  25%
}
train {
  epochs ${opts.epochs ?? 2}
  batch  2
}
`;
const rows = (label: (i: number) => string, n = 12): string => "a,b,y\n" + Array.from({ length: n }, (_, i) => `${i % 4},${i % 3},${label(i)}`).join("\n") + "\n";

describe("values float32 cannot hold are data errors at their cell", () => {
  it("1e39 in a CSV feature: NN4040 at its line and column, under train and check --data", async () => {
    write("big.csv", rows((i) => String(i % 3)).replace("\n2,2,2\n", "\n2,1e39,2\n"));
    const nn = write("big.nn", model(`csv("big.csv", label: y)`));
    for (const args of [["train", nn, "--out", join(dir, "runs-big")], ["check", "--data", nn]]) {
      const r = await nnc(...args);
      expect(r.code, r.err).toBe(1);
      expect(r.err).toMatch(/big\.csv:4:3 - error NN4040: column `b` holds 1e39, which is not a finite float32 number/);
      expect(r.err).not.toMatch(/diverged|learning rate/);
    }
  });

  it("1e39 as a regression target, and in a JSON record", async () => {
    write("target.csv", rows((i) => (i === 5 ? "-1e39" : String(i))));
    const a = await nnc("check", "--data", write("target.nn", model(`csv("target.csv", label: y)`, { units: 1, loss: "mse" })));
    expect(a.err).toMatch(/target\.csv:7:5 - error NN4040: column `y` holds -1e39/);
    write("big.json", JSON.stringify(Array.from({ length: 8 }, (_, i) => ({ x: [i, i === 6 ? 1e39 : 1], y: i % 3 }))).replace(/\},/g, "},\n"));
    const b = await nnc("check", "--data", write("bigjson.nn", model(`json("big.json")`)));
    expect(b.code).toBe(1);
    expect(b.err).toMatch(/big\.json:7:1 - error NN4040: record 6: `x` \(value 1\) holds 1e\+39/);
  });

  it("NaN or infinity in an IDX file of doubles: NN4040 naming the record", async () => {
    const images = Buffer.alloc(12 + 8 * 16);
    images.writeUInt32BE(0x00000e02, 0); // doubles, 2 dimensions
    images.writeUInt32BE(8, 4);
    images.writeUInt32BE(2, 8);
    for (let i = 0; i < 16; i++) images.writeDoubleBE(i === 11 ? Infinity : i / 16, 12 + 8 * i);
    const labels = Buffer.alloc(8 + 8);
    labels.writeUInt32BE(0x00000801, 0);
    labels.writeUInt32BE(8, 4);
    for (let i = 0; i < 8; i++) labels[8 + i] = i % 3;
    write("nan-images.idx", images);
    write("nan-labels.idx", labels);
    const r = await nnc("check", "--data", write("idx.nn", model(`idx("nan-images.idx", "nan-labels.idx")`)));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/nan-images\.idx:1:1 - error NN4040: record 5 \(value 1\) holds Infinity/);
  });
});

describe("an IDX file of no records", () => {
  it("is 'the file holds no samples', not the held-out fractions' fault", async () => {
    const images = Buffer.alloc(16);
    images.writeUInt32BE(0x00000803, 0); // bytes, 3 dimensions: 0 images of 2 × 1
    images.writeUInt32BE(0, 4);
    images.writeUInt32BE(2, 8);
    images.writeUInt32BE(1, 12);
    const labels = Buffer.alloc(8);
    labels.writeUInt32BE(0x00000801, 0);
    write("none-images.idx", images);
    write("none-labels.idx", labels);
    const r = await nnc("check", "--data", write("none.nn", model(`idx("none-images.idx", "none-labels.idx")`)));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/error NN4011: the data set is empty\nhint: the file holds no samples/);
    expect(r.err).not.toMatch(/held-out/);
  });
});

describe("labels", () => {
  it("JSON labels mixing class numbers and names are one NN4041 (0 and \"b\" used to be both class 0)", async () => {
    const recs = Array.from({ length: 8 }, (_, i) => ({ x: [i, 1], y: i === 3 ? "b" : i % 2 }));
    write("mix.json", JSON.stringify(recs).replace(/\},/g, "},\n"));
    const r = await nnc("check", "--data", write("mix.nn", model(`json("mix.json")`)));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/mix\.json:4:1 - error NN4041: the labels mix class numbers \(0 in record 0\) and class names \(`b` in record 3\)/);
    expect(r.err.match(/error NN/g)).toHaveLength(1);
  });

  it("a JSON file with a byte-order mark is read", async () => {
    const recs = Array.from({ length: 8 }, (_, i) => ({ x: [i, 1], y: i % 3 }));
    write("bom.json", "\ufeff" + JSON.stringify(recs));
    const r = await nnc("check", "--data", write("bom.nn", model(`json("bom.json")`)));
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/6 training, 2 test samples of 2 features; 3 classes/);
  });

  it("the label column among the features is a warning at `features`", async () => {
    write("feat.csv", rows((i) => String(i % 3)));
    const nn = write("feat.nn", model(`csv("feat.csv", label: y, features: [a, y])`));
    const r = await nnc("check", nn);
    expect(r.err).toMatch(/feat\.nn:9:45 - warning NN2048: the label column `y` is also one of the features/);
  });

  it("a header naming a column twice is NN4043 at the second; a missing column lists a dozen of 100,000", async () => {
    write("dup.csv", rows((i) => String(i % 3)).replace("a,b,y", "a,a,y"));
    const dup = await nnc("check", "--data", write("dup.nn", model(`csv("dup.csv", label: y)`)));
    expect(dup.code).toBe(1);
    expect(dup.err).toMatch(/dup\.csv:1:3 - error NN4043: the header names `a` twice \(columns 1 and 2\)/);
    const n = 100_000;
    write("wide.csv", [Array.from({ length: n }, (_, i) => `c${i}`).join(","), Array(n).fill("1").join(","), Array(n).fill("2").join(",")].join("\n") + "\n");
    const wide = await nnc("check", "--data", write("wide.nn", model(`csv("wide.csv", label: nolabel)`)));
    expect(wide.code).toBe(1);
    expect(wide.err).toMatch(/error NN4005: there is no column `nolabel`/);
    expect(wide.err).toMatch(/c11, … \(100000 columns\)/);
    expect(wide.err.length).toBeLessThan(2000);
  });

  it("class names changed since the checkpoint refuse --resume; eval reads labels by name", async () => {
    const names = ["cat", "dog", "eel"];
    write("pets.csv", rows((i) => names[i % 3]!, 24));
    const nn = write("pets.nn", model(`csv("pets.csv", label: y)`));
    const out = join(dir, "runs-pets");
    expect((await nnc("train", nn, "--out", out, "--quiet")).code).toBe(0);
    // "cat" → "zebra": sorted, the classes become dog, eel, zebra, so every index shifts.
    write("pets.csv", rows((i) => (i % 3 === 0 ? "zebra" : names[i % 3]!), 24));
    const resumed = await nnc("train", nn, "--out", out, "--resume", "--quiet");
    expect(resumed.code).toBe(1);
    expect(resumed.err).toMatch(/error NN5009: .*its classes are `cat`, `dog`, `eel`, and this run's data give `dog`, `eel`, `zebra`/);
    const unknown = await nnc("eval", nn, "--weights", join(out, "weights.json"));
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/error NN4042: the labels hold `zebra`, which the weights do not know; their classes are `cat`, `dog`, `eel`/);
    expect(unknown.err.match(/error NN/g)).toHaveLength(1);
    // A file of dogs and eels only: its own classes would number them 0 and 1 (cat and dog).
    write("pets.csv", rows((i) => names[1 + (i % 2)]!, 24));
    const subset = await nnc("eval", nn, "--weights", join(out, "weights.json"));
    expect(subset.code, subset.err).toBe(0);
    const matrix = subset.out.slice(subset.out.indexOf("confusion matrix"));
    const rowOf = (c: string): number[] => (new RegExp(`^\\s+${c}((?:\\s+\\d+)+)$`, "m").exec(matrix)?.[1] ?? "").trim().split(/\s+/).map(Number);
    expect(rowOf("cat").reduce((a, b) => a + b, 0)).toBe(0);
    expect(rowOf("dog").reduce((a, b) => a + b, 0) + rowOf("eel").reduce((a, b) => a + b, 0)).toBe(6);
  });
});

describe("options and output", () => {
  it("predict's CSV quotes a class name with a comma and guards one a spreadsheet would run as a formula", async () => {
    const names = ["=HYPERLINK(\"http://x\")", "x,y", "-2"];
    write("formula.csv", "a,b,y\n" + Array.from({ length: 24 }, (_, i) => `${i % 4},${i % 3},"${names[i % 3]!.replace(/"/g, '""')}"`).join("\n") + "\n");
    const nn = write("formula.nn", model(`csv("formula.csv", label: y)`, { epochs: 30 }));
    expect((await nnc("train", nn, "--out", join(dir, "runs-formula"), "--quiet")).code).toBe(0);
    write("formula-in.csv", "a,b\n0,0\n1,1\n2,2\n3,0\n");
    const r = await nnc("predict", nn, "--weights", join(dir, "runs-formula", "weights.json"), "--input", join(dir, "formula-in.csv"));
    expect(r.code, r.err).toBe(0);
    const lines = r.out.trim().split("\n");
    for (const line of lines) expect(line, "no cell starts a formula").not.toMatch(/(^|,)"?=/);
    const cells = lines.slice(1).map((l) => l.match(/^("(?:[^"]|"")*"|[^,]*)/)![1]!);
    for (const c of cells) expect(["\"'=HYPERLINK(\"\"http://x\"\")\"", "\"x,y\"", "-2"]).toContain(c);
    // The one function every CSV nnc writes goes through (predict, explain, features).
    expect([csvCell("=1+1"), csvCell("+x"), csvCell("@SUM(A1)"), csvCell("-2"), csvCell("-1e-3"), csvCell("x,y"), csvCell('say "hi"'), csvCell("plain")]).toEqual(
      ["'=1+1", "'+x", "'@SUM(A1)", "-2", "-1e-3", '"x,y"', '"say ""hi"""', "plain"],
    );
  });

  it("--seed beyond 32 bits and a --per-tensor that is not a number are refused", async () => {
    write("ok.csv", rows((i) => String(i % 3)));
    const nn = write("ok.nn", model(`csv("ok.csv", label: y)`));
    const seed = await nnc("train", nn, "--out", join(dir, "runs-seed"), "--seed", "4294967296");
    expect(seed.code).toBe(2);
    expect(seed.err).toMatch(/--seed must be a whole number in 0\.\.4294967295, but is `4294967296`/);
    const per = await nnc("gradcheck", nn, "--per-tensor", "abc");
    expect(per.code).toBe(2);
    expect(per.err).toMatch(/--per-tensor must be a whole number in 1\.\.1000000, but is `abc`/);
    expect(per.out).not.toMatch(/ok:/);
  });

  it("train --json prints data problems as JSON lines", async () => {
    write("json-err.csv", rows((i) => String(i % 3)).replace("\n1,1,1\n", "\n1,x,1\n"));
    const r = await nnc("train", write("json-err.nn", model(`csv("json-err.csv", label: y)`)), "--out", join(dir, "runs-json"), "--json");
    expect(r.code).toBe(1);
    const lines = r.err.trim().split("\n");
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(() => JSON.parse(l), l).not.toThrow();
    expect(JSON.parse(lines[0]!)).toMatchObject({ code: "NN4003", line: 3, column: 3 });
  });
});
