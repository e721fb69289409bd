/**
 * CSV text → Dataset. Browser-safe: takes the file's text, so the playground can train on a
 * dropped file. Every problem names the line and column of the cell.
 */
import type { CsvSource } from "../compiler/program.js";
import type { Diagnostic, Result } from "../grammar/diagnostics.js";
import { fitsFloat32, type Dataset } from "./dataset.js";
import { CsvSplitter, detached, type Cell, type CsvRecord } from "./csv-split.js";
import { dataDiag, lineSpan } from "./span.js";
import type { Span } from "../grammar/span.js";

/** What one file teaches the next: class names, categories and fill values, fitted on the train file. */
export interface CsvSchema {
  /** Cells per row of the training file. */
  readonly width: number;
  readonly featureColumns: readonly string[];
  readonly featureIndices: readonly number[];
  readonly labelColumn: string;
  readonly labelIndex: number;
  readonly classes: readonly string[] | undefined;
  /** Categories of each categorical feature column, by column name. */
  readonly categories: Readonly<Record<string, readonly string[]>>;
  /** Column means used by `missing: mean`, by column name. */
  readonly means: Readonly<Record<string, number>>;
  /** The text column (`csv(…, text: review)`), read as raw text for the tokenizer. */
  readonly textColumn?: string;
  readonly textIndex?: number;
}

export interface CsvOptions {
  /** Where the labels go: class indices ("class") or numbers ("value"). */
  readonly labels: "class" | "value";
  /** The schema fitted on the training file; omit when parsing the training file itself. */
  readonly schema?: CsvSchema;
  /** Accept a file without the label column (prediction input). */
  readonly labelOptional?: boolean;
  /** A file with no label column at all (the side columns of an IDX source). */
  readonly noLabel?: boolean;
  /** The path shown in messages. */
  readonly file?: string;
}

export interface CsvResult {
  readonly dataset: Dataset | undefined;
  readonly schema: CsvSchema | undefined;
}

const MAX_ERRORS = 10;

/**
 * A record keyed by column names, safe for any name: no prototype, so `__proto__`,
 * `constructor` or `toString` are ordinary keys (JSON.stringify writes it like any object).
 */
function table<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** `rec[key]` when it is the record's own entry (a schema read from JSON has a prototype). */
function own<T>(rec: Readonly<Record<string, T>> | undefined, key: string): T | undefined {
  return rec !== undefined && Object.prototype.hasOwnProperty.call(rec, key) ? rec[key] : undefined;
}

/** Cells that mean "no value", compared lower-cased: pandas' default NA strings, and `?` (UCI's). */
const MISSING = new Set(["", "na", "n/a", "nan", "-nan", "null", "none", "<na>", "#n/a", "#n/a n/a", "#na", "-1.#ind", "-1.#qnan", "1.#ind", "1.#qnan", "?"]);

/** A typed array that grows by doubling: the rows of a file of unknown length, without a JS array per row. */
class Grow<A extends Float32Array | Float64Array | Int32Array> {
  length = 0;
  constructor(
    private data: A,
    private readonly make: (n: number) => A,
  ) {}
  push(v: number): void {
    if (this.length === this.data.length) {
      const bigger = this.make(Math.max(16, this.data.length * 2));
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = v;
  }
  at(i: number): number {
    return this.data[i]!;
  }
  /** The pushed values (a view of the storage). */
  done(): A {
    return this.data.subarray(0, this.length) as A;
  }
}

/** The columns of a file, found from its first record (and the training file's schema). */
interface Columns {
  readonly names: readonly string[];
  readonly width: number;
  readonly label: number | undefined;
  readonly text: number | undefined;
  /** The feature columns in order, each with the name its categories and mean are kept under. */
  readonly features: readonly number[];
  readonly keys: readonly string[];
  readonly categorical: readonly boolean[];
}

/**
 * CSV text → Dataset, in one pass over records that may arrive in pieces (`push` each piece of
 * the text, then `end`), so a file of any size is read as a stream: a row is kept as its numbers
 * (a category as its index, a missing cell as NaN), never as strings. Categories, means and class
 * names are fitted as the rows go by; the arrays are filled at the end.
 */
export class CsvParser {
  private readonly diagnostics: Diagnostic[] = [];
  private readonly splitter: CsvSplitter;
  private readonly file: string;
  private cols: Columns | undefined;
  private failed = false;
  private records = 0;
  // What the rows teach: categories in order of appearance, sums for means, label texts.
  private cats: Map<string, number>[] = [];
  private catLists: string[][] = [];
  private sums: { sum: number; count: number }[] = [];
  private readonly labelIds = new Map<string, number>();
  private readonly labelTexts: string[] = [];
  // The kept rows.
  private readonly values = new Grow(new Float32Array(1024), (n) => new Float32Array(n));
  private readonly labels = new Grow(new Float64Array(64), (n) => new Float64Array(n));
  private readonly origin = new Grow(new Int32Array(64), (n) => new Int32Array(n));
  private readonly texts: string[] = [];
  private row = new Float32Array(0);

