import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkSource } from "../../compiler/check.js";
import { parse } from "../../grammar/index.js";
import { dumpAst, printFile } from "../../grammar/print.js";
import type { SourceFile } from "../../grammar/ast.js";

/** `code line:col message` of every diagnostic, one per line. */
function problems(source: string): string {
  return checkSource(source)
    .diagnostics.map((d) => `${d.code} ${d.span.line}:${d.span.column} ${d.message}`)
    .join("\n");
}

const ok = (body: string): string => `model M {\n  input 2\n  ${body}\n}\nloss mse\n`;

function expectError(source: string, expected: string): void {
  expect(problems(source)).toBe(expected);
}

/** The tree without positions, for comparing two parses. */
function shape(f: SourceFile): unknown {
  return JSON.parse(JSON.stringify(f, (k, v: unknown) => (k === "span" ? undefined : v)));
}

describe("parser", () => {
  it("reads the sketch from the issue", () => {
    const r = checkSource(readFileSync(join(import.meta.dirname, "../../examples/fashion-mnist.nn"), "utf8"));
    expect(r.diagnostics).toEqual([]);
    const p = r.value;
    expect(p?.model.input).toEqual([28, 28]);
    expect(p?.model.layers.map((l) => l.kind)).toEqual(["flatten", "dense", "dropout", "dense", "dense"]);
    expect(p?.optimizer).toMatchObject({ kind: "adam", lr: 1e-3 });
    expect(p?.data?.scale).toBeCloseTo(1 / 255, 12);
    expect(p?.data?.validation).toBeCloseTo(0.1, 12);
    expect(p?.train).toMatchObject({ epochs: 10, batch: 64, schedule: { kind: "cosine" }, earlyStop: { patience: 3, monitor: "val_accuracy" } });
  });

  it("ends statements at the end of the line", () => {
    const f = parse("model M {\n  input 2\n  flatten\n  dense 4\n}\n").value;
    const block = f.statements[0]?.block;
    expect(block?.statements.map((s) => [s.keyword.name, s.args.length])).toEqual([
      ["input", 1],
      ["flatten", 0],
      ["dense", 1],
    ]);
  });

  it("continues a statement after a trailing comma", () => {
    expect(problems("model M {\n  input 2\n  dense 4,\n    relu\n}\nloss mse\n")).toBe("");
  });

  it("continues after a trailing comma even onto a top-level word", () => {
    const r = checkSource("model M {\n  input 2\n  dense 1\n}\nloss mse\nmetrics accuracy,\n  loss\n");
    expect(r.diagnostics).toEqual([]);
    expect(r.value?.metrics.map((m) => m.kind)).toEqual(["accuracy", "loss"]);
  });

  it("reads a misplaced top-level word in a closed block as a misplaced statement, not a missing brace", () => {
    expect(problems("model M {\n  input 2\n  dense 1\n  loss mse\n}\nloss mse\n")).toBe("NN2003 4:3 unknown layer `loss`");
  });

  it("keeps a comment on the line of a closing brace, and `##` comments as written", () => {
    const src = "## Heading\nmodel M {\n  input 2\n  dense 1\n}  # end of model\n\nloss mse  // why\n";
    const printed = printFile(parse(src).value);
    expect(printed).toBe("## Heading\nmodel M {\n  input 2\n  dense 1\n  # end of model\n}\n\nloss mse  // why\n");
    expect(printFile(parse(printed).value)).toBe(printed);
  });

  it("reads named arguments with `:`, `=` or a space", () => {
    const r = checkSource(ok("dense 1") + "optimizer sgd(lr = 0.5, momentum: 0.9)\ntrain {\n  early_stop patience 4, monitor val_loss\n}\n");
    expect(r.diagnostics).toEqual([]);
    expect(r.value?.optimizer).toMatchObject({ kind: "sgd", lr: 0.5, settings: { momentum: 0.9 } });
    expect(r.value?.train.earlyStop).toMatchObject({ patience: 4, monitor: "val_loss" });
  });

  it("folds constant expressions, exponents and percentages", () => {
    const r = checkSource(ok("dropout 25%\n  dense 1") + "data {\n  train xor\n  scale 2 * (1 / 8) - 1e-1\n  test 10%\n}\n");
    expect(r.diagnostics).toEqual([]);
    expect(r.value?.model.layers[0]).toMatchObject({ kind: "dropout", rate: 0.25 });
    expect(r.value?.data?.scale).toBeCloseTo(0.15, 12);
  });

  it("reads string escapes", () => {
    const f = parse('x "a\\"b\\\\c\\n\\u{1F600}\\u0041"\n').value;
    const v = f.statements[0]?.args[0]?.value;
    expect(v).toMatchObject({ kind: "string", value: 'a"b\\c\n\u{1F600}A' });
  });

  it("keeps comments of both kinds", () => {
    const f = parse("# top\nloss mse // why\n").value;
    expect(f.statements[0]?.comments).toEqual(["# top"]);
    expect(f.statements[0]?.trailingComment).toBe("// why");
  });

  it("reports a missing brace at the block it belongs to, and goes on", () => {
    expectError(
      "model M {\n  input 2\n  dense 1, sigmod\nloss mse\n",
      "NN1012 1:9 missing `}` to close the `model` block\nNN2004 3:12 unknown activation `sigmod`",
    );
  });

  it("reports every problem in one pass", () => {
    expectError(
      "model M {\n  input 2\n  dense 0\n  dens 3\n}\nloss mse\noptimizer adma\n",
      "NN2019 3:9 `units` must be a whole number from 1 to 1048576, but is 0\nNN2003 4:3 unknown layer `dens`\nNN2006 7:11 unknown optimizer `adma`",
    );
  });

  it("bounds nesting so no input exhausts the stack", () => {
    const deep = "x " + "[".repeat(5000) + "]".repeat(5000) + "\n";
    const r = parse(deep);
    expect(r.diagnostics.map((d) => d.code)).toContain("NN1019");
  });

  it("gives every diagnostic a line and a column inside the file", () => {
    const src = "model {\n  input [\n  dense 3,, relu\n}}\n]\n\"";
    const r = checkSource(src);
    expect(r.diagnostics.length).toBeGreaterThan(0);
    for (const d of r.diagnostics) {
      expect(d.span.line).toBeGreaterThanOrEqual(1);
      expect(d.span.column).toBeGreaterThanOrEqual(1);
      expect(d.span.start).toBeLessThanOrEqual(src.length);
      expect(d.code).toMatch(/^NN\d{4}$/);
    }
  });
});

