/**
 * The training loop: seeded per-epoch shuffling, mini-batches through the generated
 * `trainStep` or a `BatchStepper` (the last partial batch included), the learning-rate plan, validation, early
 * stopping with best weights (kept whenever `early_stop` monitors a metric, restored when the
 * run ends, stopped early or not), and a divergence guard. Browser-safe and synchronous;
 * drive it epoch by epoch (`runEpoch`) or batch by batch (`beginEpoch` / `step` / `endEpoch`)
 * so a CLI can draw progress and a worker can post charts between batches.
 *
 * Everything a run needs to continue bit-for-bit lives in `TrainerState` (with
 * `reduce_on_plateau`, its state too); the shuffle order of epoch e is derived from
 * (shuffle seed, e), so it needs no state of its own.
 */
import type { CompiledModel, Floats, ModelState } from "../compiler/model-api.js";
import type { EarlyStop, MetricKind, Prune, Schedule } from "../compiler/program.js";
import { diag, type Diagnostic } from "../grammar/diagnostics.js";
import type { Span } from "../grammar/span.js";
import { MetricAccumulator, metricMode, type AccumulatorState, type MetricValues, type Task } from "./metrics.js";
import type { PreparedData } from "./prepare.js";
import { deriveSeed, Rng } from "./rng.js";
import { weighTargets } from "./class-weight.js";
import { dataUnits, type DataUnits } from "./preprocess.js";
import { learningRate, plateauStart, plateauUpdate, type LrPlan, type PlateauState } from "./schedule.js";
import { Pruner, type PruneState } from "./prune.js";
import { evaluate, gather } from "./batches.js";

export interface TrainConfig {
  readonly epochs: number;
  readonly batch: number;
  readonly lr: number;
  readonly schedule: Schedule;
  readonly warmup: number;
  readonly earlyStop: EarlyStop | undefined;
  readonly shuffle: boolean;
  readonly shuffleSeed: number;
  /** Seed of the weight initializers (used by `init`). */
  readonly seed: number;
  readonly metrics: readonly MetricKind[];
  readonly task: Task;
  /** Where the optimizer is declared, for the divergence message. */
  readonly optimizerSpan?: Span;
  /** Magnitude pruning (`runtime/prune.ts`). */
  readonly prune?: Prune;
  /** `class_weight`, resolved: one weight per class, applied to the training batches' targets (`class-weight.ts`). */
  readonly classWeights?: readonly number[];
}

/** One epoch's summary. `values` holds `loss`, the metrics, and `val_…` versions of them. */
export interface EpochRecord {
  /** 1-based. */
  readonly epoch: number;
  readonly lr: number;
  readonly seconds: number;
  readonly samplesPerSecond: number;
  readonly values: Readonly<Record<string, number>>;
}

export interface BestWeights {
  readonly value: number;
  readonly epoch: number;
  readonly params: Floats;
}

/** Where the weights a finished run leaves come from: the best epoch's, or the last one's. */
export interface FinalWeights {
  /** The metric early stopping monitored (`val_loss`, or `loss` without a validation split). */
  readonly monitor: string;
  /** Its best value, and the (1-based) epoch that reached it. */
  readonly bestValue: number;
  readonly bestEpoch: number;
  /** The epoch whose weights the model holds: `bestEpoch` when restored, else the last. */
  readonly epoch: number;
  /** The best weights replaced the last epoch's (`restore_best true`, the default). */
  readonly restored: boolean;
}

/**
 * Where a run stopped inside an epoch (a checkpoint taken on Ctrl-C): the batches of epoch
 * `epoch + 1` already trained, and that epoch's running sums, so the epoch ends exactly as an
 * uninterrupted one (its shuffle order and learning rates are functions of epoch and batch).
 */
