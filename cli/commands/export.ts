/**
 * `nnc export FILE [--weights W] -o app.ts|app.js [--embed-weights] [--kernels js|wasm] [--max-batch N] [--quantized]`:
 * one dependency-free module an application imports — the generated model, the preprocessing
 * fitted in training (columns, one-hot layout, missing-value policy, shift and divide), the
 * class names, optionally the weights — with `createPredictor` for raw records
 * (`compiler/codegen/app.ts` writes it; `docs/deploy.md` describes it). With `--quantized`, the
 * model is the int8 module written again from the `weights.int8.json` beside the weights
 * (`quantize` in `train { … }`), its weights in it; JavaScript only.
 */
import type { Command } from "commander";
import { dirname, extname, join } from "node:path";
import { compileProgram } from "../../compiler/compile.js";
import { generateApp, type AppColumn, type AppInput } from "../../compiler/codegen/app.js";
import { formatCode } from "../../compiler/format.js";
import type { Program } from "../../compiler/program.js";
import { diag } from "../../grammar/diagnostics.js";
import { FILE_START } from "../../grammar/span.js";
import type { CsvSchema } from "../../runtime/csv.js";
import { taskOfProgram } from "../../runtime/metrics.js";
import { featureTransform, type WeightsFile } from "../../runtime/weights.js";
import { dataDiag } from "../../runtime/span.js";
import { writeFileAtomic } from "../../runtime/node/atomic.js";
import { compileModel, maxBatchFor } from "../../runtime/node/model.js";
import { readWeights } from "../../runtime/node/weights-file.js";
import { CliError } from "../errors.js";
import { loadProgram, renderFor } from "../load.js";
import { failOnErrors, weightsPathOf } from "../session.js";
import { intOption } from "../options.js";
import { INT8_FILE } from "../../runtime/quantize-weights.js";
import { int8Beside } from "./quantize.js";

interface ExportOptions {
  output: string;
  weights?: string;
  embedWeights?: boolean;
  target?: string;
  kernels: string;
  maxBatch?: string;
  quantized?: boolean;
}

export function registerExport(program: Command): void {
  program
    .command("export")
    .description("write one dependency-free module for an application: model, preprocessing, class names, predictor")
    .argument("<file>", ".nn file")
    .requiredOption("-o, --output <file>", "the module to write: app.ts or app.js")
    .option("--weights <file>", "weights file written by `nnc train` (default: runs/<file name>/weights.json)")
    .option("--embed-weights", "put the weights in the module (else createPredictor takes the weights.json)")
    .option("--target <target>", "ts or js (default: from the extension of --output)")
    .option("--kernels <kind>", "js (all TypeScript) or wasm (WebAssembly SIMD matrix products)", "js")
    .option("--max-batch <n>", "records per forward pass (default: the file's batch, at least 256)")
    .option("--quantized", "the int8 module (from the weights.int8.json beside the weights, written by `quantize` in train { … }), weights embedded; .js only")
    .action(async (file: string, opts: ExportOptions) => {
      await exportApp(file, opts);
    });
}

