/**
 * The front end's contract, as one function a fuzzer can call on any text: `tokenize`,
 * `parse` and `checkSource` return (never throw), and every diagnostic they return is
 * well-formed — a code from the table, a non-empty message, a span inside the source whose
 * line and column agree with its offset. Shared by the suite (`frontend.test.ts`) and the long
 * campaign (`scripts/fuzz-campaign.ts`).
 */
import { checkSource } from "../../compiler/check.js";
import { MESSAGES, type Diagnostic } from "../../grammar/diagnostics.js";
import { parse } from "../../grammar/index.js";
import { tokenize } from "../../grammar/lexer.js";
import type { Span } from "../../grammar/span.js";

export const KNOWN_CODES: ReadonlySet<string> = new Set(Object.values(MESSAGES).map((m) => m.code));
const SEVERITIES = new Set(["error", "warning", "info"]);

/** Line starts of `source`, with the lexer's terminators: \r\n, \n, \r, U+2028, U+2029. */
export function lineStarts(source: string): number[] {
  const starts = [0];
  for (let i = 0; i < source.length; i++) {
    const c = source.charCodeAt(i);
    if (c === 0x0d) {
      if (source.charCodeAt(i + 1) === 0x0a) i++;
      starts.push(i + 1);
    } else if (c === 0x0a || c === 0x2028 || c === 0x2029) starts.push(i + 1);
  }
  return starts;
}

/** 1-based line and column (UTF-16 units) of an offset. */
export function positionAt(starts: readonly number[], offset: number): { line: number; column: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((starts[mid] as number) <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - (starts[lo] as number) + 1 };
}

/** Problems with one span, as text (empty when it is fine). */
export function spanProblems(span: Span, source: string, starts: readonly number[], what: string): string[] {
  const out: string[] = [];
  const ints = [span.start, span.end, span.line, span.column, span.endLine, span.endColumn];
  if (!ints.every((n) => Number.isInteger(n))) return [`${what}: span has a non-integer field ${JSON.stringify(span)}`];
  if (span.start < 0 || span.end < span.start || span.end > source.length) {
    out.push(`${what}: span [${span.start}, ${span.end}) is outside the source (length ${source.length})`);
    return out;
  }
  const at = positionAt(starts, span.start);
  if (at.line !== span.line || at.column !== span.column) {
    out.push(`${what}: span starts at offset ${span.start} = ${at.line}:${at.column}, but says ${span.line}:${span.column}`);
  }
  if (span.endLine < span.line || (span.endLine === span.line && span.endColumn < span.column)) {
    out.push(`${what}: span ends (${span.endLine}:${span.endColumn}) before it starts (${span.line}:${span.column})`);
  }
  return out;
}

export function diagnosticProblems(d: Diagnostic, source: string, starts: readonly number[]): string[] {
  const what = `${d.code} "${d.message}"`;
  const out: string[] = [];
  if (!KNOWN_CODES.has(d.code)) out.push(`${what}: code is not in the MESSAGES table`);
  if (!SEVERITIES.has(d.severity)) out.push(`${what}: bad severity ${String(d.severity)}`);
  if (typeof d.message !== "string" || d.message.trim() === "") out.push(`${what}: empty message`);
  if (/\{\d\}/.test(d.message)) out.push(`${what}: unfilled placeholder in the message`);
  out.push(...spanProblems(d.span, source, starts, what));
  for (const r of d.related ?? []) out.push(...spanProblems(r.span, source, starts, `${what} (related "${r.message}")`));
  return out;
}

export interface FrontEndOutcome {
  /** The checker accepted the file. */
  readonly accepted: boolean;
  readonly diagnostics: number;
  /** Contract violations; a thrown exception is reported here too, with its stack. */
  readonly problems: readonly string[];
}

/** Runs every front-end stage on `source` and checks the contract. Never throws. */
export function runFrontEnd(source: string): FrontEndOutcome {
  const problems: string[] = [];
  let accepted = false;
  let count = 0;
  const starts = lineStarts(source);
  const stage = <T>(name: string, f: () => T): T | undefined => {
    try {
      return f();
    } catch (e) {
      problems.push(`${name} threw: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      return undefined;
    }
  };
  const lexed = stage("tokenize", () => tokenize(source));
  if (lexed !== undefined) {
    for (const d of lexed.diagnostics) problems.push(...diagnosticProblems(d, source, starts).map((p) => `tokenize: ${p}`));
    for (const t of lexed.tokens) {
      if (!(t.startOffset >= 0 && (t.endOffset ?? t.startOffset) < source.length)) {
        problems.push(`tokenize: token ${JSON.stringify(t.image)} at ${t.startOffset} is outside the source`);
        break;
      }
    }
  }
  const parsed = stage("parse", () => parse(source));
  if (parsed !== undefined) {
    for (const d of parsed.diagnostics) problems.push(...diagnosticProblems(d, source, starts).map((p) => `parse: ${p}`));
  }
  const checked = stage("checkSource", () => checkSource(source));
  if (checked !== undefined) {
    count = checked.diagnostics.length;
    for (const d of checked.diagnostics) problems.push(...diagnosticProblems(d, source, starts).map((p) => `checkSource: ${p}`));
    const errors = checked.diagnostics.filter((d) => d.severity === "error").length;
    accepted = checked.value !== undefined;
    if (accepted && errors > 0) problems.push(`checkSource: returned a program together with ${errors} error(s)`);
    if (!accepted && errors === 0) problems.push("checkSource: returned no program and no error");
  }
  return { accepted, diagnostics: count, problems };
}

/** Throws with the input and every contract violation, so a failure is a ready repro. */
export function expectContract(source: string): FrontEndOutcome {
  const r = runFrontEnd(source);
  if (r.problems.length > 0) {
    const shown = source.length > 600 ? source.slice(0, 600) + `… (${source.length} characters)` : source;
    throw new Error(`front-end contract broken for ${JSON.stringify(shown)}:\n${r.problems.join("\n")}`);
  }
  return r;
}
