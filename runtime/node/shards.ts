/**
 * Synchronous data parallelism (`nnc train --workers N --shards S`), bit-identical whatever N.
 *
 * Each batch of n samples is cut into S fixed shards (S does not depend on N): shard k holds
 * rows [k·q + min(k, r), …) of q + (k < r) rows, q = ⌊n/S⌋, r = n mod S, so shard 0 is never
 * empty. Every shard is trained on by the same code from the same inputs — the step's
 * parameters, the shard's rows, dropout masks from a generator seeded by (seed, step, shard) —
 * whichever thread computes it: `lossAndGrad` over its rows, its gradient into slot k. The
 * main thread then sums the slots in shard order, each weighted by its share of the batch
 * (m_k / n: the sum is the batch mean, accumulated in float64), and applies clipping and the
 * update once (`applyGradient`). Batchnorm normalizes each shard by its own statistics (as
 * PyTorch DDP without SyncBatchNorm) and its running statistics are shard 0's (DDP's buffers
 * broadcast from rank 0).
 *
 * Thread t of N (the main thread is thread 0, so N = 1 starts no thread at all) computes
 * shards t, t + N, …; the others run `WORKER_SOURCE` (worker-main.ts), each with its own
 * instance of the same generated module. They share, as SharedArrayBuffers: the step's
 * parameters (P values), one gradient slot per shard (S·P), the batch's x, y and predictions,
 * per-shard losses and seeds, and a control array (step counter, threads done, a dead
 * thread). The main thread waits with `Atomics.wait`, so the training loop stays
 * synchronous; a thread that ends (an exception, `process.exit`) marks itself dead on its way
 * out, and the step throws `WorkerLost` before any update: the weights of the step before are
 * untouched.
 *
 * Not the same arithmetic as `trainStep` over the whole batch (a sum of shard means is not
 * the full-batch sum rounded once), so a run without `--workers` keeps `trainStep`.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from "node:worker_threads";
import type { CompiledModel, Floats } from "../../compiler/model-api.js";
import type { BatchStepper } from "../train.js";
import { deriveSeed } from "../rng.js";
import { CTRL, WORKER_SOURCE } from "./worker-main.js";
import type { Program } from "../../compiler/program.js";
import { compileProgram } from "../../compiler/compile.js";
import { simdSupported } from "../../compiler/load.js";
import { maxBatchFor } from "./model.js";

/** Shards per batch when `--shards` is not given. */
export const DEFAULT_SHARDS = 4;

export interface ShardOptions {
  /** Threads that compute shards, the main thread included (1: no worker thread). */
  readonly workers: number;
  readonly shards: number;
  /** The run's seed: shard k of step t draws its dropout masks from (seed, t, k). */
  readonly seed: number;
  /** The generated JavaScript `model` was loaded from (each worker thread loads its own instance); needed when workers > 1. */
  readonly code?: string;
  /** Test hook: the last worker thread exits when asked for its step `failAfter + 1` (default: NNC_TEST_WORKER_EXIT). */
  readonly failAfter?: number;
}

/** A worker thread ended during the run. */
export class WorkerLost extends Error {
  constructor(
    /** 1 … threads − 1 (the main thread is thread 0). */
    readonly thread: number,
    readonly threads: number,
    readonly reason: string,
  ) {
    super(`thread ${thread} of ${threads} (0 is the main thread) ${reason}`);
  }
}

/** Rows [start, start + size) of shard k of a batch of n split into s shards. */
export function shardRows(n: number, s: number, k: number): { start: number; size: number } {
  const q = Math.floor(n / s);
  const r = n % s;
  return { start: k * q + Math.min(k, r), size: q + (k < r ? 1 : 0) };
}

/**
 * The JavaScript `compileModel(program, dtype, kernels)` loads (the same options, so the same
 * text), for the worker threads to load their own instances from. `maxBatch`: the main thread's
 * model's (`compileModel` may have fallen back to the training batch).
 */
export function moduleCode(program: Program, dtype: "float32" | "float64", kernels: "js" | "wasm", maxBatch = maxBatchFor(program)): string {
  const k = kernels === "wasm" && !simdSupported() ? "js" : kernels;
  const r = compileProgram(program, { target: "js", maxBatch, dtype, kernels: k });
  if (!r.value) throw new Error("bug: a program that compiled once did not compile again");
  return r.value.code;
}