  constructor(
    private readonly src: CsvSource,
    private readonly opts: CsvOptions,
  ) {
    this.file = opts.file ?? src.path;
    this.splitter = new CsvSplitter(src.delimiter, (r) => this.record(r));
  }

  /** Reads one piece of the text; false once reading has stopped (the columns are wrong, or too many errors). */
  push(text: string): boolean {
    return this.splitter.push(text);
  }

  end(): Result<CsvResult> {
    this.splitter.end();
    const open = this.splitter.unclosed;
    if (open !== undefined) {
      // The rest of the file went into one cell: its record's errors are the quote's, not their own.
      const before = this.diagnostics.filter((d) => d.span.line < open.record);
      this.diagnostics.length = 0;
      this.diagnostics.push(...before, dataDiag(this.file, "csvUnclosedQuote", lineSpan(open.line, open.column, 1, open.offset), [], 'close it; a quote inside a quoted cell is written twice ("")'));
    }
    const diagnostics = this.diagnostics;
    const fail = (): Result<CsvResult> => ({ value: { dataset: undefined, schema: undefined }, diagnostics });
    if (this.failed || diagnostics.length > 0) return fail();
    if (this.cols === undefined || this.records === 0) {
      diagnostics.push(dataDiag(this.file, "emptyData", lineSpan(1), [], "the file has no data rows"));
      return fail();
    }
    if (this.origin.length === 0) {
      diagnostics.push(dataDiag(this.file, "emptyData", lineSpan(1), [], "every row was dropped for a missing value"));
      return fail();
    }
    return { value: this.assemble(this.cols), diagnostics };
  }

  private record(r: CsvRecord): boolean {
    if (this.cols === undefined) {
      this.cols = this.columns(r);
      if (this.cols === undefined) {
        this.failed = true;
        return false;
      }
      if (this.src.header) return true;
    }
    this.records++;
    this.read(r, this.cols);
    return this.diagnostics.length < MAX_ERRORS;
  }

