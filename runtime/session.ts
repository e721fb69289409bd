/**
 * From a checked program and a compiled model to a ready trainer: the pieces the CLI and the
 * playground share. Browser-safe.
 */
import type { CompiledModel } from "../compiler/model-api.js";
import type { LossKind, Program } from "../compiler/program.js";
import { diag, type Result } from "../grammar/diagnostics.js";
import { FILE_START } from "../grammar/span.js";
import { canonicalJson, fnv64 } from "./hash.js";
import { loadData, type SourceReader } from "./load.js";
import { taskOfProgram, type Task } from "./metrics.js";
import { prepareData, type PreparedData } from "./prepare.js";
import type { Preprocess } from "./preprocess.js";
import { Trainer, type TrainConfig } from "./train.js";

export function labelKind(loss: LossKind): "class" | "value" {
  return loss === "cross_entropy" || loss === "binary_cross_entropy" ? "class" : "value";
}

/**
 * Identifies what a checkpoint's numbers mean: the model, loss and optimizer declarations
 * (spans, whitespace and comments excluded). Changing epochs or data keeps checkpoints usable.
 */
export function modelHash(p: Program): string {
  return fnv64(canonicalJson({ model: p.model, loss: p.loss, optimizer: p.optimizer }));
}

export interface RunOverrides {
  readonly epochs?: number;
  /** Replaces the model's initializer seed and the shuffle seed. */
  readonly seed?: number;
}

export function trainConfig(p: Program, task: Task, o: RunOverrides = {}): TrainConfig {
  const metrics = p.metrics.map((m) => m.kind);
  return {
    epochs: o.epochs ?? p.train.epochs,
    batch: p.train.batch,
    lr: p.optimizer.lr,
    schedule: p.train.schedule,
    warmup: p.train.warmup,
    earlyStop: p.train.earlyStop,
    shuffle: p.data?.shuffle ?? true,
    shuffleSeed: o.seed ?? p.data?.shuffleSeed ?? 0,
    seed: o.seed ?? p.model.seed,
    metrics,
    task,
    optimizerSpan: p.optimizer.span,
  };
}

export interface Session {
  readonly program: Program;
  readonly model: CompiledModel;
  readonly task: Task;
  readonly data: PreparedData;
  readonly trainer: Trainer;
  readonly hash: string;
}

/** Loads and prepares the data, and builds a trainer (not yet initialized: call `init` or `restore`). */
export async function createSession(
  program: Program,
  model: CompiledModel,
  reader: SourceReader,
  overrides: RunOverrides = {},
  /** Preprocessing saved with the weights, instead of fitting it again. */
  fixed?: Preprocess,
): Promise<Result<Session | undefined>> {
  if (!program.data) {
    return { value: undefined, diagnostics: [diag("noData", FILE_START, ["train on"], { hint: "add a `data { train … }` block" })] };
  }
  const task = taskOfProgram(program, model.meta.outputSize);
  const loaded = await loadData(program.data, reader, labelKind(program.loss.kind));
  if (!loaded.value) return { value: undefined, diagnostics: loaded.diagnostics };
  const prepared = prepareData(program.data, loaded.value, model.meta, task, program.data.span, fixed);
  if (!prepared.value) return { value: undefined, diagnostics: [...loaded.diagnostics, ...prepared.diagnostics] };
  const trainer = new Trainer(model, prepared.value, trainConfig(program, task, overrides));
  return {
    value: { program, model, task, data: prepared.value, trainer, hash: modelHash(program) },
    diagnostics: [...loaded.diagnostics, ...prepared.diagnostics],
  };
}
