/**
 * The training worker's data (`train.worker.ts`): the files a program reads, from the page (the
 * playground has no file system: a file the page did not send is NN4001, with a hint to drop a
 * CSV), and a dropped CSV file in place of the program's training source. The Train button and
 * the Search panel both open their data through these.
 */
import type { CsvSource, Data, Program } from "../../compiler/program.js";
import { diag, type Diagnostic, type Result } from "../../grammar/diagnostics.js";
import { FILE_START } from "../../grammar/span.js";
import type { SourceReader } from "../../runtime/load.js";
import { csvColumns } from "./csv-columns.js";
import type { CsvChoice } from "./protocol.js";

/** A dropped CSV file as a training source: its label, its text columns categorical, rows with missing cells dropped. */
function csvSource(csv: CsvChoice): CsvSource {
  const { delimiter } = csvColumns(csv.text);
  // A dropped file cannot say `categorical: [...]`: its text columns (besides the label) are.
  const categorical = csvColumns(csv.text).columns.filter((c) => c.text && c.name !== csv.label).map((c) => c.name);
  return { kind: "csv", path: csv.name, header: true, label: csv.label, features: undefined, categorical, missing: "drop", delimiter, span: FILE_START };
}

/** The program with its training data replaced by a dropped CSV file. */
export function withCsv(p: Program, csv: CsvChoice): Program {
  const train = csvSource(csv);
  const old = p.data;
  const data: Data = old
    ? {
        ...old,
        train,
        test: typeof old.test === "number" ? old.test : 0.2,
        validation: typeof old.validation === "number" ? old.validation : 0,
        normalize: old.normalize === "none" ? "standard" : old.normalize,
      }
    : { train, test: 0.2, validation: 0, normalize: "standard", scale: 1, shuffle: true, shuffleSeed: 0, inputs: undefined, tokenize: undefined, span: FILE_START };
  return { ...p, data };
}

/** The files the page sent (paths as the program writes them, `./` or not) and the dropped CSV file, read as text. */
export function reader(files: Readonly<Record<string, string>>, csv: CsvChoice | undefined): SourceReader {
  const missing = (path: string, span: Diagnostic["span"]): Result<undefined> => ({
    value: undefined,
    diagnostics: [
      diag("fileNotFound", span, [path, "the playground has no file system"], {
        hint: "drop a CSV file onto the page to train on it",
      }),
    ],
  });
  return {
    async text(path, span) {
      if (csv && path === csv.name) return { value: csv.text, diagnostics: [] };
      const key = path.replace(/^\.\//, "");
      const text = files[key];
      return text === undefined ? missing(path, span) : { value: text, diagnostics: [] };
    },
    async idx(path, _limit, span) {
      return missing(path, span);
    },
    display: (path) => path,
  };
}
