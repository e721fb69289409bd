/**
 * What `nnc explain` and `nnc features` share: the model compiled with its explain methods,
 * the trained weights and preprocessing, the samples (`--input FILE` read as `nnc predict`
 * reads it, or a split of the file's data rebuilt as `nnc eval` does), feature names, and the
 * diagnostics for a bad option (code, message, hint; the option as the place).
 */
import { compileToModule } from "../../compiler/load.js";
import type { Program } from "../../compiler/program.js";
import { diag, hasErrors, type MessageName } from "../../grammar/diagnostics.js";
import type { CompiledModel } from "../../compiler/model-api.js";
import type { PreparedData } from "../../runtime/prepare.js";
import type { Task } from "../../runtime/metrics.js";
import { attributionSections, type ReportSection } from "../../runtime/explain-report.js";
import { FILE_START } from "../../grammar/span.js";
import { applyPreprocess, type Preprocess } from "../../runtime/preprocess.js";
import { labelKind } from "../../runtime/session.js";
import { dataDiag } from "../../runtime/span.js";
import type { Split } from "../../runtime/prepare.js";
import { isExplainModel, type ExplainModel } from "../../runtime/explain.js";
import { maxBatchFor } from "../../runtime/node/model.js";
import { readWeights } from "../../runtime/node/weights-file.js";
import { CliError } from "../errors.js";
import { loadProgram } from "../load.js";
import { kernelsOption, numberIn, wanted, wholeIn } from "../options.js";
import { failOnErrors, openSession, readInputText, renderRun, weightsPathOf } from "../session.js";
import { renderPlain, wantColor } from "../render.js";
import { readInput } from "./predict.js";

export interface SampleOptions {
  weights?: string;
  input?: string;
  data?: string;
  limit?: string;
  kernels?: string;
}

export interface Explaining {
  readonly file: string;
  readonly source: string;
  readonly program: Program;
  readonly model: ExplainModel;
  readonly preprocess: Preprocess;
  /** The samples, preprocessed; `y` (one-hot or targets) when their labels are known. */
  readonly x: Float32Array;
  readonly y: Float32Array | undefined;
  readonly n: number;
  readonly featureNames: readonly string[];
  readonly classes: readonly string[] | undefined;
  /** Where the samples came from, for messages. */
  readonly from: string;
  /** The training split's preprocessed features (loaded only when asked for). */
  trainX(): Promise<Split>;
}

/** Throws a rendered diagnostic about a command-line option, which it names (exit code 2, as commander's own errors). */
export function optionError(option: string, name: MessageName, args: readonly (string | number)[], hint: string): never {
  const d = diag(name, FILE_START, args, { hint });
  throw new CliError(`${option}: ${renderPlain(d, { color: wantColor(process.stderr) })}`, 2);
}

/** A whole number option in [min, max], or a diagnostic naming it. */
export function intOf(option: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const v = wholeIn(value, min, max);
  return v ?? optionError(option, "badExplainOption", [option, wanted(true, min, max), value], `e.g. ${option} ${fallback}`);
}

export function numberOf(option: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const v = numberIn(value, min, max);
  return v ?? optionError(option, "badExplainOption", [option, wanted(false, min, max), value], `e.g. ${option} ${fallback}`);
}

const SPLITS = ["test", "validation", "train"] as const;

/** The names of the input's values: the training CSV's feature columns (a categorical one as `column=category` per one-hot value, as the CSV reader lays them out), or pixel positions. */
export function featureNames(program: Program, preprocess: Preprocess, inputSize: number, inputShape: readonly number[]): string[] {
  const cols = preprocess.csv?.featureColumns;
  const categories = preprocess.csv?.categories ?? {};
  const expanded = cols?.flatMap((c) => (categories[c] !== undefined ? categories[c].map((v) => `${c}=${v}`) : [c]));
  if (expanded !== undefined && expanded.length === inputSize) return expanded;
  if (inputShape.length >= 2) {
    const [h, w] = inputShape as [number, number];
    const c = inputSize / (h * w);
    return Array.from({ length: inputSize }, (_, j) => {
      const p = Math.floor(j / c);
      return `r${Math.floor(p / w)}c${p % w}${c > 1 ? `ch${j % c}` : ""}`;
    });
  }
  void program;
  return Array.from({ length: inputSize }, (_, j) => `x${j}`);
}

