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
 * computes it: `lossAndGrad` over its rows, its gradient into slot k. The slots are then summed
 * in shard order, each weighted by its share of the batch (m_k / n, in float64, rounded once:
 * `runtime/slot-sum.ts`), chunk by chunk of the parameters — whoever sums a chunk, each
 * element's terms come in the same order — and thread 0 applies the update once
 * (`applyGradient`). `runtime/node/shards.ts` says more (batchnorm, a thread that dies).
 *
 * Who computes what, two ways (the arithmetic is the same):
 * - **Claiming** (`claiming: true`, `nnc train --workers`, `runtime/node/worker-main.ts`): thread
 *   0 opens the step's shards 1 … S − 1 in `claims` and computes shard 0; every thread then takes
 *   whichever shard is still open (a compare-and-swap), so a thread the machine does not
 *   schedule costs the step nothing but its share. Whoever finishes the last shard opens the
 *   chunks of the sum, taken the same way. Thread 0 waits (a short spin, then `Atomics.wait`)
 *   until every shard and chunk is done, copies the sum into the model's gradient and updates.
 * - **Fixed** (the playground's `shard.worker.ts`): thread t of N computes shards t, t + N, …,
 *   counts itself done, and thread 0 sums every chunk.
 */
import type { CompiledModel, Floats } from "../compiler/model-api.js";
import type { BatchStepper } from "./train.js";
import { deriveSeed } from "./rng.js";
import { SlotSum, type SumShare } from "./slot-sum.js";

/**
 * The control array's slots: step counter (GEN), shards done this step (claiming; fixed: threads
 * done), a dead thread (+1), its exit code, the batch size, quit, chunks of the sum done, shards
 * of the step (non-empty), the step whose chunks are open, threads started, a thread told to
 * exit (a test hook).
 */
export const CTRL = { GEN: 0, DONE: 1, DEAD: 2, CODE: 3, N: 4, QUIT: 5, SUMDONE: 6, USED: 7, OPEN: 8, READY: 9, KILL: 10, LENGTH: 12 } as const;

/** Shards per batch when `--shards` is not given. */
export const DEFAULT_SHARDS = 4;

/**
 * The work of a training step (`compiler/work.ts`: multiply-adds of forward and backward on one
 * batch) from which `nnc train` without `--workers` spreads each batch over threads, and the
 * least each thread then gets. Measured on a 2-core AMD EPYC (Zen 4), idle: 2 threads gave
 * 1.04–1.16× the plain step on W1 (15 M multiply-adds a step: the threads' hand-offs and the
 * sum cost about what the second core gains) and 1.50–1.82× on the CNN (210 M);
 * docs/performance.md has the figures.
 */
export const SHARD_MIN_MACS = 100e6;
export const THREAD_MIN_MACS = 50e6;

/** Whether `nnc train` without `--workers` or `--shards` shards a step of this many multiply-adds (`shardingMacs`). */
export function shardedByDefault(stepMacs: number | undefined): stepMacs is number {
  return stepMacs !== undefined && stepMacs >= SHARD_MIN_MACS;
}

/**
 * The threads `nnc train` uses when not told: undefined (the plain step, not sharded) for a
 * step under `SHARD_MIN_MACS`; else as many as the cores, the shards and `THREAD_MIN_MACS` allow
 * (at least 1). Whether a run is sharded depends on the model alone, never on the machine, so a
 * file and a seed give the same weights on every machine, whatever number of threads it chose.
 */
export function defaultThreads(stepMacs: number | undefined, cores: number, shards = DEFAULT_SHARDS): number | undefined {
  if (!shardedByDefault(stepMacs)) return undefined;
  return Math.max(1, Math.min(Math.floor(cores), shards, Math.floor(stepMacs / THREAD_MIN_MACS)));
}

/** Rows [start, start + size) of shard k of a batch of n split into s shards. */
export function shardRows(n: number, s: number, k: number): { start: number; size: number } {
  const q = Math.floor(n / s);
  const r = n % s;
  return { start: k * q + Math.min(k, r), size: q + (k < r ? 1 : 0) };
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
  /**
   * Claiming: S shard flags, then one per chunk of the sum. A flag holds the step (GEN) for
   * which it is open, 0 once taken; a compare-and-swap to 0 takes it.
   */
  readonly claims: Int32Array;
  /** The sum's kernel and memory (absent: thread 0 sums every chunk). */
  readonly sum: SumShare | undefined;
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
  /** The other threads claim shards and chunks (`worker-main.ts`) rather than compute shards t, t + N, … (default false). */
  readonly claiming?: boolean;
  /** How long thread 0 spins on a shared counter before it sleeps in `Atomics.wait`, in µs (default `SPIN_US`). */
  readonly spin?: number;
  /** Test hook: the sum in JavaScript even where its WebAssembly kernel runs. */
  readonly jsSum?: boolean;
  /** Test hook (claiming): thread 0 computes shard 0 alone and leaves every other shard and every chunk of the sum to the other threads. */
  readonly handOff?: boolean;
}

/**
 * µs a waiting thread spins before `Atomics.wait`: the other side's next move (a shard, the
 * update) is usually this close, and a thread woken from `Atomics.wait` on a loaded machine
 * may wait far longer to run again.
 */
export const SPIN_US = 300;

type FloatCtor = Float32ArrayConstructor | Float64ArrayConstructor;

/** Thread 0's side of sharded training; a subclass starts the other threads and says what became of a dead one. */
export abstract class ShardSteps implements BatchStepper {
  readonly shards: number;
  readonly threads: number;
  protected readonly buffers: ShardBuffers;
  protected readonly claiming: boolean;
  private readonly stats: Floats;
  /** The slots, their weights and their sum. */
  private readonly slots: SlotSum;
  private readonly applyGradient: (lr: number) => void;
  private readonly seedDropout: (state: number) => void;
  private readonly seed: number;
  private readonly spinMs: number;
  private readonly handOff: boolean;
  private lastN = 0;
  private started = false;
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
    this.claiming = options.claiming ?? false;
    this.spinMs = (options.spin ?? SPIN_US) / 1000;
    this.handOff = options.handOff === true && this.claiming && this.threads > 1;
    const memory = options.memory ?? ((bytes: number) => new SharedArrayBuffer(bytes));
    const F: FloatCtor = model.params instanceof Float64Array ? Float64Array : Float32Array;
    const floats = (n: number): Floats => {
      const buffer = memory(Math.max(1, n) * F.BYTES_PER_ELEMENT);
      return F === Float64Array ? new Float64Array(buffer) : new Float32Array(buffer);
    };
    const P = model.params.length;
    this.slots = new SlotSum({ length: P, slots: this.shards, float64: F === Float64Array, shared: options.memory === undefined, ...(options.memory ? { memory } : {}), ...(options.jsSum ? { js: true } : {}) });
    this.buffers = {
      params: floats(P),
      grads: this.slots.grads,
      x: floats(meta.maxBatch * meta.inputSize),
      y: floats(meta.maxBatch * meta.outputSize),
      out: floats(meta.maxBatch * meta.outputSize),
      losses: new Float64Array(memory(8 * 64)),
      seeds: new Int32Array(memory(4 * this.shards)),
      ctrl: new Int32Array(memory(4 * CTRL.LENGTH)),
      claims: new Int32Array(memory(4 * (this.shards + this.slots.chunks))),
      sum: this.slots.share,
      frozen: model.layout.filter((e) => !e.trainable).map((e) => [e.offset, e.offset + e.size] as const),
    };
    this.stats = floats(P);
    this.seed = options.seed;
  }

  /** The error a step throws when thread `thread` (1 … threads − 1) has ended. */
  protected abstract lost(thread: number): Error;

  trainStep(xb: Floats, yb: Floats, n: number, lr: number, step: number): number {
    if (this.closed) throw new Error("bug: the sharded stepper is closed");
    const { model, shards } = this;
    const { ctrl, frozen, params, seeds, losses } = this.buffers;
    const meta = model.meta;
    this.checkAlive();
    this.buffers.x.set(xb.subarray(0, n * meta.inputSize));
    this.buffers.y.set(yb.subarray(0, n * meta.outputSize));
    // The step's parameters: all of them for the other threads; alone, thread 0 only needs the
    // statistics its shards' forward passes overwrite.
    if (this.threads > 1) params.set(model.params);
    else for (const [a, b] of frozen) params.set(model.params.subarray(a, b), a);
    const base = deriveSeed(this.seed, step);
    for (let k = 0; k < shards; k++) seeds[k] = deriveSeed(base, k) | 0;
    // Each shard's share of the batch; the empty shards are the last ones.
    const weights = this.slots.weights;
    let used = 0;
    for (let k = 0; k < shards; k++) {
      const m = shardRows(n, shards, k).size;
      losses[k] = 0;
      if (m > 0) weights[used++] = m / n;
    }
    ctrl[CTRL.N] = n;
    ctrl[CTRL.USED] = used;
    try {
      if (this.threads === 1) {
        for (let k = 0; k < used; k++) this.computeShard(k, n);
        for (let c = 0; c < this.slots.chunks; c++) this.slots.add(c, used);
      } else if (this.claiming) this.claimed(n, used);
      else this.fixed(n, used);
    } catch (e) {
      // The model as the step found it (its shards' forward passes moved the statistics).
      for (const [a, b] of frozen) model.params.set(params.subarray(a, b), a);
      throw e;
    }

    // Shard 0's batchnorm statistics (the trainable parameters are as the step found them).
    for (const [a, b] of frozen) model.params.set(this.stats.subarray(a, b), a);
    // The batch mean: the shards' losses weighted by their share, in shard order.
    let loss = 0;
    for (let k = 0; k < used; k++) loss += (weights[k] as number) * (losses[k] as number);
    model.grads.set(this.slots.sum);
    this.applyGradient(lr);
    // The main model's generator state depends on (seed, step), not on who computed what.
    this.seedDropout(seeds[0]! >>> 0);
    this.lastN = n;
    return loss;
  }

  output(): Floats {
    return this.buffers.out.subarray(0, this.lastN * this.model.meta.outputSize);
  }

  /** Claiming: thread 0 computes shard 0 and takes what is left open, then the chunks of the sum. */
  private claimed(n: number, used: number): void {
    const { ctrl, claims } = this.buffers;
    if (!this.started) {
      // Once: every other thread has loaded its module (or ended), so none is missing from the start.
      this.awaitCount(CTRL.READY, this.threads - 1);
      this.started = true;
    }
    const g = (Atomics.load(ctrl, CTRL.GEN) % 0x3fffffff) + 1;
    Atomics.store(ctrl, CTRL.DONE, 0);
    Atomics.store(ctrl, CTRL.SUMDONE, 0);
    for (let k = 1; k < used; k++) Atomics.store(claims, k, g);
    Atomics.store(ctrl, CTRL.GEN, g);
    Atomics.notify(ctrl, CTRL.GEN);
    this.computeShard(0, n);
    this.shardDone(g, used);
    for (let k = 1; k < used && !this.handOff; k++) {
      if (Atomics.compareExchange(claims, k, g, 0) !== g) continue;
      this.computeShard(k, n);
      this.shardDone(g, used);
    }
    const { chunks } = this.slots;
    if (this.buffers.sum === undefined) {
      this.awaitCount(CTRL.DONE, used);
      for (let c = 0; c < chunks; c++) this.slots.add(c, used);
      return;
    }
    // Every shard done, and the chunks open: whoever did the last shard opened them.
    this.awaitCount(CTRL.OPEN, g, true);
    for (let c = 0; c < chunks && !this.handOff; c++) {
      if (Atomics.compareExchange(claims, this.shards + c, g, 0) !== g) continue;
      this.slots.add(c, used);
      Atomics.add(ctrl, CTRL.SUMDONE, 1);
    }
    this.awaitCount(CTRL.SUMDONE, chunks);
  }

  /** One more shard of step g done; the last one opens the chunks of the sum (as `worker-main.ts` does). */
  private shardDone(g: number, used: number): void {
    const { ctrl, claims } = this.buffers;
    if (Atomics.add(ctrl, CTRL.DONE, 1) + 1 < used || this.buffers.sum === undefined) return;
    for (let c = 0; c < this.slots.chunks; c++) Atomics.store(claims, this.shards + c, g);
    Atomics.store(ctrl, CTRL.OPEN, g);
    Atomics.notify(ctrl, CTRL.OPEN);
  }

  /** Fixed: thread 0 computes shards 0, N, 2N, …, waits for the others to count themselves done, and sums. */
  private fixed(n: number, used: number): void {
    const { ctrl } = this.buffers;
    Atomics.store(ctrl, CTRL.DONE, 0);
    Atomics.add(ctrl, CTRL.GEN, 1);
    Atomics.notify(ctrl, CTRL.GEN);
    for (let k = 0; k < used; k += this.threads) this.computeShard(k, n);
    this.awaitCount(CTRL.DONE, this.threads - 1);
    for (let c = 0; c < this.slots.chunks; c++) this.slots.add(c, used);
  }

  /** What each other thread does for its shards, on thread 0's model: shard 0 first, the others after it. */
  private computeShard(k: number, n: number): void {
    const { model } = this;
    const { frozen, params, seeds, losses, x, y, out } = this.buffers;
    const { start, size } = shardRows(n, this.shards, k);
    const fi = model.meta.inputSize;
    const fo = model.meta.outputSize;
    // The trainable parameters are the step's; the statistics an earlier shard's forward pass moved go back.
    if (k > 0) for (const [a, b] of frozen) model.params.set(params.subarray(a, b), a);
    this.seedDropout(seeds[k]! >>> 0);
    losses[k] = model.lossAndGrad(x.subarray(start * fi, (start + size) * fi), y.subarray(start * fo, (start + size) * fo), size);
    this.slots.slots[k]!.set(model.grads);
    out.set(model.output().subarray(0, size * fo), start * fo);
    if (k === 0) for (const [a, b] of frozen) this.stats.set(model.params.subarray(a, b), a);
  }

  /** Throws if another thread has ended (before the step touches anything). */
  private checkAlive(): void {
    if (this.dead) throw this.dead;
    const dead = Atomics.load(this.buffers.ctrl, CTRL.DEAD);
    if (dead !== 0) throw (this.dead = this.lost(dead - 1));
  }

  /**
   * Until ctrl[i] ≥ target (a count), or = target (`exactly`: a step's number): a spin of `spin`
   * µs, then `Atomics.wait`; a dead thread ends it with `lost`.
   */
  private awaitCount(i: number, target: number, exactly = false): void {
    const { ctrl } = this.buffers;
    const reached = (v: number): boolean => (exactly ? v === target : v >= target);
    if (reached(Atomics.load(ctrl, i))) return;
    const until = performance.now() + this.spinMs;
    for (let s = 1; !reached(Atomics.load(ctrl, i)); s++) if ((s & 255) === 0 && performance.now() > until) break;
    for (;;) {
      const v = Atomics.load(ctrl, i);
      if (reached(v)) return;
      this.checkAlive();
      Atomics.wait(ctrl, i, v, 100);
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

/**
 * The shard arithmetic on the calling thread alone, in plain memory: `nnc train --workers 1`'s
 * arithmetic where no thread may start (a search trial, `runtime/search-trial.ts`, which must
 * train a large model as `nnc train` does by default).
 */
export class LocalShards extends ShardSteps {
  constructor(model: CompiledModel, options: Omit<ShardStepOptions, "workers" | "memory" | "claiming">) {
    super(model, { ...options, workers: 1, memory: (bytes: number) => new ArrayBuffer(bytes) });
  }

  protected lost(thread: number): Error {
    return new Error(`bug: no thread ${thread} was started`);
  }

  close(): void {
    this.quit();
  }
}