  /** The columns from the first record; undefined (with diagnostics) when they cannot be found. */
  private columns(first: CsvRecord): Columns | undefined {
    const { src, opts, file, diagnostics } = this;
    const width = first.cells.length;
    const names = src.header ? first.cells.map((c) => detached(c.text.trim())) : first.cells.map((_, i) => `column ${i}`);
    const resolve = (ref: string | number, what: string): number | undefined => {
      if (typeof ref === "number") {
        if (Number.isInteger(ref) && ref >= 0 && ref < width) return ref;
      } else {
        const k = names.indexOf(ref);
        if (k >= 0) return k;
      }
      diagnostics.push(dataDiag(file, "csvNoColumn", lineSpan(1), [String(ref)], `${what}; the columns are: ${shownColumns(names)}`));
      return undefined;
    };

    // Columns are found by name (a later file's by the training file's names): a name given twice
    // would make training read one column and prediction the other.
    if (src.header) {
      const seen = new Map<string, number>();
      for (let k = 0; k < names.length; k++) {
        const before = seen.get(names[k]!);
        if (before === undefined) {
          seen.set(names[k]!, k);
          continue;
        }
        const cell = first.cells[k]!;
        diagnostics.push(
          dataDiag(file, "csvDuplicateColumn", lineSpan(first.line, cell.column, Math.max(1, cell.text.length), first.offset), [names[k]!, before + 1, k + 1],
            "give every column its own name in the header: nnc finds columns by name"),
        );
        return undefined;
      }
    }

    let label: number | undefined;
    let text: number | undefined;
    let features: number[] = [];
    const schema0 = opts.schema;
    if (schema0) {
      // A later file (test, validation, prediction input): find the training file's columns.
      const byName = src.header;
      const find = (name: string, index: number): number | undefined =>
        byName ? (names.indexOf(name) >= 0 ? names.indexOf(name) : undefined) : index >= 0 && index < width ? index : undefined;
      const noLabel = opts.noLabel === true || (!byName && opts.labelOptional === true && width === schema0.featureColumns.length);
      label = noLabel ? undefined : find(schema0.labelColumn, schema0.labelIndex);
      if (schema0.textColumn !== undefined) {
        text = find(schema0.textColumn, schema0.textIndex ?? -1);
        if (text === undefined) resolve(schema0.textColumn, "the text column of the training data");
      }
      if (label === undefined && !opts.labelOptional) resolve(schema0.labelColumn, "the label column");
      const absent: string[] = [];
      schema0.featureColumns.forEach((name, j) => {
        const k = noLabel ? j : find(name, schema0.featureIndices[j]!);
        if (k === undefined) absent.push(name);
        else features.push(k);
      });
      if (absent.length > 0) {
        // One message for all the missing columns; a first row of numbers is a missing header.
        const numbers = names.every((c) => parseNumber(c) !== undefined);
        // Inside the message's quotes: `a`, `b`, `c`.
        const list = absent.slice(0, 8).join("`, `") + (absent.length > 8 ? `\` … (${absent.length} in all)\`` : "");
        diagnostics.push(
          numbers
            ? dataDiag(file, "csvNoHeader", lineSpan(1), [absent.length], `add the training data's header as the first line: ${schema0.featureColumns.slice(0, 8).join(",")}${schema0.featureColumns.length > 8 ? ",…" : ""}`)
            : dataDiag(file, "csvNoColumn", lineSpan(1), [list], `the training data's feature columns; this file's columns are: ${shownColumns(names)}`),
        );
      }
    } else {
      label = opts.noLabel === true ? undefined : src.label === undefined ? width - 1 : resolve(src.label, "the label column");
      if (src.text !== undefined) text = resolve(src.text, "the text column");
      if (src.text !== undefined && src.features === undefined) {
        // A text model reads its text column only: the tokenizer turns it into the features.
      } else if (src.features !== undefined) {
        for (const f of src.features) {
          const k = resolve(f, "a feature column");
          if (k !== undefined) features.push(k);
        }
      } else features = names.map((_, i) => i).filter((i) => i !== label);
    }
    // Categories and means are keyed by the training file's column names.
    const keys = features.map((k, j) => (schema0 ? schema0.featureColumns[j]! : names[k]!));
    let categorical: boolean[];
    if (schema0) categorical = keys.map((key) => own(schema0.categories, key) !== undefined);
    else {
      const marked = new Set<number>();
      for (const c of src.categorical) {
        const k = resolve(c, "a categorical column");
        if (k !== undefined) marked.add(k);
      }
      categorical = features.map((k) => marked.has(k));
    }
    if (diagnostics.length > 0) return undefined;
    this.row = new Float32Array(features.length);
    this.sums = features.map(() => ({ sum: 0, count: 0 }));
    this.catLists = keys.map((key, j) => (categorical[j] ? [...(own(schema0?.categories, key) ?? [])] : []));
    this.cats = this.catLists.map((list) => new Map(list.map((c, i) => [c, i])));
    return { names, width, label, text, features, keys, categorical };
  }

