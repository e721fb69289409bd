/**
 * The arithmetic of sharded data parallelism, browser-safe: `nnc train --workers N`
 * (`runtime/node/shards.ts`, worker threads) and the playground's Web Workers
 * (`playground/src/shards.ts`) both step through `ShardSteps`, so they give the same weights
 * bit for bit, whatever the number of threads.
 *
 * Each batch of n samples is cut into S fixed shards (S does not depend on the threads): shard
 * k holds rows [k·q + min(k, r), …) of q + (k < r) rows, q = ⌊n/S⌋, r = n mod S. Every shard
 * is trained on by the same code from the same inputs — the step's parameters, the shard's
 * rows, dropout masks from a generator seeded by (seed, step, shard) — whichever thread
 * computes it: `lossAndGrad` over its rows, its gradient into slot k. Thread 0 then sums the
 * slots in shard order, each weighted by its share of the batch (m_k / n, in float64, rounded
 * once), and applies the update once (`applyGradient`). `runtime/node/shards.ts` says more
 * (batchnorm, a thread that dies).
 *
 * Thread t of N computes shards t, t + N, …; thread 0 is the one that owns the model and runs
 * the step; the others run the loop of `runtime/node/worker-main.ts` (or the playground's
 * `shard.worker.ts`) over the `ShardBuffers`, started by the subclass.
 */
import type { CompiledModel, Floats } from "../compiler/model-api.js";
import type { BatchStepper } from "./train.js";
import { deriveSeed } from "./rng.js";

/** The control array's slots: step counter, threads done, a dead thread (+1), its exit code, the batch size, quit. */
export const CTRL = { GEN: 0, DONE: 1, DEAD: 2, CODE: 3, N: 4, QUIT: 5, LENGTH: 8 } as const;

/** Rows [start, start + size) of shard k of a batch of n split into s shards. */
export function shardRows(n: number, s: number, k: number): { start: number; size: number } {
  const q = Math.floor(n / s);
  const r = n % s;
  return { start: k * q + Math.min(k, r), size: q + (k < r ? 1 : 0) };
}

/**
 * into[i] = w₀·s₀[i] + w₁·s₁[i] + … (a left fold over the first `used` slots, in float64,
 * rounded once). Up to four slots in one fused pass: V8 runs that ~2.5× faster than a pass
 * per slot through a float64 accumulator (264 against 702 µs for W1's 109,386 values).
 */
export function weightedSum(into: Floats, slots: readonly Floats[], w: Float64Array, used: number, acc: Float64Array): void {
  const P = into.length;
  const a = slots[0]!, b = slots[1]!, c = slots[2]!, d = slots[3]!;
  const wa = w[0]!, wb = w[1]!, wc = w[2]!, wd = w[3]!;
  if (used === 1) for (let i = 0; i < P; i++) into[i] = wa * a[i]!;
  else if (used === 2) for (let i = 0; i < P; i++) into[i] = wa * a[i]! + wb * b[i]!;
  else if (used === 3) for (let i = 0; i < P; i++) into[i] = wa * a[i]! + wb * b[i]! + wc * c[i]!;
  else if (used === 4) for (let i = 0; i < P; i++) into[i] = wa * a[i]! + wb * b[i]! + wc * c[i]! + wd * d[i]!;
  else {
    for (let i = 0; i < P; i++) acc[i] = wa * a[i]! + wb * b[i]! + wc * c[i]! + wd * d[i]!;
    for (let k = 4; k < used; k++) {
      const g = slots[k]!;
      const wk = w[k]!;
      for (let i = 0; i < P; i++) acc[i] = acc[i]! + wk * g[i]!;
    }
    into.set(acc);
  }
}

/** What every thread reads and writes, and what thread 0 hands the others. */
export interface ShardBuffers {
  /** The step's parameters (P values). */
  readonly params: Floats;
  /** One gradient slot per shard (S·P). */
  readonly grads: Floats;
  /** The batch's inputs, targets and predictions. */
  readonly x: Floats;
  readonly y: Floats;
  readonly out: Floats;
  /** Each shard's loss, and its dropout seed. */
  readonly losses: Float64Array;
  readonly seeds: Int32Array;
  readonly ctrl: Int32Array;
  /** [start, end) of each parameter the optimizer does not update (batchnorm statistics). */
  readonly frozen: readonly (readonly [number, number])[];
}

