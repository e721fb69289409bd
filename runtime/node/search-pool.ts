/**
 * The worker threads of `nnc search --workers N`: N threads, each running `search-worker.ts`,
 * each given one trial at a time. Which trials run, and in what order their results are
 * used, is `runtime/search-loop.ts`'s business; this file starts the threads, hands each a
 * job, passes its epochs on, and says how a thread was lost.
 *
 * The thread's script sits beside this module under the name its build gives it: the
 * bundle (`dist/nnc.mjs`, `scripts/bundle-cli.mjs`) has `dist/search-worker.mjs` beside it,
 * `tsc`'s output `search-worker.js` beside `search-pool.js`, and the sources (vitest) have
 * `search-worker.ts`, which the thread loads through tsx (a dev dependency, as vitest is).
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { SEARCH_WORKER, type TrialJob, type TrialMessage } from "./search-worker.js";
import type { TrialOutcome } from "../search-trial.js";

export type { TrialJob } from "./search-worker.js";

/** A thread ended (an exception, `process.exit`, out of memory) before its trial did. */
export class SearchWorkerLost extends Error {
  constructor(
    readonly thread: number,
    readonly trial: number | undefined,
    readonly reason: string,
  ) {
    super(`search thread ${thread}${trial === undefined ? "" : ` (trial ${trial})`} ${reason}`);
  }
}

interface Running {
  readonly job: TrialJob;
  readonly onEpoch: (m: Extract<TrialMessage, { type: "epoch" }>) => void;
  readonly resolve: (r: { outcome: TrialOutcome; seconds: number }) => void;
  readonly reject: (e: Error) => void;
}

interface Slot {
  readonly thread: number;
  readonly worker: Worker;
  current: Running | undefined;
  lost: string | undefined;
}

/** The thread's script: `search-worker` with this module's own extension. */
export function workerScript(here: string = import.meta.url): URL {
  const ext = here.endsWith(".ts") ? ".ts" : here.endsWith(".mjs") ? ".mjs" : ".js";
  return new URL(`./search-worker${ext}`, here);
}

function startThread(script: URL): Worker {
  const workerData = { [SEARCH_WORKER]: true };
  if (!script.pathname.endsWith(".ts")) return new Worker(script, { workerData });
  // The sources: register tsx's loader in the thread, then import the script through it.
  const boot = `import(${JSON.stringify(tsxApi())}).then((t) => { t.register(); return import(${JSON.stringify(script.href)}); });`;
  return new Worker(boot, { eval: true, workerData });
}

/** tsx's loader API, as an ES module (`require.resolve` would give its CommonJS build). */
function tsxApi(): string {
  const manifest = createRequire(import.meta.url).resolve("tsx/package.json");
  const exports = (JSON.parse(readFileSync(manifest, "utf8")) as { exports: Record<string, { import: { default: string } }> }).exports;
  return pathToFileURL(join(dirname(manifest), exports["./esm/api"]!.import.default)).href;
}

export class SearchPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Running[] = [];
  private closed = false;

  constructor(threads: number, script: URL = workerScript()) {
    for (let t = 1; t <= threads; t++) {
      const slot: Slot = { thread: t, worker: startThread(script), current: undefined, lost: undefined };
      const lose = (reason: string): void => {
        if (this.closed || slot.lost !== undefined) return;
        slot.lost = reason;
        const r = slot.current;
        slot.current = undefined;
        r?.reject(new SearchWorkerLost(t, r.job.trial, reason));
      };
      slot.worker.on("message", (m: TrialMessage) => {
        const r = slot.current;
        if (r === undefined || m.trial !== r.job.trial) return;
        if (m.type === "epoch") return r.onEpoch(m);
        slot.current = undefined;
        r.resolve({ outcome: m.outcome, seconds: m.seconds });
        this.dispatch();
      });
      // An 'error' event without a listener would end the whole process.
      slot.worker.on("error", (e) => lose(`threw ${(e instanceof Error ? e.message : String(e)).split("\n")[0]}`));
      slot.worker.on("exit", (code) => lose(`exited with code ${code}`));
      this.slots.push(slot);
    }
  }

  get threads(): number {
    return this.slots.length;
  }

  /** Trains `job` on the first free thread. */
  run(job: TrialJob, onEpoch: Running["onEpoch"] = () => {}): Promise<{ outcome: TrialOutcome; seconds: number }> {
    return new Promise((resolve, reject) => {
      this.queue.push({ job, onEpoch, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.current !== undefined || slot.lost !== undefined) continue;
      slot.current = this.queue.shift()!;
      slot.worker.postMessage(slot.current.job);
    }
    const alive = this.slots.filter((s) => s.lost === undefined);
    if (alive.length === 0) for (const r of this.queue.splice(0)) r.reject(new SearchWorkerLost(0, r.job.trial, "could not run: every search thread was lost"));
  }

  /** Stops the threads (idempotent); a trial still running is abandoned. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
