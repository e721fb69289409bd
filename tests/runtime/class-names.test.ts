/**
 * `classes [...]` in the data block names numbered labels (IDX files, numeric CSV labels): the
 * names travel with the weights, so `nnc eval` and `nnc predict` print them (`p_boot`, not `p_2`).
 * A list of another length than the model's classes is one NN2026 at the setting; beside labels
 * that are names already, one NN2027 warning.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkSource } from "../../compiler/check.js";
import { compileModel } from "../../runtime/node/model.js";
import { FileReader } from "../../runtime/node/files.js";
import { createSession } from "../../runtime/session.js";
import { nncInProcess } from "../cli/in-process.js";
import { programOf } from "./helpers.js";

/** An IDX file: magic, dims, unsigned bytes. */
function idx(dims: number[], data: number[]): Uint8Array {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head[2] = 0x08;
  head[3] = dims.length;
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return new Uint8Array(Buffer.concat([head, Buffer.from(data)]));
}

const DIR = mkdtempSync(join(tmpdir(), "nnc-classes-"));
// 60 images of 2 × 2: class c lights pixel c (plus a little of the others).
const N = 60;
const labels = Array.from({ length: N }, (_, i) => i % 3);
writeFileSync(join(DIR, "im"), idx([N, 2, 2], labels.flatMap((c, i) => [0, 1, 2, 3].map((p) => (p === c ? 200 : (i * 7 + p * 13) % 40)))));
writeFileSync(join(DIR, "lb"), idx([N], labels));

const FILE = (classes: string) => `model Shapes {
  seed 1
  input [2, 2]
  flatten
  dense 3, softmax
}
loss cross_entropy
optimizer adam(lr: 0.05)
metrics accuracy, precision
data {
  train idx("im", "lb")
  test  20%
  scale 1 / 255
${classes}
}
train {
  epochs 40
  batch 8
}
`;

describe("classes [...] for numbered labels", () => {
  it("names IDX labels: eval's per-class rows and predict's columns use the names", async () => {
    writeFileSync(join(DIR, "shapes.nn"), FILE('  classes ["shirt", "trouser", "boot"]'));
    const home = process.cwd();
    process.chdir(DIR);
    try {
      expect((await nncInProcess("train", "shapes.nn", "--quiet")).code).toBe(0);
      const e = await nncInProcess("eval", "shapes.nn");
      expect(e.out).toMatch(/^\s+boot\s/m);
      expect(e.out).toMatch(/confusion matrix[^\n]*\n\s+shirt\s+trouser\s+boot/);
      const acc = Number(/accuracy\s+([\d.]+)/.exec(e.out)![1]);
      expect(acc).toBeGreaterThan(0.9);
      writeFileSync("rows.csv", "200,5,5,5\n5,5,200,5\n");
      const p = await nncInProcess("predict", "shapes.nn", "--input", "rows.csv");
      const lines = p.out.trim().split("\n");
      expect(lines[0]).toBe("prediction,p_shirt,p_trouser,p_boot");
      expect(lines.slice(1).map((l) => l.split(",")[0])).toEqual(["shirt", "boot"]);
    } finally {
      process.chdir(home);
    }
  });

  it("a list of another length: one NN2026 at the setting, before any epoch", async () => {
    const p = programOf(FILE('  classes ["shirt", "trouser"]'));
    const r = await createSession(p, compileModel(p).value!, new FileReader(DIR));
    expect(r.value).toBeUndefined();
    expect(r.diagnostics.map((d) => `${d.code} ${d.span.line}:${d.span.column} ${d.message}`)).toEqual(["NN2026 14:3 `classes` names 2 classes, but the model has 3"]);
  });

  it("names that repeat, and a list that is not one, are the checker's", () => {
    const codes = (c: string): string[] => checkSource(FILE(c)).diagnostics.map((d) => `${d.code} ${d.span.line}:${d.span.column}`);
    expect(codes('  classes ["a", "b", "a"]')).toEqual(["NN2019 14:22"]);
    expect(codes("  classes 3")).toEqual(["NN2017 14:11"]);
  });
});