describe("round trip through the AST", () => {
  const dir = join(import.meta.dirname, "../../examples");
  const sources = readdirSync(dir)
    .filter((f) => f.endsWith(".nn"))
    .map((f) => [f, readFileSync(join(dir, f), "utf8")] as const);
  const golden = join(import.meta.dirname, "../golden/diagnostics");
  const broken = readdirSync(golden)
    .filter((f) => f.endsWith(".nn"))
    .map((f) => [f, readFileSync(join(golden, f), "utf8")] as const)
    .filter(([, s]) => parse(s).diagnostics.every((d) => !d.code.startsWith("NN1")));

  it.each([...sources, ...broken])("%s: print ∘ parse is a fixed point of parse", (_, source) => {
    const first = parse(source);
    const printed = printFile(first.value);
    const second = parse(printed);
    expect(second.diagnostics.filter((d) => d.code.startsWith("NN1"))).toEqual([]);
    expect(shape(second.value)).toEqual(shape(first.value));
    expect(printFile(second.value)).toBe(printed);
    const noPositions = (t: string): string => t.replace(/ {2}@\d+:\d+/g, "");
    expect(noPositions(dumpAst(second.value))).toBe(noPositions(dumpAst(first.value)));
  });

  it.each(sources)("examples/%s is in canonical layout", (_, source) => {
    expect(printFile(parse(source).value)).toBe(source);
  });
});
