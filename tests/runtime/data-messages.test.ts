/**
 * One problem, one message, at the right place, with the fix (issue 20, item 5): labels counted
 * from 1, features left unnormalized, a column name that reads as arithmetic, `swish`.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkSource } from "../../compiler/check.js";
import { createSession } from "../../runtime/session.js";
import { compileModel } from "../../runtime/node/model.js";
import { FileReader } from "../../runtime/node/files.js";

async function run(csv: string, model: string, data = "") {
  const dir = mkdtempSync(join(tmpdir(), "nnc-msg-"));
  writeFileSync(join(dir, "d.csv"), csv);
  const p = checkSource(`model M {\n  input 2\n  ${model}\n}\nloss cross_entropy\ndata {\n  train csv("d.csv", label: y)\n  ${data}\n}\ntrain { epochs 1 }\n`).value!;
  const r = await createSession(p, compileModel(p).value!, new FileReader(dir));
  return r.diagnostics.map((d) => ({ code: d.code, severity: d.severity, message: d.message, hint: d.hint ?? "", line: d.span.line }));
}

describe("data messages", () => {
  it("labels 1 … k: one error for all the rows, saying classes count from 0", async () => {
    const rows = Array.from({ length: 30 }, (_, i) => `${i},${i * 2},${(i % 3) + 1}`).join("\n");
    const ds = await run(`a,b,y\n${rows}\n`, "dense 3, softmax");
    const errors = ds.filter((d) => d.severity === "error");
    expect(errors.map((d) => d.code)).toEqual(["NN4006"]);
    expect(errors[0]!.hint).toMatch(/the labels run 1 … 3, but classes are counted from 0/);
    expect(errors[0]!.hint).toMatch(/10 samples in all/);
  });

  it("warns once about features with a wide range left unnormalized, naming the widest", async () => {
    const rows = Array.from({ length: 20 }, (_, i) => `${i * 150},${i},${i % 2}`).join("\n");
    const ds = await run(`a,b,y\n${rows}\n`, "dense 2, softmax");
    expect(ds.map((d) => [d.code, d.severity, d.message])).toEqual([["NN4019", "warning", "`a` spans 0 … 2850 and is not normalized"]]);
    expect(await run(`a,b,y\n${rows}\n`, "dense 2, softmax", "normalize standard")).toEqual([]);
  });
});

describe("checker messages", () => {
  it("a column name with an operator in it: quote it", () => {
    const ds = checkSource(`model M {\n  input 1\n  dense 1\n}\nloss mse\ndata {\n  train csv("d.csv", label: km/h)\n}\n`).diagnostics;
    expect(ds.map((d) => d.code)).toEqual(["NN2017"]);
    expect(ds[0]!.hint).toContain('"km/h"');
  });

  it("swish is not offered gelu", () => {
    const ds = checkSource(`model M {\n  input 1\n  dense 1, swish\n}\nloss mse\n`).diagnostics;
    expect(ds.map((d) => d.code)).toEqual(["NN2004"]);
    expect(ds[0]!.hint ?? "").not.toContain("gelu?");
  });
});

describe("a later file's columns", () => {
  it("a file without its header row is one message saying so, with the header to add; missing columns are one message", async () => {
    const { parseCsv } = await import("../../runtime/csv.js");
    const src = { kind: "csv", path: "t.csv", header: true, label: "y", features: undefined, categorical: [], missing: "error", delimiter: ",", span: { start: 0, end: 0, line: 1, column: 1, endLine: 1, endColumn: 1 } } as const;
    const train = parseCsv("a,b,c,y\n1,2,3,0\n4,5,6,1\n", src, { labels: "class" });
    const noHeader = parseCsv("7,8,9\n1,2,3\n", src, { labels: "class", schema: train.value.schema!, labelOptional: true });
    expect(noHeader.diagnostics.map((d) => [d.code, d.message])).toEqual([["NN4020", "the file's first row holds numbers, not the names of the 3 columns it needs"]]);
    expect(noHeader.diagnostics[0]!.hint).toContain("a,b,c");
    const renamed = parseCsv("a,x,z\n1,2,3\n", src, { labels: "class", schema: train.value.schema!, labelOptional: true });
    expect(renamed.diagnostics.map((d) => [d.code, d.message])).toEqual([["NN4005", "there is no column `b`, `c`"]]);
  });
});