  /** One body record: checked cell by cell, kept as numbers unless a missing cell drops it. */
  private read(r: CsvRecord, cols: Columns): void {
    const { src, opts, file, diagnostics, row } = this;
    const schema0 = opts.schema;
    const { names } = cols;
    if (r.cells.length !== cols.width) {
      diagnostics.push(dataDiag(file, "csvColumnCount", lineSpan(r.line, 1, 0, r.offset), [r.cells.length, cols.width], checkDelimiterHint(src.delimiter)));
      return;
    }
    const at = (cell: Cell, t: string): Span => lineSpan(r.line, cell.column, t.length, r.offset);
    let drop = false;
    for (let j = 0; j < cols.features.length; j++) {
      const k = cols.features[j]!;
      const cell = r.cells[k]!;
      const t = cell.text.trim();
      row[j] = NaN;
      if (MISSING.has(t.toLowerCase())) {
        if (src.missing === "error") {
          diagnostics.push(dataDiag(file, "csvMissingValue", at(cell, t), [names[k]!, shownMissing(t)], "fill it in, or declare `missing: drop` (or `mean`, `zero`) in the csv source"));
        } else if (src.missing === "drop") drop = true;
        continue;
      }
      if (cols.categorical[j]) {
        const seen = this.cats[j]!;
        let c = seen.get(t);
        if (c === undefined && schema0) {
          const cats = this.catLists[j]!;
          diagnostics.push(dataDiag(file, "unknownCategory", at(cell, t), [cols.keys[j]!, t], `the training data's categories of \`${cols.keys[j]}\` are: ${cats.join(", ")}`));
          continue;
        }
        if (c === undefined) {
          const kept = detached(t);
          c = this.catLists[j]!.push(kept) - 1;
          seen.set(kept, c);
        }
        row[j] = c;
        continue;
      }
      const v = parseNumber(t);
      if (v === undefined) {
        diagnostics.push(dataDiag(file, "csvNotNumeric", at(cell, t), [names[k]!, t], `declare the column categorical (categorical: ["${names[k]}"]) or fix the cell`));
      } else if (!fitsFloat32(v)) {
        diagnostics.push(dataDiag(file, "notFloat32", at(cell, t), [`column \`${names[k]}\``, t], "rescale the column (another unit, or its logarithm) or fix the cell"));
      } else {
        const s = this.sums[j]!;
        s.sum += v;
        s.count++;
        row[j] = v;
      }
    }
    if (cols.text !== undefined && r.cells[cols.text]!.text.trim() === "") {
      const cell = r.cells[cols.text]!;
      if (src.missing === "drop") drop = true;
      else if (src.missing === "error") {
        diagnostics.push(dataDiag(file, "csvMissingValue", at(cell, ""), [names[cols.text]!, "an empty cell"], "fill it in, or declare `missing: drop` in the csv source (an empty text is otherwise all padding)"));
      }
    }
    let y = 0;
    if (cols.label !== undefined) {
      const cell = r.cells[cols.label]!;
      const t = cell.text.trim();
      const name = names[cols.label]!;
      if (MISSING.has(t.toLowerCase())) {
        if (src.missing === "drop") drop = true;
        else diagnostics.push(dataDiag(file, "csvMissingValue", at(cell, t), [name, shownMissing(t)], "every row needs a label"));
      } else if (opts.labels === "value") {
        const v = parseNumber(t);
        if (v === undefined) diagnostics.push(dataDiag(file, "csvNotNumeric", at(cell, t), [name, t], "the loss is a regression loss, so labels must be numbers"));
        else if (!fitsFloat32(v)) diagnostics.push(dataDiag(file, "notFloat32", at(cell, t), [`column \`${name}\``, t], "rescale the targets (another unit, or their logarithm) or fix the cell"));
        else y = v;
      } else if (schema0?.classes) {
        y = schema0.classes.indexOf(t);
        if (y < 0) diagnostics.push(dataDiag(file, "labelOutOfRange", at(cell, t), [`\`${t}\``, schema0.classes.length], `the training data's classes are: ${schema0.classes.join(", ")}`));
      } else if (schema0) {
        const v = parseNumber(t);
        if (v === undefined || !Number.isInteger(v)) diagnostics.push(dataDiag(file, "csvNotNumeric", at(cell, t), [name, t], "the training data's labels are class numbers 0, 1, …"));
        else y = v;
      } else {
        // The training file: class names are fitted at the end, so keep the text's index.
        let id = this.labelIds.get(t);
        if (id === undefined) {
          const kept = detached(t);
          id = this.labelTexts.push(kept) - 1;
          this.labelIds.set(kept, id);
        }
        y = id;
      }
    }
    if (drop || diagnostics.length > 0) return;
    for (let j = 0; j < row.length; j++) this.values.push(row[j]!);
    this.labels.push(y);
    this.origin.push(r.line);
    if (cols.text !== undefined) this.texts.push(detached(r.cells[cols.text]!.text));
  }

