/**
 * A worker thread of `nnc search --workers N` (`search-pool.ts` starts it): trains the trials
 * it is sent, one at a time, exactly as the main thread would (`runTrial`: the trial's plain
 * file checked, compiled, trained from its own seed and scored), and posts each epoch and the
 * outcome back. Nothing is shared with the other threads but the files it reads, so a
 * trial's outcome does not depend on which thread ran it.
 *
 * Its own entry point (the bundle's `dist/search-worker.mjs`, `tsc`'s
 * `dist/runtime/node/search-worker.js`, or this file under vitest), because it runs the
 * whole compiler and runtime: unlike `worker-main.ts`, it cannot be a string without imports.
 */
import { parentPort, workerData } from "node:worker_threads";
import { runTrial, type SearchMetric, type TrialOutcome } from "../search-trial.js";
import { FileReader } from "./files.js";
import { compileModel } from "./model.js";

/** What the pool sends: one trial. */
export interface TrialJob {
  readonly trial: number;
  /** The trial's plain file. */
  readonly source: string;
  readonly epochs: number | undefined;
  readonly metric: SearchMetric;
  /** The folder its data paths are relative to. */
  readonly baseDir: string;
  readonly kernels: "js" | "wasm";
}

/** What the thread posts back. */
export type TrialMessage =
  | { readonly type: "epoch"; readonly trial: number; readonly epoch: number; readonly epochs: number; readonly value: number | undefined }
  | { readonly type: "done"; readonly trial: number; readonly outcome: TrialOutcome; readonly seconds: number };

/** Runs one job; also what `--workers 1` runs in the main thread, so both measure alike. */
export async function runJob(job: TrialJob, post: (m: TrialMessage) => void): Promise<void> {
  const t0 = performance.now();
  const outcome = await runTrial(job.source, {
    metric: job.metric,
    epochs: job.epochs,
    reader: new FileReader(job.baseDir),
    compile: (p) => compileModel(p, "float32", job.kernels),
    onEpoch: (r, epochs) => post({ type: "epoch", trial: job.trial, epoch: r.epoch, epochs, value: r.values[`val_${job.metric}`] }),
  });
  post({ type: "done", trial: job.trial, outcome, seconds: Number(((performance.now() - t0) / 1000).toFixed(3)) });
}

/** Set in the workerData of the threads the pool starts (imported elsewhere, this file only exports). */
export const SEARCH_WORKER = "nncSearchWorker";

const port = parentPort;
if (port !== null && (workerData as Record<string, unknown> | null)?.[SEARCH_WORKER] === true) {
  // One job at a time: the pool sends the next only after this one's "done".
  port.on("message", (job: TrialJob) => {
    // Test hook (NNC_TEST_SEARCH_WORKER_EXIT=k): the thread given trial k ends, as one that runs out of memory would.
    if (process.env["NNC_TEST_SEARCH_WORKER_EXIT"] === String(job.trial)) process.exit(70);
    void runJob(job, (m) => port.postMessage(m));
  });
}
