/**
 * Diagnostics rendered at the edge: a terminal code frame (colour only when asked for) and
 * JSON. The same data drives the playground's editor markers. Every text a diagnostic carries
 * is made inert (`runtime/inert.ts`) here, the one place diagnostics become terminal text; JSON
 * escapes control characters by itself.
 */
import type { Diagnostic } from "../grammar/diagnostics.js";
import type { Span } from "../grammar/span.js";
import { inert } from "../runtime/inert.js";

export interface RenderOptions {
  readonly color: boolean;
}

const ansi = (code: string) => (s: string, on: boolean) => (on ? `\x1b[${code}m${s}\x1b[0m` : s);
const red = ansi("31");
const yellow = ansi("33");
const cyan = ansi("36");
const bold = ansi("1");
const dim = ansi("2");

/** Whether to colour output written to `stream`: a TTY, unless NO_COLOR; FORCE_COLOR forces it. */
export function wantColor(stream: { isTTY?: boolean }): boolean {
  if (process.env["NO_COLOR"] !== undefined && process.env["NO_COLOR"] !== "") return false;
  if (process.env["FORCE_COLOR"] !== undefined && process.env["FORCE_COLOR"] !== "0") return true;
  return stream.isTTY === true;
}

/** Control characters and line separators shown safely in a terminal (one column each; a tab two). */
function visible(line: string): string {
  return inert(line, { tab: "  " });
}

/** Text from a file (a message, a hint, a path) as a terminal will show it: inert, line feeds kept. */
function safe(text: string): string {
  return inert(text, { keepNewlines: true });
}

/** Code units of a line shown in a frame; a longer line is shown as a window around the mark. */
const FRAME_WIDTH = 200;

/**
 * The source's lines, split once per source: rendering many diagnostics of one source (the
 * same string) reuses them, so rendering n diagnostics is linear, not n × the source.
 */
let lastSource: string | undefined;
let lastLines: readonly string[] = [];
function linesOf(source: string): readonly string[] {
  if (source !== lastSource) {
    lastLines = source.split(/\r\n?|\n|\u2028|\u2029/);
    lastSource = source;
  }
  return lastLines;
}

function frame(lines: readonly string[], span: Span, color: boolean, mark: (s: string, on: boolean) => string): string {
  const first = Math.max(1, span.line);
  const last = Math.min(lines.length, Math.max(first, span.endLine), first + 2);
  const width = String(last).length;
  const out: string[] = [];
  for (let ln = first; ln <= last; ln++) {
    const raw = lines[ln - 1] ?? "";
    const from = ln === span.line ? span.column : 1;
    const to = ln === span.endLine ? span.endColumn : raw.length + 1;
    // A window of FRAME_WIDTH code units; it starts at the line's start unless the mark is far right.
    const start = raw.length <= FRAME_WIDTH || from - 1 < FRAME_WIDTH - 40 ? 0 : Math.max(0, Math.min(from - 1 - 40, raw.length - FRAME_WIDTH));
    const body = raw.slice(start, start + FRAME_WIDTH);
    const lead = start > 0 ? "…" : "";
    const shown = lead + body + (start + body.length < raw.length ? "…" : "");
    out.push(`${dim(`${String(ln).padStart(width)} │`, color)} ${visible(shown)}`);
    const startCol = Math.max(1, Math.min(lead.length + from - start, lead.length + body.length + 1));
    const len = Math.max(1, Math.min(to - start, body.length + 1) + lead.length - startCol);
    const pad = visible(shown.slice(0, startCol - 1)).replace(/[^\s]/g, " ");
    out.push(`${dim(`${" ".repeat(width)} │`, color)} ${pad}${mark("~".repeat(len), color)}`);
  }
  return out.join("\n");
}

function location(file: string | undefined, span: Span): string {
  return `${file === undefined ? "<input>" : visible(file)}:${span.line}:${span.column}`;
}

/**
 * `file:line:col - error NN2004: message`, the code frame, and the hint. Every text of the
 * diagnostic (message, hint, notes, file name) passes through `inert` here: whatever a file put
 * in them cannot act on the terminal.
 */
export function renderDiagnostic(d: Diagnostic, source: string, opts: RenderOptions): string {
  const color = opts.color;
  const lines = linesOf(source);
  const paint = d.severity === "error" ? red : d.severity === "warning" ? yellow : cyan;
  const head = `${bold(location(d.file, d.span), color)} - ${paint(d.severity, color)} ${dim(safe(d.code), color)}: ${safe(d.message)}`;
  const parts = [head, "", frame(lines, d.span, color, paint)];
  if (d.hint !== undefined) parts.push(`${cyan("hint", color)}: ${safe(d.hint)}`);
  for (const r of d.related ?? []) {
    parts.push(`${dim("note", color)}: ${safe(r.message)} at ${location(d.file, r.span)}`);
    parts.push(frame(lines, r.span, color, dim));
  }
  return parts.join("\n") + "\n";
}

export function renderDiagnostics(ds: readonly Diagnostic[], source: string, opts: RenderOptions): string {
  return ds.map((d) => renderDiagnostic(d, source, opts)).join("\n");
}

/** One line per problem, for data and run errors that have no source text to frame. */
export function renderPlain(d: Diagnostic, opts: RenderOptions): string {
  const paint = d.severity === "error" ? red : d.severity === "warning" ? yellow : cyan;
  const where = d.file === undefined ? "" : `${bold(location(d.file, d.span), opts.color)} - `;
  const hint = d.hint === undefined ? "" : `\n${cyan("hint", opts.color)}: ${safe(d.hint)}`;
  return `${where}${paint(d.severity, opts.color)} ${dim(safe(d.code), opts.color)}: ${safe(d.message)}${hint}\n`;
}

export interface JsonDiagnostic {
  readonly file: string | undefined;
  readonly code: string;
  readonly severity: string;
  readonly message: string;
  readonly line: number;
  readonly column: number;
  readonly endLine: number;
  readonly endColumn: number;
  readonly hint?: string;
  readonly related?: readonly { message: string; line: number; column: number }[];
}

export function toJson(d: Diagnostic): JsonDiagnostic {
  return {
    file: d.file,
    code: d.code,
    severity: d.severity,
    message: d.message,
    line: d.span.line,
    column: d.span.column,
    endLine: d.span.endLine,
    endColumn: d.span.endColumn,
    ...(d.hint === undefined ? {} : { hint: d.hint }),
    ...(d.related === undefined ? {} : { related: d.related.map((r) => ({ message: r.message, line: r.span.line, column: r.span.column })) }),
  };
}

export function summary(ds: readonly Diagnostic[], files: number, color: boolean): string {
  const errors = ds.filter((d) => d.severity === "error").length;
  const warnings = ds.filter((d) => d.severity === "warning").length;
  if (errors === 0 && warnings === 0) return "";
  const parts = [];
  if (errors > 0) parts.push(red(`${errors} error${errors === 1 ? "" : "s"}`, color));
  if (warnings > 0) parts.push(yellow(`${warnings} warning${warnings === 1 ? "" : "s"}`, color));
  return `Found ${parts.join(" and ")} in ${files} file${files === 1 ? "" : "s"}.\n`;
}
