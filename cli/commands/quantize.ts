/**
 * `nnc quantize FILE [--weights W] [--calibrate N] [--calibration minmax|percentile] -o model.q.js`:
 * post-training int8 quantization (`runtime/quantize.ts`). Writes one dependency-free inference
 * module (forward and predict, its int8 weights embedded) and prints, before and after: the
 * weights' size, the test accuracy (or error) and the inference throughput against the float32
 * model on WebAssembly SIMD kernels, with the layers that run in int8 and the float steps named.
 */
import type { Command } from "commander";
import { existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import type { CompiledModel } from "../../compiler/model-api.js";
import type { Program } from "../../compiler/program.js";
import { planOf, type Plan } from "../../compiler/quantize/plan.js";
import { emitQuantized } from "../../compiler/quantize/emit.js";
import { floatBytes, int8Bytes } from "../../compiler/quantize/scheme.js";
import { decodeInt8Weights, encodeInt8Weights, INT8_FILE, INT8_MODULE_FILE, type Int8Weights } from "../../runtime/quantize-weights.js";
import { readBoundedText } from "../../runtime/node/read.js";
import { diag, type Diagnostic } from "../../grammar/diagnostics.js";
import { formatCode } from "../../compiler/format.js";
import { FILE_START } from "../../grammar/span.js";
import { CALIBRATIONS, PERCENTILE, type Calibration } from "../../compiler/quantize/scheme.js";
import { compareQuantized, formatComparison, instantiate, quantize, type Comparison, type Quantized } from "../../runtime/quantize.js";
import type { Task } from "../../runtime/metrics.js";
import type { PreparedData } from "../../runtime/prepare.js";
import { fmt } from "../../runtime/train.js";
import { writeFileAtomic } from "../../runtime/node/atomic.js";
import { compileModel } from "../../runtime/node/model.js";
import { readWeights } from "../../runtime/node/weights-file.js";
import { CliError } from "../errors.js";
import { wholeIn } from "../options.js";
import { loadProgram, renderFor } from "../load.js";
import { failOnErrors, openSession, renderRun, weightsPathOf } from "../session.js";

interface QuantizeOptions {
  weights?: string;
  output: string;
  calibrate: string;
  calibration: string;
  /** Commander's negation of --no-measure. */
  measure: boolean;
}

export function registerQuantize(program: Command): void {
  program
    .command("quantize")
    .description("post-training int8 quantization: an inference module with int8 products in WebAssembly SIMD")
    .argument("<file>", ".nn file")
    .option("--weights <file>", "weights file written by `nnc train` (default: runs/<file name>/weights.json)")
    .requiredOption("-o, --output <file>", "the module to write, e.g. model.q.js")
    .option("--calibrate <n>", "training samples that set the activations' ranges", "1000")
    .option("--calibration <how>", `minmax, or percentile (${100 - PERCENTILE}% and ${PERCENTILE}% quantiles)`, "minmax")
    .option("--no-measure", "skip the accuracy and speed comparison")
    .action(async (file: string, opts: QuantizeOptions) => {
      await quantizeCommand(file, opts);
    });
}

async function quantizeCommand(file: string, opts: QuantizeOptions): Promise<void> {
  const { program, source } = loadProgram(file);
  const refuse = (name: "quantizeCalibrate" | "quantizeCalibration", args: (string | number)[], hint: string): never => {
    throw new CliError(renderRun([diag(name, FILE_START, args, { hint })], file, source), 2);
  };
  const calibrateHint = "e.g. --calibrate 1000 (the first samples of the training split)";
  const calibrate = wholeIn(opts.calibrate, 1, Number.MAX_SAFE_INTEGER) ?? refuse("quantizeCalibrate", [opts.calibrate, "the training samples"], calibrateHint);
  if (!(CALIBRATIONS as readonly string[]).includes(opts.calibration)) refuse("quantizeCalibration", [opts.calibration], "use --calibration minmax or --calibration percentile");

  const compiled = compileModel(program, "float32");
  failOnErrors(compiled.diagnostics, file, source);
  const model = compiled.value!;
  const weightsPath = weightsPathOf(file, opts.weights, source);
  const w = readWeights(weightsPath, model);
  failOnErrors(w.diagnostics, file, source);
  const session = await openSession(file, source, program, {}, w.value!.preprocess, model);
  const train = session.data.train;
  if (calibrate > train.n) refuse("quantizeCalibrate", [opts.calibrate, train.n], `the training split holds ${train.n} samples`);

  const q = quantize(program.model, model, train, { calibrate, calibration: opts.calibration as Calibration });
  failOnErrors(q.diagnostics, file, source);
  const { int8, float, plan } = q.value!;
  const text = await formatCode(int8.js);
  const failed = writeFileAtomic(opts.output, text);
  if (failed) throw new CliError(renderFor([failed], undefined, "text", process.stderr));

  const kb = (b: number): string => `${(b / 1024).toFixed(1)} KiB`;
  const lines = [
    `wrote ${opts.output} (${kb(Buffer.byteLength(text))}): ${plan.name}, calibrated by ${opts.calibration} on ${calibrate} training samples`,
    `  int8 products (WebAssembly SIMD): ${int8.int8.join(", ") || "none"}`,
    `  float steps:                      ${int8.float.join(", ") || "none"}`,
    ...(plan.identities.length > 0 ? [`  nothing at inference:             ${plan.identities.join(", ")}`] : []),
    `weights`,
    `  float32: ${kb(statSync(weightsPath).size)} as ${weightsPath}; ${kb(float.payloadBytes)} as float32 values`,
    `  int8:    ${kb(int8.payloadBytes)} (int8 values, float32 scales and biases): ${(float.payloadBytes / int8.payloadBytes).toFixed(2)}× smaller than float32 values, ${(statSync(weightsPath).size / int8.payloadBytes).toFixed(1)}× smaller than ${weightsPath}`,
  ];
  if (opts.measure) {
    const data = session.data.test ?? session.data.validation;
    if (data) {
      const split = session.data.test ? "test" : "validation";
      const c = compareQuantized(model, instantiate(int8.js), { floatBytes: float.payloadBytes, int8Bytes: int8.payloadBytes }, data, split, session.task);
      lines.push(
        `${split} ${c.metric} (${data.n} samples)`,
        `  float32: ${fmt(c.before)}`,
        `  int8:    ${fmt(c.after)} (${c.after >= c.before ? "+" : ""}${fmt(c.after - c.before)})`,
        `inference, batches of ${c.batch} (each timed twice in turns, the better kept)`,
        `  float32 (WebAssembly SIMD kernels): ${Math.round(c.speedBefore)} samples/s`,
        `  int8:                               ${Math.round(c.speedAfter)} samples/s (${(c.speedAfter / c.speedBefore).toFixed(2)}×)`,
      );
    }
  }
  process.stdout.write(lines.join("\n") + "\n");
}

/** The label of the float32 kernels a comparison ran. */
export const kernelsLabel = (kernels: "js" | "wasm"): string => (kernels === "wasm" ? "float32 WebAssembly SIMD" : "float32 TypeScript");

/**
 * The int8 weights `nnc train` wrote beside a weights file (`weights.int8.json`), checked against
 * the model and those float weights, with the int8 module written again from them; undefined when
 * there is no such file, or (with a warning) when it was quantized from other float weights.
 */
export function int8Beside(weightsPath: string, program: Program, model: CompiledModel, file: string, source: string, format: "text" | "json" = "text", maxBatch = 64): Int8Run | undefined {
  const path = join(dirname(weightsPath), INT8_FILE);
  if (!existsSync(path)) return undefined;
  const planned = planOf(program.model, model.layout);
  failOnErrors(planned.diagnostics, file, source, format);
  const plan = planned.value!;
  const read = readBoundedText(path);
  if (!("text" in read)) failOnErrors([{ ...diag("fileNotFound", FILE_START, [path, read.why]), file: path }], file, source, format);
  const w = decodeInt8Weights((read as { text: string }).text, plan, Float32Array.from(model.params), path, weightsPath);
  failOnErrors(w.diagnostics, file, source, format);
  if (!w.value) return undefined; // from other float weights: warned, no comparison
  const js = emitQuantized(plan, { mode: "int8", layers: w.value!.layers, maxBatch, calibration: `Calibrated by ${w.value!.calibration} on ${w.value!.samples} training samples.` }).js;
  return { path, plan, weights: w.value!, js, sizes: { floatBytes: floatBytes(plan), int8Bytes: int8Bytes(w.value!.layers) } };
}

export interface Int8Run {
  /** The weights.int8.json read. */
  readonly path: string;
  readonly plan: Plan;
  readonly weights: Int8Weights;
  /** The int8 module's text (unformatted). */
  readonly js: string;
  readonly sizes: { readonly floatBytes: number; readonly int8Bytes: number };
}

/**
 * `quantize` in `train { … }`: after the run, the trained model quantized as `nnc quantize` does
 * (the first `calibrate` training samples), the int8 module and its weights written into the run
 * folder by `write`, and the comparison on the test split (else validation) measured.
 */
export async function quantizeTrained(
  program: Program,
  model: CompiledModel,
  data: PreparedData,
  task: Task,
  kernels: "js" | "wasm",
  write: (name: string, content: () => string) => void,
): Promise<{ readonly comparison?: Comparison; readonly text: string; readonly result: Quantized }> {
  const setting = program.train.quantize!;
  const q = quantize(program.model, model, data.train, { calibrate: setting.calibrate, calibration: setting.calibration });
  // The checker ran the same plan (NN2082): a refusal here is a bug.
  if (!q.value) throw new Error(`bug: the checked model does not quantize: ${q.diagnostics.map((d) => d.message).join("; ")}`);
  const { int8, plan, layers, calibrated } = q.value;
  const moduleText = await formatCode(int8.js);
  const weightsText = encodeInt8Weights(plan, Float32Array.from(model.params), { layers, calibration: setting.calibration, samples: calibrated });
  write(INT8_MODULE_FILE, () => moduleText);
  write(INT8_FILE, () => weightsText);
  const kb = (b: number): string => `${(b / 1024).toFixed(1)} KiB`;
  const lines = [
    `int8: ${INT8_MODULE_FILE} (${kb(Buffer.byteLength(moduleText))}) and ${INT8_FILE} (${kb(Buffer.byteLength(weightsText))}), calibrated by ${setting.calibration} on ${calibrated} training samples`,
    `  int8 products: ${int8.int8.join(", ") || "none"}; float steps: ${int8.float.join(", ") || "none"}`,
  ];
  const split = data.test ? "test" : data.validation ? "validation" : undefined;
  const on = data.test ?? data.validation;
  const comparison = on && split ? compareQuantized(model, instantiate(int8.js), { floatBytes: floatBytes(plan), int8Bytes: int8.payloadBytes }, on, split, task) : undefined;
  const table = comparison ? formatComparison(comparison, kernelsLabel(kernels)) : "  (no test or validation split to compare on)\n";
  return { ...(comparison ? { comparison } : {}), text: lines.join("\n") + "\n" + table, result: q.value };
}

/** The refusal before training of a `calibrate` larger than the training split (NN5053). */
export function calibrateProblem(program: Program, trainSamples: number): Diagnostic | undefined {
  const q = program.train.quantize;
  if (q === undefined || q.calibrate <= trainSamples) return undefined;
  return diag("quantizeCalibrateSplit", q.span, [q.calibrate, trainSamples], { hint: `e.g. \`quantize calibrate ${Math.min(trainSamples, 1000)}\` (the first samples of the training split)` });
}
