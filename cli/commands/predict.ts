/**
 * `nnc predict FILE [--weights W] --input FILE|- [--format csv|json]`: predictions for new
 * samples. The input is read like the training data (a CSV with the training file's columns,
 * the label column optional; or JSON records), transformed with the saved statistics. Any
 * number of rows: `predictAll` runs them in chunks of the model's largest batch.
 */
import { inert } from "../../runtime/inert.js";
import type { Command } from "commander";
import type { CsvSource } from "../../compiler/program.js";
import { diag, type Diagnostic } from "../../grammar/diagnostics.js";
import { FILE_START } from "../../grammar/span.js";
import { csvCell, parseCsv, type CsvSchema } from "../../runtime/csv.js";
import type { Dataset } from "../../runtime/dataset.js";
import { parseJsonData } from "../../runtime/json.js";
import { argmax, taskOfProgram } from "../../runtime/metrics.js";
import { applyPreprocess, unscaleTargets } from "../../runtime/preprocess.js";
import { encodeTexts } from "../../runtime/text.js";
import { labelKind } from "../../runtime/session.js";
import { predictAll } from "../../runtime/batches.js";
import { dataDiag } from "../../runtime/span.js";
import { float32Text, shortestFloat32 } from "../../runtime/float-text.js";
import { failOnErrors, readInputText, weightsPathOf } from "../session.js";
import { KERNELS_HELP, kernelsOption } from "../options.js";
import { compileModel } from "../../runtime/node/model.js";
import { readWeights } from "../../runtime/node/weights-file.js";
import { CliError } from "../errors.js";
import { loadProgram } from "../load.js";
import { predictTags } from "./predict-tagged.js";

interface PredictOptions {
  weights?: string;
  input: string;
  format: string;
  kernels?: string;
}

export function registerPredict(program: Command): void {
  program
    .command("predict")
    .description("predict with trained weights; prints CSV or JSON")
    .argument("<file>", ".nn file")
    .option("--weights <file>", "weights file written by `nnc train` (default: runs/<file name>/weights.json)")
    .requiredOption("--input <file>", "samples to predict: a CSV or JSON file, or - for stdin")
    .option("--format <format>", "csv or json", "csv")
    .option("--kernels <kind>", KERNELS_HELP)
    .action(async (file: string, opts: PredictOptions) => {
      await predict(file, opts);
    });
}