async function exportApp(file: string, opts: ExportOptions): Promise<void> {
  const bad = (what: string, expected: string, got: string): never => {
    throw new CliError(renderFor([diag("badCompileOption", FILE_START, [what, expected, got])], undefined, "text", process.stderr));
  };
  const ext = extname(opts.output).toLowerCase();
  const target = opts.target ?? (ext === ".ts" || ext === ".mts" ? "ts" : ext === ".js" || ext === ".mjs" ? "js" : undefined);
  if (target === undefined) bad("--output", "a .ts or .js file (or give --target ts|js)", opts.output);
  if (target !== "ts" && target !== "js") bad("--target", "ts or js", String(target));
  if (opts.kernels !== "js" && opts.kernels !== "wasm") bad("--kernels", "js or wasm", opts.kernels);
  if (opts.quantized && target !== "js") bad("--target", "js with --quantized (the int8 module is JavaScript: write app.js; TypeScript imports it with allowJs)", String(target));
  if (opts.quantized && opts.embedWeights) bad("--embed-weights", "absent with --quantized (the int8 weights are always in the module)", "given");
  const { program, source } = loadProgram(file);
  const maxBatch = intOption(opts.maxBatch, "--max-batch", 1) ?? maxBatchFor(program);

  const weightsPath = weightsPathOf(file, opts.weights, source);
  // The weights are checked against the model's layout as `predict` checks them.
  const live = compileModel(program, "float32", "js");
  failOnErrors(live.diagnostics, file, source);
  const read = readWeights(weightsPath, live.value!);
  failOnErrors(read.diagnostics, file, source);
  const weights = read.value!;
  const meta = live.value!.meta;

  const transform = featureTransform(weights.preprocess, meta.inputSize);
  if (!transform.value)
    failOnErrors([dataDiag(weightsPath, "weightsMismatch", FILE_START, [weightsPath, `its preprocessing is damaged: ${transform.problem}`], "train again")], file, source);
  const columns = columnsOf(program, weights, meta.inputSize);
  if (typeof columns === "string") {
    const hint = columns.includes("language model") ? "use `nnc predict` (or `nnc sample` for a language model) for now" : "train again";
    failOnErrors([dataDiag(weightsPath, "weightsMismatch", FILE_START, [weightsPath, columns], hint)], file, source);
  }
  const cols = columns as AppColumn[];

  let modelCode: string;
  if (opts.quantized) {
    const int8 = int8Beside(weightsPath, program, live.value!, file, source, "text", maxBatch);
    if (int8 === undefined) {
      const path = join(dirname(weightsPath), INT8_FILE);
      failOnErrors([{ ...diag("fileNotFound", FILE_START, [path, "no such file"], { hint: "add `quantize` to train { … } and train again: the run then writes it beside weights.json" }), file: path }], file, source);
    }
    modelCode = int8!.js;
  } else {
    const compiled = compileProgram(program, { target: target as "ts" | "js", kernels: opts.kernels as "js" | "wasm", maxBatch });
    failOnErrors(compiled.diagnostics.map((d) => ({ ...d, file })), file, source);
    modelCode = compiled.value!.code;
  }
  const csv = program.data?.train.kind === "csv" ? program.data.train : undefined;
  const code = generateApp({
    target: target as "ts" | "js",
    modelCode,
    source: file,
    weightsFile: weightsPath,
    inputSize: meta.inputSize,
    outputSize: meta.outputSize,
    task: taskOfProgram(program, meta.outputSize, meta.outputShape),
    ...(weights.preprocess.classes ? { classNames: weights.preprocess.classes } : {}),
    ...(weights.preprocess.target ? { targetScaling: weights.preprocess.target } : {}),
    columns: cols,
    inputs: inputsOf(program, meta.inputs, cols, meta.inputSize),
    scale: transform.value!.scale,
    normalize: weights.preprocess.normalize,
    shift: transform.value!.shift,
    divide: transform.value!.divide,
    missing: weights.preprocess.csv && csv ? csv.missing : "error",
    csv: weights.preprocess.csv !== undefined,
    ...(opts.embedWeights ? { embedded: Float32Array.from(weights.params) } : {}),
    ...(opts.quantized ? { quantized: true } : {}),
  });
  const formatted = await formatCode(code);
  const failed = writeFileAtomic(opts.output, formatted);
  if (failed) throw new CliError(renderFor([failed], undefined, "text", process.stderr));
  process.stderr.write(`wrote ${opts.output}\n`);
}

const own = (rec: Readonly<Record<string, unknown>>, key: string): boolean => Object.prototype.hasOwnProperty.call(rec, key);

/** The columns a record holds, in the order they fill a row (the training CSV's), or why not. */
function columnsOf(program: Program, w: WeightsFile, inputSize: number): AppColumn[] | string {
  const csv: CsvSchema | undefined = w.preprocess.csv;
  // A text model reads one column of text through the tokenizer fitted in training; a language model (no CSV) has no records.
  const tok = w.preprocess.tokenizer;
  if (tok !== undefined || csv?.textColumn !== undefined) {
    if (program.data?.train.kind === "tagged") return "it belongs to a tagger (a `tagged(…)` source), which `nnc export` does not support yet: tag with `nnc predict`";
    if (tok === undefined || csv?.textColumn === undefined || csv.featureColumns.length > 0 || tok.length !== inputSize)
      return "it belongs to a language model or a text model with other columns, which `nnc export` does not support yet";
    return [{ name: csv.textColumn, text: { kind: tok.kind, length: tok.length, lowercase: tok.lowercase, tokens: tok.tokens } }];
  }
  if (csv === undefined) return Array.from({ length: inputSize }, (_, j) => ({ name: String(j) }));
  const missing = program.data?.train.kind === "csv" ? program.data.train.missing : "error";
  const columns: AppColumn[] = [];
  let size = 0;
  for (const name of csv.featureColumns) {
    const categories = own(csv.categories, name) ? csv.categories[name] : undefined;
    if (categories !== undefined) {
      columns.push({ name, categories });
      size += categories.length;
      continue;
    }
    const mean = own(csv.means, name) ? csv.means[name] : undefined;
    const fill = missing === "mean" ? mean : missing === "zero" ? 0 : undefined;
    if (fill !== undefined && !Number.isFinite(fill)) return `the mean of column \`${name}\` is ${String(fill)}`;
    columns.push(fill !== undefined ? { name, fill } : { name });
    size++;
  }
  return size === inputSize ? columns : `its columns give ${size} features, the model's input has ${inputSize}`;
}

/** The model's inputs and the columns that fill each (a column belongs to the input its first value falls in). */
function inputsOf(
  program: Program,
  named: readonly { readonly name: string; readonly offset: number; readonly size: number }[] | undefined,
  columns: readonly AppColumn[],
  inputSize: number,
): AppInput[] {
  const entries = named ?? [{ name: program.model.inputs[0]?.name ?? "input", offset: 0, size: inputSize }];
  const inputs = entries.map((e) => ({ name: e.name, columns: [] as string[], offset: e.offset, size: e.size }));
  let at = 0;
  for (const c of columns) {
    inputs.find((i) => at >= i.offset && at < i.offset + i.size)?.columns.push(c.name);
    at += c.categories !== undefined ? c.categories.length : 1;
  }
  return inputs;
}
