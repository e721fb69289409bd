/**
 * `nnc gradcheck FILE`: compiles the model in float64 and compares its backward pass with
 * central finite differences on random inputs and labels, per parameter tensor.
 *
 * `gradcheck(module)` is the check itself (no Node APIs; the tests use it too). Points where
 * the loss has a kink between x − h and x + h (relu, mae, huber…) are detected — the one-sided
 * differences disagree — and skipped, and counted.
 */
import type { Command } from "commander";
import type { GeneratedModule } from "../../compiler/model-api.js";
import { compileToModule } from "../../compiler/load.js";
import { hasErrors } from "../../grammar/diagnostics.js";
import { CliError } from "../errors.js";
import { intOption, seedOption } from "../options.js";
import { loadProgram, renderFor } from "../load.js";
import { streamFrom } from "../../runtime/rng.js";

export interface TensorCheck {
  readonly name: string;
  /** Worst relative error |a − f| / max(|a|, |f|, 1e-3) over the checked entries. */
  readonly maxRelError: number;
  readonly checked: number;
  /** Entries skipped because a kink lies within the finite-difference step. */
  readonly skipped: number;
}

export interface GradcheckOptions {
  readonly seed?: number;
  /** Samples in the random batch (default min(4, maxBatch)). */
  readonly batch?: number;
  /** Entries checked per tensor; all when the tensor is smaller (default 24). */
  readonly perTensor?: number;
  /** Finite-difference step (default 1e-5). */
  readonly h?: number;
  /** The batch's inputs, n × inputSize (default: uniform in [−1, 1]; token ids need their own). */
  readonly x?: (i: number) => number;
}

export interface GradcheckResult {
  readonly tensors: readonly TensorCheck[];
  readonly worst: number;
}

/** Random labels that fit the loss: one-hot rows, 0/1 values, or regression targets. */
export function randomLabels(loss: string, n: number, outputs: number, rand: () => number, classes = outputs): Float64Array {
  const y = new Float64Array(n * outputs);
  for (let r = 0; r < n; r++) {
    // Cross-entropy: one class in each row of `classes` (one per sample, or per step of a sequence).
    if (loss === "cross_entropy") for (let o = 0; o < outputs; o += classes) y[r * outputs + o + Math.floor(rand() * classes)] = 1;
    else for (let j = 0; j < outputs; j++) y[r * outputs + j] = loss === "binary_cross_entropy" ? (rand() < 0.5 ? 0 : 1) : 2 * rand() - 1;
  }
  return y;
}

export function gradcheck(mod: GeneratedModule, options: GradcheckOptions = {}): GradcheckResult {
  const rand = streamFrom(options.seed ?? 1);
  const model = mod.createModel();
  model.init(options.seed ?? 1);
  const meta = model.meta;
  const n = Math.min(options.batch ?? 4, meta.maxBatch);
  const h = options.h ?? 1e-5;
  const x = new Float64Array(n * meta.inputSize).map((_, i) => (options.x !== undefined ? options.x(i) : 2 * rand() - 1));
  const y = randomLabels(meta.loss, n, meta.outputSize, rand, meta.outputShape[meta.outputShape.length - 1]);
  const state = model.getState();
  const params = model.params;
  // Every evaluation restarts the dropout generator, so each sees the same mask.
  const evaluate = (): number => {
    model.setState({ params, optimizer: state.optimizer, step: state.step, rng: state.rng });
    return model.lossAndGrad(x, y, n);
  };
  evaluate();
  const analytic = Float64Array.from(model.grads);
  const tensors: TensorCheck[] = [];
  for (const entry of model.layout) {
    if (!entry.trainable) continue;
    const count = Math.min(entry.size, options.perTensor ?? 24);
    const picks = count === entry.size ? [...Array(entry.size).keys()] : Array.from({ length: count }, () => Math.floor(rand() * entry.size));
    let worst = 0;
    let skipped = 0;
    for (const k of picks) {
      const i = entry.offset + k;
      const saved = params[i] as number;
      params[i] = saved + h;
      const plus = evaluate();
      params[i] = saved - h;
      const minus = evaluate();
      params[i] = saved;
      const mid = evaluate();
      const numeric = (plus - minus) / (2 * h);
      const right = (plus - mid) / h;
      const left = (mid - minus) / h;
      if (Math.abs(right - left) > 1e-3 * Math.max(1e-2, Math.abs(numeric))) {
        skipped++;
        continue;
      }
      const a = analytic[i] as number;
      const rel = Math.abs(a - numeric) / Math.max(Math.abs(a), Math.abs(numeric), 1e-3);
      if (rel > worst) worst = rel;
    }
    tensors.push({ name: entry.name, maxRelError: worst, checked: picks.length - skipped, skipped });
  }
  return { tensors, worst: tensors.reduce((a, t) => Math.max(a, t.maxRelError), 0) };
}

export const GRADCHECK_TOLERANCE = 1e-6;

export function registerGradcheck(program: Command): void {
  program
    .command("gradcheck")
    .description("check the generated gradients against finite differences (float64)")
    .argument("<file>", "the .nn file")
    .option("--seed <n>", "seed of the random inputs and labels", "1")
    .option("--per-tensor <n>", "entries checked per parameter tensor", "24")
    .action((file: string, opts: { seed: string; perTensor: string }) => {
      const seed = seedOption(opts.seed)!;
      const perTensor = intOption(opts.perTensor, "--per-tensor", 1, 1_000_000)!;
      const loaded = loadProgram(file);
      const compiled = compileToModule(loaded.program, { dtype: "float64" });
      if (compiled.value === undefined || hasErrors(compiled.diagnostics)) {
        throw new CliError(renderFor(compiled.diagnostics.map((d) => ({ ...d, file })), loaded.source, "text", process.stderr));
      }
      const result = gradcheck(compiled.value, { seed, perTensor });
      const width = Math.max(...result.tensors.map((t) => t.name.length), 6);
      const lines = [`${"tensor".padEnd(width)}  max rel. error  checked  skipped (kink)`];
      for (const t of result.tensors) {
        lines.push(`${t.name.padEnd(width)}  ${t.maxRelError.toExponential(2).padStart(14)}  ${String(t.checked).padStart(7)}  ${String(t.skipped).padStart(7)}`);
      }
      const ok = result.worst <= GRADCHECK_TOLERANCE;
      lines.push(`${ok ? "ok" : "FAILED"}: worst relative error ${result.worst.toExponential(2)} (tolerance ${GRADCHECK_TOLERANCE})`);
      process.stdout.write(lines.join("\n") + "\n");
      process.exitCode = ok ? 0 : 1;
    });
}
