/**
 * Reading and checking a `.nn` file for any command. A missing file or a file with errors
 * ends in a `CliError` carrying the rendered diagnostics; warnings are printed to stderr.
 * `staticCheck` adds the lowering's shape checks (NN3xxx) for `nnc check`.
 */
import { readBounded } from "../runtime/node/read.js";
import { checkSource } from "../compiler/check.js";
import { nodeOf, shapeSize, type Graph } from "../compiler/ir.js";
import { lower } from "../compiler/lower.js";
import type { Program } from "../compiler/program.js";
import type { ModelShape } from "../runtime/prepare.js";
import { diag, hasErrors, type Diagnostic } from "../grammar/diagnostics.js";
import type { SourceFile } from "../grammar/ast.js";
import { FILE_START } from "../grammar/span.js";
import { CliError } from "./errors.js";
import { renderDiagnostics, renderPlain, summary, toJson, wantColor } from "./render.js";

export type OutputFormat = "text" | "json";

export interface LoadedFile {
  readonly path: string;
  readonly source: string;
  readonly ast: SourceFile;
  readonly program: Program | undefined;
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * Reads a file as text; a missing or unreadable file is a diagnostic, not an exception.
 * `strictUtf8`: a file that is not valid UTF-8 is refused (NN4016) instead of read with U+FFFD
 * in place of the bad bytes (for `nnc fmt`, which must not rewrite bytes it did not mean to).
 */
export function readSource(path: string, opts: { strictUtf8?: boolean } = {}): { source: string } | { error: Diagnostic } {
  const read = readBounded(path);
  if (!("bytes" in read)) {
    return {
      error: {
        ...diag("fileNotFound", FILE_START, [path, read.why], read.code === "ENOENT" ? { hint: "check the path; it is relative to the current folder" } : read.hint !== undefined ? { hint: read.hint } : {}),
        file: path,
      },
    };
  }
  {
    const buf = read.bytes;
    const bad = opts.strictUtf8 ? firstInvalidUtf8(buf) : -1;
    if (bad >= 0) {
      const lineStart = buf.lastIndexOf(0x0a, bad - 1) + 1;
      const line = buf.subarray(0, bad).reduce((n, b) => n + (b === 0x0a ? 1 : 0), 1);
      const column = buf.subarray(lineStart, bad).toString("utf8").length + 1;
      const byte = `0x${buf[bad]!.toString(16).toUpperCase().padStart(2, "0")}`;
      return {
        error: {
          ...diag("notUtf8", FILE_START, [path, `byte ${byte} at line ${line}, column ${column} does not start a UTF-8 character`], {
            hint: "nnc reads .nn files as UTF-8: convert the file (for Latin-1, `iconv -f latin1 -t utf-8`) or remove the byte; the file was not changed",
          }),
          file: path,
        },
      };
    }
    return { source: buf.toString("utf8") };
  }
}

/** The offset of the first byte that is not part of a well-formed UTF-8 character, or -1. */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    // Length and the allowed range of the second byte (no overlong forms, no surrogates, ≤ U+10FFFF).
    let n: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) n = 2;
    else if (c >= 0xe0 && c <= 0xef) {
      n = 3;
      if (c === 0xe0) lo = 0xa0;
      if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 4;
      if (c === 0xf0) lo = 0x90;
      if (c === 0xf4) hi = 0x8f;
    } else return i;
    if (i + n > b.length) return i;
    const second = b[i + 1]!;
    if (second < lo || second > hi) return i;
    for (let k = 2; k < n; k++) if ((b[i + k]! & 0xc0) !== 0x80) return i;
    i += n;
  }
  return -1;
}

/** Parse and check one file, without printing. */
export function loadFile(path: string): LoadedFile | { error: Diagnostic } {
  const read = readSource(path);
  if ("error" in read) return read;
  return loadText(path, read.source);
}

/** Parse and check the text of a file named `path`. */
export function loadText(path: string, source: string): LoadedFile {
  const r = checkSource(source);
  const diagnostics = r.diagnostics.map((d) => ({ ...d, file: path }));
  return { path, source, ast: r.ast, program: r.value, diagnostics };
}

export interface StaticCheck extends LoadedFile {
  /** The lowered forward graph, when the program checks and lowers without errors. */
  readonly graph: Graph | undefined;
}

/**
 * Every static check of a file: the front end's (NN1xxx, NN2xxx) and, when those pass, the
 * shape and limit checks of the lowering (NN3xxx), the very code `nnc compile` runs first
 * (`compileProgram` → `lower`), with the file's own batch as `compile`'s default
 * `--max-batch`. No code is generated. (`compileProgram` also refuses a `--max-batch` outside
 * 1…1,000,000, which a file's batch cannot be: the checker bounds it to 65,536.)
 */
export function staticCheck(loaded: LoadedFile): StaticCheck {
  if (loaded.program === undefined || hasErrors(loaded.diagnostics)) return { ...loaded, graph: undefined };
  const lowered = lower(loaded.program, { maxBatch: loaded.program.train.batch, dtype: "float32" });
  const diagnostics = [...loaded.diagnostics, ...lowered.diagnostics.map((d) => ({ ...d, file: loaded.path }))];
  return { ...loaded, diagnostics, graph: hasErrors(diagnostics) ? undefined : lowered.value };
}

/** The sizes a run's data must fit, from the lowered graph (as the compiled model's `meta` gives them). */
export function modelShape(program: Program, graph: Graph): ModelShape {
  const input = program.model.input;
  const output = nodeOf(graph, graph.output).shape;
  return { inputShape: input, inputSize: input.reduce((a, b) => a * b, 1), outputSize: shapeSize(output), outputShape: output.slice(1) as number[] };
}

export function renderFor(ds: readonly Diagnostic[], source: string | undefined, format: OutputFormat, stream: { isTTY?: boolean }): string {
  if (format === "json") return JSON.stringify(ds.map(toJson), null, 2) + "\n";
  const color = wantColor(stream);
  if (source === undefined) return ds.map((d) => renderPlain(d, { color })).join("");
  return renderDiagnostics(ds, source, { color });
}

/** Loads a program for a command that needs a valid one; throws a rendered `CliError` otherwise. */
export function loadProgram(path: string, format: OutputFormat = "text"): LoadedFile & { program: Program } {
  const loaded = loadFile(path);
  if ("error" in loaded) throw new CliError(renderFor([loaded.error], undefined, format, process.stderr));
  const warnings = loaded.diagnostics.filter((d) => d.severity !== "error");
  if (hasErrors(loaded.diagnostics) || loaded.program === undefined) {
    const text = renderFor(loaded.diagnostics, loaded.source, format, process.stderr);
    throw new CliError(format === "json" ? text : text + "\n" + summary(loaded.diagnostics, 1, wantColor(process.stderr)));
  }
  if (warnings.length > 0 && format === "text") process.stderr.write(renderFor(warnings, loaded.source, format, process.stderr));
  return { ...loaded, program: loaded.program };
}