/**
 * into[i] = w₀·s₀[i] + w₁·s₁[i] + … (a left fold over the first `used` slots, in float64,
 * rounded once). Up to four slots in one fused pass: V8 runs that ~2.5× faster than a pass
 * per slot through a float64 accumulator (264 against 702 µs for W1's 109,386 values).
 */
function weightedSum(into: Floats, slots: readonly Floats[], w: Float64Array, used: number, acc: Float64Array): void {
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

type FloatCtor = Float32ArrayConstructor | Float64ArrayConstructor;

function shared(F: FloatCtor, n: number): Floats {
  const buffer = new SharedArrayBuffer(Math.max(1, n) * F.BYTES_PER_ELEMENT);
  return F === Float64Array ? new Float64Array(buffer) : new Float32Array(buffer);
}

export class ShardedStepper implements BatchStepper {
  readonly shards: number;
  readonly threads: number;
  private readonly params: Floats;
  private readonly grads: Floats;
  private readonly stats: Floats;
  private readonly x: Floats;
  private readonly y: Floats;
  private readonly out: Floats;
  private readonly losses = new Float64Array(new SharedArrayBuffer(8 * 64));
  private readonly seeds: Int32Array;
  private readonly ctrl = new Int32Array(new SharedArrayBuffer(4 * CTRL.LENGTH));
  /** Each shard's share of the batch. */
  private readonly weights: Float64Array;
  /** The gradient slot of each shard, a view of `grads`. */
  private readonly slots: Floats[];
  /** The weighted sum of the slots, in float64 (more than four shards). */
  private readonly sum: Float64Array;
  /** [start, end) of each parameter the optimizer does not update (batchnorm statistics). */
  private readonly frozen: readonly (readonly [number, number])[];
  private readonly workers: { worker: Worker; port: MessagePort; error?: string }[] = [];
  private readonly applyGradient: (lr: number) => void;
  private readonly seedDropout: (state: number) => void;
  private readonly seed: number;
  private lastN = 0;
  private closed = false;
  /** Set once a worker thread has ended: every later step throws it again. */
  private dead: WorkerLost | undefined;

  constructor(
    private readonly model: CompiledModel,
    options: ShardOptions,
  ) {
    const { applyGradient, seedDropout } = model;
    if (!applyGradient || !seedDropout) throw new Error("bug: sharded training needs a generated model (applyGradient, seedDropout)");
    this.applyGradient = applyGradient.bind(model);
    this.seedDropout = seedDropout.bind(model);
    const meta = model.meta;
    this.shards = Math.max(1, Math.min(options.shards, 64, meta.maxBatch));
    this.threads = Math.max(1, Math.min(options.workers, this.shards));
    const F: FloatCtor = model.params instanceof Float64Array ? Float64Array : Float32Array;
    const P = model.params.length;
    this.params = shared(F, P);
    this.grads = shared(F, this.shards * P);
    this.stats = shared(F, P);
    this.x = shared(F, meta.maxBatch * meta.inputSize);
    this.y = shared(F, meta.maxBatch * meta.outputSize);
    this.out = shared(F, meta.maxBatch * meta.outputSize);
    this.seeds = new Int32Array(new SharedArrayBuffer(4 * this.shards));
    this.weights = new Float64Array(this.shards);
    this.slots = Array.from({ length: this.shards }, (_, k) => this.grads.subarray(k * P, (k + 1) * P));
    this.sum = new Float64Array(this.shards > 4 ? P : 0);
    this.frozen = model.layout.filter((e) => !e.trainable).map((e) => [e.offset, e.offset + e.size] as const);
    this.seed = options.seed;
    if (this.threads > 1 && options.code === undefined) throw new Error("bug: worker threads need the generated module's code");
    const hook = options.failAfter ?? Number(process.env["NNC_TEST_WORKER_EXIT"] ?? -1);
    for (let t = 1; t < this.threads; t++) {
      const { port1, port2 } = new MessageChannel();
      const workerData = {
        code: options.code,
        thread: t,
        threads: this.threads,
        shards: this.shards,
        inputSize: meta.inputSize,
        outputSize: meta.outputSize,
        failAfter: Number.isInteger(hook) ? hook : -1,
        frozen: this.frozen,
        port: port2,
        params: this.params,
        grads: this.grads,
        x: this.x,
        y: this.y,
        out: this.out,
        losses: this.losses,
        seeds: this.seeds,
        ctrl: this.ctrl,
      };
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData, transferList: [port2] });
      const entry: { worker: Worker; port: MessagePort; error?: string } = { worker, port: port1 };
      // An 'error' event without a listener would end the whole process: keep its text for the message.
      worker.on("error", (e) => (entry.error ??= e instanceof Error ? e.message : String(e)));
      this.workers.push(entry);
    }
  }

  trainStep(xb: Floats, yb: Floats, n: number, lr: number, step: number): number {
    if (this.closed) throw new Error("bug: the sharded stepper is closed");
    const { model, ctrl } = this;
    const meta = model.meta;
    this.x.set(xb.subarray(0, n * meta.inputSize));
    this.y.set(yb.subarray(0, n * meta.outputSize));
    // The step's parameters: all of them for the worker threads; alone, the main thread only
    // needs the statistics its shards' forward passes overwrite.
    if (this.threads > 1) this.params.set(model.params);
    else for (const [a, b] of this.frozen) this.params.set(model.params.subarray(a, b), a);
    const base = deriveSeed(this.seed, step);
    for (let k = 0; k < this.shards; k++) this.seeds[k] = deriveSeed(base, k) | 0;
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
      for (const [a, b] of this.frozen) model.params.set(this.params.subarray(a, b), a);
      throw e;
    }

    // Shard 0's batchnorm statistics (the trainable parameters are as the step found them).
    for (const [a, b] of this.frozen) model.params.set(this.stats.subarray(a, b), a);
    // The batch mean: the shards' gradients weighted by their share, summed in shard order
    // in float64, rounded once.
    let loss = 0;
    let used = 0;
    const weights = this.weights;
    for (let k = 0; k < this.shards; k++) {
      const m = shardRows(n, this.shards, k).size;
      if (m === 0) break; // the empty shards are the last ones
      weights[k] = m / n;
      loss += (m / n) * (this.losses[k] as number);
      used++;
    }
    weightedSum(model.grads, this.slots, weights, used, this.sum);
    this.applyGradient(lr);
    // The main model's generator state depends on (seed, step), not on who computed what.
    this.seedDropout(this.seeds[0]! >>> 0);
    this.lastN = n;
    return loss;
  }

  output(): Floats {
    return this.out.subarray(0, this.lastN * this.model.meta.outputSize);
  }

  /** What each worker thread does for its shards, on the main thread's model (thread 0). */
  private computeShard(k: number, n: number): void {
    const { model } = this;
    const { start, size } = shardRows(n, this.shards, k);
    if (size === 0) {
      this.losses[k] = 0;
      return;
    }
    const fi = model.meta.inputSize;
    const fo = model.meta.outputSize;
    // The trainable parameters are the step's; the statistics an earlier shard's forward pass moved go back.
    if (k > 0) for (const [a, b] of this.frozen) model.params.set(this.params.subarray(a, b), a);
    this.seedDropout(this.seeds[k]! >>> 0);
    this.losses[k] = model.lossAndGrad(this.x.subarray(start * fi, (start + size) * fi), this.y.subarray(start * fo, (start + size) * fo), size);
    this.slots[k]!.set(model.grads);
    this.out.set(model.output().subarray(0, size * fo), start * fo);
    if (k === 0) for (const [a, b] of this.frozen) this.stats.set(model.params.subarray(a, b), a);
  }

  /** Until every worker thread has counted itself done; a dead one ends the step with `WorkerLost`. */
  private awaitThreads(): void {
    const { ctrl } = this;
    const expected = this.threads - 1;
    for (;;) {
      const done = Atomics.load(ctrl, CTRL.DONE);
      if (done >= expected) return;
      const dead = Atomics.load(ctrl, CTRL.DEAD);
      if (dead !== 0) throw (this.dead ??= this.lost(dead - 1));
      Atomics.wait(ctrl, CTRL.DONE, done, 100);
    }
  }

  private lost(thread: number): WorkerLost {
    const entry = this.workers[thread - 1];
    const posted = entry ? receiveMessageOnPort(entry.port)?.message : undefined;
    const first = (s: string): string => s.split("\n")[0] ?? s;
    const reason = typeof posted === "string" ? `threw ${first(posted)}` : entry?.error !== undefined ? `threw ${first(entry.error)}` : `exited with code ${Atomics.load(this.ctrl, CTRL.CODE)}`;
    return new WorkerLost(thread, this.threads, reason);
  }

  /** Stops the worker threads (idempotent). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.ctrl, CTRL.QUIT, 1);
    Atomics.add(this.ctrl, CTRL.GEN, 1);
    Atomics.notify(this.ctrl, CTRL.GEN);
    await Promise.all(
      this.workers.map(async (w) => {
        w.port.close();
        await w.worker.terminate();
      }),
    );
  }
}
