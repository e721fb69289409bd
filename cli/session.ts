/**
 * What `nnc train`, `eval` and `predict` share around a run: opening a session from a `.nn`
 * path, rendering run and data diagnostics (a code frame from the `.nn` file or the data file
 * when there is a line to show), the weights file they default to, and the confusion matrix
 * they print.
 */
import { existsSync } from "node:fs";
import { basename, dirname, extname, join } from "node:path";
import type { CompiledModel } from "../compiler/model-api.js";
import type { Program } from "../compiler/program.js";
import { diag, hasErrors, type Diagnostic, type Result } from "../grammar/diagnostics.js";
import { FILE_START } from "../grammar/span.js";
import type { Preprocess } from "../runtime/preprocess.js";
import { createSession, openData, type OpenedData, type RunOverrides, type Session } from "../runtime/session.js";
import type { ModelShape } from "../runtime/prepare.js";
import { FileReader } from "../runtime/node/files.js";
import { readBounded, readBoundedText } from "../runtime/node/read.js";
import { dataDiag } from "../runtime/span.js";
import { inert } from "../runtime/inert.js";
import { compileModel } from "../runtime/node/model.js";
import { CliError } from "./errors.js";
import { renderDiagnostic, renderPlain, toJson, wantColor } from "./render.js";

export type OutputFormat = "text" | "json";

/** Renders diagnostics of a run: `.nn` problems against its source, data problems against the data file's line. */
export function renderRun(ds: readonly Diagnostic[], nnPath: string, nnSource: string, format: OutputFormat = "text"): string {
  if (format === "json") return ds.map((d) => JSON.stringify(toJson(d.file === undefined ? { ...d, file: nnPath } : d))).join("\n") + "\n";
  const color = wantColor(process.stderr);
  const texts = new Map<string, string | undefined>();
  const textOf = (file: string): string | undefined => {
    if (!texts.has(file)) {
      const read = readBounded(file);
      // Only frame text files; binary (IDX) files get a plain line.
      texts.set(file, "bytes" in read && !read.bytes.includes(0) ? read.bytes.toString("utf8") : undefined);
    }
    return texts.get(file);
  };
  return ds
    .map((d) => {
      if (d.file === undefined) return renderDiagnostic({ ...d, file: nnPath }, nnSource, { color });
      const text = d.span.line > 1 || d.span.column > 1 ? textOf(d.file) : undefined;
      return text !== undefined ? renderDiagnostic(d, text, { color }) : renderPlain(d, { color });
    })
    .join("\n");
}

/**
 * `--input` of `predict`, `explain` and `features` (a file, or - for standard input) as text,
 * with the name messages give it; a file that cannot be read is NN4001, rendered as every run
 * diagnostic is.
 */
export function readInputText(input: string, nnPath: string, nnSource: string): { readonly text: string; readonly shown: string } {
  const shown = input === "-" ? "<stdin>" : input;
  const read = readBoundedText(input);
  if (!("text" in read)) throw new CliError(renderRun([dataDiag(shown, "fileNotFound", FILE_START, [shown, read.why], read.hint)], nnPath, nnSource));
  return { text: read.text, shown };
}

/** Throws a rendered CliError when `ds` holds errors; prints warnings. */
export function failOnErrors(ds: readonly Diagnostic[], nnPath: string, nnSource: string, format: OutputFormat = "text"): void {
  if (hasErrors(ds)) throw new CliError(renderRun(ds, nnPath, nnSource, format));
  const warnings = ds.filter((d) => d.severity !== "error");
  if (warnings.length > 0) process.stderr.write(renderRun(warnings, nnPath, nnSource, format));
}

/** The weights file of a run (`nnc train` writes it into its output folder). */
export const WEIGHTS_FILE = "weights.json";

/** Default output folder of `nnc train`: `runs/<name of the .nn file>` under the working directory. */
export function defaultOut(file: string): string {
  return join("runs", basename(file, extname(file)));
}

/**
 * The weights a command reads: `--weights` when given, else what `nnc train FILE` writes by
 * default (`runs/<name>/weights.json`), named on stderr so the user knows which file answered;
 * when that file does not exist, one NN4001 saying to train first.
 */
export function weightsPathOf(file: string, given: string | undefined, source: string, format: OutputFormat = "text"): string {
  if (given !== undefined) return given;
  const path = join(defaultOut(file), WEIGHTS_FILE);
  if (!existsSync(path)) {
    const hint = `train first: \`nnc train ${file}\` writes ${path} (or pass --weights FILE)`;
    failOnErrors([{ ...diag("fileNotFound", FILE_START, [path, "no such file"], { hint }), file: path }], file, source, format);
  }
  if (format === "text") process.stderr.write(`using weights ${inert(path)}\n`);
  return path;
}

/** Compiles the model and prepares its data; any problem ends in a CliError. */
export async function openSession(
  nnPath: string,
  source: string,
  program: Program,
  overrides: RunOverrides = {},
  fixed?: Preprocess,
  model?: CompiledModel,
  format: OutputFormat = "text",
): Promise<Session> {
  let m = model;
  if (!m) {
    const compiled = await compileModel(program);
    failOnErrors(compiled.diagnostics, nnPath, source, format);
    m = compiled.value!;
  }
  const s = await createSession(program, m, new FileReader(dirname(nnPath)), overrides, fixed);
  failOnErrors(s.diagnostics, nnPath, source, format);
  return s.value!;
}

/**
 * Opens a file's data exactly as `nnc train` does before its first epoch (`openData`: paths,
 * columns, labels, features against the input, labels against the output, preprocessing),
 * for a model of the given shape, without compiling or training. For `nnc check --data`.
 */
export function checkData(nnPath: string, program: Program, shape: ModelShape): Promise<Result<OpenedData | undefined>> {
  return openData(program, shape, new FileReader(dirname(nnPath)));
}

/** A confusion matrix as aligned text (rows: true class, columns: predicted), class names made inert. */
export function formatConfusion(c: readonly (readonly number[])[], classes?: readonly string[]): string {
  // Class names come from the data file: inert before they reach the terminal.
  const names = c.map((_, i) => inert(classes?.[i] ?? String(i)));
  const width = Math.max(6, ...names.map((s) => s.length), ...c.flat().map((x) => String(x).length));
  const lines = ["confusion matrix (rows: true class, columns: predicted)"];
  lines.push(" ".repeat(width + 3) + names.map((s) => s.padStart(width)).join(" "));
  c.forEach((row, i) => lines.push(`  ${names[i]!.padEnd(width)} ${row.map((x) => String(x).padStart(width)).join(" ")}`));
  return lines.join("\n") + "\n";
}