export interface EpochPosition {
  readonly batch: number;
  /** Batches per epoch when it stopped (another batch size would not continue the same run). */
  readonly batches: number;
  /** The learning rate of the last batch trained. */
  readonly lr: number;
  /** Seconds the epoch had run (for its timing only). */
  readonly seconds: number;
  readonly running: AccumulatorState;
}

/** Everything needed to continue a run exactly. */
export interface TrainerState {
  /** Completed epochs. */
  readonly epoch: number;
  readonly model: ModelState;
  readonly history: readonly EpochRecord[];
  readonly best: BestWeights | undefined;
  /** Epochs without improvement of the monitored metric. */
  readonly wait: number;
  readonly stopped: boolean;
  /** Set when the run stopped in the middle of an epoch. */
  readonly position?: EpochPosition;
  /** With `reduce_on_plateau`: its rate, best value, wait and cooldown after the completed epochs. */
  readonly plateau?: PlateauState;
  /** With `prune`: the masks after the completed epochs. */
  readonly prune?: PruneState;
}

/**
 * What trains one batch instead of the model's own `trainStep`: sharded data parallelism
 * (`runtime/node/shards.ts`). `step` counts batches from the start of the run
 * (epoch × batches + batch), so a resumed run draws the same dropout masks.
 */
export interface BatchStepper {
  trainStep(x: Floats, y: Floats, n: number, lr: number, step: number): number;
  /** The predictions of the last `trainStep`'s batch, n × outputSize. */
  output(): Floats;
}

export interface BatchInfo {
  /** 1-based epoch and batch. */
  readonly epoch: number;
  readonly batch: number;
  readonly batches: number;
  readonly samples: number;
  readonly loss: number;
  readonly lr: number;
}

export class Trainer {
  readonly history: EpochRecord[] = [];
  epoch = 0;
  best: BestWeights | undefined;
  wait = 0;
  stopped = false;
  /** Trains each batch instead of `model.trainStep` when set (`--workers`). */
  stepper: BatchStepper | undefined;
  /** Set when a loss was NaN or infinite; the run cannot continue. */
  diverged: Diagnostic | undefined;
  /** Why the run ended early, for the summary line. */
  stopReason: string | undefined;
  /** With `reduce_on_plateau`: where it stands (advanced after each epoch past warm-up). */
  plateau: PlateauState | undefined;
  /** With `prune`: the masks, grown at the end of the epochs of its window, applied after every update. */
  readonly pruner: Pruner | undefined;
  /**
   * The last epoch's weights while the model holds the restored best ones (after the run
   * ended): what a checkpoint saves, so `--resume --epochs N` continues from where training was.
   */
  private trained: Floats | undefined;

  private readonly xb: Floats;
  private readonly yb: Floats;
  /** The batch's targets weighed by class (`class_weight`), what the step trains on. */
  private readonly yw: Floats | undefined;
  /** With `normalize_target`: the batch's outputs and targets in the data's units, for the metrics. */
  private readonly units: DataUnits | undefined;
  private readonly batchSize: number;
  private readonly order: Uint32Array;
  private readonly acc: MetricAccumulator;
  private readonly plan: LrPlan;
  private batchIndex = 0;
  private epochStart = 0;
  private lastLr = 0;
  /** Samples in the last batch (for re-evaluating it after a bad update). */
  private lastN = 0;
  /** Between `beginEpoch` and `endEpoch`. */
  private inEpoch = false;
  /** A mid-epoch position from `restore`, taken up by the next `beginEpoch`. */
  private pending: EpochPosition | undefined;

