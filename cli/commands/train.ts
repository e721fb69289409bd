/**
 * `nnc train FILE`: trains the model on the file's data, with a progress bar, checkpoints
 * (`--resume` continues bit-for-bit), a weights file, a test evaluation and an HTML report.
 */
import type { Command } from "commander";
import { existsSync, rmSync } from "node:fs";
import { basename, relative } from "node:path";
import type { CompiledModel } from "../../compiler/model-api.js";
import type { Program } from "../../compiler/program.js";
import { diag, type Diagnostic } from "../../grammar/diagnostics.js";
import { FILE_START } from "../../grammar/span.js";
import type { RunIdentity } from "../../runtime/checkpoint.js";
import { runIdentity } from "../../runtime/session.js";
import { renderReport, runSetup } from "../../runtime/report.js";
import { fmt, type FinalWeights } from "../../runtime/train.js";
import { evaluate } from "../../runtime/batches.js";
import { encodeWeights } from "../../runtime/weights.js";
import { defaultOut, failOnErrors, formatConfusion, openSession, renderRun, WEIGHTS_FILE } from "../session.js";
import { intOption, seedOption, KERNELS_HELP, kernelsOption, SHARDS_HELP, WORKERS_HELP } from "../options.js";
import { compileModel } from "../../runtime/node/model.js";
import { DEFAULT_SHARDS, defaultThreads, moduleCode, ShardedStepper, WorkerLost } from "../../runtime/node/shards.js";
import { shardingMacs } from "../../compiler/work.js";
import { availableParallelism } from "node:os";
import { CheckpointWriter, readCheckpoint } from "../../runtime/node/checkpoint.js";
import { exitCodeOf, ignoreLostTerminal, Interrupts, shellLine } from "../../runtime/node/interrupt.js";
import { RunOutput, type SpaceNeeds } from "../../runtime/node/output.js";
import { Progress, progressMode } from "../../runtime/node/progress.js";
import { describeSparsity } from "../../runtime/prune.js";
import { CliError } from "../errors.js";
import { loadProgram } from "../load.js";
import { reportAttributions } from "./explain-common.js";
import { calibrateProblem, kernelsLabel, quantizeTrained } from "./quantize.js";
import { INT8_FILE, INT8_MODULE_FILE } from "../../runtime/quantize-weights.js";
import { comparisonRows } from "../../runtime/quantize.js";

interface TrainOptions {
  epochs?: string;
  seed?: string;
  out?: string;
  resume?: boolean;
  quiet?: boolean;
  json?: boolean;
  kernels?: string;
  workers?: string;
  shards?: string;
}

export const CHECKPOINT_FILE = "checkpoint.nnck";
export const REPORT_FILE = "report.html";
/** Every file a run writes in its output folder. */
const RUN_FILES = [CHECKPOINT_FILE, WEIGHTS_FILE, REPORT_FILE, INT8_MODULE_FILE, INT8_FILE];

export { defaultOut, WEIGHTS_FILE };

export function registerTrain(program: Command): void {
  program
    .command("train")
    .description("train the model on its data; writes weights, checkpoints and a report")
    .argument("<file>", ".nn file")
    .option("--epochs <n>", "override the number of epochs")
    .option("--seed <n>", "override the initializer and shuffle seeds")
    .option("--out <dir>", "output folder (default: runs/<file name>)")
    .option("--resume", "continue from the checkpoint in the output folder")
    .option("--quiet", "print only the final result")
    .option("--json", "print one JSON object per epoch (for scripts)")
    .option("--kernels <kind>", KERNELS_HELP)
    .option("--workers <n>", WORKERS_HELP)
    .option("--shards <n>", SHARDS_HELP)
    .action(async (file: string, opts: TrainOptions) => {
      await train(file, opts);
    });
}

