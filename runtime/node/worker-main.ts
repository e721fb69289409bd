/**
 * The program each training thread of `--workers N` runs (`shards.ts` starts it with
 * `new Worker(WORKER_SOURCE, { eval: true })`). It is a string of plain JavaScript with no
 * imports of ours, so the bundled CLI, `tsc`'s output and vitest all run the same text
 * without a separate entry file.
 *
 * workerData: { code, thread, threads, shards, inputSize, outputSize, spin, frozen, port,
 * params, grads, x, y, out, losses, seeds, ctrl, claims, sum } — the generated module's
 * JavaScript and the shared arrays of `ShardBuffers` (`runtime/shards.ts` says what each holds;
 * `sum`, when present, the WebAssembly kernel of the sum and its memory, `runtime/slot-sum.ts`).
 *
 * The loop (the claiming side of `ShardSteps`, `runtime/shards.ts`): count itself ready
 * (ctrl[READY]); wait for the step counter (ctrl[GEN]) to move — a spin of `spin` µs, then
 * `Atomics.wait`; take any shard still open in `claims` (a compare-and-swap from the step's
 * number to 0) and compute it exactly as thread 0 computes its own (`computeShard`: the step's
 * parameters from `params` before its first shard of the step, the statistics a shard's forward
 * pass moves put back before the next, dropout state from `seeds[k]`, `lossAndGrad` over the
 * shard's rows, the gradient into slot k), count it done (ctrl[DONE]) — the thread that
 * completes the step's last shard opens the chunks of the sum and says so in ctrl[OPEN] — then
 * take open chunks and sum them with the kernel (ctrl[SUMDONE]). When the thread ends for any
 * reason but the main thread's "quit", it records that in ctrl[DEAD] and wakes the main thread,
 * which ends the run (NN5013). ctrl[KILL] naming this thread makes it exit with code 70 (a test
 * hook, `NNC_TEST_WORKER_EXIT`).
 */
import { CTRL } from "../shards.js";

export { CTRL };

export const WORKER_SOURCE = `"use strict";
const { workerData } = require("node:worker_threads");
const d = workerData;
const C = ${JSON.stringify(CTRL)};
const ctrl = d.ctrl, claims = d.claims, S = d.shards;
let quitting = false;
process.on("exit", (code) => {
  if (quitting) return;
  Atomics.store(ctrl, C.CODE, code | 0);
  Atomics.compareExchange(ctrl, C.DEAD, 0, d.thread + 1);
  for (const i of [C.DONE, C.SUMDONE, C.READY]) Atomics.notify(ctrl, i);
});
try {
  const body = d.code.replace(/^export (const|function) /gm, "$1 ") + "\\nreturn { layout, meta, createModel };\\n";
  const model = new Function(body)().createModel();
  const P = model.params.length;
  const slots = Array.from({ length: S }, (_, k) => d.grads.subarray(k * P, (k + 1) * P));
  const sum = d.sum && new WebAssembly.Instance(d.sum.kernel, { env: { memory: d.sum.memory } }).exports.sum;
  const chunks = claims.length - S;
  const spinMs = d.spin / 1000;
  // Until ctrl[i] is no longer v: a spin, then Atomics.wait (with a timeout, to look at QUIT).
  const until = (i, v) => {
    const end = performance.now() + spinMs;
    for (let s = 1; Atomics.load(ctrl, i) === v; s++) {
      if ((s & 255) !== 0 || performance.now() < end) continue;
      while (Atomics.load(ctrl, i) === v && Atomics.load(ctrl, C.QUIT) === 0) Atomics.wait(ctrl, i, v, 50);
      return;
    }
  };
  // The step whose parameters the model holds.
  let fresh = 0;
  const shard = (k, g) => {
    const n = ctrl[C.N], q = Math.floor(n / S), r = n % S;
    const a = k * q + Math.min(k, r), m = q + (k < r ? 1 : 0);
    if (fresh !== g) { model.params.set(d.params); fresh = g; }
    else for (const [s, e] of d.frozen) model.params.set(d.params.subarray(s, e), s);
    model.seedDropout(d.seeds[k] >>> 0);
    d.losses[k] = model.lossAndGrad(d.x.subarray(a * d.inputSize, (a + m) * d.inputSize), d.y.subarray(a * d.outputSize, (a + m) * d.outputSize), m);
    slots[k].set(model.grads);
    d.out.set(model.output().subarray(0, m * d.outputSize), a * d.outputSize);
    const done = Atomics.add(ctrl, C.DONE, 1) + 1;
    Atomics.notify(ctrl, C.DONE);
    if (done < ctrl[C.USED] || !sum) return;
    // The step's last shard: open the chunks of the sum.
    for (let c = 0; c < chunks; c++) Atomics.store(claims, S + c, g);
    Atomics.store(ctrl, C.OPEN, g);
    Atomics.notify(ctrl, C.OPEN);
  };
  // Takes entry i of claims if it is open; the step it was open for, or 0.
  const take = (i) => {
    const g = Atomics.load(claims, i);
    return g !== 0 && Atomics.compareExchange(claims, i, g, 0) === g ? g : 0;
  };
  Atomics.add(ctrl, C.READY, 1);
  Atomics.notify(ctrl, C.READY);
  let seen = 0;
  for (;;) {
    until(C.GEN, seen);
    seen = Atomics.load(ctrl, C.GEN);
    if (Atomics.load(ctrl, C.QUIT) !== 0) break;
    if (Atomics.load(ctrl, C.KILL) === d.thread) process.exit(70);
    for (;;) {
      let took = false;
      for (let k = 1; k < S; k++) {
        const g = take(k);
        if (g !== 0) { shard(k, g); took = true; }
      }
      if (sum) for (let c = 0; c < chunks; c++) {
        const g = take(S + c);
        if (g !== 0) { sum(c, ctrl[C.USED]); Atomics.add(ctrl, C.SUMDONE, 1); Atomics.notify(ctrl, C.SUMDONE); took = true; }
      }
      if (took) continue;
      // Nothing open: the step is over for this thread, unless its chunks are still to open.
      const open = Atomics.load(ctrl, C.OPEN);
      if (!sum || open === seen || Atomics.load(ctrl, C.GEN) !== seen || Atomics.load(ctrl, C.QUIT) !== 0) break;
      until(C.OPEN, open);
    }
  }
  quitting = true;
  d.port.close();
} catch (e) {
  try { d.port.postMessage(String((e && e.stack) || e)); } catch {}
  throw e;
}
`;