  constructor(
    readonly model: CompiledModel,
    readonly data: PreparedData,
    readonly config: TrainConfig,
    /** A clock in milliseconds (performance.now in both Node and browsers). */
    private readonly now: () => number = () => performance.now(),
  ) {
    const meta = model.meta;
    this.batchSize = Math.max(1, Math.min(config.batch, meta.maxBatch));
    const Arr = model.params instanceof Float64Array ? Float64Array : Float32Array;
    this.xb = new Arr(this.batchSize * meta.inputSize);
    this.yb = new Arr(this.batchSize * meta.outputSize);
    this.yw = config.classWeights ? new Arr(this.batchSize * meta.outputSize) : undefined;
    this.units = data.train.target ? dataUnits(data.train.target, this.batchSize * meta.outputSize) : undefined;
    this.order = new Uint32Array(data.train.n);
    this.acc = new MetricAccumulator(config.task, meta.outputSize, config.metrics);
    this.plan = {
      base: config.lr,
      schedule: config.schedule,
      warmup: config.warmup,
      epochs: config.epochs,
      stepsPerEpoch: this.batches,
    };
    this.plateau = config.schedule.kind === "reduce_on_plateau" ? plateauStart(config.lr) : undefined;
    this.pruner = config.prune ? new Pruner(model, config.prune) : undefined;
  }

  /** Batches per epoch, the last one possibly partial. */
  get batches(): number {
    return Math.ceil(this.data.train.n / this.batchSize);
  }

  get done(): boolean {
    return this.stopped || this.diverged !== undefined || this.epoch >= this.config.epochs;
  }

  /** A fresh start: seeded initialization. */
  init(): void {
    this.trained = undefined;
    this.model.init(this.config.seed);
    this.plateau = this.config.schedule.kind === "reduce_on_plateau" ? plateauStart(this.config.lr) : undefined;
    this.pruner?.reset();
  }

  /** Continues from a saved state; a state of a run that already ended gets its best weights back. */
  restore(s: TrainerState): void {
    this.model.setState(s.model);
    this.trained = undefined;
    this.epoch = s.epoch;
    this.history.length = 0;
    for (const h of s.history) this.history.push(h);
    this.best = s.best;
    this.wait = s.wait;
    this.stopped = s.stopped;
    // A checkpoint without plateau state (written under another schedule) starts the plateau afresh.
    this.plateau = this.config.schedule.kind === "reduce_on_plateau" ? (s.plateau ?? plateauStart(this.config.lr)) : undefined;
    this.pruner?.load(s.prune);
    this.inEpoch = false;
    this.pending = s.position && s.position.batch > 0 ? s.position : undefined;
    if (this.done) this.finish();
  }

  /** Batches of the current epoch trained so far (after `restore`, those the checkpoint had trained). */
  get batchesDone(): number {
    return this.inEpoch ? this.batchIndex : (this.pending?.batch ?? 0);
  }

  /** A snapshot (copies) of everything needed to continue: the trained weights, not the restored best ones. */
  state(): TrainerState {
    const model = this.model.getState();
    return {
      epoch: this.epoch,
      model: this.trained ? { ...model, params: copyOf(this.trained) } : model,
      history: [...this.history],
      best: this.best,
      wait: this.wait,
      stopped: this.stopped,
      ...(this.plateau ? { plateau: this.plateau } : {}),
      ...(this.pruner ? { prune: this.pruner.save() } : {}),
      ...(this.inEpoch && this.batchIndex > 0 && !this.diverged
        ? { position: { batch: this.batchIndex, batches: this.batches, lr: this.lastLr, seconds: (this.now() - this.epochStart) / 1000, running: this.acc.save() } }
        : this.pending
          ? { position: this.pending }
          : {}),
    };
  }

  /**
   * Where the model's weights come from once the run has ended: the best epoch of the
   * monitored metric (restored, or only reported with `restore_best false`). Undefined while
   * running, and for runs without `early_stop` or without a finite monitored value.
   */
  finalWeights(): FinalWeights | undefined {
    const es = this.config.earlyStop;
    const monitor = this.monitorName();
    if (!this.done || this.diverged || !es || monitor === undefined || !this.best) return undefined;
    const restored = es.restoreBest;
    return { monitor, bestValue: this.best.value, bestEpoch: this.best.epoch, epoch: restored ? this.best.epoch : this.epoch, restored };
  }

