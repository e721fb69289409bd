/**
 * A helper of the page's data-parallel training (`shards.ts`): thread t of N loads its own
 * instance of the generated module, then computes shards t, t + N, … of every step exactly as
 * `nnc train --workers`' threads do (`runtime/node/worker-main.ts`): the step's parameters from
 * the shared `params`, dropout from `seeds[k]`, `lossAndGrad` over the shard's rows, the
 * gradient into slot k; then it counts itself done. It waits with `Atomics.wait` between steps.
 */
import { loadModule } from "../../compiler/load.js";
import { CTRL, shardRows, type ShardBuffers } from "../../runtime/shards.js";

export interface ShardInit extends ShardBuffers {
  readonly code: string;
  readonly thread: number;
  readonly threads: number;
  readonly shards: number;
  readonly inputSize: number;
  readonly outputSize: number;
}

export type ShardReply = { readonly type: "ready" } | { readonly type: "failed"; readonly message: string };

const scope = self as unknown as { postMessage(m: ShardReply): void; onmessage: ((e: MessageEvent<ShardInit>) => void) | null; close(): void };

function loop(d: ShardInit): void {
  const model = loadModule(d.code).createModel();
  const P = model.params.length;
  const ctrl = d.ctrl;
  scope.postMessage({ type: "ready" });
  let seen = 0;
  for (;;) {
    Atomics.wait(ctrl, CTRL.GEN, seen);
    seen = Atomics.load(ctrl, CTRL.GEN);
    if (Atomics.load(ctrl, CTRL.QUIT) !== 0) return;
    const n = ctrl[CTRL.N]!;
    model.params.set(d.params);
    for (let k = d.thread; k < d.shards; k += d.threads) {
      const { start, size } = shardRows(n, d.shards, k);
      if (size === 0) {
        d.losses[k] = 0;
        continue;
      }
      if (k !== d.thread) for (const [s, e] of d.frozen) model.params.set(d.params.subarray(s, e), s);
      model.seedDropout!(d.seeds[k]! >>> 0);
      d.losses[k] = model.lossAndGrad(d.x.subarray(start * d.inputSize, (start + size) * d.inputSize), d.y.subarray(start * d.outputSize, (start + size) * d.outputSize), size);
      d.grads.subarray(k * P, (k + 1) * P).set(model.grads);
      d.out.set(model.output().subarray(0, size * d.outputSize), start * d.outputSize);
    }
    Atomics.add(ctrl, CTRL.DONE, 1);
    Atomics.notify(ctrl, CTRL.DONE);
  }
}

scope.onmessage = (e) => {
  const d = e.data;
  try {
    loop(d);
    scope.close();
  } catch (err) {
    // Thread 0 waits on ctrl: tell it this thread is gone, and why.
    scope.postMessage({ type: "failed", message: `threw ${String(err instanceof Error ? err.message : err)}` });
    Atomics.store(d.ctrl, CTRL.CODE, 1);
    Atomics.compareExchange(d.ctrl, CTRL.DEAD, 0, d.thread + 1);
    Atomics.notify(d.ctrl, CTRL.DONE);
  }
};
