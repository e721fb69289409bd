/**
 * Sharded data parallelism (`--workers N`, `runtime/node/shards.ts`): the weights after a run
 * are bit-identical for 1, 2 and 3 threads — dense, convolution, dropout and batchnorm — a
 * run resumed with another thread count ends where an uninterrupted one does, and a thread
 * that dies ends the run with NN5013 and the last checkpoint intact. No timing is asserted.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Program } from "../../compiler/program.js";
import { defaultKernels } from "../../compiler/load.js";
import { decodeCheckpoint, encodeCheckpoint } from "../../runtime/checkpoint.js";
import { compileModel } from "../../runtime/node/model.js";
import { moduleCode, shardRows, ShardedStepper, WorkerLost, type ShardOptions } from "../../runtime/node/shards.js";
import { CHUNK } from "../../runtime/slot-sum.js";
import { runIdentity } from "../../runtime/session.js";
import { nncInProcess } from "../cli/in-process.js";
import { example, programOf, session } from "./helpers.js";

const DROPOUT_BN = `model Drop {
  seed 5
  input 2
  dense 24, relu
  batchnorm
  dropout 0.3
  dense 24, tanh
  dropout 0.2
  dense 3, softmax
}
loss cross_entropy
optimizer adam(lr: 0.01, clip_norm: 1)
metrics accuracy
data {
  train spiral(size: 150, noise: 0.05, classes: 3, seed: 3)
  validation 20%
  shuffle seed 4
}
train {
  epochs 3
  batch 16
}
`;

function compiled(p: Program, kernels: "js" | "wasm") {
  const m = compileModel(p, "float32", kernels);
  if (!m.value) throw new Error(m.diagnostics.map((d) => d.message).join("\n"));
  return m.value;
}

function bits(a: Float32Array | Float64Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** Trains `steps` batches (or whole epochs with steps undefined) with `workers` threads; the weights. */
async function trainWith(p: Program, workers: number, kernels: "js" | "wasm", steps?: number, epochs?: number, more: Partial<ShardOptions> = {}): Promise<Float32Array> {
  const model = compiled(p, kernels);
  const s = await session(p, model, undefined, epochs !== undefined ? { epochs } : {});
  s.trainer.init();
  const stepper = new ShardedStepper(model, { workers, shards: 4, seed: s.trainer.config.seed, code: moduleCode(p, "float32", kernels), ...more });
  s.trainer.stepper = stepper;
  try {
    if (steps === undefined) s.trainer.run();
    else {
      s.trainer.beginEpoch();
      for (let i = 0; i < steps; i++) expect(s.trainer.step()).toBeDefined();
    }
  } finally {
    await stepper.close();
  }
  return new Float32Array(model.params);
}

describe("shards", () => {
  it("cut a batch into fixed, in-order shards, the first never empty", () => {
    for (const n of [1, 3, 4, 5, 16, 17, 64]) {
      let next = 0;
      for (let k = 0; k < 4; k++) {
        const r = shardRows(n, 4, k);
        expect(r.start).toBe(next);
        next += r.size;
      }
      expect(next).toBe(n);
      expect(shardRows(n, 4, 0).size).toBeGreaterThan(0);
    }
  });
});

describe("weights are bit-identical whatever the number of threads", () => {
  const kernels = defaultKernels();
  it("iris (dense), two epochs, wasm and js kernels", async () => {
    const p = programOf(example("iris"));
    for (const k of new Set([kernels, "js" as const])) {
      const one = await trainWith(p, 1, k, undefined, 2);
      for (const w of [2, 3]) expect(bits(await trainWith(p, w, k, undefined, 2)).equals(bits(one))).toBe(true);
      // …and the shards did train: not the initial weights.
      const init = compiled(p, k).params;
      expect(bits(one).equals(bits(init))).toBe(false);
    }
  });

  it("digits-cnn (convolution, pooling), 6 batches", async () => {
    const p = programOf(example("digits-cnn"));
    const one = await trainWith(p, 1, kernels, 6);
    for (const w of [2, 3]) expect(bits(await trainWith(p, w, kernels, 6)).equals(bits(one))).toBe(true);
  });

  it("digits-cnn with l1/l2 penalties (each shard's gradient holds the penalty's; the shares sum to 1), 6 batches", async () => {
    const p = programOf(example("digits-cnn").replace("padding: same", "padding: same, l2: 0.001").replace("dense     10, softmax", "dense     10, softmax, l1: 0.001"));
    const one = await trainWith(p, 1, kernels, 6);
    for (const w of [2, 3]) expect(bits(await trainWith(p, w, kernels, 6)).equals(bits(one))).toBe(true);
    // …and the penalty changed the step: not the unpenalized weights.
    expect(bits(one).equals(bits(await trainWith(programOf(example("digits-cnn")), 1, kernels, 6)))).toBe(false);
  });

  it("dropout and batchnorm (masks from (step, shard), running statistics of shard 0), three epochs with a partial last batch", async () => {
    const p = programOf(DROPOUT_BN);
    const one = await trainWith(p, 1, kernels);
    for (const w of [2, 3, 4]) expect(bits(await trainWith(p, w, kernels)).equals(bits(one))).toBe(true);
  });
});