async function predict(file: string, opts: PredictOptions): Promise<void> {
  if (opts.format !== "csv" && opts.format !== "json")
    throw new CliError(`nnc predict: --format must be csv or json, but is \`${opts.format}\``, 2);
  const { program, source } = loadProgram(file);
  const compiled = compileModel(program, "float32", kernelsOption(opts.kernels, "predict"));
  failOnErrors(compiled.diagnostics, file, source);
  const model = compiled.value!;
  const weightsPath = weightsPathOf(file, opts.weights, source);
  const w = readWeights(weightsPath, model);
  failOnErrors(w.diagnostics, file, source);
  const weights = w.value!;
  const task = taskOfProgram(program, model.meta.outputSize, model.meta.outputShape);
  const tagger = program.data?.train.kind === "tagged";
  if (task.kind === "multiclass" && task.steps !== undefined && !tagger) {
    failOnErrors([diag("predictLanguageModel", FILE_START, [], { hint: `write with it: \`nnc sample ${file} --weights ${weightsPath} --prompt "…"\`` })], file, source);
  }
  const { text, shown } = readInputText(opts.input, file, source);
  if (tagger) return predictTags(model, weights.preprocess, text, opts.format, shown, file, source);
  const r = readInput(text, shown, program.data?.train, weights.preprocess.csv, weights.preprocess.classes, labelKind(program.loss.kind), model.meta.inputSize);
  failOnErrors(r.diagnostics, file, source);
  const read = r.value!;
  // A text model: the text column through the tokenizer saved with the weights, as in training.
  const tok = weights.preprocess.tokenizer;
  const d = tok !== undefined && read.texts !== undefined ? { ...read, x: encodeTexts(read.texts, tok), features: tok.length } : read;
  if (d.features !== model.meta.inputSize) {
    failOnErrors(
      [dataDiag(shown, "dataShapeMismatch", FILE_START, [d.features, `[${model.meta.inputShape.join(", ")}]`, model.meta.inputSize],
        "give every sample the feature columns the model was trained on")],
      file,
      source,
    );
  }
  const x = new Float32Array(d.x);
  applyPreprocess(weights.preprocess, x, d.features);
  const out = predictAll(model, x, d.n);
  // A model trained on standardized targets (`normalize_target`): its outputs back in the data's units.
  const target = weights.preprocess.target;
  if (target !== undefined && task.kind === "regression") unscaleTargets(target, out, out, out.length);
  const classes = weights.preprocess.classes;
  const m = model.meta.outputSize;
  const rows: { prediction: string | number | number[]; scores: number[] }[] = [];
  for (let i = 0; i < d.n; i++) {
    const scores = Array.from(out.subarray(i * m, (i + 1) * m), shortestFloat32);
    let prediction: string | number | number[];
    if (task.kind === "multiclass") {
      const k = argmax(out, i * m, m);
      prediction = classes?.[k] ?? k;
    } else if (task.kind === "binary") {
      const k = scores[0]! >= task.threshold ? 1 : 0;
      prediction = classes?.[k] ?? k;
    } else if (task.kind === "multilabel") prediction = scores.map((s) => (s >= task.threshold ? 1 : 0));
    else prediction = m === 1 ? scores[0]! : scores;
    rows.push({ prediction, scores });
  }
  if (opts.format === "json") {
    const json = rows.map((r) =>
      task.kind === "regression" ? { prediction: r.prediction } : { prediction: r.prediction, scores: r.scores },
    );
    process.stdout.write(JSON.stringify(json) + "\n");
    return;
  }
  // Probability columns are named by class (`p_setosa`; `p_<class 1>` for a binary classifier).
  const scoreNames = (
    task.kind === "multiclass" ? Array.from({ length: m }, (_, j) => `p_${classes?.[j] ?? j}`)
    : task.kind === "regression" ? (m === 1 ? [] : Array.from({ length: m }, (_, j) => `y${j}`))
    : task.kind === "binary" ? [`p_${classes?.[1] ?? 1}`] : Array.from({ length: m }, (_, j) => `p_${j}`)
  ).map(csvCell);
  const lines = [[task.kind === "regression" && m > 1 ? "" : "prediction", ...scoreNames].filter((s) => s !== "").join(",")];
  for (const r of rows) {
    // Every number in one format: the float32's shortest round-trip digits (`runtime/float-text.ts`).
    const pred = Array.isArray(r.prediction) ? r.prediction.join(" ") : typeof r.prediction === "number" ? float32Text(r.prediction) : csvCell(r.prediction);
    if (task.kind === "regression") lines.push(m === 1 ? pred : r.scores.map(float32Text).join(","));
    else lines.push([pred, ...r.scores.map(float32Text)].join(","));
  }
  // Class names come from a data file: on a terminal they are made inert (in a pipe, the bytes are the data).
  const table = lines.join("\n");
  process.stdout.write((process.stdout.isTTY ? inert(table, { keepNewlines: true }) : table) + "\n");
}


/** Reads prediction input: JSON when it looks like JSON, otherwise CSV like the training file. */
export function readInput(
  text: string,
  file: string,
  trainSource: import("../../compiler/program.js").DataSource | undefined,
  schema: CsvSchema | undefined,
  classes: readonly string[] | undefined,
  labels: "class" | "value",
  inputSize: number,
): { value: Dataset | undefined; diagnostics: readonly Diagnostic[] } {
  const t = text.trimStart();
  if (file.endsWith(".json") || t.startsWith("[") || t.startsWith("{")) {
    return parseJsonData(text, { labels, file, labelOptional: true, ...(classes ? { classes } : {}) });
  }
  if (trainSource?.kind === "csv" && schema) {
    const r = parseCsv(text, trainSource, { labels, file, schema, labelOptional: true });
    return { value: r.value.dataset, diagnostics: r.diagnostics };
  }
  // A plain table of numbers, one sample per row; a first row that is not numeric is a header.
  const delimiter = text.includes("\t") && !text.includes(",") ? "\t" : ",";
  const firstEnd = text.indexOf("\n");
  const first = firstEnd < 0 ? text : text.slice(0, firstEnd);
  const isHeader = first.split(delimiter).some((c) => c.trim() !== "" && !Number.isFinite(Number(c)));
  const body = isHeader ? text.slice(first.length) : text; // the header line becomes blank: line numbers stay right
  const src: CsvSource = {
    kind: "csv",
    path: file,
    header: false,
    label: undefined,
    features: undefined,
    categorical: [],
    missing: "error",
    delimiter,
    span: FILE_START,
  };
  const cols = Array.from({ length: inputSize }, (_, i) => `column ${i}`);
  const synthetic: CsvSchema = {
    width: inputSize + 1,
    featureColumns: cols,
    featureIndices: cols.map((_, i) => i),
    labelColumn: "",
    labelIndex: -1,
    classes: classes,
    categories: {},
    means: {},
  };
  const r = parseCsv(body, src, { labels, file, schema: synthetic, labelOptional: true });
  return { value: r.value.dataset, diagnostics: r.diagnostics };
}