  /** At the end of a run: the best weights replace the last epoch's (`restore_best`), once. */
  private finish(): void {
    if (this.trained || !this.best || !this.config.earlyStop?.restoreBest) return;
    this.trained = copyOf(this.model.params);
    this.model.params.set(this.best.params);
  }

  beginEpoch(): void {
    const n = this.data.train.n;
    for (let i = 0; i < n; i++) this.order[i] = i;
    if (this.config.shuffle) new Rng(deriveSeed(this.config.shuffleSeed, this.epoch)).shuffle(this.order);
    this.batchIndex = 0;
    this.acc.reset();
    this.epochStart = this.now();
    this.inEpoch = true;
    const p = this.pending;
    this.pending = undefined;
    if (p) {
      // Sums that do not fit (a hand-edited checkpoint) only cost this epoch's figures, not its weights.
      this.acc.load(p.running);
      this.batchIndex = Math.min(p.batch, this.batches);
      this.lastLr = p.lr;
      this.epochStart -= p.seconds * 1000;
    }
  }

  /** One mini-batch. Returns undefined when the epoch has no batches left or the loss diverged. */
  step(): BatchInfo | undefined {
    if (this.batchIndex >= this.batches || this.diverged) return undefined;
    const { train } = this.data;
    const meta = this.model.meta;
    const start = this.batchIndex * this.batchSize;
    const n = Math.min(this.batchSize, train.n - start);
    gather(train, this.order, start, n, this.xb, this.yb, meta.inputSize, meta.outputSize);
    const lr = learningRate(this.plan, this.epoch, this.batchIndex, this.plateau);
    this.lastLr = lr;
    const stepper = this.stepper;
    const yw = this.yw;
    if (yw) weighTargets(this.yb, yw, n, meta.outputSize, this.config.classWeights!);
    const y = yw ?? this.yb;
    const loss = stepper ? stepper.trainStep(this.xb, y, n, lr, this.epoch * this.batches + this.batchIndex) : this.model.trainStep(this.xb, y, n, lr);
    this.pruner?.apply(this.model.params);
    this.batchIndex++;
    this.lastN = n;
    if (!Number.isFinite(loss)) {
      this.diverge(loss);
      return undefined;
    }
    const output = stepper ? stepper.output() : this.model.output();
    if (this.units) this.acc.add(...this.units.of(output, this.yb, n * meta.outputSize), n, loss);
    else this.acc.add(output, this.yb, n, loss);
    return { epoch: this.epoch + 1, batch: this.batchIndex, batches: this.batches, samples: start + n, loss, lr };
  }

  /** Records the divergence at the current epoch and batch, with a hint about the rate. */
  private diverge(loss: number): void {
    const span = this.config.optimizerSpan;
    const lr = this.lastLr;
    this.diverged = diag(
      "diverged",
      span ?? { start: 0, end: 0, line: 1, column: 1, endLine: 1, endColumn: 1 },
      [String(loss), this.epoch + 1, this.batchIndex],
      { hint: `lower the learning rate (now ${fmt(lr)}; try ${fmt(lr / 10)}), or clip gradients with clip_norm` },
    );
  }

  /** The epoch's running loss and metrics so far (allocates: call it for display, not per batch; AUC, a sort of every score so far, only at the epoch's end). */
  running(): MetricValues {
    return this.acc.result(this.config.metrics.filter((m) => m !== "confusion_matrix" && m !== "auc"));
  }

