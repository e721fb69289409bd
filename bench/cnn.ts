/**
 * The CNN workload (issue 8): `examples/fashion-cnn.nn` — conv 16 3×3 same + relu, maxpool 2,
 * conv 32 3×3 same + relu, maxpool 2, dense 64 relu, dense 10 softmax, Adam, batch 64 — on
 * Fashion-MNIST, nnc side by side with TensorFlow.js (cpu and wasm backends) on the same
 * network, the same initial weights and the same batches.
 *
 *   npm run build && node dist/bench/cnn.js [--steps 60] [--systems nnc,nnc-wasm,tfjs-cpu,tfjs-wasm] [--json]
 *
 * Each system: 3 warm-up steps, a reset to the shared weights, then `steps` timed training
 * steps in chunks of 10; the rate is the median chunk, in wall time and in this process's CPU
 * time (the second is the fairer number on a shared machine). Afterwards the test accuracy of
 * the trained weights is printed, so each row shows that it did the same work. Inference is
 * timed on batches of 64 test images. TF.js 4.22's wasm backend has no Conv2DBackpropFilter
 * kernel, so it can only run this network forward: its row shows inference alone.
 *
 * Standalone on purpose (`bench/run.ts` belongs to the bench harness): see the end of this file
 * for how it plugs in there.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { checkSource } from "../compiler/check.js";
import { compileToModule, loadModule } from "../compiler/load.js";
import { compileProgram } from "../compiler/compile.js";
import { ShardedStepper } from "../runtime/node/shards.js";
import type { CompiledModel } from "../compiler/model-api.js";
import { hasErrors } from "../grammar/diagnostics.js";
import { loadFashion } from "./data.js";
import type { Dataset } from "./data.js";
import { useBackend } from "./systems/tfjs.js";

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root, from `bench/` under tsx or `dist/bench/` when built. */
const root = here.includes(`${"/"}dist${"/"}`) || here.endsWith(`${"/"}dist${"/"}bench`) ? join(here, "..", "..") : join(here, "..");
export const CNN_EXAMPLE = join(root, "examples", "fashion-cnn.nn");

const BATCH = 64;
const CHUNK = 10;

export interface CnnTrainer {
  readonly name: string;
  /** Back to the shared initial weights and a fresh optimizer. */
  reset(): void;
  step(x: Float32Array, y: Float32Array): void;
  /** Class scores for `n` samples, a copy. */
  predict(x: Float32Array, n: number): Float32Array;
  dispose(): void;
}

export interface CnnRow {
  readonly system: string;
  readonly note: string;
  /** Training samples per second: wall time, and this process's CPU time. */
  readonly trainRate: number;
  readonly trainCpuRate: number;
  /** Inference samples per second (batches of 64): wall time, and CPU time. */
  readonly inferRate: number;
  readonly inferCpuRate: number;
  readonly testAccuracy: number;
}

/** The compiled example: the model instance and a copy of its initial parameters. */
export function compileCnn(kernels: "js" | "wasm" = "js"): { model: CompiledModel; initial: Float32Array; lr: number } {
  const checked = checkSource(readFileSync(CNN_EXAMPLE, "utf8"));
  if (checked.value === undefined || hasErrors(checked.diagnostics)) throw new Error(`${CNN_EXAMPLE} does not check: ${JSON.stringify(checked.diagnostics)}`);
  const compiled = compileToModule(checked.value, { maxBatch: BATCH, kernels });
  if (compiled.value === undefined) throw new Error(`${CNN_EXAMPLE} does not compile: ${JSON.stringify(compiled.diagnostics)}`);
  const model = compiled.value.createModel();
  return { model, initial: Float32Array.from(model.params), lr: checked.value.optimizer.lr };
}

/** The example with wasm kernels, trained as 4 shards on `workers` threads (`nnc train --workers`). */
function shardedTrainer(workers: number, initial: Float32Array, lr: number): CnnTrainer {
  const checked = checkSource(readFileSync(CNN_EXAMPLE, "utf8"));
  const compiled = checked.value && compileProgram(checked.value, { target: "js", maxBatch: BATCH, kernels: "wasm" }).value;
  if (!compiled) throw new Error(`${CNN_EXAMPLE} does not compile`);
  const model = loadModule(compiled.code).createModel();
  const stepper = new ShardedStepper(model, { workers, shards: 4, seed: 1, code: compiled.code });
  let step = 0;
  return nncTrainer(model, initial, lr, `nnc-wasm-${workers}w`, {
    step: (x, y) => void stepper.trainStep(x, y, BATCH, lr, step++),
    dispose: () => void stepper.close(),
  });
}