async function train(file: string, opts: TrainOptions): Promise<void> {
  const format = opts.json ? "json" : "text";
  const loaded = loadProgram(file, format);
  const { program, source } = loaded;
  const epochs = intOption(opts.epochs, "--epochs", 1);
  const seed = seedOption(opts.seed);
  const workers = intOption(opts.workers, "--workers", 1);
  const shards = intOption(opts.shards, "--shards", 1);
  if (workers !== undefined && workers > 64) throw new CliError(`nnc train: --workers must be at most 64, but is \`${workers}\``, 2);
  const kernels = kernelsOption(opts.kernels, "train");
  const compiled = compileModel(program, "float32", kernels);
  failOnErrors(compiled.diagnostics, file, source, format);
  const out = opts.out ?? defaultOut(file);
  const again = (...extra: string[]): string =>
    shellLine([
      "nnc", "train", file, "--out", out, ...extra,
      ...(epochs !== undefined ? ["--epochs", String(epochs)] : []),
      ...(seed !== undefined ? ["--seed", String(seed)] : []),
      ...(opts.kernels !== undefined ? ["--kernels", opts.kernels] : []),
      ...(workers !== undefined ? ["--workers", String(workers)] : []),
      ...(shards !== undefined ? ["--shards", String(shards)] : []),
    ]);
  // Sharded data parallelism (`runtime/node/shards.ts`) when asked for, or by default for a step
  // worth it (`defaultThreads`); the worker threads load the same generated JavaScript as the
  // main thread's model.
  const told = workers !== undefined || shards !== undefined;
  const macs = told ? undefined : shardingMacs(program);
  const threads = told ? (workers ?? 1) : defaultThreads(macs, availableParallelism());
  const sharding = threads !== undefined ? { workers: threads, shards: shards ?? DEFAULT_SHARDS, code: threads > 1 ? moduleCode(program, "float32", kernels, compiled.value!.meta.maxBatch) : undefined, ...(told ? {} : { chosen: macs! }) } : undefined;
  // Before any data is read: the folder exists, is this run's alone, and can hold a checkpoint.
  const opened = RunOutput.open(out, RUN_FILES, spaceNeeds(program, compiled.value!, epochs), shellLine(["nnc", ...process.argv.slice(2)]));
  failOnErrors(opened.diagnostics, file, source, format);
  const output = opened.value!;
  try {
    await trainInto(output, { file, source, program, model: compiled.value!, format, opts, again, ...(epochs !== undefined ? { epochs } : {}), ...(seed !== undefined ? { seed } : {}), ...(sharding ? { sharding } : {}) });
  } finally {
    output.release();
  }
}

interface Run {
  readonly file: string;
  readonly source: string;
  readonly program: Program;
  readonly model: CompiledModel;
  readonly format: "text" | "json";
  readonly opts: TrainOptions;
  readonly epochs?: number;
  readonly seed?: number;
  /** This command line again, with `extra` (e.g. --resume). */
  readonly again: (...extra: string[]) => string;
  /**
   * `--workers`/`--shards`, or the default for a large step (`chosen`: its multiply-adds): each
   * batch as fixed shards, summed in order (`runtime/node/shards.ts`).
   */
  readonly sharding?: { readonly workers: number; readonly shards: number; readonly code: string | undefined; readonly chosen?: number };
}