  /** Validation, the epoch record, early stopping. */
  endEpoch(): EpochRecord | undefined {
    this.inEpoch = false;
    if (this.diverged) return undefined;
    // The last update can overflow the weights while its own loss was still finite: catch it
    // here, before anyone saves this epoch's weights as a good checkpoint.
    if (!allFinite(this.model.params)) {
      const next = this.lastN > 0 ? this.model.loss(this.xb, this.yb, this.lastN) : NaN;
      this.diverge(Number.isFinite(next) ? NaN : next);
      return undefined;
    }
    // Pruning before validation: the epoch's figures are the pruned model's.
    this.pruner?.endEpoch(this.epoch + 1, this.model.params);
    const values: Record<string, number> = {};
    const train = this.acc.result(this.config.metrics);
    putValues(values, "", train);
    if (this.data.validation) {
      const v = evaluate(this.model, this.data.validation, this.config.task, this.config.metrics);
      putValues(values, "val_", v);
    }
    const seconds = (this.now() - this.epochStart) / 1000;
    const record: EpochRecord = {
      epoch: this.epoch + 1,
      lr: this.lastLr,
      seconds,
      samplesPerSecond: seconds > 0 ? this.data.train.n / seconds : 0,
      values,
    };
    this.history.push(record);
    this.epoch++;
    this.watch(record);
    this.reduceOnPlateau(record);
    if (this.done) this.finish();
    return record;
  }

  /** A whole epoch. */
  runEpoch(onBatch?: (b: BatchInfo) => void): EpochRecord | undefined {
    this.beginEpoch();
    for (let b = this.step(); b; b = this.step()) onBatch?.(b);
    return this.endEpoch();
  }

  /** Trains to the end (or an early stop, or divergence). */
  run(callbacks: { onBatch?: (b: BatchInfo) => void; onEpoch?: (r: EpochRecord, t: Trainer) => void } = {}): void {
    while (!this.done) {
      const r = this.runEpoch(callbacks.onBatch);
      if (r) callbacks.onEpoch?.(r, this);
    }
  }

  /** The metric early stopping watches, falling back to the training one without validation. */
  monitorName(): string | undefined {
    const es = this.config.earlyStop;
    return es ? this.resolve(es.monitor) : undefined;
  }

  /** `val_x` without a validation split watches `x`. */
  private resolve(monitor: string): string {
    return monitor.startsWith("val_") && !this.data.validation ? monitor.slice(4) : monitor;
  }

  /** `reduce_on_plateau` after an epoch past warm-up (the rate then applies from the next epoch). */
  private reduceOnPlateau(r: EpochRecord): void {
    const s = this.config.schedule;
    if (s.kind !== "reduce_on_plateau" || !this.plateau || r.epoch <= this.config.warmup) return;
    const name = this.resolve(s.monitor);
    this.plateau = plateauUpdate(s, this.plateau, r.values[name], metricMode(name));
  }

  private watch(r: EpochRecord): void {
    const es = this.config.earlyStop;
    const name = this.monitorName();
    if (!es || name === undefined) return;
    // While pruning is under way the weights are not yet at their sparsity: none is the best, none counts as a wait.
    if (this.config.prune && r.epoch < this.config.prune.end) return;
    const v = r.values[name];
    if (v === undefined || Number.isNaN(v)) return;
    const sign = metricMode(name) === "max" ? 1 : -1;
    if (this.best === undefined || sign * (v - this.best.value) > es.minDelta) {
      this.best = { value: v, epoch: r.epoch, params: copyOf(this.model.params) };
      this.wait = 0;
    } else {
      this.wait++;
      if (this.wait >= es.patience) {
        this.stopped = true;
        this.stopReason = `early stop: ${name} did not improve for ${es.patience} epochs (best ${fmt(this.best.value)} at epoch ${this.best.epoch})`;
      }
    }
  }
}

function putValues(out: Record<string, number>, prefix: string, v: MetricValues): void {
  for (const [k, x] of Object.entries(v)) if (typeof x === "number") out[prefix + k] = x;
}

function allFinite(a: Floats): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i] as number)) return false;
  return true;
}

function copyOf(a: Floats): Floats {
  return a instanceof Float64Array ? new Float64Array(a) : new Float32Array(a);
}

export function fmt(x: number): string {
  if (x === 0 || !Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  return a >= 0.001 && a < 1e5 ? String(Number(x.toPrecision(4))) : x.toExponential(2);
}
