/**
 * The `data` block → loaded data sets, through a reader that fetches text or IDX bytes (the
 * Node reader resolves paths relative to the `.nn` file; the playground supplies dropped
 * files). Browser-safe.
 */
import type { CsvSource, Data, DataSource } from "../compiler/program.js";
import { FILE_START } from "../grammar/span.js";
import { dataDiag } from "./span.js";
import type { Diagnostic, Result } from "../grammar/diagnostics.js";
import { CsvParser, parseCsv, type CsvOptions, type CsvResult, type CsvSchema } from "./csv.js";
import type { Dataset } from "./dataset.js";
import { generate } from "./generators.js";
import { idxDataset, type IdxArray } from "./idx.js";
import { parseJsonData } from "./json.js";
import type { LoadedData } from "./prepare.js";
import { parseTagged } from "./tagged.js";

export interface SourceReader {
  /** The text of a file (CSV, JSON); diagnostics say why not. */
  text(path: string, span: DataSource["span"]): Promise<Result<string | undefined>>;
  /**
   * A text file in pieces, for a reader that can stream (Node's: a CSV of any size); `take`
   * returns false to stop. The value says whether the file was read at all.
   */
  stream?(path: string, span: DataSource["span"], take: (piece: string) => boolean): Promise<Result<boolean>>;
  /** An IDX file decoded (first `limit` records; 0 = all). */
  idx(path: string, limit: number, span: DataSource["span"]): Promise<Result<IdxArray | undefined>>;
  /** How a path is shown in messages (e.g. relative to the working directory). */
  display(path: string): string;
}

export interface LoadContext {
  /** Labels are classes (classification losses) or values (regression). */
  readonly labels: "class" | "value";
  /** The training file's CSV schema / class names, when loading later sources. */
  readonly schema?: CsvSchema;
  readonly classes?: readonly string[];
}

export async function loadSource(
  src: DataSource,
  reader: SourceReader,
  ctx: LoadContext,
): Promise<Result<{ dataset: Dataset; csv?: CsvSchema } | undefined>> {
  const diagnostics: Diagnostic[] = [];
  switch (src.kind) {
    case "generator":
      return { value: { dataset: generate(src) }, diagnostics };
    case "csv": {
      const r = await readCsv(reader, src, {
        labels: ctx.labels,
        file: reader.display(src.path),
        ...(ctx.schema ? { schema: ctx.schema } : {}),
      });
      if (!r.value.dataset) return { value: undefined, diagnostics: r.diagnostics };
      return { value: { dataset: r.value.dataset, ...(r.value.schema ? { csv: r.value.schema } : {}) }, diagnostics: r.diagnostics };
    }
    case "json": {
      const t = await reader.text(src.path, src.span);
      if (t.value === undefined) return { value: undefined, diagnostics: t.diagnostics };
      const r = parseJsonData(t.value, {
        labels: ctx.labels,
        file: reader.display(src.path),
        ...(ctx.classes ? { classes: ctx.classes } : {}),
      });
      return r.value ? { value: { dataset: r.value }, diagnostics: r.diagnostics } : { value: undefined, diagnostics: r.diagnostics };
    }
    case "text": {
      // One running text: `prepareData` tokenizes it and cuts it into windows.
      const t = await reader.text(src.path, src.span);
      if (t.value === undefined) return { value: undefined, diagnostics: t.diagnostics };
      const dataset: Dataset = { n: 1, features: 0, x: new Float32Array(0), labelWidth: 0, y: new Float32Array(0), texts: [t.value], file: reader.display(src.path), stream: true };
      return { value: { dataset }, diagnostics: t.diagnostics };
    }
    case "tagged": {
      const t = await reader.text(src.path, src.span);
      if (t.value === undefined) return { value: undefined, diagnostics: t.diagnostics };
      const r = parseTagged(t.value, reader.display(src.path));
      return r.value ? { value: { dataset: r.value }, diagnostics: [...t.diagnostics, ...r.diagnostics] } : { value: undefined, diagnostics: [...t.diagnostics, ...r.diagnostics] };
    }
    case "idx": {
      const [im, lb] = await Promise.all([
        reader.idx(src.images, src.limit, src.span),
        reader.idx(src.labels, src.limit, src.span),
      ]);
      if (!im.value || !lb.value) return { value: undefined, diagnostics: [...im.diagnostics, ...lb.diagnostics] };
      const r = idxDataset(im.value, lb.value, { images: reader.display(src.images), labels: reader.display(src.labels) });
      if (!r.value || src.side === undefined) return r.value ? { value: { dataset: r.value }, diagnostics: r.diagnostics } : { value: undefined, diagnostics: r.diagnostics };
      return withSide(r.value, src.side, src.limit, reader, ctx);
    }
  }
}

