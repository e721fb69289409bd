/**
 * `nnc check` runs every static check `nnc compile` runs (the lowering's shapes and limits,
 * NN3xxx, with the file's batch), and `nnc check --data` opens the data as `nnc train` does
 * before its first epoch. In-process (`main`), as the commands run.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { nncInProcess as nnc } from "./in-process.js";

afterEach(() => vi.restoreAllMocks());

const dir = (): string => mkdtempSync(join(tmpdir(), "nnc-check-static-"));
const write = (d: string, name: string, text: string): string => {
  const p = join(d, name);
  writeFileSync(p, text);
  return p;
};

interface JsonDiag {
  file: string;
  code: string;
  severity: string;
  message: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  hint?: string;
}

const IMAGE_INTO_DENSE = `model M {
  input [28, 28]
  dense 10, softmax
}
loss cross_entropy
optimizer adam
`;

const BCE_ON_SOFTMAX = `model M {
  input 4
  dense 3, softmax
}
loss binary_cross_entropy
optimizer adam
`;

describe("nnc check reports what nnc compile reports", () => {
  it("NN3001: `input [28, 28]` followed by `dense`, at the dense layer", async () => {
    const file = write(dir(), "image.nn", IMAGE_INTO_DENSE);
    const t = await nnc("check", file);
    expect(t.code).toBe(1);
    expect(t.out).toBe("");
    expect(t.err).toContain(`${file}:3:3 - error NN3001: \`dense\` needs a flat input, but gets shape [28,28]`);
    expect(t.err).toContain("3 │   dense 10, softmax\n  │   ~~~~~~~~~~~~~~~~~\nhint: add a `flatten` layer before it");
    expect(t.err).toContain("Found 1 error in 1 file.");

    const j = await nnc("check", "--format", "json", file);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.out)).toEqual([
      {
        file,
        code: "NN3001",
        severity: "error",
        message: "`dense` needs a flat input, but gets shape [28,28]",
        line: 3,
        column: 3,
        endLine: 3,
        endColumn: 20,
        hint: "add a `flatten` layer before it",
      },
    ]);
    const c = await nnc("compile", file);
    expect(c.code).toBe(1);
    expect(c.err).toContain(`${file}:3:3 - error NN3001: \`dense\` needs a flat input, but gets shape [28,28]`);
  });

  it("NN3005: `binary_cross_entropy` on a softmax output, at the loss", async () => {
    const file = write(dir(), "bce.nn", BCE_ON_SOFTMAX);
    const j = await nnc("check", "--format", "json", file);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.out)).toEqual([
      {
        file,
        code: "NN3005",
        severity: "error",
        message: "`binary_cross_entropy` does not fit the model's output: it needs a `sigmoid` output, not a 3-way softmax",
        line: 5,
        column: 1,
        endLine: 5,
        endColumn: 26,
        hint: "use `cross_entropy` with softmax, or a `sigmoid` output",
      },
    ]);
    const t = await nnc("check", file);
    expect(t.code).toBe(1);
    expect(t.err).toContain(`${file}:5:1 - error NN3005: \`binary_cross_entropy\` does not fit the model's output`);
    expect(t.out).not.toContain("no errors");
    const c = await nnc("compile", file);
    expect(c.code).toBe(1);
    expect(c.err).toContain(`${file}:5:1 - error NN3005:`);
  });

  it("limits that depend on the batch use the file's batch, as compile's default --max-batch does (NN3011)", async () => {
    const d = dir();
    const model = (batch: number): string =>
      `model Big {\n  input 784\n  dense 4096, relu\n  dense 10, softmax\n}\nloss cross_entropy\noptimizer adam\ntrain {\n  batch ${batch}\n}\n`;
    const big = write(d, "big.nn", model(65536));
    const small = write(d, "small.nn", model(32));
    const j = await nnc("check", "--format", "json", big, small);
    expect(j.code).toBe(1);
    const found = JSON.parse(j.out) as JsonDiag[];
    expect(found.map((x) => [x.file, x.code, x.line, x.column])).toEqual([[big, "NN3011", 1, 1]]);
    const c = await nnc("compile", big);
    expect(c.code).toBe(1);
    expect(c.err).toContain(`${big}:1:1 - error NN3011: ${found[0]!.message}`);
    expect((await nnc("check", small)).code).toBe(0);
  });

  it("every example still passes (the lowering included)", async () => {
    const names = ["xor", "spiral", "iris", "sine", "fashion-mnist", "fashion-cnn", "digits-cnn", "digits-mlp"];
    const r = await nnc("check", ...names.map((n) => `examples/${n}.nn`));
    expect(r.err).toBe("");
    expect(r.out).toBe(`${names.length} files: no errors\n`);
    expect(r.code).toBe(0);
  });
});

describe("nnc check --data", () => {
  const CSV = "a,color,b,y\n1,red,2,0\n2,blue,3,1\n3,green,1,2\n4,red,5,1\n";
  const nn = (input: number, units: number, data: string): string =>
    `model C {\n  input ${input}\n  dense ${units}, softmax\n}\nloss cross_entropy\noptimizer adam\ndata {\n${data}\n}\n`;
  const TRAIN = '  train csv("c.csv", label: y, categorical: [color])';

  it("opens the data as training would and says what it found", async () => {
    const d = dir();
    write(d, "c.csv", CSV);
    const file = write(d, "ok.nn", nn(5, 3, TRAIN));
    const r = await nnc("check", "--data", file);
    expect(r.err).toBe("");
    expect(r.out).toBe(`${file}: data 4 training samples of 5 features; 3 classes\n${file}: no errors\n`);
    expect(r.code).toBe(0);
    // Without --data the data is not opened: a missing file is training's problem.
    const gone = write(d, "gone.nn", nn(5, 3, '  train csv("gone.csv")'));
    expect((await nnc("check", gone)).code).toBe(0);
  });

  it("the feature count after one-hot expansion against `input`: NN4009 with how the columns expand", async () => {
    const d = dir();
    const csv = write(d, "c.csv", CSV);
    const file = write(d, "narrow.nn", nn(3, 3, TRAIN));
    const r = await nnc("check", "--data", "--format", "json", file);
    expect(r.code).toBe(1);
    const [x, ...rest] = JSON.parse(r.out) as JsonDiag[];
    expect(rest).toEqual([]);
    expect(x).toMatchObject({ code: "NN4009", message: "samples have 5 features, but the model's input [3] needs 3", line: 1, column: 1 });
    expect(x!.file.endsWith("c.csv") && join(process.cwd(), x!.file) === csv).toBe(true);
    expect(x!.hint).toBe(
      "the features are 2 numeric columns (a, b) and `color` one-hot as 3 (blue, green, red); choose the feature columns that match the model's `input`, or change the input shape",
    );
  });

  it("a label outside the output's classes: NN4006 at its line, with a hint, exit 1", async () => {
    const d = dir();
    write(d, "c.csv", CSV);
    const file = write(d, "two.nn", nn(5, 2, TRAIN));
    const r = await nnc("check", "--data", file);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/c\.csv:4:1 - error NN4006: label 2 is outside the 2 classes of the model\n/);
    expect(r.err).toContain("4 │ 3,green,1,2");
    expect(r.err).toContain("hint: labels must be class numbers 0 … 1");
    expect(r.out).toBe("");
  });

  it("a missing data file, at the source in the .nn file (NN4001); a missing label column (NN4005)", async () => {
    const d = dir();
    write(d, "c.csv", CSV);
    const missing = write(d, "missing.nn", nn(5, 3, `${TRAIN}\n  test csv("nope.csv")`));
    const r = await nnc("check", "--data", missing);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${missing}:9:8 - error NN4001: cannot read `);
    expect(r.err).toContain("nope.csv: no such file");
    expect(r.err).toContain("hint: paths in a .nn file are relative to the .nn file's folder");

    const nolabel = write(d, "nolabel.nn", nn(5, 3, '  train csv("c.csv", label: species, categorical: [color])'));
    const j = await nnc("check", "--data", "--format", "json", nolabel);
    expect(j.code).toBe(1);
    expect((JSON.parse(j.out) as JsonDiag[]).map((x) => x.code)).toEqual(["NN4005"]);
  });

  it("a file without a data block: NN4012; a file with static errors: its data is not opened", async () => {
    const d = dir();
    const none = write(d, "none.nn", "model M {\n  input 2\n  dense 2, softmax\n}\nloss cross_entropy\noptimizer adam\n");
    const r = await nnc("check", "--data", "--format", "json", none);
    expect(r.code).toBe(1);
    expect((JSON.parse(r.out) as JsonDiag[]).map((x) => [x.code, x.file])).toEqual([["NN4012", none]]);

    const bad = write(d, "bad.nn", nn(5, 3, '  train csv("nope.csv")').replace("dense 3, softmax", "dense 3, softmax\n  dense 2, softmax"));
    const b = await nnc("check", "--data", "--format", "json", bad);
    expect((JSON.parse(b.out) as JsonDiag[]).map((x) => x.code)).toEqual(["NN3006"]);
  });
});
