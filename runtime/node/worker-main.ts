/**
 * The program each training thread of `--workers N` runs (`shards.ts` starts it with
 * `new Worker(WORKER_SOURCE, { eval: true })`). It is a string of plain JavaScript with no
 * imports of ours, so the bundled CLI, `tsc`'s output and vitest all run the same text
 * without a separate entry file.
 *
 * workerData: { code, thread, threads, shards, inputSize, outputSize, failAfter, frozen, port,
 * params, grads, x, y, out, losses, seeds, ctrl } — the generated module's JavaScript
 * and the shared arrays of `ShardBuffers` (shards.ts says what each holds).
 *
 * The loop: wait for the step counter (ctrl[GEN]) to move; compute shards thread,
 * thread + threads, … exactly as the main thread computes its own (`computeShard` in
 * shards.ts: parameters from `params` (the statistics a shard's forward pass moves put
 * back before the next), dropout state from `seeds[k]`, `lossAndGrad` over the
 * shard's rows, the gradient into slot k); count itself done (ctrl[DONE]). When the thread
 * ends for any reason but the main thread's "quit", it records that in ctrl[DEAD] and wakes
 * the main thread, which ends the run (NN5013).
 */
import { CTRL } from "../shards.js";

export { CTRL };

export const WORKER_SOURCE = `"use strict";
const { workerData } = require("node:worker_threads");
const d = workerData;
const GEN = ${CTRL.GEN}, DONE = ${CTRL.DONE}, DEAD = ${CTRL.DEAD}, CODE = ${CTRL.CODE}, N = ${CTRL.N}, QUIT = ${CTRL.QUIT};
const ctrl = d.ctrl;
let quitting = false;
process.on("exit", (code) => {
  if (quitting) return;
  Atomics.store(ctrl, CODE, code | 0);
  Atomics.compareExchange(ctrl, DEAD, 0, d.thread + 1);
  Atomics.notify(ctrl, DONE);
});
try {
  const body = d.code.replace(/^export (const|function) /gm, "$1 ") + "\\nreturn { layout, meta, createModel };\\n";
  const model = new Function(body)().createModel();
  const P = model.params.length;
  let seen = 0;
  let steps = 0;
  for (;;) {
    Atomics.wait(ctrl, GEN, seen);
    seen = Atomics.load(ctrl, GEN);
    if (Atomics.load(ctrl, QUIT) !== 0) break;
    // Test hook (NNC_TEST_WORKER_EXIT=k): the last thread dies when asked for its step k + 1.
    if (d.failAfter >= 0 && d.thread === d.threads - 1 && steps === d.failAfter) process.exit(70);
    steps++;
    const n = ctrl[N];
    const q = Math.floor(n / d.shards), r = n % d.shards;
    model.params.set(d.params);
    for (let k = d.thread; k < d.shards; k += d.threads) {
      const a = k * q + Math.min(k, r), m = q + (k < r ? 1 : 0);
      if (m === 0) { d.losses[k] = 0; continue; }
      if (k !== d.thread) for (const [s, e] of d.frozen) model.params.set(d.params.subarray(s, e), s);
      model.seedDropout(d.seeds[k] >>> 0);
      d.losses[k] = model.lossAndGrad(d.x.subarray(a * d.inputSize, (a + m) * d.inputSize), d.y.subarray(a * d.outputSize, (a + m) * d.outputSize), m);
      d.grads.subarray(k * P, (k + 1) * P).set(model.grads);
      d.out.set(model.output().subarray(0, m * d.outputSize), a * d.outputSize);
    }
    Atomics.add(ctrl, DONE, 1);
    Atomics.notify(ctrl, DONE);
  }
  quitting = true;
  d.port.close();
} catch (e) {
  try { d.port.postMessage(String((e && e.stack) || e)); } catch {}
  throw e;
}
`;