  /** The schema and the arrays, once every row has been read. */
  private assemble(cols: Columns): CsvResult {
    const { src, opts } = this;
    const schema0 = opts.schema;
    const fitting = schema0 === undefined && cols.label !== undefined && opts.labels === "class";
    // The training file's class names: its label texts, sorted, unless they are all whole numbers.
    let classes: string[] | undefined;
    let labelOf: ((id: number) => number) | undefined;
    if (schema0) classes = schema0.classes ? [...schema0.classes] : undefined;
    else if (fitting) {
      const texts = this.labelTexts;
      if (texts.every((t) => /^[+-]?\d+$/.test(t))) labelOf = (id) => Number(texts[id]!);
      else {
        classes = [...texts].sort();
        const index = new Map(classes.map((c, i) => [c, i]));
        labelOf = (id) => index.get(texts[id]!)!;
      }
    }
    const nfeat = cols.features.length;
    // Categories sorted (the training file's) and each row's index mapped to its place.
    const schemaCats = table<readonly string[]>();
    const remap: (Int32Array | undefined)[] = [];
    for (let j = 0; j < nfeat; j++) {
      if (!cols.categorical[j]) {
        remap.push(undefined);
        continue;
      }
      const seen = this.catLists[j]!;
      const given = own(schema0?.categories, cols.keys[j]!);
      const sorted = given ?? [...seen].sort();
      schemaCats[cols.keys[j]!] = sorted;
      const place = new Map(sorted.map((c, i) => [c, i]));
      remap.push(Int32Array.from(seen, (c) => place.get(c)!));
    }
    const means = table<number>();
    for (let j = 0; j < nfeat; j++) {
      if (cols.categorical[j]) continue;
      const s = this.sums[j]!;
      means[cols.keys[j]!] = own(schema0?.means, cols.keys[j]!) ?? (s.count > 0 ? s.sum / s.count : 0);
    }
    const names = cols.names;
    const schema: CsvSchema = schema0
      ? { ...schema0, classes }
      : {
          width: cols.width,
          featureColumns: cols.features.map((k) => names[k]!),
          featureIndices: cols.features,
          labelColumn: cols.label !== undefined ? names[cols.label]! : "",
          labelIndex: cols.label ?? -1,
          classes,
          categories: schemaCats,
          means,
          ...(cols.text !== undefined ? { textColumn: names[cols.text]!, textIndex: cols.text } : {}),
        };

    const featureNames: string[] = [];
    const fill: number[] = [];
    for (let j = 0; j < nfeat; j++) {
      const key = cols.keys[j]!;
      if (cols.categorical[j]) for (const c of schemaCats[key]!) featureNames.push(`${key}=${c}`);
      else featureNames.push(key);
      fill.push(src.missing === "mean" && !cols.categorical[j] ? means[key]! : 0);
    }
    const nf = featureNames.length;
    const n = this.origin.length;
    const x = new Float32Array(n * nf);
    const v = this.values;
    for (let i = 0; i < n; i++) {
      let o = i * nf;
      for (let j = 0; j < nfeat; j++) {
        const c = v.at(i * nfeat + j);
        const map = remap[j];
        if (map !== undefined) {
          if (c === c) x[o + map[c]!] = 1;
          o += schemaCats[cols.keys[j]!]!.length;
        } else x[o++] = c === c ? c : fill[j]!;
      }
    }
    const y = new Float32Array(cols.label !== undefined ? n : 0);
    if (cols.label !== undefined) for (let i = 0; i < n; i++) y[i] = labelOf ? labelOf(this.labels.at(i)) : this.labels.at(i);
    const dataset: Dataset = {
      n,
      features: nf,
      x,
      labelWidth: cols.label !== undefined ? 1 : 0,
      y,
      ...(classes ? { classes } : {}),
      featureNames,
      file: this.file,
      origin: this.origin.done(),
      originKind: "line",
      ...(cols.text !== undefined ? { texts: this.texts } : {}),
    };
    return { dataset, schema };
  }
}

/** A whole CSV text → Dataset (the parser given one piece). */
export function parseCsv(text: string, src: CsvSource, opts: CsvOptions): Result<CsvResult> {
  const p = new CsvParser(src, opts);
  p.push(text);
  return p.end();
}

/**
 * A text cell of a CSV nnc writes (predictions, attributions, features): quoted when it holds a
 * delimiter, quote or line break; and a text that a spreadsheet would run as a formula (starting
 * with =, +, -, @, a tab or CR, as class names from a data file may) is prefixed with `'`, as
 * OWASP advises, unless it is a plain number.
 */
export function csvCell(s: string): string {
  const guarded = /^[=+\-@\t\r]/.test(s) && !Number.isFinite(Number(s)) ? `'${s}` : s;
  return /[",\n\r]/.test(guarded) ? `"${guarded.replace(/"/g, '""')}"` : guarded;
}

/** A file's columns as a hint lists them: the first dozen, then how many there are (a million names made an 8.9 MB hint). */
function shownColumns(names: readonly string[]): string {
  return names.length <= 12 ? names.join(", ") : `${names.slice(0, 12).join(", ")}, … (${names.length} columns)`;
}

/** A missing cell as a message shows it: "an empty cell" or "`NA`". */
function shownMissing(t: string): string {
  return t === "" ? "an empty cell" : `\`${t}\``;
}

function parseNumber(t: string): number | undefined {
  if (t === "") return undefined;
  const v = Number(t);
  return Number.isFinite(v) ? v : undefined;
}

function checkDelimiterHint(delimiter: string): string {
  const shown = delimiter === "\t" ? "a tab" : `\`${delimiter}\``;
  return `every row needs the same number of cells, separated by ${shown}; quote cells that contain it`;
}
