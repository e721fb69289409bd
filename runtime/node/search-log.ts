/**
 * The trial log of a search (`trials.jsonl`): JSON lines, a header naming the search it
 * belongs to (its fingerprint), then one line per finished trial. Every write replaces the
 * whole file through `writeFileAtomic` (temporary, fsync, rename), so a kill at any moment —
 * even half-way through a write — leaves the log as it was before the write or after it,
 * never a torn line; resuming reads it back and the search continues with the next trial.
 * The file is small (a line per trial), so rewriting it whole costs nothing that matters.
 * A log whose last line has no newline (cut by something other than nnc) loses that trial,
 * with a warning: the trial runs again.
 */
import { readBoundedText } from "./read.js";
import { diag, type Diagnostic, type Result } from "../../grammar/diagnostics.js";
import { FILE_START } from "../../grammar/span.js";
import type { TrialRecord } from "../search.js";
import { writeFileAtomic } from "./atomic.js";

export const LOG_VERSION = 1;

export interface LogHeader {
  readonly nnc_search: number;
  readonly fingerprint: string;
  /** The `.nn` file it searched, for people reading the log. */
  readonly file: string;
}

/** The log's text: the header and one line per trial, each ending in a newline. */
export function logText(header: LogHeader, records: readonly TrialRecord[]): string {
  return [header, ...records].map((x) => JSON.stringify(x) + "\n").join("");
}

/** Replaces the log with `records`; undefined, or the diagnostic of a failed write (NN5005). */
export function writeLog(path: string, header: LogHeader, records: readonly TrialRecord[], hint?: string): Diagnostic | undefined {
  return writeFileAtomic(path, logText(header, records), hint === undefined ? {} : { hint });
}

/**
 * The trials of the log at `path` for the search `fingerprint`: [] when there is no log; an
 * error when it belongs to another search (NN5031) or a complete line is not a trial (NN5032).
 */
export function readLog(path: string, fingerprint: string): Result<TrialRecord[] | undefined> {
  const read = readBoundedText(path);
  if (!("text" in read)) {
    if (read.code === "ENOENT") return { value: [], diagnostics: [] };
    return { value: undefined, diagnostics: [{ ...diag("fileNotFound", FILE_START, [path, read.why], read.hint === undefined ? {} : { hint: read.hint }), file: path }] };
  }
  return parseLog(read.text, path, fingerprint);
}

export function parseLog(text: string, path: string, fingerprint: string): Result<TrialRecord[] | undefined> {
  const diagnostics: Diagnostic[] = [];
  const fail = (d: Diagnostic): Result<undefined> => ({ value: undefined, diagnostics: [...diagnostics, { ...d, file: path }] });
  const lines = text.split("\n");
  const last = lines.pop() ?? "";
  if (last.length > 0) diagnostics.push({ ...diag("searchLogTorn", FILE_START, [path]), file: path });
  if (lines.length === 0) return { value: [], diagnostics };
  const parsed: unknown[] = [];
  for (let i = 0; i < lines.length; i++) {
    try {
      parsed.push(JSON.parse(lines[i]!));
    } catch (e) {
      return fail(diag("searchLogDamaged", FILE_START, [path, i + 1, (e as Error).message], { hint: "move the log away to start the search again" }));
    }
  }
  const header = parsed[0] as Partial<LogHeader> | null;
  if (header === null || typeof header !== "object" || header.nnc_search !== LOG_VERSION || typeof header.fingerprint !== "string") {
    return fail(diag("searchLogDamaged", FILE_START, [path, 1, "it does not start with the header of an nnc search log"], { hint: "move the log away to start the search again" }));
  }
  if (header.fingerprint !== fingerprint) {
    return fail(diag("searchLogOther", FILE_START, [path, "the file or its search settings changed since it was written"], { hint: "search into another --out, or move the log away to start again" }));
  }
  const records: TrialRecord[] = [];
  for (let i = 1; i < parsed.length; i++) {
    const r = parsed[i] as Partial<TrialRecord> | null;
    const ok = r !== null && typeof r === "object" && typeof r.trial === "number" && typeof r.config === "number" && typeof r.rung === "number" && Array.isArray(r.values) && Array.isArray(r.curve) && (typeof r.score === "number" || r.score === null);
    if (!ok) return fail(diag("searchLogDamaged", FILE_START, [path, i + 1, "the line is not a trial"], { hint: "move the log away to start the search again" }));
    records.push({ ...(r as TrialRecord), epochs: r.epochs ?? undefined });
  }
  return { value: records, diagnostics };
}
