/**
 * CSV text → records of cells, given whole or in pieces of any size (a file read as a stream
 * need never be one string). Double quotes are honoured (`""` is a quote, a quoted cell may
 * hold delimiters and line breaks); `\n`, `\r\n` and `\r` end a line; a leading BOM is skipped;
 * blank lines are no records. Every record carries its line and its offset in the whole text,
 * every cell its column, so messages point at the cell however the text was cut.
 */

export interface Cell {
  readonly text: string;
  /** 1-based column of the cell's first character. */
  readonly column: number;
}

export interface CsvRecord {
  /** 1-based line where the record starts. */
  readonly line: number;
  /** Offset of the record's first character in the whole text. */
  readonly offset: number;
  readonly cells: readonly Cell[];
}

/** Where a quote opened: its line, column and offset, and the line of its record. */
export interface QuoteAt {
  readonly line: number;
  readonly column: number;
  readonly offset: number;
  readonly record: number;
}

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;
/** What `trim` removes. */
const SPACE = /\s/;

/**
 * A state machine over the pieces of one text: `push` each piece, then `end`. A character that
 * needs the next one to be understood (a quote inside a quoted cell, a CR) is held back until
 * the next piece arrives, so a piece may end anywhere.
 */
export class CsvSplitter {
  private readonly delim: number;
  /** Where the pushed pieces stand in the whole text: characters before the current piece. */
  private base = 0;
  private line = 1;
  /** Whole-text offset of the current line's first character (for cell columns). */
  private lineStart = 0;
  private held = "";
  private first = true;
  private stopped = false;
  // The record being read.
  private inRecord = false;
  private recLine = 1;
  private recOffset = 0;
  private cells: Cell[] = [];
  /**
   * The current cell's text so far, in parts joined once at its end (a long quoted text with
   * many `""` built by `+=` made a rope that cost 14× the time for 4× the text, measured).
   */
  private readonly parts: string[] = [];
  private cellCol = 1;
  private quoted = false;
  /** Where the last quoted cell opened. */
  private opened: QuoteAt | undefined;
  /** After `end`: the quote that was never closed (it took the rest of the text into its cell). */
  unclosed: QuoteAt | undefined;
  /** Whether the cell so far trims to nothing (a quote then opens a quoted cell). */
  private blank = true;

  /** `onRecord` returns false to stop reading (too many errors, say); then `push` returns false. */
  constructor(
    delimiter: string,
    private readonly onRecord: (r: CsvRecord) => boolean,
  ) {
    this.delim = delimiter.charCodeAt(0);
  }

  /** Reads one piece; false once reading has stopped. */
  push(piece: string): boolean {
    if (this.stopped) return false;
    // `base` already stands at the held character, the start of this text.
    const text = this.held + piece;
    this.held = "";
    let i = 0;
    if (this.first && text.length > 0) {
      this.first = false;
      if (text.charCodeAt(0) === 0xfeff) i = 1;
    }
    const n = text.length;
    // Characters of the current cell not yet in `this.parts` start at `seg`.
    let seg = -1;
    const flush = (to: number): void => {
      if (seg >= 0 && to > seg) this.parts.push(text.slice(seg, to));
      seg = -1;
    };
    while (i < n) {
      if (!this.inRecord) this.begin(i);
      const c = text.charCodeAt(i);
      if (this.quoted) {
        if (c === QUOTE) {
          if (i + 1 >= n) {
            flush(i);
            this.hold(text, i);
            return true;
          }
          flush(i);
          if (text.charCodeAt(i + 1) === QUOTE) {
            this.parts.push('"');
            i += 2;
          } else {
            // Closed; white space around an empty quoted cell may still open another quote.
            this.quoted = false;
            this.blank = this.parts.join("").trim() === "";
            i++;
          }
          continue;
        }
        if (seg < 0) seg = i;
        if (c === LF) {
          this.line++;
          this.lineStart = this.base + i + 1;
        }
        i++;
        continue;
      }
      if (c === QUOTE && this.blank) {
        seg = -1;
        this.parts.length = 0;
        this.quoted = true;
        this.opened = { line: this.line, column: this.base + i - this.lineStart + 1, offset: this.base + i, record: this.recLine };
        this.blank = false;
        i++;
        continue;
      }
      if (c === this.delim) {
        flush(i);
        this.cells.push({ text: this.take(), column: this.cellCol });
        this.blank = true;
        i++;
        this.cellCol = this.base + i - this.lineStart + 1;
        continue;
      }
      if (c === LF || c === CR) {
        if (c === CR && i + 1 >= n) {
          flush(i);
          this.hold(text, i);
          return true;
        }
        flush(i);
        i += c === CR && text.charCodeAt(i + 1) === LF ? 2 : 1;
        this.line++;
        this.lineStart = this.base + i;
        if (!this.finish()) return false;
        continue;
      }
      if (seg < 0) seg = i;
      if (this.blank && !SPACE.test(text[i]!)) this.blank = false;
      i++;
    }
    flush(n);
    this.base += n;
    return true;
  }

  /** The text has ended: the last record, if it had no line break. */
  end(): void {
    if (this.stopped) return;
    const rest = this.held;
    this.held = "";
    // A lone CR, or a quote closing a quoted cell at the very end.
    if (rest !== "") this.pushLast(rest);
    if (this.inRecord && this.quoted) this.unclosed = this.opened;
    if (this.inRecord) this.finish();
  }

  private pushLast(rest: string): void {
    // Nothing follows, so the held character is understood alone.
    if (rest === "\r") {
      if (!this.inRecord) this.begin(0);
      this.line++;
      this.finish();
      return;
    }
    // A quote at the end of the text closes its quoted cell.
    this.quoted = false;
  }

  private hold(text: string, i: number): void {
    this.held = text.slice(i);
    this.base += i;
  }

  private begin(i: number): void {
    this.inRecord = true;
    this.recLine = this.line;
    this.recOffset = this.base + i;
    this.cells = [];
    this.parts.length = 0;
    this.cellCol = 1;
    this.quoted = false;
    this.blank = true;
  }

  /** The current cell's text; the parts are emptied for the next cell. */
  private take(): string {
    const p = this.parts;
    const text = p.length === 0 ? "" : p.length === 1 ? p[0]! : p.join("");
    p.length = 0;
    return text;
  }

  private finish(): boolean {
    this.cells.push({ text: this.take(), column: this.cellCol });
    this.inRecord = false;
    const cells = this.cells;
    if (cells.length === 1 && cells[0]!.text.trim() === "") return true;
    if (this.onRecord({ line: this.recLine, offset: this.recOffset, cells })) return true;
    this.stopped = true;
    return false;
  }
}

/**
 * A copy of `t` that does not keep alive the piece it was cut from. V8's slices of 13 or more
 * characters point into their parent string, so one long category name kept from each 4 MiB
 * piece kept every piece (the whole file) in memory; a short string is already a copy.
 */
export function detached(t: string): string {
  return t.length < 13 ? t : (" " + t).slice(1);
}

/** All the records of a whole text. */
export function splitCsv(text: string, delimiter: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  const s = new CsvSplitter(delimiter, (r) => {
    records.push(r);
    return true;
  });
  s.push(text);
  s.end();
  return records;
}
