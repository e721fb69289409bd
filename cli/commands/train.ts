/**
 * `nnc train FILE`: trains the model on the file's data, with a progress bar, checkpoints
 * (`--resume` continues bit-for-bit), a weights file, a test evaluation and an HTML report.
 */
import type { Command } from "commander";
import { existsSync, mkdirSync } from "node:fs";
import { basename, extname, join, relative } from "node:path";
import { diag } from "../../grammar/diagnostics.js";
import { FILE_START } from "../../grammar/span.js";
import { encodeCheckpoint } from "../../runtime/checkpoint.js";
import { renderReport } from "../../runtime/report.js";
import { evaluate, fmt, type FinalWeights } from "../../runtime/train.js";
import { encodeWeights } from "../../runtime/weights.js";
import { failOnErrors, formatConfusion, openSession, renderRun } from "../session.js";
import { intOption, KERNELS_HELP, kernelsOption } from "../options.js";
import { compileModel } from "../../runtime/node/model.js";
import { readCheckpoint, removeStaleTemps, writeAtomic } from "../../runtime/node/checkpoint.js";
import { Progress, progressMode } from "../../runtime/node/progress.js";
import { CliError } from "../errors.js";
import { loadProgram } from "../load.js";

interface TrainOptions {
  epochs?: string;
  seed?: string;
  out?: string;
  resume?: boolean;
  quiet?: boolean;
  json?: boolean;
  kernels?: string;
}

export const CHECKPOINT_FILE = "checkpoint.nnck";
export const WEIGHTS_FILE = "weights.json";
export const REPORT_FILE = "report.html";

/** Default output folder: `runs/<name of the .nn file>` under the working directory. */
export function defaultOut(file: string): string {
  return join("runs", basename(file, extname(file)));
}

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
    .action(async (file: string, opts: TrainOptions) => {
      await train(file, opts);
    });
}

async function train(file: string, opts: TrainOptions): Promise<void> {
  const format = opts.json ? "json" : "text";
  const loaded = loadProgram(file, format);
  const { program, source } = loaded;
  const epochs = intOption(opts.epochs, "--epochs", 1);
  const seed = intOption(opts.seed, "--seed", 0);
  const compiled = compileModel(program, "float32", kernelsOption(opts.kernels, "train"));
  failOnErrors(compiled.diagnostics, file, source, format);
  const session = await openSession(
    file,
    source,
    program,
    {
      ...(epochs !== undefined ? { epochs } : {}),
      ...(seed !== undefined ? { seed } : {}),
    },
    undefined,
    compiled.value,
  );
  const { trainer, model, data, task, hash } = session;
  const out = opts.out ?? defaultOut(file);
  try {
    mkdirSync(out, { recursive: true });
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new CliError(renderRun([{ ...diag("cannotWrite", FILE_START, [out, why]), file: out }], file, source, format));
  }
  removeStaleTemps(out);
  const ckptPath = join(out, CHECKPOINT_FILE);
  const progress = new Progress(progressMode(opts, process.stderr), trainer.config.epochs, trainer.batches);

  if (opts.resume && existsSync(ckptPath)) {
    const c = readCheckpoint(ckptPath, ckptPath, hash, model.params.length);
    failOnErrors(c.diagnostics, file, source, format);
    trainer.restore(c.value!.state);
    progress.note(`resuming from ${ckptPath} after epoch ${trainer.epoch}`);
  } else {
    if (opts.resume) failOnErrors([{ ...diag("noCheckpoint", FILE_START, [out]), file: out }], file, source, format);
    trainer.init();
  }

  /** Writes a file of the run; a failure is NN5005, not a crash. */
  const write = (path: string, content: () => Uint8Array | string): void => {
    try {
      writeAtomic(path, content());
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw new CliError(
        renderRun([{ ...diag("cannotWrite", FILE_START, [path, why], { hint: "check that the --out folder is writable and the name is not taken by a folder" }), file: path }], file, source, format),
      );
    }
  };
  const save = (): void => write(ckptPath, () => encodeCheckpoint(trainer.state(), hash, model.meta.name, data.preprocess));
  const every = program.train.checkpointEvery;
  let lastCheckpoint = trainer.epoch;
  while (!trainer.done) {
    progress.beginEpoch(trainer.epoch + 1);
    trainer.beginEpoch();
    const t0 = performance.now();
    for (let b = trainer.step(); b; b = trainer.step()) {
      progress.batch(b, b.samples / Math.max(1e-9, (performance.now() - t0) / 1000), () => trainer.running());
    }
    const record = trainer.endEpoch();
    if (!record) break;
    progress.epoch(record, trainer.stopReason);
    if ((every > 0 && trainer.epoch % every === 0) || trainer.done) {
      save();
      lastCheckpoint = trainer.epoch;
    }
  }
  progress.stop();
  if (trainer.diverged) {
    const kept = lastCheckpoint > 0 ? `; the last good checkpoint (epoch ${lastCheckpoint}) is kept in ${ckptPath}` : "";
    const d = trainer.diverged;
    throw new CliError(renderRun([{ ...d, hint: `${d.hint ?? ""}${kept}` }], file, source, format));
  }

  // Results: weights (the best epoch's when early stopping kept them), test figures, report.
  const final = trainer.finalWeights();
  if (final) progress.note(describeFinal(final, trainer.epoch));
  const best = final ? { monitor: final.monitor, value: final.bestValue, epoch: final.bestEpoch, restored: final.restored } : undefined;
  const weightsEpoch = final?.epoch ?? trainer.epoch;
  const weightsPath = join(out, WEIGHTS_FILE);
  write(weightsPath, () => encodeWeights(model, data.preprocess, task, trainer.epoch, best));
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
  };
  const kept = final?.restored && final.bestEpoch !== trainer.epoch ? trainer.history.find((h) => h.epoch === final.bestEpoch) : undefined;
  if (kept) for (const [k, v] of Object.entries(kept.values)) summary[`epoch ${kept.epoch} ${k} (the weights)`] = v;
  if (last) for (const [k, v] of Object.entries(last.values)) summary[`${kept ? "last epoch" : "final"} ${k}`] = v;
  if (test) for (const [k, v] of Object.entries(test)) if (typeof v === "number") summary[`test ${k}`] = v;
  const reportPath = join(out, REPORT_FILE);
  write(reportPath, () =>
    renderReport({
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
      JSON.stringify({ event: "done", epochs: trainer.epoch, weightsEpoch, ...(best ? { best } : {}), ...(testValues ? { test: testValues } : {}), ...(test?.confusion ? { confusion: test.confusion } : {}), weights: weightsPath, checkpoint: ckptPath, report: reportPath }) + "\n",
    );
    return;
  }
  const testLine = test
    ? "test " + Object.entries(test).filter(([, v]) => typeof v === "number").map(([k, v]) => `${k} ${fmt(v as number)}`).join("  ")
    : "no test split";
  process.stdout.write(`${testLine}\n`);
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

function rel(p: string): string {
  return relative(process.cwd(), p) || p;
}
