/** A range of source text. Lines and columns are 1-based; offsets are 0-based, end exclusive. */
export interface Span {
  readonly start: number;
  readonly end: number;
  readonly line: number;
  readonly column: number;
  readonly endLine: number;
  readonly endColumn: number;
}

/** The span that covers both `a` and `b` (in source order). */
export function joinSpans(a: Span, b: Span): Span {
  const first = a.start <= b.start ? a : b;
  const last = a.end >= b.end ? a : b;
  return {
    start: first.start,
    line: first.line,
    column: first.column,
    end: last.end,
    endLine: last.endLine,
    endColumn: last.endColumn,
  };
}

/** A zero-width span at the very start of a file, for problems that belong to no text. */
export const FILE_START: Span = { start: 0, end: 0, line: 1, column: 1, endLine: 1, endColumn: 1 };