export async function openExplaining(file: string, opts: SampleOptions, command: string): Promise<Explaining> {
  const { program, source } = loadProgram(file);
  const compiled = compileToModule(program, { maxBatch: maxBatchFor(program), dtype: "float32", kernels: kernelsOption(opts.kernels, command), explain: true });
  failOnErrors(compiled.diagnostics, file, source);
  const model = compiled.value!.createModel();
  if (!isExplainModel(model)) throw new Error("bug: an explain module without its methods");
  const w = readWeights(weightsPathOf(file, opts.weights, source), model);
  failOnErrors(w.diagnostics, file, source);
  const preprocess = w.value!.preprocess;
  const limit = opts.limit === undefined ? Infinity : intOf("--limit", opts.limit, 10, 1, 1_000_000);
  const size = model.meta.inputSize;
  const K = model.meta.outputSize;
  let session: Awaited<ReturnType<typeof openSession>> | undefined;
  const sessionOf = async (): Promise<NonNullable<typeof session>> => (session ??= await openSession(file, source, program, {}, preprocess, model));
  let x: Float32Array;
  let y: Float32Array | undefined;
  let n: number;
  let from: string;
  if (opts.input !== undefined) {
    const { text, shown } = readInputText(opts.input, file, source);
    const r = readInput(text, shown, program.data?.train, preprocess.csv, preprocess.classes, labelKind(program.loss.kind), size);
    failOnErrors(r.diagnostics, file, source);
    const d = r.value!;
    if (d.features !== size) {
      failOnErrors([dataDiag(shown, "dataShapeMismatch", FILE_START, [d.features, `[${model.meta.inputShape.join(", ")}]`, size], "give every sample the feature columns the model was trained on")], file, source);
    }
    n = Math.min(d.n, limit);
    x = new Float32Array(d.x.subarray(0, n * size));
    applyPreprocess(preprocess, x, size);
    y = undefined;
    from = shown;
  } else {
    const split = (opts.data ?? "test") as (typeof SPLITS)[number];
    if (!(SPLITS as readonly string[]).includes(split)) optionError("--data", "badExplainOption", ["--data", "test, validation or train", split], "the splits are test, validation and train");
    const s = await sessionOf();
    const data = s.data[split];
    if (data === undefined) {
      const hint = split === "validation" ? "declare `validation 10%` (or a source) in the data block" : "declare `test 20%` (or a source) in the data block";
      throw new CliError(renderRun([diag("noSplit", program.data?.span ?? FILE_START, [split], { hint })], file, source));
    }
    n = Math.min(data.n, limit);
    x = data.x.subarray(0, n * size);
    y = data.y.subarray(0, n * K);
    from = `the ${split} split`;
  }
  return {
    file,
    source,
    program,
    model,
    preprocess,
    x,
    y,
    n,
    featureNames: featureNames(program, preprocess, size, model.meta.inputShape),
    classes: preprocess.classes,
    from,
    trainX: async () => (await sessionOf()).data.train,
  };
}

export { csvCell } from "../../runtime/csv.js";

/**
 * The training report's attribution sections (`runtime/explain-report.ts`) for a classifier
 * with a test split: the program compiled again with its explain methods, given the trained
 * weights. None for other tasks, or a model whose input takes no gradient (integer tokens).
 */
export function reportAttributions(program: Program, trained: CompiledModel, data: PreparedData, task: Task, kernels: "js" | "wasm"): ReportSection[] {
  if (data.test === undefined || (task.kind !== "multiclass" && task.kind !== "binary")) return [];
  const compiled = compileToModule(program, { maxBatch: trained.meta.maxBatch, dtype: "float32", kernels, explain: true });
  if (compiled.value === undefined || hasErrors(compiled.diagnostics)) return [];
  const model = compiled.value.createModel();
  if (!isExplainModel(model) || model.meta.explain?.inputGradient !== true) return [];
  const names = featureNames(program, data.preprocess, model.meta.inputSize, model.meta.inputShape);
  return attributionSections(trained, model, data.test, { featureNames: names, ...(data.preprocess.classes ? { classes: data.preprocess.classes } : {}) });
}