async function trainInto(output: RunOutput, run: Run): Promise<void> {
  const { file, source, program, format, opts } = run;
  const session = await openSession(
    file,
    source,
    program,
    {
      ...(run.epochs !== undefined ? { epochs: run.epochs } : {}),
      ...(run.seed !== undefined ? { seed: run.seed } : {}),
    },
    undefined,
    run.model,
    format,
  );
  const { trainer, model, data, task, hash } = session;
  const calibrate = calibrateProblem(program, data.train.n);
  if (calibrate) throw new CliError(renderRun([calibrate], file, source, format));
  const out = output.dir;
  const ckptPath = output.path(CHECKPOINT_FILE);
  const progress = new Progress(progressMode(opts, process.stderr), trainer.config.epochs, trainer.batches);
  progress.every = program.train.printEvery ?? 1;
  const fail = (d: Diagnostic): never => {
    throw new CliError(renderRun([d], file, source, format));
  };
  let identity: RunIdentity | undefined;
  const runId = (): RunIdentity => (identity ??= runIdentity(trainer.config, data));

  /** What a checkpoint on disk holds, for the messages of an interrupted run. */
  let saved: string | undefined;
  if (opts.resume && existsSync(ckptPath)) {
    const c = readCheckpoint(ckptPath, ckptPath, hash, model.params.length, {
      identity: runId,
      batches: trainer.batches,
      epochs: trainer.config.epochs,
      fileSeeds: { seed: program.model.seed, shuffleSeed: program.data?.shuffleSeed ?? 0 },
      optimizerCount: model.getState().optimizer.length,
      ...(data.preprocess.classes !== undefined ? { classes: data.preprocess.classes } : {}),
    });
    failOnErrors(c.diagnostics, file, source, format);
    trainer.restore(c.value!.state);
    const inside = trainer.batchesDone > 0 ? `in epoch ${trainer.epoch + 1}, after batch ${trainer.batchesDone} of ${trainer.batches}` : `after epoch ${trainer.epoch}`;
    saved = `the checkpoint it resumed from (${inside})`;
    progress.note(`resuming from ${ckptPath} ${inside}`);
  } else {
    if (opts.resume) failOnErrors([{ ...diag("noCheckpoint", FILE_START, [out]), file: out }], file, source, format);
    trainer.init();
  }

  // Each full segment of the history is written once, beside the checkpoint: saving every
  // epoch stays linear in the run's length.
  const checkpoints = new CheckpointWriter(output, CHECKPOINT_FILE);
  const save = (): void => {
    const d = checkpoints.write(trainer.state(), hash, model.meta.name, data.preprocess, runId());
    if (d) fail(d);
  };
  // Ctrl-C / SIGTERM: the first finishes the batch, saves and exits 130 / 143. From then on a
  // signal has its default action again, so a second one ends the process at once (even in the
  // middle of the checkpoint write, which leaves the previous checkpoint whole); two that arrive
  // together during a long batch are handled here.
  const stop = new Interrupts(
    (sig) => {
      if (sig === "SIGHUP") ignoreLostTerminal();
      progress.restoreTerminal();
      const key = sig === "SIGINT" ? "Ctrl-C" : sig;
      if (!opts.json) process.stderr.write(`${key}: stopping after this batch to save a checkpoint (${key} again stops at once, without saving)\n`);
    },
    (sig) => {
      progress.restoreTerminal();
      const what = saved ? `the batches since ${saved} are lost` : "no checkpoint was written";
      const hint = saved ? `resume with: ${run.again("--resume")}` : `start again with: ${run.again()}`;
      process.stderr.write(renderRun([{ ...diag("stoppedUnsaved", FILE_START, [sig, what], { hint }), file: out }], file, source, format));
      output.release();
      process.exit(exitCodeOf(sig));
    },
  );
  const every = program.train.checkpointEvery;
  let lastCheckpoint = trainer.epoch;
  let interrupted: string | undefined;
  const sharding = run.sharding;
  if (sharding?.chosen !== undefined && format === "text" && !opts.quiet) {
    const t = sharding.workers;
    process.stderr.write(`${t} thread${t > 1 ? "s" : ""}: each batch as ${sharding.shards} shards summed in order (${Math.round(sharding.chosen / 1e6)} M multiply-adds a step; the weights are the same with any --workers)\n`);
  }
  const stepper = sharding ? new ShardedStepper(model, { workers: sharding.workers, shards: sharding.shards, seed: trainer.config.seed, ...(sharding.code !== undefined ? { code: sharding.code } : {}) }) : undefined;
  trainer.stepper = stepper;
  let lost: WorkerLost | undefined;
  stop.install();
  try {
    while (!trainer.done) {
      progress.beginEpoch(trainer.epoch + 1, trainer.batchesDone);
      trainer.beginEpoch();
      const t0 = performance.now();
      for (let b = trainer.step(); b; b = trainer.step()) {
        progress.batch(b, b.samples / Math.max(1e-9, (performance.now() - t0) / 1000), () => trainer.running());
        const turn = stop.poll();
        if (turn) await turn;
        if (stop.requested && b.batch < b.batches) break;
      }
      if (stop.requested) stop.uninstall();
      if (stop.requested && !trainer.diverged && trainer.batchesDone < trainer.batches) {
        interrupted = `in epoch ${trainer.epoch + 1}, after batch ${trainer.batchesDone} of ${trainer.batches}`;
        save();
        break;
      }
      const record = trainer.endEpoch();
      if (!record) break;
      progress.epoch(record, trainer.stopReason);
      const due = (every > 0 && trainer.epoch % every === 0) || trainer.done;
      if (due) save();
      // A signal that came during the epoch's end or its checkpoint write stops the run here.
      await stop.poll(0);
      if (stop.requested && !trainer.done) {
        stop.uninstall();
        if (!due) save();
        interrupted = `after epoch ${trainer.epoch}`;
      }
      if (due || interrupted !== undefined) {
        lastCheckpoint = trainer.epoch;
        saved = `the checkpoint of epoch ${trainer.epoch}`;
      }
      if (interrupted !== undefined) break;
    }
  } catch (e) {
    if (!(e instanceof WorkerLost)) throw e;
    lost = e;
  } finally {
    stop.uninstall();
    progress.restoreTerminal();
    trainer.stepper = undefined;
    await stepper?.close();
  }
  if (lost) {
    // The failed batch changed nothing (the update comes after every shard), and nothing is written now.
    const hint = saved ? `${saved} is kept in ${ckptPath}; resume with: ${run.again("--resume")}` : `no checkpoint was written yet; start again with: ${run.again()}`;
    throw new CliError(renderRun([{ ...diag("workerLost", FILE_START, [trainer.epoch + 1, trainer.batchesDone + 1, lost.message], { hint }), file: out }], file, source, format));
  }
  if (interrupted !== undefined && stop.requested) {
    const sig = stop.requested;
    const resume = run.again("--resume");
    if (opts.json) process.stdout.write(JSON.stringify({ event: "interrupted", signal: sig, epoch: trainer.epoch, batch: trainer.batchesDone, batches: trainer.batches, checkpoint: ckptPath, resume }) + "\n");
    throw new CliError(renderRun([{ ...diag("interrupted", FILE_START, [sig, interrupted, ckptPath], { hint: `resume with: ${resume}` }), file: out }], file, source, format), exitCodeOf(sig));
  }
  if (trainer.diverged) {
    const kept = lastCheckpoint > 0 ? `; the last good checkpoint (epoch ${lastCheckpoint}) is kept in ${ckptPath}` : "";
    const d = trainer.diverged;
    throw new CliError(renderRun([{ ...d, hint: `${d.hint ?? ""}${kept}` }], file, source, format));
  }

  /** The run is in the checkpoint: a failed write of its results can be redone from it. */
  const write = (name: string, content: () => Uint8Array | string): void => {
    const d = output.write(name, content(), `The trained run is in ${ckptPath}: once ${out} can be written, \`${run.again("--resume")}\` writes the weights and report again`);
    if (d) fail(d);
  };

  // Results: weights (the best epoch's when early stopping kept them), test figures, report.
  const final = trainer.finalWeights();
  if (final) progress.note(describeFinal(final, trainer.epoch));
  const best = final ? { monitor: final.monitor, value: final.bestValue, epoch: final.bestEpoch, restored: final.restored } : undefined;
  const weightsEpoch = final?.epoch ?? trainer.epoch;
  const weightsPath = output.path(WEIGHTS_FILE);
  write(WEIGHTS_FILE, () => encodeWeights(model, data.preprocess, task, trainer.epoch, best));
  // `quantize`: the int8 module and its weights beside weights.json (an earlier run's are removed, they belong to other weights).
  const kernels = kernelsOption(opts.kernels, "train");
  const quantized = program.train.quantize ? await quantizeTrained(program, model, data, task, kernels, write) : undefined;
  if (!quantized) for (const f of [INT8_MODULE_FILE, INT8_FILE]) rmSync(output.path(f), { force: true });
  const metrics = program.metrics.map((m) => m.kind);
  const wantConfusion = task.kind === "multiclass" || task.kind === "binary";
  const test = data.test ? evaluate(model, data.test, task, wantConfusion ? [...metrics, "confusion_matrix"] : metrics) : undefined;
  const last = trainer.history.at(-1);
  const summary: Record<string, string | number> = {
    model: model.meta.name,
    parameters: model.meta.paramCount,
    epochs: trainer.epoch,
    ...(trainer.stopReason ? { stopped: trainer.stopReason } : {}),
    ...(final ? { "best epoch": `${final.bestEpoch} (${final.monitor} ${fmt(final.bestValue)})` } : {}),
    "weights from": final?.restored ? `epoch ${weightsEpoch} (the best, restored)` : `epoch ${weightsEpoch} (the last)`,
    ...(trainer.pruner ? { sparsity: describeSparsity(trainer.pruner, model.params) } : {}),
  };
  const kept = final?.restored && final.bestEpoch !== trainer.epoch ? trainer.history.find((h) => h.epoch === final.bestEpoch) : undefined;
  if (kept) for (const [k, v] of Object.entries(kept.values)) summary[`epoch ${kept.epoch} ${k} (the weights)`] = v;
  if (last) for (const [k, v] of Object.entries(last.values)) summary[`${kept ? "last epoch" : "final"} ${k}`] = v;
  if (test) for (const [k, v] of Object.entries(test)) if (typeof v === "number") summary[`test ${k}`] = v;
  const reportPath = output.path(REPORT_FILE);
  const sections = reportAttributions(program, model, data, task, kernels);
  const c = quantized?.comparison;
  const tables = c ? [{ title: "int8 quantization", note: `${INT8_MODULE_FILE} and ${INT8_FILE}: the products of ${quantized.result.int8.int8.join(", ")} in int8, calibrated by ${program.train.quantize!.calibration} on ${quantized.result.calibrated} training samples; throughput in samples per second.`, head: ["", "float32", "int8", "change"], rows: comparisonRows(c, kernelsLabel(kernels)) }] : [];
  write(REPORT_FILE, () =>
    renderReport({
      setup: runSetup(program, data, trainer.history),
      ...(sections.length > 0 ? { sections } : {}),
      ...(tables.length > 0 ? { tables } : {}),
      title: `nnc train ${basename(file)} — ${model.meta.name}`,
      history: trainer.history,
      summary,
      ...(test?.confusion ? { confusion: test.confusion } : {}),
      ...(data.preprocess.classes ? { classes: data.preprocess.classes } : {}),
      ...(final ? { best: { epoch: final.bestEpoch, label: `best ${final.monitor}` } } : {}),
    }),
  );

  if (opts.json) {
    const testValues = test ? Object.fromEntries(Object.entries(test).filter(([, v]) => typeof v === "number")) : undefined;
    process.stdout.write(
      JSON.stringify({ event: "done", epochs: trainer.epoch, weightsEpoch, ...(best ? { best } : {}), ...(testValues ? { test: testValues } : {}), ...(test?.confusion ? { confusion: test.confusion } : {}), ...(quantized ? { quantized: quantized.comparison ?? {}, int8: output.path(INT8_FILE) } : {}), weights: weightsPath, checkpoint: ckptPath, report: reportPath }) + "\n",
    );
    return;
  }
  const testLine = test
    ? "test " + Object.entries(test).filter(([, v]) => typeof v === "number").map(([k, v]) => `${k} ${fmt(v as number)}`).join("  ")
    : "no test split";
  process.stdout.write(`${testLine}\n`);
  if (trainer.pruner) process.stdout.write(`sparsity ${describeSparsity(trainer.pruner, model.params)}\n`);
  if (quantized) process.stdout.write(quantized.text);
  if (test?.confusion && !opts.quiet && metrics.includes("confusion_matrix")) {
    process.stdout.write(formatConfusion(test.confusion, data.preprocess.classes));
  }
  if (!opts.quiet) {
    process.stdout.write(`weights ${rel(weightsPath)}  checkpoint ${rel(ckptPath)}  report ${rel(reportPath)}\n`);
  }
}

