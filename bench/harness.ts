/**
 * What every system in the bench implements, and how it is measured.
 *
 * A training workload is a fixed list of batches (same order for every system) and shared
 * initial weights. A system is measured by: reset → a few warm-up steps → reset again → the
 * whole epoch, timed in chunks; the throughput is the median over the chunks, the accuracy is
 * taken after the epoch, so each row shows the work it did.
 */
import type { DenseInit } from "./data.js";

export type OptKind = "sgd" | "adam";
export type Hidden = "relu" | "tanh";
export type Head = "softmax_ce" | "sigmoid_bce";

export interface TrainSetup {
  /** Layer widths, input first. */
  readonly sizes: readonly number[];
  readonly hidden: Hidden;
  readonly head: Head;
  readonly batch: number;
  readonly lr: Readonly<Record<OptKind, number>>;
  readonly init: readonly DenseInit[];
  /** The epoch: batch b is rows [b·batch, (b+1)·batch) of x / y. */
  readonly x: Float32Array;
  readonly y: Float32Array;
  readonly steps: number;
  /** Evaluation set (test split for W1, the training points for W2). */
  readonly evalX: Float32Array;
  readonly evalLabels: Uint8Array;
}

export interface Trainer {
  readonly name: string;
  /** Restore the shared initial weights and a fresh optimizer of this kind. */
  reset(opt: OptKind): void;
  /** One optimizer step on batch `b` of the setup's batch list. */
  step(b: number): void;
  /** Block until queued work is done. */
  sync(): void;
  /** Scores for `n` samples of `x` (n × outputs), a copy. */
  predict(x: Float32Array, n: number): Float32Array;
  /** One sample (a 1 × features row) through the network; W3. */
  infer(x: Float32Array): void;
  dispose(): void;
}

export interface TrainResult {
  /** Samples (W1) or steps (W2) per second: median over chunks. */
  readonly rate: number;
  /** Rates of every chunk. */
  readonly chunks: readonly number[];
  /**
   * The same rate over the process's CPU time instead of wall time (median over chunks): on a
   * machine shared with other work it counts only the time this system actually ran.
   */
  readonly cpuRate: number;
  readonly seconds: number;
  readonly samples: number;
  readonly accuracy: number;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function nowMs(): number {
  return performance.now();
}

/** Ask for a collection between measurements (`node --expose-gc`), so it does not land inside one. */
export function collect(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) g();
}

export function accuracyOf(scores: ArrayLike<number>, labels: Uint8Array, outputs: number): number {
  let hit = 0;
  for (let i = 0; i < labels.length; i++) {
    let cls: number;
    if (outputs === 1) cls = scores[i]! > 0.5 ? 1 : 0;
    else {
      cls = 0;
      for (let c = 1; c < outputs; c++) if (scores[i * outputs + c]! > scores[i * outputs + cls]!) cls = c;
    }
    if (cls === labels[i]) hit++;
  }
  return hit / labels.length;
}

export function evaluate(t: Trainer, setup: TrainSetup): number {
  const f = setup.sizes[0]!, k = setup.sizes[setup.sizes.length - 1]!;
  const n = setup.evalLabels.length;
  const scores = new Float32Array(n * k);
  const chunk = 500;
  for (let s = 0; s < n; s += chunk) {
    const m = Math.min(chunk, n - s);
    scores.set(t.predict(setup.evalX.subarray(s * f, (s + m) * f), m).subarray(0, m * k), s * k);
  }
  return accuracyOf(scores, setup.evalLabels, k);
}

export interface MeasureOptions {
  readonly warmupSteps: number;
  readonly chunks: number;
  /** Train on only the first `maxSteps` batches (slow systems); default: all. */
  readonly maxSteps?: number;
}

export function measureTraining(t: Trainer, setup: TrainSetup, opt: OptKind, o: MeasureOptions): TrainResult {
  const steps = Math.min(setup.steps, o.maxSteps ?? setup.steps);
  t.reset(opt);
  // Warm up: at least warmupSteps and 1.5 s (V8 needs a while to optimize the large generated
  // functions: ~0.4–1 s of background compilation on a busy machine), at most 4 s (slow systems).
  const w0 = nowMs();
  for (let s = 0; s < 3 || ((s < o.warmupSteps || nowMs() - w0 < 1500) && nowMs() - w0 < 4000); s++) t.step(s % steps);
  t.sync();
  t.reset(opt);
  collect();
  const per = Math.max(1, Math.floor(steps / o.chunks));
  const chunks: number[] = [];
  const cpuChunks: number[] = [];
  const start = nowMs();
  for (let b = 0; b < steps; ) {
    const first = b;
    const end = Math.min(steps, b + per);
    const c0 = process.cpuUsage();
    const t0 = nowMs();
    for (; b < end; b++) t.step(b);
    t.sync();
    const dt = nowMs() - t0;
    const c = process.cpuUsage(c0);
    chunks.push(((end - first) * setup.batch * 1000) / dt);
    cpuChunks.push(((end - first) * setup.batch * 1e6) / Math.max(1, c.user + c.system));
  }
  const seconds = (nowMs() - start) / 1000;
  return {
    rate: median(chunks),
    chunks,
    cpuRate: median(cpuChunks),
    seconds,
    samples: steps * setup.batch,
    accuracy: evaluate(t, setup),
  };
}

/** Median latency in microseconds of one-sample inference over `reps` calls, after warm-up. */
export function measureLatency(t: Trainer, x: Float32Array, features: number, reps: number): number {
  // Cycle over 100 rows, all of them seen during warm-up.
  const count = Math.min(100, x.length / features);
  for (let i = 0; i < 300; i++) t.infer(x.subarray((i % count) * features, (i % count + 1) * features));
  collect();
  const lat: number[] = [];
  for (let i = 0; i < reps; i++) {
    const row = x.subarray((i % count) * features, (i % count + 1) * features);
    const t0 = process.hrtime.bigint();
    t.infer(row);
    lat.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  return median(lat);
}

/** Multiply-adds of one sample's forward pass. */
export function forwardMacs(sizes: readonly number[]): number {
  let m = 0;
  for (let l = 0; l + 1 < sizes.length; l++) m += sizes[l]! * sizes[l + 1]!;
  return m;
}

/**
 * Floating-point operations of one training sample: forward, weight gradient, and input
 * gradient of every layer but the first (2 per multiply-add; elementwise work not counted).
 */
export function trainFlops(sizes: readonly number[]): number {
  const f = forwardMacs(sizes);
  return 2 * (2 * f + (f - sizes[0]! * sizes[1]!));
}
