/**
 * `nnc train` without `--workers` (issue 16): a step's work (`compiler/work.ts`) decides whether
 * each batch is sharded, on as many threads as the cores allow (`defaultThreads`); the weights
 * are then those of `--workers 1`, bit for bit, and a small model keeps the plain step.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { shardingMacs, stepMacs } from "../../compiler/work.js";
import { defaultThreads, SHARD_MIN_MACS, THREAD_MIN_MACS } from "../../runtime/shards.js";
import { nncInProcess } from "../cli/in-process.js";
import { example, programOf as program } from "./helpers.js";

/** An MLP on the spiral: input 2, two hidden layers of `width`, 2 classes; one step an epoch. */
const mlp = (width: number, batch: number): string => `model Wide {
  seed 1
  input 2
  dense ${width}, relu
  dense ${width}, relu
  dense 2, softmax
}
loss cross_entropy
optimizer adam(lr: 0.001)
data {
  train spiral(size: ${batch + batch / 4}, noise: 0.03, seed: 3)
  test 20%
}
train {
  epochs 2
  batch ${batch}
}
`;

describe("a training step's work", () => {
  it("an MLP: its products (forward x·wᵀ, every weight gradient, the input gradients but the first layer's) plus a little elementwise work", () => {
    const w = 512;
    const forward = 2 * w + w * w + w * 2;
    const products = 3 * forward - 2 * w; // the weight gradients as the forward; the input gradients of layers 2 and 3
    const perSample = stepMacs(program(mlp(w, 256)))! / 256;
    expect(perSample).toBeGreaterThan(products);
    expect(perSample).toBeLessThan(products * 1.02);
  });

  it("a convolution: n·OH·OW·F·KH·KW·C in the forward pass and in each gradient", () => {
    const src = `model C {
  input [10, 10, 3]
  conv2d 8, 3
  flatten
  dense 2, softmax
}
loss cross_entropy
optimizer sgd(lr: 0.1)
data {
  train spiral(size: 10)
}
`;
    // A spiral is 2 features, not an image: the step's work does not read the data.
    const p = program(src.replace("spiral(size: 10)", 'csv("x.csv", label: y)'));
    const conv = 8 * 8 * 8 * 3 * 3 * 3; // OH·OW·F·KH·KW·C, valid padding
    const dense = 8 * 8 * 8 * 2;
    // The forward conv and the weight gradient (no input gradient for the input layer); dense: 3 products.
    const products = 2 * conv + 3 * dense;
    const perSample = stepMacs(p)! / p.train.batch;
    expect(perSample).toBeGreaterThan(products);
    expect(perSample).toBeLessThan(products * 1.1);
  });

  it("the examples: the convolutional, recurrent and attention ones are sharded, the W1 MLP and the small ones are not", () => {
    const macs = (name: string): number => stepMacs(program(example(name)))!;
    for (const big of ["fashion-cnn", "spam", "moby-dick"]) expect(macs(big), big).toBeGreaterThanOrEqual(SHARD_MIN_MACS);
    for (const small of ["fashion-mnist", "spiral", "iris", "names-lstm"]) expect(macs(small), small).toBeLessThan(SHARD_MIN_MACS);
  });
});

describe("defaultThreads", () => {
  it("the plain step below the threshold, else the cores — at most the shards and one per THREAD_MIN_MACS, at least 1", () => {
    expect(defaultThreads(undefined, 8)).toBeUndefined();
    expect(defaultThreads(SHARD_MIN_MACS - 1, 8)).toBeUndefined();
    expect(defaultThreads(SHARD_MIN_MACS, 1)).toBe(1);
    expect(defaultThreads(SHARD_MIN_MACS, 8)).toBe(Math.floor(SHARD_MIN_MACS / THREAD_MIN_MACS));
    expect(defaultThreads(1e12, 2)).toBe(2);
    expect(defaultThreads(1e12, 64)).toBe(4);
    expect(defaultThreads(1e12, 64, 8)).toBe(8);
    expect(defaultThreads(Number.NaN, 8)).toBeUndefined();
  });
});