function nncTrainer(model: CompiledModel, initial: Float32Array, lr: number, name = "nnc", sharded?: { step(x: Float32Array, y: Float32Array): void; dispose(): void }): CnnTrainer {
  const state = model.getState();
  return {
    name,
    reset() {
      model.setState({ params: initial, optimizer: new Float32Array(state.optimizer.length), step: 0, rng: 0 });
    },
    step(x, y) {
      if (sharded) sharded.step(x, y);
      else model.trainStep(x, y, BATCH, lr);
    },
    predict(x, n) {
      const out = new Float32Array(n * 10);
      for (let s = 0; s < n; s += BATCH) {
        const m = Math.min(BATCH, n - s);
        out.set(model.forward(x.subarray(s * 784, (s + m) * 784), m), s * 10);
      }
      return out;
    },
    dispose() {
      sharded?.dispose();
    },
  };
}

/** nnc's layout [F, KH, KW, C] / [units, inputs] → TensorFlow's [KH, KW, C, F] / [inputs, units]. */
function tfWeights(model: CompiledModel, params: Float32Array): tf.Tensor[] {
  return model.layout.map((e) => {
    const v = params.subarray(e.offset, e.offset + e.size);
    if (e.shape.length === 4) return tf.tidy(() => tf.transpose(tf.tensor4d(v, e.shape as [number, number, number, number]), [1, 2, 3, 0]));
    if (e.shape.length === 2) return tf.tidy(() => tf.transpose(tf.tensor2d(v, e.shape as [number, number])));
    return tf.tensor1d(v);
  });
}

function tfjsTrainer(name: string, model: CompiledModel, initial: Float32Array, lr: number): CnnTrainer {
  const start = tfWeights(model, initial);
  const vars = start.map((t) => tf.variable(t.clone()));
  const [w1, b1, w2, b2, w3, b3, w4, b4] = vars as [tf.Variable<tf.Rank.R4>, tf.Variable<tf.Rank.R1>, tf.Variable<tf.Rank.R4>, tf.Variable<tf.Rank.R1>, tf.Variable<tf.Rank.R2>, tf.Variable<tf.Rank.R1>, tf.Variable<tf.Rank.R2>, tf.Variable<tf.Rank.R1>];
  const logits = (x: tf.Tensor4D): tf.Tensor2D => {
    let h = tf.maxPool(tf.relu(tf.add(tf.conv2d(x, w1, 1, "same"), b1)) as tf.Tensor4D, 2, 2, "valid");
    h = tf.maxPool(tf.relu(tf.add(tf.conv2d(h, w2, 1, "same"), b2)) as tf.Tensor4D, 2, 2, "valid");
    const f = tf.reshape(h, [h.shape[0], 7 * 7 * 32]) as tf.Tensor2D;
    const d = tf.relu(tf.add(tf.matMul(f, w3), b3)) as tf.Tensor2D;
    return tf.add(tf.matMul(d, w4), b4) as tf.Tensor2D;
  };
  let optimizer: tf.Optimizer = tf.train.adam(lr, 0.9, 0.999, 1e-7);
  return {
    name,
    reset() {
      vars.forEach((v, i) => v.assign(start[i] as tf.Tensor));
      optimizer.dispose();
      optimizer = tf.train.adam(lr, 0.9, 0.999, 1e-7);
    },
    step(x, y) {
      tf.tidy(() => {
        const xs = tf.tensor4d(x, [BATCH, 28, 28, 1]);
        const ys = tf.tensor2d(y, [BATCH, 10]);
        optimizer.minimize(() => tf.losses.softmaxCrossEntropy(ys, logits(xs)) as tf.Scalar, false, vars);
      });
      b1.dataSync();
    },
    predict(x, n) {
      const out = new Float32Array(n * 10);
      for (let s = 0; s < n; s += BATCH) {
        const m = Math.min(BATCH, n - s);
        const v = tf.tidy(() => tf.softmax(logits(tf.tensor4d(x.subarray(s * 784, (s + m) * 784), [m, 28, 28, 1]))).dataSync() as Float32Array);
        out.set(v, s * 10);
      }
      return out;
    },
    dispose() {
      optimizer.dispose();
      for (const t of [...vars, ...start]) t.dispose();
    },
  };
}