/** 2 → 150 → 150 → 3: 23,553 parameters, three chunks of the sum (the last one 7,169 floats, not a multiple of 8). */
const WIDE = `model Wide {
  seed 7
  input 2
  dense 150, tanh
  dense 150, tanh
  dense 3, softmax
}
loss cross_entropy
optimizer adam(lr: 0.01)
data {
  train spiral(size: 120, noise: 0.05, classes: 3, seed: 3)
  shuffle seed 4
}
train {
  epochs 1
  batch 13
}
`;

describe("the sum split among the threads", () => {
  it("3 shards of a batch of 13, three chunks: the other threads take shards and chunks (thread 0 only shard 0), the JavaScript sum — the same weights", async () => {
    const p = programOf(WIDE);
    const kernels = defaultKernels();
    expect(Math.ceil(compiled(p, kernels).params.length / CHUNK)).toBe(3);
    const one = await trainWith(p, 1, kernels, 5, undefined, { shards: 3 });
    expect(bits(await trainWith(p, 1, kernels, 5, undefined, { shards: 3, jsSum: true })).equals(bits(one))).toBe(true);
    for (const w of [2, 3]) expect(bits(await trainWith(p, w, kernels, 5, undefined, { shards: 3, handOff: true })).equals(bits(one))).toBe(true);
    expect(bits(await trainWith(p, 3, kernels, 5, undefined, { shards: 3 })).equals(bits(one))).toBe(true);
    expect(bits(one).equals(bits(compiled(p, kernels).params))).toBe(false);
  });
});

describe("resume with another number of threads", () => {
  it("stopped inside epoch 2 with 3 threads, resumed through a checkpoint with 1: the uninterrupted 2-thread weights", async () => {
    const p = programOf(DROPOUT_BN);
    const kernels = defaultKernels();
    const code = moduleCode(p, "float32", kernels);
    const full = await trainWith(p, 2, kernels);

    const m1 = compiled(p, kernels);
    const s1 = await session(p, m1);
    s1.trainer.init();
    const a = new ShardedStepper(m1, { workers: 3, shards: 4, seed: s1.trainer.config.seed, code });
    s1.trainer.stepper = a;
    s1.trainer.runEpoch();
    s1.trainer.beginEpoch();
    for (let i = 0; i < 3; i++) s1.trainer.step();
    const identity = runIdentity(s1.trainer.config, s1.data);
    const saved = decodeCheckpoint(encodeCheckpoint(s1.trainer.state(), s1.hash, "Drop", s1.data.preprocess, identity));
    await a.close();
    if (typeof saved === "string") throw new Error(saved);

    const m2 = compiled(p, kernels);
    const s2 = await session(p, m2);
    s2.trainer.restore(saved.state);
    const b = new ShardedStepper(m2, { workers: 1, shards: 4, seed: s2.trainer.config.seed });
    s2.trainer.stepper = b;
    s2.trainer.run();
    await b.close();
    expect(bits(new Float32Array(m2.params)).equals(bits(full))).toBe(true);
  });
});

describe("a training thread that dies", () => {
  it("by an exception: the step throws WorkerLost with the exception's first line, before any update", async () => {
    const p = programOf(example("iris"));
    const model = compiled(p, "js");
    const before = new Float32Array(model.params);
    const stepper = new ShardedStepper(model, { workers: 2, shards: 4, seed: 1, code: 'throw new Error("boom in the worker");' });
    const x = new Float32Array(16 * 4);
    const y = new Float32Array(16 * 3);
    try {
      expect(() => stepper.trainStep(x, y, 16, 0.1, 0)).toThrow(WorkerLost);
      expect(() => stepper.trainStep(x, y, 16, 0.1, 0)).toThrow(/thread 1 of 2 \(0 is the main thread\) threw Error: boom in the worker/);
    } finally {
      await stepper.close();
    }
    expect(bits(model.params).equals(bits(before))).toBe(true);
  });

  const dir = mkdtempSync(join(tmpdir(), "nnc-workers-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "w.nn");
  writeFileSync(file, DROPOUT_BN.replace("  batch 16\n", "  batch 16\n  checkpoint every 1\n"));

  it("ends the run with NN5013, keeps the last checkpoint, and --resume with another count finishes as an uninterrupted run", async () => {
    const out = join(dir, "run");
    // 120 training samples in batches of 16: 8 batches an epoch. The thread dies in its step 11: epoch 2, batch 3.
    process.env["NNC_TEST_WORKER_EXIT"] = "10";
    let r;
    try {
      r = await nncInProcess("train", file, "--out", out, "--workers", "2", "--quiet");
    } finally {
      delete process.env["NNC_TEST_WORKER_EXIT"];
    }
    expect(r.code).toBe(1);
    expect(r.err).toContain("NN5013");
    expect(r.err).toContain("epoch 2, batch 3");
    expect(r.err).toContain("thread 1 of 2 (0 is the main thread) exited with code 70");
    expect(r.err).toContain("--resume");
    const ckpt = decodeCheckpoint(readFileSync(join(out, "checkpoint.nnck")));
    expect(typeof ckpt === "string" ? ckpt : ckpt.state.epoch).toBe(1);

    const resumed = await nncInProcess("train", file, "--out", out, "--workers", "3", "--resume", "--quiet");
    expect(resumed.code).toBe(0);
    const straight = await nncInProcess("train", file, "--out", join(dir, "straight"), "--workers", "1", "--quiet");
    expect(straight.code).toBe(0);
    const weights = (d: string): unknown => (JSON.parse(readFileSync(join(d, "weights.json"), "utf8")) as { params: unknown }).params;
    expect(weights(out)).toEqual(weights(join(dir, "straight")));
  });
});
