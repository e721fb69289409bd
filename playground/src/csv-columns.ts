/**
 * A first look at a dropped CSV file, shared by the page and the training worker: its
 * delimiter, its columns, which hold text, and how many distinct values each has (in the
 * first rows). The runtime's parser (`runtime/csv.ts`) still reads the file for training.
 */

export interface CsvColumn {
  readonly name: string;
  /** Holds a value that is not a number. */
  readonly text: boolean;
  /** Distinct values seen (at most `DISTINCT_CAP + 1`). */
  readonly distinct: number;
}

/** Rows looked at. */
const SAMPLE_ROWS = 500;
const DISTINCT_CAP = 50;

const unquote = (c: string): string => c.trim().replace(/^"(.*)"$/, "$1");

export function csvColumns(text: string): { delimiter: string; columns: CsvColumn[] } {
  const lines = text.split(/\r?\n/, SAMPLE_ROWS + 1);
  const head = lines[0] ?? "";
  const delimiter = [",", ";", "\t"].sort((a, b) => head.split(b).length - head.split(a).length)[0]!;
  const names = head.split(delimiter).map(unquote);
  const text_ = names.map(() => false);
  const seen = names.map(() => new Set<string>());
  for (const line of lines.slice(1)) {
    if (line.trim() === "") continue;
    const cells = line.split(delimiter).map(unquote);
    cells.forEach((c, i) => {
      if (i >= names.length || c === "") return;
      if (!Number.isFinite(Number(c))) text_[i] = true;
      if (seen[i]!.size <= DISTINCT_CAP) seen[i]!.add(c);
    });
  }
  return { delimiter, columns: names.map((name, i) => ({ name, text: text_[i]!, distinct: seen[i]!.size })) };
}

/** The column a dropped file most likely predicts: its one text column, else the last. */
export function guessLabel(columns: readonly CsvColumn[]): string {
  const texts = columns.filter((c) => c.text);
  return (texts.length === 1 ? texts[0]! : columns[columns.length - 1])?.name ?? "";
}

/**
 * The model's input width and classes for a file and a label column: numeric columns one
 * feature each, text columns one-hot; the label's distinct values as classes (when few).
 */
export function csvShape(columns: readonly CsvColumn[], label: string): { features: number; classes: number | undefined } {
  let features = 0;
  for (const c of columns) if (c.name !== label) features += c.text ? c.distinct : 1;
  const l = columns.find((c) => c.name === label);
  const classes = l && (l.text || l.distinct <= 20) && l.distinct <= DISTINCT_CAP ? l.distinct : undefined;
  return { features, classes };
}

/**
 * Whether a dropped file is a weights file (`nnc-weights` JSON, for ⬆ weights) rather than a CSV
 * file to train on: its name ends in `.json`, or its text starts with `{` (no CSV header does).
 */
export function isWeightsFile(name: string, text: string): boolean {
  return /\.json$/i.test(name) || text.trimStart().startsWith("{");
}
