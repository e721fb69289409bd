/**
 * CSV text → Dataset. Browser-safe: takes the file's text, so the playground can train on a
 * dropped file. Every problem names the line and column of the cell.
 */
import type { CsvSource } from "../compiler/program.js";
import type { Diagnostic, Result } from "../grammar/diagnostics.js";
import { fitsFloat32, type Dataset } from "./dataset.js";
import { dataDiag, lineSpan } from "./span.js";

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

interface Cell {
  readonly text: string;
  /** 1-based column of the cell's first character. */
  readonly column: number;
}

interface Record_ {
  readonly line: number;
  readonly offset: number;
  readonly cells: Cell[];
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

/** Splits text into records of cells, honouring double quotes (`""` is a quote). */
export function splitCsv(text: string, delimiter: string): Record_[] {
  const records: Record_[] = [];
  let i = 0;
  let line = 1;
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  while (i < text.length) {
    const start = i;
    const startLine = line;
    let lineStart = i;
    const cells: Cell[] = [];
    let cell = "";
    let cellCol = 1;
    let quoted = false;
    for (;;) {
      if (i >= text.length) {
        cells.push({ text: cell, column: cellCol });
        break;
      }
      const ch = text[i]!;
      if (quoted) {
        if (ch === '"') {
          if (text[i + 1] === '"') {
            cell += '"';
            i += 2;
          } else {
            quoted = false;
            i++;
          }
        } else {
          if (ch === "\n") {
            line++;
            lineStart = i + 1;
          }
          cell += ch;
          i++;
        }
        continue;
      }
      if (ch === '"' && cell.trim() === "") {
        quoted = true;
        cell = "";
        i++;
      } else if (ch === delimiter) {
        cells.push({ text: cell, column: cellCol });
        cell = "";
        i++;
        cellCol = i - lineStart + 1;
      } else if (ch === "\n" || ch === "\r") {
        cells.push({ text: cell, column: cellCol });
        i += ch === "\r" && text[i + 1] === "\n" ? 2 : 1;
        line++;
        break;
      } else {
        cell += ch;
        i++;
      }
    }
    const blank = cells.length === 1 && cells[0]!.text.trim() === "";
    if (!blank) records.push({ line: startLine, offset: start, cells });
  }
  return records;
}

export function parseCsv(text: string, src: CsvSource, opts: CsvOptions): Result<CsvResult> {
  const file = opts.file ?? src.path;
  const diagnostics: Diagnostic[] = [];
  const fail = (): Result<CsvResult> => ({ value: { dataset: undefined, schema: undefined }, diagnostics });
  const records = splitCsv(text, src.delimiter);
  if (records.length === 0 || (src.header && records.length === 1)) {
    diagnostics.push(dataDiag(file, "emptyData", lineSpan(1), [], "the file has no data rows"));
    return fail();
  }
  const first = records[0]!;
  const width = first.cells.length;
  const names = src.header
    ? first.cells.map((c) => c.text.trim())
    : first.cells.map((_, i) => `column ${i}`);
  const body = src.header ? records.slice(1) : records;

  const resolve = (ref: string | number, what: string): number | undefined => {
    if (typeof ref === "number") {
      if (Number.isInteger(ref) && ref >= 0 && ref < width) return ref;
    } else {
      const k = names.indexOf(ref);
      if (k >= 0) return k;
    }
    diagnostics.push(
      dataDiag(file, "csvNoColumn", lineSpan(1), [String(ref)], `${what}; the columns are: ${shownColumns(names)}`),
    );
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
      return fail();
    }
  }

