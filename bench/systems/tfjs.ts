/**
 * TensorFlow.js 4.22 peers: the `cpu` backend and the `wasm` backend (SIMD on, one thread).
 * A custom training loop (`tf.variable` + `optimizer.minimize` over batches pre-built from JS
 * arrays), which was faster here than `model.fit`.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import type { OptKind, Trainer, TrainSetup } from "../harness.js";

export type TfBackend = "cpu" | "wasm";

let wasmReady = false;

/** Select a backend; returns a note on how it runs (e.g. SIMD on or off). */
export async function useBackend(backend: TfBackend): Promise<string> {
  if (backend === "wasm" && !wasmReady) {
    const require = createRequire(import.meta.url);
    setWasmPaths(join(dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")), "dist") + "/");
    // One thread, like every other system here.
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
    wasmReady = true;
  }
  if (!(await tf.setBackend(backend))) throw new Error(`TensorFlow.js backend ${backend} failed to start`);
  await tf.ready();
  if (backend === "wasm") return (await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")) ? "SIMD, 1 thread" : "no SIMD, 1 thread";
  return "plain JS kernels";
}

export function tfjsTrainer(setup: TrainSetup, name: string): Trainer {
  const f = setup.sizes[0]!, k = setup.sizes[setup.sizes.length - 1]!, B = setup.batch;
  const L = setup.sizes.length - 1;
  const ws = setup.init.map((d) => tf.variable(tf.tensor2d(d.w, [d.inputs, d.units])));
  const bs = setup.init.map((d) => tf.variable(tf.tensor1d(d.b)));
  const vars = [...ws, ...bs];
  const xs: tf.Tensor2D[] = [], ys: tf.Tensor2D[] = [];
  for (let b = 0; b < setup.steps; b++) {
    xs.push(tf.tensor2d(setup.x.subarray(b * B * f, (b + 1) * B * f), [B, f]));
    ys.push(tf.tensor2d(setup.y.subarray(b * B * k, (b + 1) * B * k), [B, k]));
  }
  const logits = (x: tf.Tensor2D): tf.Tensor2D => {
    let h = x;
    for (let l = 0; l < L; l++) {
      const z = tf.add(tf.matMul(h, ws[l]!), bs[l]!) as tf.Tensor2D;
      h = l === L - 1 ? z : setup.hidden === "relu" ? tf.relu(z) : tf.tanh(z);
    }
    return h;
  };
  const lossOf = (x: tf.Tensor2D, y: tf.Tensor2D): tf.Scalar =>
    setup.head === "softmax_ce"
      ? (tf.losses.softmaxCrossEntropy(y, logits(x)) as tf.Scalar)
      : (tf.losses.sigmoidCrossEntropy(y, logits(x)) as tf.Scalar);
  let optimizer: tf.Optimizer | undefined;
  const head = (z: tf.Tensor2D): tf.Tensor2D => (setup.head === "softmax_ce" ? tf.softmax(z) : tf.sigmoid(z));
  return {
    name,
    reset(opt: OptKind) {
      tf.tidy(() =>
        setup.init.forEach((d, l) => {
          ws[l]!.assign(tf.tensor2d(d.w, [d.inputs, d.units]));
          bs[l]!.assign(tf.tensor1d(d.b));
        }),
      );
      optimizer?.dispose();
      optimizer = opt === "sgd" ? tf.train.sgd(setup.lr.sgd) : tf.train.adam(setup.lr.adam, 0.9, 0.999, 1e-7);
    },
    step(b: number) {
      const x = xs[b]!, y = ys[b]!;
      tf.tidy(() => {
        optimizer!.minimize(() => lossOf(x, y), false, vars);
      });
    },
    sync() {
      bs[0]!.dataSync();
    },
    predict(x: Float32Array, n: number) {
      return tf.tidy(() => head(logits(tf.tensor2d(x.subarray(0, n * f), [n, f]))).dataSync() as Float32Array).slice();
    },
    infer(x: Float32Array) {
      tf.tidy(() => head(logits(tf.tensor2d(x, [1, f]))).dataSync());
    },
    dispose() {
      optimizer?.dispose();
      for (const t of [...vars, ...xs, ...ys]) t.dispose();
    },
  };
}