/** The line that says which epoch the saved weights come from. */
export function describeFinal(f: FinalWeights, last: number): string {
  const best = `best ${f.monitor} ${fmt(f.bestValue)} at epoch ${f.bestEpoch}`;
  if (!f.restored) return `${best}; the weights are the last epoch's (${last}): restore_best is false`;
  if (f.bestEpoch === last) return `${best}, the last: the weights are that epoch's`;
  return `${best}: the weights are that epoch's, restored (training ran to epoch ${last})`;
}

/**
 * What the run will write, for the free-space check before training: one checkpoint (a lower
 * bound: its arrays), and everything (the checkpoint with its history, the weights as JSON
 * text, the report), roughly.
 */
function spaceNeeds(program: Program, model: CompiledModel, epochs: number | undefined): SpaceNeeds {
  const el = model.meta.dtype === "float64" ? 8 : 4;
  const p = model.params.length;
  const arrays = p + model.getState().optimizer.length + (program.train.earlyStop ? p : 0);
  const checkpoint = 512 + arrays * el;
  const e = epochs ?? program.train.epochs;
  const weights = 4096 + p * 14 + model.layout.length * 128 + model.meta.inputSize * 48;
  // The charts per epoch, and the attributions of two test samples per class (a path per pixel and shade, at most).
  const report = 32768 + e * 600 + model.meta.inputSize * Math.max(2, model.meta.outputSize) * 200;
  return { checkpoint, total: checkpoint + e * 300 + model.meta.inputSize * 48 + weights + report };
}

function rel(p: string): string {
  return relative(process.cwd(), p) || p;
}
