/**
 * From a checked program and a compiled model to a ready trainer: the pieces the CLI and the
 * playground share. Browser-safe.
 */
import type { CompiledModel } from "../compiler/model-api.js";
import type { LossKind, Program } from "../compiler/program.js";
import { diag, type Result } from "../grammar/diagnostics.js";
import { FILE_START } from "../grammar/span.js";
import type { RunIdentity } from "./checkpoint.js";
import { canonicalJson, fnv64, hashFloats } from "./hash.js";
import { loadData, type SourceReader } from "./load.js";
import { taskOfProgram, type Task } from "./metrics.js";
import { prepareData, type ModelShape, type PreparedData } from "./prepare.js";
import type { Preprocess } from "./preprocess.js";
import { Trainer, type TrainConfig } from "./train.js";
import { resolveClassWeights } from "./class-weight.js";

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

/** The seeds and data of a run, as a checkpoint records them. */
export function runIdentity(config: TrainConfig, data: PreparedData): RunIdentity {
  const v = data.validation;
  return {
    seed: config.seed,
    shuffleSeed: config.shuffleSeed,
    data: hashFloats(v ? [data.train.x, data.train.y, v.x, v.y] : [data.train.x, data.train.y]),
    samples: { train: data.train.n, validation: v?.n ?? 0 },
  };
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
    // `keep_best` is early stopping's bookkeeping with a patience that never runs out.
    earlyStop: p.train.earlyStop ?? (p.train.keepBest ? { ...p.train.keepBest, patience: Infinity, restoreBest: true } : undefined),
    shuffle: p.data?.shuffle ?? true,
    shuffleSeed: o.seed ?? p.data?.shuffleSeed ?? 0,
    seed: o.seed ?? p.model.seed,
    metrics,
    task,
    optimizerSpan: p.optimizer.span,
    ...(p.train.prune ? { prune: p.train.prune } : {}),
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

/** The data of a run, loaded and prepared for a model of this shape, and the task it trains. */
export interface OpenedData {
  readonly task: Task;
  readonly data: PreparedData;
  /** `class_weight`, resolved on the training split: one weight per class. */
  readonly classWeights?: readonly number[];
}

/**
 * What a run does with its data before the first epoch: load every source the `data` block
 * names, split, check the features against the input and the labels against the output,
 * preprocess. `nnc train` (through `createSession`) and `nnc check --data` both call it; the
 * shape is the compiled model's `meta` or, without compiling, the lowered graph's.
 */
export async function openData(
  program: Program,
  shape: ModelShape,
  reader: SourceReader,
  /** Preprocessing saved with the weights, instead of fitting it again. */
  fixed?: Preprocess,
): Promise<Result<OpenedData | undefined>> {
  if (!program.data) {
    return { value: undefined, diagnostics: [diag("noData", FILE_START, ["train on"], { hint: "add a `data { train … }` block" })] };
  }
  const task = taskOfProgram(program, shape.outputSize, shape.outputShape);
  const loaded = await loadData(program.data, reader, labelKind(program.loss.kind));
  if (!loaded.value) return { value: undefined, diagnostics: loaded.diagnostics };
  const prepared = prepareData(program.data, loaded.value, shape, task, program.data.span, fixed);
  const diagnostics = [...loaded.diagnostics, ...prepared.diagnostics];
  if (!prepared.value) return { value: undefined, diagnostics };
  const cw = program.train.classWeight;
  const classes = task.kind === "multiclass" ? task.classes : task.kind === "binary" ? 2 : 0;
  const weights = cw && classes > 0 ? resolveClassWeights(cw, prepared.value.train, classes, prepared.value.preprocess.classes, task.kind === "binary") : undefined;
  if (weights) diagnostics.push(...weights.diagnostics);
  if (weights && !weights.value) return { value: undefined, diagnostics };
  return { value: { task, data: prepared.value, ...(weights?.value ? { classWeights: weights.value } : {}) }, diagnostics };
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
  const opened = await openData(program, model.meta, reader, fixed);
  if (!opened.value) return { value: undefined, diagnostics: opened.diagnostics };
  const { task, data, classWeights } = opened.value;
  const config = trainConfig(program, task, overrides);
  const trainer = new Trainer(model, data, classWeights ? { ...config, classWeights } : config);
  return {
    value: { program, model, task, data, trainer, hash: modelHash(program) },
    diagnostics: opened.diagnostics,
  };
}