describe("nnc train without --workers", () => {
  const dir = mkdtempSync(join(tmpdir(), "nnc-default-workers-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const weights = (d: string): unknown => (JSON.parse(readFileSync(join(d, "weights.json"), "utf8")) as { params: unknown }).params;

  it("a large step: sharded on the cores it chose, said on stderr, the weights of --workers 1 bit for bit", async () => {
    const file = join(dir, "wide.nn");
    writeFileSync(file, mlp(512, 256));
    const p = program(mlp(512, 256));
    const threads = defaultThreads(stepMacs(p), availableParallelism())!;
    expect(threads).toBeGreaterThanOrEqual(1);
    const chosen = await nncInProcess("train", file, "--out", join(dir, "chosen"));
    expect(chosen.code, chosen.err).toBe(0);
    expect(chosen.err).toContain(`${threads} thread${threads > 1 ? "s" : ""}: each batch as 4 shards summed in order (${Math.round(stepMacs(p)! / 1e6)} M multiply-adds a step`);
    const one = await nncInProcess("train", file, "--out", join(dir, "one"), "--workers", "1", "--quiet");
    expect(one.code, one.err).toBe(0);
    expect(weights(join(dir, "chosen"))).toEqual(weights(join(dir, "one")));
  }, 120_000);

  it("a small step: the plain step, nothing said, weights unlike the sharded run's", async () => {
    const file = join(dir, "narrow.nn");
    writeFileSync(file, mlp(16, 256));
    const plain = await nncInProcess("train", file, "--out", join(dir, "plain"));
    expect(plain.code, plain.err).toBe(0);
    expect(plain.err).not.toContain("shards summed in order");
    const sharded = await nncInProcess("train", file, "--out", join(dir, "sharded"), "--workers", "1", "--quiet");
    expect(sharded.code).toBe(0);
    expect(weights(join(dir, "plain"))).not.toEqual(weights(join(dir, "sharded")));
  }, 60_000);

  it("a large step with batchnorm: the whole-batch step (shards would normalize by their own statistics)", async () => {
    const source = mlp(512, 256).replace("  dense 512, relu\n  dense 512, relu\n", "  dense 512, relu\n  batchnorm\n  dense 512, relu\n");
    expect(stepMacs(program(source))).toBeGreaterThanOrEqual(SHARD_MIN_MACS);
    expect(shardingMacs(program(source))).toBeUndefined();
    const file = join(dir, "bn.nn");
    writeFileSync(file, source);
    const r = await nncInProcess("train", file, "--out", join(dir, "bn"));
    expect(r.code, r.err).toBe(0);
    expect(r.err).not.toContain("shards summed in order");
  }, 60_000);

  it("a search trial of a large step trains on the same shards: best.nn trains to the winner's test figures", async () => {
    const file = join(dir, "wide-search.nn");
    const source = mlp(512, 256)
      .replace("optimizer adam(lr: 0.001)", "optimizer adam(lr: choice(0.001, 0.002))\nmetrics accuracy, loss")
      .replace("  test 20%\n", "  test 20%\n  validation 20%\n")
      .concat("search {\n  metric accuracy\n  algorithm grid\n  seed 1\n}\n");
    writeFileSync(file, source.replace(`spiral(size: ${256 + 64}`, `spiral(size: ${Math.ceil(256 / 0.6)}`));
    const out = join(dir, "search");
    const s = await nncInProcess("search", file, "--out", out, "--quiet");
    expect(s.code, s.err).toBe(0);
    const trials = readFileSync(join(out, "trials.jsonl"), "utf8").trim().split("\n").slice(1).map((l) => JSON.parse(l) as { score: number; trial: number; test?: Record<string, number> });
    const winner = [...trials].sort((a, b) => b.score - a.score || a.trial - b.trial)[0]!;
    const r = await nncInProcess("train", join(out, "best.nn"), "--out", join(dir, "best"), "--json");
    expect(r.code, r.err).toBe(0);
    const done = r.out.trim().split("\n").map((l) => JSON.parse(l) as { event?: string; test?: Record<string, number> }).find((e) => e.event === "done");
    expect(done?.test?.loss).toBe(winner.test?.loss);
    expect(done?.test?.accuracy).toBe(winner.test?.accuracy);
  }, 120_000);
});
