/**
 * Data-parallel training in the page (issue 16): the training worker is thread 0 of
 * `ShardSteps` (`runtime/shards.ts`, the arithmetic `nnc train --workers N` runs) and starts
 * `threads − 1` more Web Workers (`shard.worker.ts`) over SharedArrayBuffers, so the weights
 * are the same bit for bit with one worker or two. Without cross-origin isolation there is no
 * SharedArrayBuffer: then one thread on plain ArrayBuffers, the same shards, the same weights.
 */
import type { CompiledModel } from "../../compiler/model-api.js";
import { CTRL, DEFAULT_SHARDS, ShardSteps } from "../../runtime/shards.js";
import type { ShardInit, ShardReply } from "./shard.worker.js";

/** Whether this page may share memory between workers. */
export const canShare = (): boolean => (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true && typeof SharedArrayBuffer === "function";

export class PageShards extends ShardSteps {
  private readonly helpers: Worker[] = [];
  private readonly failures: string[] = [];

  private constructor(model: CompiledModel, workers: number, seed: number) {
    const share = canShare();
    super(model, { workers: share ? workers : 1, shards: DEFAULT_SHARDS, seed, ...(share ? {} : { memory: (bytes: number) => new ArrayBuffer(bytes) }) });
  }

  /** The stepper with its helper workers started and their modules loaded. */
  static async start(model: CompiledModel, code: string, workers: number, seed: number): Promise<PageShards> {
    const s = new PageShards(model, workers, seed);
    const meta = model.meta;
    await Promise.all(
      Array.from({ length: s.threads - 1 }, (_, k) => {
        const worker = new Worker(new URL("./shard.worker.ts", import.meta.url), { type: "module" });
        s.helpers.push(worker);
        const init: ShardInit = { code, thread: k + 1, threads: s.threads, shards: s.shards, inputSize: meta.inputSize, outputSize: meta.outputSize, ...s.buffers };
        return new Promise<void>((resolve, reject) => {
          worker.onmessage = (e: MessageEvent<ShardReply>) => {
            if (e.data.type === "ready") resolve();
            else {
              s.failures[k] = e.data.message;
              reject(new Error(e.data.message));
            }
          };
          worker.onerror = (e) => {
            s.failures[k] ??= e.message;
            reject(new Error(e.message));
          };
          worker.postMessage(init);
        });
      }),
    );
    return s;
  }

  protected lost(thread: number): Error {
    const why = this.failures[thread - 1] ?? `ended (code ${Atomics.load(this.buffers.ctrl, CTRL.CODE)})`;
    return new Error(`training worker ${thread + 1} of ${this.threads} ${why}`);
  }

  close(): void {
    this.quit();
    for (const w of this.helpers) w.terminate();
  }
}
