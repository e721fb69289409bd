/**
 * The problems list below the editor, as data: exact repeats dropped, and the problems of one
 * kind in one data file (a CSV gives one per row) folded into the first, with their lines.
 */
import type { Diagnostic } from "../../grammar/diagnostics.js";

/** A diagnostic and the lines of the others of its kind it stands for. */
export interface Listed {
  readonly d: Diagnostic;
  readonly more: readonly number[];
}

/**
 * The list: exact repeats dropped; problems of a data file with the same code folded into the
 * first (a CSV with a text column gives one NN4003 per row).
 */
export function listProblems(all: readonly Diagnostic[]): Listed[] {
  const out: { d: Diagnostic; more: number[] }[] = [];
  const seen = new Set<string>();
  for (const d of all) {
    const key = `${d.code}|${d.file ?? ""}|${d.message}|${d.span.line}:${d.span.column}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const kin = d.file === undefined ? undefined : out.find((o) => o.d.code === d.code && o.d.file === d.file);
    if (kin) kin.more.push(d.span.line);
    else out.push({ d, more: [] });
  }
  return out;
}