export interface ShardStepOptions {
  /** Threads that compute shards, thread 0 included (1: no other thread). */
  readonly workers: number;
  readonly shards: number;
  /** The run's seed: shard k of step t draws its dropout masks from (seed, t, k). */
  readonly seed: number;
  /** Memory for the buffers (default SharedArrayBuffer; one thread alone may use plain ArrayBuffers). */
  readonly memory?: (bytes: number) => ArrayBufferLike;
}

type FloatCtor = Float32ArrayConstructor | Float64ArrayConstructor;

/** Thread 0's side of sharded training; a subclass starts the other threads and says what became of a dead one. */
export abstract class ShardSteps implements BatchStepper {
  readonly shards: number;
  readonly threads: number;
  protected readonly buffers: ShardBuffers;
  private readonly stats: Floats;
  /** Each shard's share of the batch. */
  private readonly weights: Float64Array;
  /** The gradient slot of each shard, a view of `grads`. */
  private readonly slots: Floats[];
  /** The weighted sum of the slots, in float64 (more than four shards). */
  private readonly sum: Float64Array;
  private readonly applyGradient: (lr: number) => void;
  private readonly seedDropout: (state: number) => void;
  private readonly seed: number;
  private lastN = 0;
  protected closed = false;
  /** Set once a thread has ended: every later step throws it again. */
  private dead: Error | undefined;

  constructor(
    protected readonly model: CompiledModel,
    options: ShardStepOptions,
  ) {
    const { applyGradient, seedDropout } = model;
    if (!applyGradient || !seedDropout) throw new Error("bug: sharded training needs a generated model (applyGradient, seedDropout)");
    this.applyGradient = applyGradient.bind(model);
    this.seedDropout = seedDropout.bind(model);
    const meta = model.meta;
    this.shards = Math.max(1, Math.min(options.shards, 64, meta.maxBatch));
    this.threads = Math.max(1, Math.min(options.workers, this.shards));
    const memory = options.memory ?? ((bytes: number) => new SharedArrayBuffer(bytes));
    const F: FloatCtor = model.params instanceof Float64Array ? Float64Array : Float32Array;
    const floats = (n: number): Floats => {
      const buffer = memory(Math.max(1, n) * F.BYTES_PER_ELEMENT);
      return F === Float64Array ? new Float64Array(buffer) : new Float32Array(buffer);
    };
    const P = model.params.length;
    this.buffers = {
      params: floats(P),
      grads: floats(this.shards * P),
      x: floats(meta.maxBatch * meta.inputSize),
      y: floats(meta.maxBatch * meta.outputSize),
      out: floats(meta.maxBatch * meta.outputSize),
      losses: new Float64Array(memory(8 * 64)),
      seeds: new Int32Array(memory(4 * this.shards)),
      ctrl: new Int32Array(memory(4 * CTRL.LENGTH)),
      frozen: model.layout.filter((e) => !e.trainable).map((e) => [e.offset, e.offset + e.size] as const),
    };
    this.stats = floats(P);
    this.weights = new Float64Array(this.shards);
    this.slots = Array.from({ length: this.shards }, (_, k) => this.buffers.grads.subarray(k * P, (k + 1) * P));
    this.sum = new Float64Array(this.shards > 4 ? P : 0);
    this.seed = options.seed;
  }

  /** The error a step throws when thread `thread` (1 … threads − 1) has ended. */
  protected abstract lost(thread: number): Error;

