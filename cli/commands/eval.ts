/**
 * `nnc eval FILE [--weights W] [--data test|validation|train]`: the loss and every declared
 * metric on one split, and a confusion matrix for classifiers. The split is rebuilt exactly as
 * training built it (same seeds), and normalized with the statistics saved in the weights.
 * When `weights.int8.json` lies beside the weights (`quantize` in `train { … }`), also size,
 * accuracy and speed before and after int8 quantization on the same split (`--no-quantized`: not).
 */
import type { Command } from "commander";
import { diag } from "../../grammar/diagnostics.js";
import { FILE_START } from "../../grammar/span.js";
import { classScores, isClassifier, type ClassScores } from "../../runtime/metrics.js";
import { inert } from "../../runtime/inert.js";
import { fmt } from "../../runtime/train.js";
import { evaluate } from "../../runtime/batches.js";
import { failOnErrors, formatConfusion, openSession, renderRun, weightsPathOf } from "../session.js";
import { KERNELS_HELP, kernelsOption } from "../options.js";
import { compileModel } from "../../runtime/node/model.js";
import { readWeights } from "../../runtime/node/weights-file.js";
import { CliError } from "../errors.js";
import { loadProgram } from "../load.js";
import { compareQuantized, formatComparison, instantiate } from "../../runtime/quantize.js";
import { int8Beside, kernelsLabel } from "./quantize.js";

interface EvalOptions {
  weights?: string;
  data: string;
  json?: boolean;
  kernels?: string;
  /** Commander's negation of --no-quantized. */
  quantized: boolean;
}

const SPLITS = ["test", "validation", "train"] as const;
type SplitName = (typeof SPLITS)[number];

export function registerEval(program: Command): void {
  program
    .command("eval")
    .description("evaluate trained weights: loss, metrics and a confusion matrix")
    .argument("<file>", ".nn file")
    .option("--weights <file>", "weights file written by `nnc train` (default: runs/<file name>/weights.json)")
    .option("--data <split>", "test, validation or train", "test")
    .option("--json", "print the figures as one JSON object")
    .option("--kernels <kind>", KERNELS_HELP)
    .option("--no-quantized", "skip the before/after comparison with the int8 weights beside the weights file")
    .action(async (file: string, opts: EvalOptions) => {
      await evalCommand(file, opts);
    });
}

async function evalCommand(file: string, opts: EvalOptions): Promise<void> {
  const format = opts.json ? "json" : "text";
  if (!(SPLITS as readonly string[]).includes(opts.data))
    throw new CliError(`nnc eval: --data must be test, validation or train, but is \`${opts.data}\``, 2);
  const split = opts.data as SplitName;
  const { program, source } = loadProgram(file, format);
  const kernels = kernelsOption(opts.kernels, "eval");
  const compiled = compileModel(program, "float32", kernels);
  failOnErrors(compiled.diagnostics, file, source, format);
  const model = compiled.value!;
  const weightsPath = weightsPathOf(file, opts.weights, source, format);
  const w = readWeights(weightsPath, model);
  failOnErrors(w.diagnostics, file, source, format);
  const int8 = opts.quantized === false ? undefined : int8Beside(weightsPath, program, model, file, source, format);
  const session = await openSession(file, source, program, {}, w.value!.preprocess, model);
  const data = session.data[split];
  if (!data) {
    const hint = split === "validation" ? "declare `validation 10%` (or a source) in the data block" : "declare `test 20%` (or a source) in the data block";
    throw new CliError(renderRun([diag("noSplit", program.data?.span ?? FILE_START, [split], { hint })], file, source, format));
  }
  const metrics = program.metrics.map((m) => m.kind);
  const classifier = isClassifier(session.task);
  const v = evaluate(model, data, session.task, classifier ? [...metrics, "confusion_matrix"] : metrics);
  const classes = w.value!.preprocess.classes;
  // Per-class precision / recall / F1 beside their macro averages, when the file asks for any of them.
  const comparison = int8 ? compareQuantized(model, instantiate(int8.js), int8.sizes, data, split, session.task) : undefined;
  const perClass = v.confusion && metrics.some((m) => m === "precision" || m === "recall" || m === "f1") ? classScores(v.confusion) : undefined;
  if (opts.json) {
    const byClass = perClass ? { perClass: { precision: perClass.precision, recall: perClass.recall, f1: perClass.f1, support: perClass.support } } : {};
    process.stdout.write(JSON.stringify({ split, samples: data.n, ...v, ...byClass, ...(classes ? { classes } : {}), ...(comparison ? { quantized: comparison } : {}) }) + "\n");
    return;
  }
  const lines = [`${split}: ${data.n} samples`];
  for (const [k, x] of Object.entries(v)) if (typeof x === "number") lines.push(`  ${k.padEnd(10)} ${fmt(x)}`);
  const table = perClass ? formatClassScores(perClass, classes, session.task.kind === "binary") : "";
  const quantized = int8 && comparison ? `int8 (${inert(int8.path)}, calibrated by ${int8.weights.calibration} on ${int8.weights.samples} training samples)\n${formatComparison(comparison, kernelsLabel(kernels))}` : "";
  process.stdout.write(lines.join("\n") + "\n" + table + (v.confusion ? formatConfusion(v.confusion, classes) : "") + quantized);
}

/** One row per class (precision, recall, F1, support); for two classes also the positive class's figures, as scikit-learn's `average="binary"`. */
export function formatClassScores(s: ClassScores, classes: readonly string[] | undefined, binary: boolean): string {
  // Class names come from the data file: inert before they reach the terminal.
  const names = s.precision.map((_, i) => inert(classes?.[i] ?? String(i)));
  const width = Math.max(5, ...names.map((x) => x.length));
  const col = (x: string): string => x.padStart(9);
  const lines = [`  ${"class".padEnd(width)} ${col("precision")} ${col("recall")} ${col("f1")} ${col("support")}`];
  names.forEach((name, i) => lines.push(`  ${name.padEnd(width)} ${col(fmt(s.precision[i]!))} ${col(fmt(s.recall[i]!))} ${col(fmt(s.f1[i]!))} ${col(String(s.support[i]))}`));
  if (binary) lines.push(`  positive class ${names[1]}: precision ${fmt(s.precision[1]!)}, recall ${fmt(s.recall[1]!)}, f1 ${fmt(s.f1[1]!)}`);
  return lines.join("\n") + "\n";
}
