/**
 * `nnc quantize FILE [--weights W] [--calibrate N] [--calibration minmax|percentile] -o model.q.js`:
 * post-training int8 quantization (`runtime/quantize.ts`). Writes one dependency-free inference
 * module (forward and predict, its int8 weights embedded) and prints, before and after: the
 * weights' size, the test accuracy (or error) and the inference throughput against the float32
 * model on WebAssembly SIMD kernels, with the layers that run in int8 and the float steps named.
 */
import type { Command } from "commander";
import { statSync } from "node:fs";
import { diag } from "../../grammar/diagnostics.js";
import { formatCode } from "../../compiler/format.js";
import { FILE_START } from "../../grammar/span.js";
import { CALIBRATIONS, PERCENTILE, type Calibration } from "../../compiler/quantize/scheme.js";
import { compareThroughput, instantiate, quantize, score } from "../../runtime/quantize.js";
import { fmt, predictAll } from "../../runtime/train.js";
import { writeFileAtomic } from "../../runtime/node/atomic.js";
import { compileModel } from "../../runtime/node/model.js";
import { readWeights } from "../../runtime/node/weights-file.js";
import { CliError } from "../errors.js";
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
  const calibrate = Number(opts.calibrate);
  if (!/^\d+$/.test(opts.calibrate.trim()) || calibrate < 1) refuse("quantizeCalibrate", [opts.calibrate, "the training samples"], calibrateHint);
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
      const quantized = instantiate(int8.js);
      const before = score(predictAll(model, data.x, data.n), data, session.task, model.meta.outputSize);
      const after = score(quantized.forward(data.x, data.n), data, session.task, model.meta.outputSize);
      const split = session.data.test ? "test" : "validation";
      const batch = 64;
      const speed = compareThroughput((x, n) => model.forward(x, n, false), (x, n) => quantized.forward(x, n), data, model.meta.inputSize, batch);
      const [speedBefore, speedAfter] = [speed.a, speed.b];
      lines.push(
        `${split} ${before.metric} (${data.n} samples)`,
        `  float32: ${fmt(before.value)}`,
        `  int8:    ${fmt(after.value)} (${after.value >= before.value ? "+" : ""}${fmt(after.value - before.value)})`,
        `inference, batches of ${batch} (each timed twice in turns, the better kept)`,
        `  float32 (WebAssembly SIMD kernels): ${Math.round(speedBefore)} samples/s`,
        `  int8:                               ${Math.round(speedAfter)} samples/s (${(speedAfter / speedBefore).toFixed(2)}×)`,
      );
    }
  }
  process.stdout.write(lines.join("\n") + "\n");
}