  trainStep(xb: Floats, yb: Floats, n: number, lr: number, step: number): number {
    if (this.closed) throw new Error("bug: the sharded stepper is closed");
    const { model } = this;
    const { ctrl, frozen, params, seeds, losses } = this.buffers;
    const meta = model.meta;
    this.buffers.x.set(xb.subarray(0, n * meta.inputSize));
    this.buffers.y.set(yb.subarray(0, n * meta.outputSize));
    // The step's parameters: all of them for the other threads; alone, thread 0 only needs the
    // statistics its shards' forward passes overwrite.
    if (this.threads > 1) params.set(model.params);
    else for (const [a, b] of frozen) params.set(model.params.subarray(a, b), a);
    const base = deriveSeed(this.seed, step);
    for (let k = 0; k < this.shards; k++) seeds[k] = deriveSeed(base, k) | 0;
    ctrl[CTRL.N] = n;
    if (this.threads > 1) {
      Atomics.store(ctrl, CTRL.DONE, 0);
      Atomics.add(ctrl, CTRL.GEN, 1);
      Atomics.notify(ctrl, CTRL.GEN);
    }
    for (let k = 0; k < this.shards; k += this.threads) this.computeShard(k, n);
    try {
      this.awaitThreads();
    } catch (e) {
      // The model as the step found it (its shards' forward passes moved the statistics).
      for (const [a, b] of frozen) model.params.set(params.subarray(a, b), a);
      throw e;
    }

    // Shard 0's batchnorm statistics (the trainable parameters are as the step found them).
    for (const [a, b] of frozen) model.params.set(this.stats.subarray(a, b), a);
    // The batch mean: the shards' gradients weighted by their share, summed in shard order
    // in float64, rounded once.
    let loss = 0;
    let used = 0;
    const weights = this.weights;
    for (let k = 0; k < this.shards; k++) {
      const m = shardRows(n, this.shards, k).size;
      if (m === 0) break; // the empty shards are the last ones
      weights[k] = m / n;
      loss += (m / n) * (losses[k] as number);
      used++;
    }
    weightedSum(model.grads, this.slots, weights, used, this.sum);
    this.applyGradient(lr);
    // The main model's generator state depends on (seed, step), not on who computed what.
    this.seedDropout(seeds[0]! >>> 0);
    this.lastN = n;
    return loss;
  }

  output(): Floats {
    return this.buffers.out.subarray(0, this.lastN * this.model.meta.outputSize);
  }

  /** What each other thread does for its shards, on thread 0's model. */
  private computeShard(k: number, n: number): void {
    const { model } = this;
    const { frozen, params, seeds, losses, x, y, out } = this.buffers;
    const { start, size } = shardRows(n, this.shards, k);
    if (size === 0) {
      losses[k] = 0;
      return;
    }
    const fi = model.meta.inputSize;
    const fo = model.meta.outputSize;
    // The trainable parameters are the step's; the statistics an earlier shard's forward pass moved go back.
    if (k > 0) for (const [a, b] of frozen) model.params.set(params.subarray(a, b), a);
    this.seedDropout(seeds[k]! >>> 0);
    losses[k] = model.lossAndGrad(x.subarray(start * fi, (start + size) * fi), y.subarray(start * fo, (start + size) * fo), size);
    this.slots[k]!.set(model.grads);
    out.set(model.output().subarray(0, size * fo), start * fo);
    if (k === 0) for (const [a, b] of frozen) this.stats.set(model.params.subarray(a, b), a);
  }

  /** Until every other thread has counted itself done; a dead one ends the step with `lost`. */
  private awaitThreads(): void {
    const { ctrl } = this.buffers;
    const expected = this.threads - 1;
    for (;;) {
      const done = Atomics.load(ctrl, CTRL.DONE);
      if (done >= expected) return;
      const dead = Atomics.load(ctrl, CTRL.DEAD);
      if (dead !== 0) throw (this.dead ??= this.lost(dead - 1));
      Atomics.wait(ctrl, CTRL.DONE, done, 100);
    }
  }

  /** Tells the other threads to leave their loop (idempotent); the subclass then ends them. */
  protected quit(): void {
    if (this.closed) return;
    this.closed = true;
    const { ctrl } = this.buffers;
    Atomics.store(ctrl, CTRL.QUIT, 1);
    Atomics.add(ctrl, CTRL.GEN, 1);
    Atomics.notify(ctrl, CTRL.GEN);
  }
}
