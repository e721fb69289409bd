/**
 * The training loop on real compiled models: the examples reach their targets on held-out
 * data, runs are bit-for-bit deterministic and resumable, the last partial batch is used,
 * early stopping restores the best weights, and a diverging run names the epoch and batch.
 */
import { describe, expect, it } from "vitest";
import { decodeCheckpoint, encodeCheckpoint } from "../../runtime/checkpoint.js";
import { type BatchInfo } from "../../runtime/train.js";
import { evaluate } from "../../runtime/batches.js";
import { example, model, programOf, session } from "./helpers.js";

async function trained(name: string) {
  const p = programOf(example(name));
  const s = await session(p, model(p));
  s.trainer.init();
  s.trainer.run();
  const test = evaluate(s.model, s.data.test!, s.task, [...p.metrics.map((m) => m.kind), "mse"]);
  return { s, test };
}

const small = (extra = "", data = "xor(size: 200, noise: 0.1, seed: 1)", train = "epochs 20\n  batch 16", hidden = "dense 8, tanh") => `
model Small {
  seed 7
  input 2
  ${hidden}
  dense 1, sigmoid
}
loss binary_cross_entropy
optimizer adam(lr: 0.05)
metrics accuracy, loss
data {
  train ${data}
  validation 25%
}
train {
  ${train}
  ${extra}
}
`;

describe("examples reach their targets", () => {
  it("xor: 100% test accuracy", async () => {
    const { test } = await trained("xor");
    expect(test.accuracy).toBe(1);
  });

  it("spiral: at least 97% on held-out points", async () => {
    const { test, s } = await trained("spiral");
    expect(s.data.test!.n).toBe(200);
    expect(test.accuracy).toBeGreaterThanOrEqual(0.97);
  });

  it("iris: at least 93% test accuracy on the real Iris CSV", async () => {
    const { test, s } = await trained("iris");
    expect(s.data.train.n + s.data.test!.n).toBe(150);
    expect(test.accuracy).toBeGreaterThanOrEqual(0.93);
  });

  it("digits-mlp (layernorm, lion): at least 95% test accuracy on the 8×8 digits", async () => {
    const { test, s } = await trained("digits-mlp");
    expect(s.data.test!.n).toBe(359);
    expect(test.accuracy).toBeGreaterThanOrEqual(0.95);
  });

  it("sine: test MSE below 0.01 (noise floor 0.0025)", async () => {
    const { test } = await trained("sine");
    expect(test.mse).toBeLessThan(0.01);
  });
});

describe("runs", () => {
  it("are deterministic: the same seed gives bit-identical weights, another seed does not", async () => {
    const p = programOf(small());
    const run = async (seed?: number) => {
      const s = await session(p, model(p), undefined, seed === undefined ? {} : { seed });
      s.trainer.init();
      s.trainer.run();
      return new Uint8Array(s.model.params.buffer.slice(0));
    };
    const a = await run();
    const b = await run();
    const c = await run(99);
    expect(Buffer.compare(Buffer.from(a), Buffer.from(b))).toBe(0);
    expect(Buffer.compare(Buffer.from(a), Buffer.from(c))).not.toBe(0);
  });

  it("train the last partial batch", async () => {
    const p = programOf(small("", "xor(size: 14, noise: 0.1, seed: 1)", "epochs 1\n  batch 4"));
    const s = await session(p, model(p));
    // 14 samples, 25% validation → 10 training samples → batches of 4, 4, 2.
    s.trainer.init();
    const seen: BatchInfo[] = [];
    s.trainer.runEpoch((b) => seen.push(b));
    expect(seen.map((b) => b.samples)).toEqual([4, 8, 10]);
    expect(s.trainer.batches).toBe(3);
  });

  it("resume from a checkpoint ends with the same weights as an uninterrupted run (dropout included)", async () => {
    const p = programOf(small("", "spiral(size: 300, noise: 0.05, seed: 3)", "epochs 6\n  batch 32", "dense 16, relu\n  dropout 0.3\n  dense 8, tanh"));
    const full = await session(p, model(p));
    full.trainer.init();
    full.trainer.run();

    const first = await session(p, model(p));
    first.trainer.init();
    for (let e = 0; e < 3; e++) first.trainer.runEpoch();
    const bytes = encodeCheckpoint(first.trainer.state(), first.hash, "Small", first.data.preprocess);
    const c = decodeCheckpoint(bytes);
    if (typeof c === "string") throw new Error(c);
    const second = await session(p, model(p));
    second.trainer.restore(c.state);
    second.trainer.run();
    expect(second.trainer.epoch).toBe(6);
    expect(Array.from(second.model.params)).toEqual(Array.from(full.model.params));
    expect(second.trainer.history.map((h) => h.values)).toEqual(full.trainer.history.map((h) => h.values));
  });

  it("stop early and restore the best weights", async () => {
    const p = programOf(small("early_stop patience 2, monitor val_accuracy", undefined, "epochs 200\n  batch 16"));
    const s = await session(p, model(p));
    s.trainer.init();
    s.trainer.run();
    expect(s.trainer.stopped).toBe(true);
    expect(s.trainer.epoch).toBeLessThan(200);
    const best = s.trainer.best!;
    expect(s.trainer.epoch).toBe(best.epoch + 2);
    expect(Array.from(s.model.params)).toEqual(Array.from(best.params));
    expect(s.trainer.stopReason).toMatch(/val_accuracy did not improve for 2 epochs/);
  });

  it("stop on a diverging loss, naming the epoch and batch and suggesting a lower rate", async () => {
    const src = example("sine").replace("adam(lr: 0.01)", "sgd(lr: 10)");
    const p = programOf(src);
    const s = await session(p, model(p));
    s.trainer.init();
    s.trainer.run();
    const d = s.trainer.diverged!;
    expect(d.code).toBe("NN5001");
    expect(d.message).toMatch(/^training diverged: the loss became (NaN|Infinity) at epoch 1, batch \d+$/);
    expect(d.hint).toMatch(/lower the learning rate/);
    expect(d.span.line).toBe(src.split("\n").findIndex((l) => l.includes("sgd(lr: 10)")) + 1);
  });
});
