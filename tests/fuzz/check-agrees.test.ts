/**
 * `nnc check` and `nnc compile` report the same static diagnostics (codes, messages, hints and
 * spans) for every program of the fuzz corpus: the generators' valid dense and image programs,
 * the same programs mis-shaped by a few mutations (another output activation, loss or input
 * shape, a layer dropped or inserted: the NN3xxx cases), mutated examples and statement soups. In-process, through the functions the
 * two commands call: `checkOne` (check) and `loadFile` + `compileChecked` (compile, default
 * flags).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkOne } from "../../cli/commands/check.js";
import { compileChecked, DEFAULT_COMPILE_FLAGS } from "../../cli/commands/compile.js";
import { loadFile } from "../../cli/load.js";
import { hasErrors, type Diagnostic } from "../../grammar/diagnostics.js";
import { validImageProgram, validProgram } from "./program-gen.js";
import { exampleSources, mutatedExample, statementSoup } from "./text-gen.js";

const DIR = mkdtempSync(join(tmpdir(), "nnc-check-agrees-"));
const FILE = join(DIR, "case.nn");

const key = (d: Diagnostic): string =>
  [d.file, d.code, d.severity, `${d.span.line}:${d.span.column}-${d.span.endLine}:${d.span.endColumn}`, `${d.span.start}-${d.span.end}`, d.message, d.hint ?? ""].join(" | ");

/** What `nnc compile FILE` reports: the front end's problems, or its warnings and the compiler's. */
function compileReports(file: string): Diagnostic[] {
  const loaded = loadFile(file);
  if ("error" in loaded) return [loaded.error];
  if (hasErrors(loaded.diagnostics) || loaded.program === undefined) return [...loaded.diagnostics];
  return [...loaded.diagnostics, ...compileChecked(file, loaded.program, DEFAULT_COMPILE_FLAGS).diagnostics];
}

const seen = { cases: 0, nn3: 0, clean: 0, codes: new Set<string>() };

async function agree(source: string): Promise<void> {
  writeFileSync(FILE, source);
  const checked = (await checkOne(FILE, { format: "json" })).diagnostics.map(key).sort();
  const compiled = compileReports(FILE).map(key).sort();
  expect(checked).toEqual(compiled);
  seen.cases++;
  if (checked.some((k) => k.includes(" | NN3"))) seen.nn3++;
  if (checked.length === 0) seen.clean++;
  for (const k of checked) seen.codes.add(k.split(" | ")[1]!);
}

/**
 * Mutations aimed at shapes, each keeping the text valid for the front end: another output
 * activation or loss, a layer dropped, a layer inserted, another input shape.
 */
type ShapeMutation =
  | { kind: "head"; act: string }
  | { kind: "loss"; loss: string }
  | { kind: "drop"; at: number }
  | { kind: "insert"; at: number; layer: string }
  | { kind: "input"; shape: string };
const shapeMutation: fc.Arbitrary<ShapeMutation> = fc.oneof(
  fc.record({ kind: fc.constant("head" as const), act: fc.constantFrom("softmax", "sigmoid", "linear", "relu", "tanh") }),
  fc.record({ kind: fc.constant("loss" as const), loss: fc.constantFrom("cross_entropy", "binary_cross_entropy", "mse", "mae", "huber") }),
  fc.record({ kind: fc.constant("drop" as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant("insert" as const),
    at: fc.nat(),
    layer: fc.constantFrom("flatten", "conv2d 2, 3", "conv2d 1, 9, padding: same", "maxpool2d 2", "avgpool2d 5", "batchnorm", "dense 3, softmax", "dense 1, relu", "dense 70000, relu", "dense 1000000, relu\n  dense 64, relu", "dropout 0.5"),
  }),
  fc.record({ kind: fc.constant("input" as const), shape: fc.constantFrom("3", "[4, 4]", "[4, 4, 1]", "[1, 1, 1]", "[3, 5, 2]") }),
);

function reshape(source: string, ms: readonly ShapeMutation[]): string {
  const lines = source.split("\n");
  const body = (): number[] => lines.flatMap((l, i) => (/^ {2}(dense|conv2d|maxpool2d|avgpool2d|flatten|batchnorm|dropout|activation)\b/.test(l) ? [i] : []));
  const inputAt = (): number => lines.findIndex((l) => /^ {2}input /.test(l));
  for (const m of ms) {
    const layers = body();
    switch (m.kind) {
      case "head": {
        const last = layers.filter((i) => lines[i]!.startsWith("  dense")).at(-1);
        if (last !== undefined) lines[last] = lines[last]!.replace(/, [a-z_]+(\([^)]*\))?/, `, ${m.act}`);
        break;
      }
      case "loss":
        lines[lines.findIndex((l) => l.startsWith("loss "))] = `loss ${m.loss}`;
        break;
      case "drop":
        if (layers.length > 0) lines.splice(layers[m.at % layers.length]!, 1);
        break;
      case "insert": {
        const spots = [inputAt() + 1, ...layers.map((i) => i + 1)];
        lines.splice(spots[m.at % spots.length]!, 0, `  ${m.layer}`);
        break;
      }
      case "input":
        lines[inputAt()] = `  input ${m.shape}`;
        break;
    }
  }
  return lines.join("\n");
}

const misShaped = fc
  .tuple(fc.oneof(validProgram, validImageProgram), fc.array(shapeMutation, { minLength: 1, maxLength: 3 }))
  .map(([p, ms]) => reshape(p.source, ms));

const run = (arb: fc.Arbitrary<string>, numRuns: number, seed: number): Promise<void> =>
  fc.assert(
    fc.asyncProperty(arb, (s) => agree(s)),
    { numRuns, seed, endOnFailure: true },
  );

describe("nnc check and nnc compile agree on every static diagnostic", () => {
  it("on the generators' valid dense programs", () => run(validProgram.map((p) => p.source), 60, 7201));
  it("on the generators' valid image programs", () => run(validImageProgram.map((p) => p.source), 40, 7202));
  it("on those programs mis-shaped by a few mutations (the NN3xxx cases)", async () => {
    const before = seen.nn3;
    await run(misShaped, 200, 7203);
    expect(seen.nn3 - before).toBeGreaterThan(40);
  });
  it("on mutated examples", () => run(mutatedExample([...exampleSources().values()]), 60, 7204));
  it("on statement-shaped soups", () => run(statementSoup, 40, 7205));
  it("(the corpus has clean programs and NN3xxx ones, the limits included)", () => {
    expect(seen.cases).toBe(400);
    for (const code of ["NN3001", "NN3005", "NN3009", "NN3011"]) expect(seen.codes).toContain(code);
    expect(seen.clean).toBeGreaterThan(60);
    if (process.env["SHOW_CODES"]) console.log(seen, [...seen.codes].sort().join(" "));
  });
});