  let labelCol: number | undefined;
  let textCol: number | undefined;
  let featureCols: number[] = [];
  const schema0 = opts.schema;
  if (schema0) {
    // A later file (test, validation, prediction input): find the training file's columns.
    const byName = src.header;
    const find = (name: string, index: number): number | undefined =>
      byName ? (names.indexOf(name) >= 0 ? names.indexOf(name) : undefined) : index >= 0 && index < width ? index : undefined;
    const noLabel = opts.noLabel === true || (!byName && opts.labelOptional === true && width === schema0.featureColumns.length);
    labelCol = noLabel ? undefined : find(schema0.labelColumn, schema0.labelIndex);
    if (schema0.textColumn !== undefined) {
      textCol = find(schema0.textColumn, schema0.textIndex ?? -1);
      if (textCol === undefined) resolve(schema0.textColumn, "the text column of the training data");
    }
    if (labelCol === undefined && !opts.labelOptional) resolve(schema0.labelColumn, "the label column");
    const absent: string[] = [];
    schema0.featureColumns.forEach((name, j) => {
      const k = noLabel ? j : find(name, schema0.featureIndices[j]!);
      if (k === undefined) absent.push(name);
      else featureCols.push(k);
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
    labelCol = opts.noLabel === true ? undefined : src.label === undefined ? width - 1 : resolve(src.label, "the label column");
    if (src.text !== undefined) textCol = resolve(src.text, "the text column");
    if (src.text !== undefined && src.features === undefined) {
      // A text model reads its text column only: the tokenizer turns it into the features.
    } else if (src.features !== undefined) {
      for (const f of src.features) {
        const k = resolve(f, "a feature column");
        if (k !== undefined) featureCols.push(k);
      }
    } else featureCols = names.map((_, i) => i).filter((i) => i !== labelCol);
  }
  // Categories and means are keyed by the training file's column names.
  const key = (k: number): string => (schema0 ? schema0.featureColumns[featureCols.indexOf(k)]! : names[k]!);
  const categorical = new Set<number>();
  if (schema0) {
    for (const k of featureCols) if (own(schema0.categories, key(k)) !== undefined) categorical.add(k);
  } else {
    for (const c of src.categorical) {
      const k = resolve(c, "a categorical column");
      if (k !== undefined) categorical.add(k);
    }
  }
  if (diagnostics.length > 0) return fail();

  // First pass: check widths, classify cells, collect categories and means.
  const rows: Record_[] = [];
  const categories = table<string[]>();
  const sums = new Map<number, { sum: number; count: number }>();
  for (const k of featureCols) if (categorical.has(k)) categories[key(k)] = [];
  const labelTexts = new Set<string>();
  for (const r of body) {
    if (diagnostics.length >= MAX_ERRORS) break;
    if (r.cells.length !== width) {
      diagnostics.push(
        dataDiag(file, "csvColumnCount", lineSpan(r.line, 1, 0, r.offset), [r.cells.length, width], checkDelimiterHint(src.delimiter)),
      );
      continue;
    }
    let drop = false;
    for (const k of featureCols) {
      const cell = r.cells[k]!;
      const t = cell.text.trim();
      if (MISSING.has(t.toLowerCase())) {
        if (src.missing === "error") {
          diagnostics.push(
            dataDiag(file, "csvMissingValue", lineSpan(r.line, cell.column, t.length, r.offset), [names[k]!, shownMissing(t)],
              "fill it in, or declare `missing: drop` (or `mean`, `zero`) in the csv source"),
          );
        } else if (src.missing === "drop") drop = true;
        continue;
      }
      if (categorical.has(k)) {
        const cats = categories[key(k)]!;
        if (!cats.includes(t)) cats.push(t);
      } else {
        const v = parseNumber(t);
        if (v === undefined) {
          diagnostics.push(
            dataDiag(file, "csvNotNumeric", lineSpan(r.line, cell.column, t.length, r.offset), [names[k]!, t],
              `declare the column categorical (categorical: ["${names[k]}"]) or fix the cell`),
          );
        } else if (!fitsFloat32(v)) {
          diagnostics.push(
            dataDiag(file, "notFloat32", lineSpan(r.line, cell.column, t.length, r.offset), [`column \`${names[k]}\``, t],
              "rescale the column (another unit, or its logarithm) or fix the cell"),
          );
        } else {
          const s = sums.get(k) ?? { sum: 0, count: 0 };
          s.sum += v;
          s.count++;
          sums.set(k, s);
        }
      }
    }
    if (textCol !== undefined && r.cells[textCol]!.text.trim() === "") {
      const cell = r.cells[textCol]!;
      if (src.missing === "drop") drop = true;
      else if (src.missing === "error") {
        diagnostics.push(
          dataDiag(file, "csvMissingValue", lineSpan(r.line, cell.column, 0, r.offset), [names[textCol]!, "an empty cell"],
            "fill it in, or declare `missing: drop` in the csv source (an empty text is otherwise all padding)"),
        );
      }
    }
    if (labelCol !== undefined) {
      const cell = r.cells[labelCol]!;
      const t = cell.text.trim();
      if (MISSING.has(t.toLowerCase())) {
        if (src.missing === "drop") drop = true;
        else
          diagnostics.push(
            dataDiag(file, "csvMissingValue", lineSpan(r.line, cell.column, t.length, r.offset), [names[labelCol]!, shownMissing(t)],
              "every row needs a label"),
          );
      } else if (opts.labels === "value" && parseNumber(t) === undefined) {
        diagnostics.push(
          dataDiag(file, "csvNotNumeric", lineSpan(r.line, cell.column, t.length, r.offset), [names[labelCol]!, t],
            "the loss is a regression loss, so labels must be numbers"),
        );
      } else if (opts.labels === "value" && !fitsFloat32(parseNumber(t)!)) {
        diagnostics.push(
          dataDiag(file, "notFloat32", lineSpan(r.line, cell.column, t.length, r.offset), [`column \`${names[labelCol]}\``, t],
            "rescale the targets (another unit, or their logarithm) or fix the cell"),
        );
      } else labelTexts.add(t);
    }
    if (!drop) rows.push(r);
  }
  if (diagnostics.length > 0) return fail();
  if (rows.length === 0) {
    diagnostics.push(dataDiag(file, "emptyData", lineSpan(1), [], "every row was dropped for a missing value"));
    return fail();
  }

  // The schema: from the training file, or the one given.
  let classes: string[] | undefined;
  if (opts.schema) classes = opts.schema.classes ? [...opts.schema.classes] : undefined;
  else if (labelCol !== undefined && opts.labels === "class") {
    const texts = [...labelTexts];
    const allInts = texts.every((t) => /^[+-]?\d+$/.test(t));
    classes = allInts ? undefined : texts.sort();
  }
  const schemaCats = table<readonly string[]>();
  for (const k of featureCols) {
    if (!categorical.has(k)) continue;
    const name = key(k);
    schemaCats[name] = own(opts.schema?.categories, name) ?? [...categories[name]!].sort();
  }
  const means = table<number>();
  for (const k of featureCols) {
    if (categorical.has(k)) continue;
    const name = key(k);
    const s = sums.get(k);
    means[name] = own(opts.schema?.means, name) ?? (s && s.count > 0 ? s.sum / s.count : 0);
  }
  const schema: CsvSchema = opts.schema
    ? { ...opts.schema, classes }
    : {
        width,
        featureColumns: featureCols.map((k) => names[k]!),
        featureIndices: featureCols,
        labelColumn: labelCol !== undefined ? names[labelCol]! : "",
        labelIndex: labelCol ?? -1,
        classes,
        categories: schemaCats,
        means,
        ...(textCol !== undefined ? { textColumn: names[textCol]!, textIndex: textCol } : {}),
      };

  // Second pass: fill the arrays.
  const featureNames: string[] = [];
  for (const k of featureCols) {
    if (categorical.has(k)) for (const c of schemaCats[key(k)]!) featureNames.push(`${key(k)}=${c}`);
    else featureNames.push(key(k));
  }
  const nf = featureNames.length;
  const n = rows.length;
  const x = new Float32Array(n * nf);
  const y = new Float32Array(labelCol !== undefined ? n : 0);
  const origin = new Int32Array(n);
  const texts: string[] | undefined = textCol !== undefined ? [] : undefined;
  for (let i = 0; i < n && diagnostics.length < MAX_ERRORS; i++) {
    const r = rows[i]!;
    origin[i] = r.line;
    if (texts !== undefined) texts.push(r.cells[textCol as number]!.text);
    let o = i * nf;
    for (const k of featureCols) {
      const cell = r.cells[k]!;
      const t = cell.text.trim();
      const name = key(k);
      if (categorical.has(k)) {
        const cats = schemaCats[name]!;
        const j = cats.indexOf(t);
        if (j < 0 && !MISSING.has(t.toLowerCase())) {
          diagnostics.push(
            dataDiag(file, "unknownCategory", lineSpan(r.line, cell.column, t.length, r.offset), [name, t],
              `the training data's categories of \`${name}\` are: ${cats.join(", ")}`),
          );
        }
        if (j >= 0) x[o + j] = 1;
        o += cats.length;
      } else {
        const v = MISSING.has(t.toLowerCase()) ? (src.missing === "mean" ? means[name]! : 0) : parseNumber(t)!;
        x[o++] = v;
      }
    }
    if (labelCol !== undefined) {
      const cell = r.cells[labelCol]!;
      const t = cell.text.trim();
      if (opts.labels === "value") y[i] = parseNumber(t)!;
      else if (classes) {
        const j = classes.indexOf(t);
        if (j < 0) {
          diagnostics.push(
            dataDiag(file, "labelOutOfRange", lineSpan(r.line, cell.column, t.length, r.offset), [`\`${t}\``, classes.length],
              `the training data's classes are: ${classes.join(", ")}`),
          );
        }
        y[i] = j;
      } else {
        const v = parseNumber(t);
        if (v === undefined || !Number.isInteger(v)) {
          diagnostics.push(
            dataDiag(file, "csvNotNumeric", lineSpan(r.line, cell.column, t.length, r.offset), [names[labelCol]!, t],
              "the training data's labels are class numbers 0, 1, …"),
          );
        } else y[i] = v;
      }
    }
  }
  if (diagnostics.length > 0) return fail();
  const dataset: Dataset = {
    n,
    features: nf,
    x,
    labelWidth: labelCol !== undefined ? 1 : 0,
    y,
    ...(classes ? { classes } : {}),
    featureNames,
    file,
    origin,
    originKind: "line",
    ...(texts !== undefined ? { texts } : {}),
  };
  return { value: { dataset, schema }, diagnostics };
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