/**
 * A CSV source parsed as it is read: in pieces where the reader streams (so its size is bounded
 * by memory for its numbers, not by the longest string), whole otherwise; a file that cannot be
 * read is a result without a data set, with the reader's diagnostics.
 */
async function readCsv(reader: SourceReader, src: CsvSource, opts: CsvOptions): Promise<Result<CsvResult>> {
  if (reader.stream) {
    const parser = new CsvParser(src, opts);
    const read = await reader.stream(src.path, src.span, (piece) => parser.push(piece));
    if (!read.value) return { value: { dataset: undefined, schema: undefined }, diagnostics: read.diagnostics };
    return parser.end();
  }
  const t = await reader.text(src.path, src.span);
  if (t.value === undefined) return { value: { dataset: undefined, schema: undefined }, diagnostics: t.diagnostics };
  return parseCsv(t.value, src, opts);
}

/** Loads the training source, then any separate test and validation sources read like it. */
export async function loadData(data: Data, reader: SourceReader, labels: "class" | "value"): Promise<Result<LoadedData | undefined>> {
  const diagnostics: Diagnostic[] = [];
  const tr = await loadSource(data.train, reader, { labels });
  for (const d of tr.diagnostics) diagnostics.push(d);
  if (!tr.value) return { value: undefined, diagnostics };
  const ctx: LoadContext = {
    labels,
    ...(tr.value.csv ? { schema: tr.value.csv } : {}),
    ...(tr.value.dataset.classes ? { classes: tr.value.dataset.classes } : {}),
  };
  const extra = async (s: DataSource | number): Promise<Dataset | undefined> => {
    if (typeof s === "number") return undefined;
    const r = await loadSource(s, reader, ctx);
    for (const d of r.diagnostics) diagnostics.push(d);
    return r.value?.dataset;
  };
  const test = await extra(data.test);
  const validation = await extra(data.validation);
  if (diagnostics.some((d) => d.severity === "error")) return { value: undefined, diagnostics };
  return {
    value: {
      train: tr.value.dataset,
      ...(test ? { test } : {}),
      ...(validation ? { validation } : {}),
      ...(tr.value.csv ? { csv: tr.value.csv } : {}),
    },
    diagnostics,
  };
}

/**
 * The images' pixels, then the side columns of the same record: a CSV with one row per record
 * (the first `limit` rows when the images are limited), every column a feature.
 */
async function withSide(images: Dataset, side: CsvSource, limit: number, reader: SourceReader, ctx: LoadContext): Promise<Result<{ dataset: Dataset; csv?: CsvSchema } | undefined>> {
  const file = reader.display(side.path);
  const r = await readCsv(reader, side, { labels: ctx.labels, file, noLabel: true, ...(ctx.schema ? { schema: ctx.schema } : {}) });
  const cols = r.value.dataset;
  if (!cols) return { value: undefined, diagnostics: r.diagnostics };
  const rows = limit > 0 ? Math.min(limit, cols.n) : cols.n;
  if (rows !== images.n) {
    return {
      value: undefined,
      diagnostics: [...r.diagnostics, dataDiag(file, "sideRowsMismatch", FILE_START, [rows, images.n], `give one row per record of ${images.file ?? "the images"}, in the same order`)],
    };
  }
  const f = images.features + cols.features;
  const x = new Float32Array(images.n * f);
  for (let i = 0; i < images.n; i++) {
    x.set(images.x.subarray(i * images.features, (i + 1) * images.features), i * f);
    x.set(cols.x.subarray(i * cols.features, (i + 1) * cols.features), i * f + images.features);
  }
  const names = [...Array.from({ length: images.features }, (_, j) => `pixel ${j}`), ...(cols.featureNames ?? [])];
  const dataset: Dataset = { ...images, features: f, x, featureNames: names };
  return { value: { dataset, ...(r.value.schema ? { csv: r.value.schema } : {}) }, diagnostics: r.diagnostics };
}
