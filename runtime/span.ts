/** Spans and diagnostics that point into a data file rather than the `.nn` source. */
import { diag, type Diagnostic, type MessageName } from "../grammar/diagnostics.js";
import type { Span } from "../grammar/span.js";

/** A span on one line of a data file (1-based line and column). */
export function lineSpan(line: number, column = 1, length = 0, offset = 0): Span {
  return { start: offset, end: offset + length, line, column, endLine: line, endColumn: column + length };
}

/** Names as a message lists them: the first eight in backticks, then how many there are in all. */
export function listNames(names: readonly string[], max = 8): string {
  const head = names.slice(0, max).map((c) => `\`${c}\``).join(", ");
  return names.length > max ? `${head}, … (${names.length} in all)` : head;
}

/** A diagnostic about a data file: the `file` field carries its path. */
export function dataDiag(
  file: string | undefined,
  name: MessageName,
  span: Span,
  args: readonly (string | number)[],
  hint?: string,
): Diagnostic {
  const d = diag(name, span, args, hint !== undefined ? { hint } : {});
  return file !== undefined ? { ...d, file } : d;
}