function accuracy(scores: Float32Array, labels: Uint8Array, n: number): number {
  let right = 0;
  for (let r = 0; r < n; r++) {
    let best = 0;
    for (let j = 1; j < 10; j++) if ((scores[r * 10 + j] as number) > (scores[r * 10 + best] as number)) best = j;
    if (best === labels[r]) right++;
  }
  return right / n;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

/** Whether the trainer can take a step (TF.js wasm 4.22 has no Conv2DBackpropFilter kernel). */
function canTrain(t: CnnTrainer, x: Float32Array, y: Float32Array): boolean {
  try {
    t.step(x, y);
    return true;
  } catch {
    return false;
  }
}

export function measure(t: CnnTrainer, train: Dataset, test: Dataset, steps: number, note: string): CnnRow {
  const batch = (b: number): [Float32Array, Float32Array] => {
    const s = (b * BATCH) % (train.n - BATCH);
    return [train.x.subarray(s * 784, (s + BATCH) * 784), train.y.subarray(s * 10, (s + BATCH) * 10)];
  };
  t.reset();
  const trains = canTrain(t, ...batch(0));
  for (let b = 1; trains && b < 3; b++) t.step(...batch(b));
  t.reset();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let b = 0; trains && b < steps; b += CHUNK) {
    const m = Math.min(CHUNK, steps - b);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < m; i++) t.step(...batch(b + i));
    const seconds = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    wall.push((m * BATCH) / seconds);
    cpu.push((m * BATCH) / ((c.user + c.system) / 1e6));
  }
  const evalN = Math.min(test.n, 2048);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const scores = t.predict(test.x, evalN);
  const inferRate = evalN / ((performance.now() - t0) / 1000);
  const c = process.cpuUsage(c0);
  const inferCpuRate = evalN / ((c.user + c.system) / 1e6);
  if (!trains) return { system: t.name, note: `${note}; cannot train this network (no Conv2DBackpropFilter kernel)`, trainRate: NaN, trainCpuRate: NaN, inferRate, inferCpuRate, testAccuracy: NaN };
  return { system: t.name, note, trainRate: median(wall), trainCpuRate: median(cpu), inferRate, inferCpuRate, testAccuracy: accuracy(scores, test.labels, evalN) };
}

/**
 * Every system of `systems` (nnc, nnc-wasm, tfjs-cpu, tfjs-wasm) on `steps` training steps; a message
 * instead when Fashion-MNIST is not installed. Used by `main` below and by `bench/run.ts`.
 */
export async function measureCnn(steps: number, systems: readonly string[]): Promise<CnnRow[] | string> {
  const data = loadFashion(steps * BATCH + BATCH);
  if (data === undefined) return "Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist): CNN skipped.";
  const { model, initial, lr } = compileCnn();
  const rows: CnnRow[] = [];
  for (const s of systems) {
    let t: CnnTrainer;
    let note: string;
    if (s === "nnc") {
      t = nncTrainer(model, initial, lr);
      note = `generated JS, ${model.meta.paramCount} params, ${(model.meta.bytes / 2 ** 20).toFixed(1)} MiB buffers`;
    } else if (s === "nnc-wasm") {
      t = nncTrainer(compileCnn("wasm").model, initial, lr, "nnc-wasm");
      note = "generated JS + wasm SIMD kernels (convolutions, dense layers, optimizer)";
    } else if (s === "nnc-wasm-1w" || s === "nnc-wasm-2w") {
      const workers = s === "nnc-wasm-1w" ? 1 : 2;
      t = shardedTrainer(workers, initial, lr);
      note = `wasm kernels, each batch as 4 shards summed in order, on ${workers} thread${workers > 1 ? "s" : ""} (--workers ${workers})`;
    } else if (s === "tfjs-cpu" || s === "tfjs-wasm") {
      note = `TF.js 4.22 ${await useBackend(s === "tfjs-cpu" ? "cpu" : "wasm")}`;
      t = tfjsTrainer(s, model, initial, lr);
    } else throw new Error(`unknown system ${s}`);
    rows.push(measure(t, data.train, data.test, steps, note));
    t.dispose();
  }
  return rows;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (name: string, fallback: string): string => {
    const i = args.indexOf(name);
    return i >= 0 && args[i + 1] !== undefined ? (args[i + 1] as string) : fallback;
  };
  const steps = Number(opt("--steps", "60"));
  const systems = opt("--systems", "nnc,nnc-wasm,tfjs-cpu,tfjs-wasm").split(",");
  const rows = await measureCnn(steps, systems);
  if (typeof rows === "string") {
    console.log(rows);
    return;
  }
  if (args.includes("--json")) {
    console.log(JSON.stringify({ workload: "fashion-cnn", batch: BATCH, steps, rows }, null, 2));
    return;
  }
  console.log(`fashion-cnn: ${steps} Adam steps of batch ${BATCH} on Fashion-MNIST, then 2048 test images`);
  console.log("system      train samples/s (wall · cpu)   infer samples/s (wall · cpu)   test acc   note");
  const rate = (x: number): string => (Number.isNaN(x) ? "—" : x.toFixed(0));
  for (const r of rows) {
    const acc = Number.isNaN(r.testAccuracy) ? "—" : `${(100 * r.testAccuracy).toFixed(1)}%`;
    console.log(
      `${r.system.padEnd(11)} ${rate(r.trainRate).padStart(8)} · ${rate(r.trainCpuRate).padStart(6)}              ${rate(r.inferRate).padStart(8)} · ${rate(r.inferCpuRate).padStart(6)}              ${acc.padStart(6)}   ${r.note}`,
    );
  }
}

// To run it from bench/run.ts: `import { compileCnn, measure, CNN_EXAMPLE } from "./cnn.js"` and
// call `main`-like code there; standalone, this file runs itself when it is the entry point.
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  await main();
}
