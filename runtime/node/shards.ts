/**
 * Synchronous data parallelism (`nnc train --workers N --shards S`), bit-identical whatever N.
 * The step's arithmetic is browser-safe and shared with the playground (`runtime/shards.ts`:
 * `ShardSteps`, `shardRows`); this file starts the worker threads and says how one died.
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
 * the full-batch sum rounded once): a run without `--workers` or `--shards` keeps `trainStep`
 * unless its step is large enough for `defaultThreads` (`runtime/shards.ts`).
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from "node:worker_threads";
import type { CompiledModel, Floats } from "../../compiler/model-api.js";
import { CTRL, ShardSteps, SPIN_US, type ShardStepOptions } from "../shards.js";
import { WORKER_SOURCE } from "./worker-main.js";
import type { Program } from "../../compiler/program.js";
import { compileProgram } from "../../compiler/compile.js";
import { simdSupported } from "../../compiler/load.js";
import { maxBatchFor } from "./model.js";

export { DEFAULT_SHARDS, defaultThreads, shardRows } from "../shards.js";

/** `ShardSteps`' options (`runtime/shards.ts`: workers, shards, seed, spin, test hooks), and what starting threads needs. */
export interface ShardOptions extends Omit<ShardStepOptions, "memory" | "claiming"> {
  /** The generated JavaScript `model` was loaded from (each worker thread loads its own instance); needed when workers > 1. */
  readonly code?: string;
  /** Test hook: the last worker thread is told to exit before step `failAfter + 1` (default: NNC_TEST_WORKER_EXIT). */
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

/** The step's arithmetic is `ShardSteps`' (`runtime/shards.ts`); this starts and ends the worker threads. */
export class ShardedStepper extends ShardSteps {
  private readonly workers: { worker: Worker; port: MessagePort; error?: string }[] = [];
  /** Test hook: before this step (counted from 0), the last worker thread is told to exit. */
  private readonly failAt: number;
  private steps = 0;

  constructor(model: CompiledModel, options: ShardOptions) {
    super(model, { ...options, claiming: true });
    const meta = model.meta;
    if (this.threads > 1 && options.code === undefined) throw new Error("bug: worker threads need the generated module's code");
    const hook = options.failAfter ?? Number(process.env["NNC_TEST_WORKER_EXIT"] ?? -1);
    this.failAt = Number.isInteger(hook) && this.threads > 1 ? hook : -1;
    const b = this.buffers;
    for (let t = 1; t < this.threads; t++) {
      const { port1, port2 } = new MessageChannel();
      const workerData = {
        code: options.code,
        thread: t,
        threads: this.threads,
        shards: this.shards,
        inputSize: meta.inputSize,
        outputSize: meta.outputSize,
        spin: options.spin ?? SPIN_US,
        frozen: b.frozen,
        port: port2,
        params: b.params,
        grads: b.grads,
        x: b.x,
        y: b.y,
        out: b.out,
        losses: b.losses,
        seeds: b.seeds,
        ctrl: b.ctrl,
        claims: b.claims,
        sum: b.sum,
      };
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData, transferList: [port2] });
      const entry: { worker: Worker; port: MessagePort; error?: string } = { worker, port: port1 };
      // An 'error' event without a listener would end the whole process: keep its text for the message.
      worker.on("error", (e) => (entry.error ??= e instanceof Error ? e.message : String(e)));
      this.workers.push(entry);
    }
  }

  override trainStep(xb: Floats, yb: Floats, n: number, lr: number, step: number): number {
    if (this.steps++ === this.failAt) this.killLast();
    return super.trainStep(xb, yb, n, lr, step);
  }

  /** The test hook: tells the last worker thread to exit (code 70) and waits until it has. */
  private killLast(): void {
    const { ctrl } = this.buffers;
    Atomics.store(ctrl, CTRL.KILL, this.threads - 1);
    Atomics.add(ctrl, CTRL.GEN, 1);
    Atomics.notify(ctrl, CTRL.GEN);
    while (Atomics.load(ctrl, CTRL.DEAD) === 0) Atomics.wait(ctrl, CTRL.READY, Atomics.load(ctrl, CTRL.READY), 100);
  }

  protected lost(thread: number): WorkerLost {
    const entry = this.workers[thread - 1];
    const posted = entry ? receiveMessageOnPort(entry.port)?.message : undefined;
    const first = (s: string): string => s.split("\n")[0] ?? s;
    const reason = typeof posted === "string" ? `threw ${first(posted)}` : entry?.error !== undefined ? `threw ${first(entry.error)}` : `exited with code ${Atomics.load(this.buffers.ctrl, CTRL.CODE)}`;
    return new WorkerLost(thread, this.threads, reason);
  }

  /** Stops the worker threads (idempotent). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.quit();
    await Promise.all(
      this.workers.map(async (w) => {
        w.port.close();
        await w.worker.terminate();
      }),
    );
  }
}
