/**
 * `prune` in `train { … }`: the setting is checked (NN2081 for a window outside the run); the
 * sparsity follows the polynomial schedule and reaches the target exactly; masked weights are
 * exactly zero after every later update and through a resume from a checkpoint, which ends
 * bit-identical to the uninterrupted run; a pruned digits MLP keeps its accuracy.
 */
import { describe, expect, it } from "vitest";
import { checkSource } from "../../compiler/check.js";
import { decodeCheckpoint, encodeCheckpoint } from "../../runtime/checkpoint.js";
import { evaluate } from "../../runtime/batches.js";
import { model, programOf, session } from "../runtime/helpers.js";

const digits = (prune: string, epochs = 8) => `
model Digits {
  seed 1
  input 64
  dense 48, relu
  dense 10, softmax
}
loss cross_entropy
optimizer adam(lr: 0.005)
metrics accuracy
data {
  train csv("data/digits.csv", label: label)
  scale 1 / 16
  test 20%
  shuffle seed 1
}
train {
  epochs ${epochs}
  batch 32
  ${prune}
}
`;

/** The weight matrices' values (64·48 + 48·10 of them). */
function weights(m: ReturnType<typeof model>): number[] {
  return m.layout.filter((p) => p.name.endsWith(".weight")).flatMap((p) => Array.from(m.params.subarray(p.offset, p.offset + p.size)));
}
const zeros = (w: number[]): number => w.filter((x) => x === 0).length;

describe("the prune setting", () => {
  it("is read with its defaults, and a window outside the run is NN2081", () => {
    const p = programOf(digits("prune sparsity 0.8, start 2, end 5, scope global"));
    expect(p.train.prune).toMatchObject({ sparsity: 0.8, start: 2, end: 5, scope: "global" });
    expect(programOf(digits("prune")).train.prune).toMatchObject({ sparsity: 0.5, start: 1, end: 4, scope: "layer" });
    const late = checkSource(digits("prune sparsity 0.8, start 3, end 9"));
    expect(late.diagnostics.map((d) => d.code)).toContain("NN2081");
    const backwards = checkSource(digits("prune sparsity 0.8, start 5, end 3"));
    expect(backwards.diagnostics.map((d) => d.code)).toContain("NN2081");
    expect(checkSource(digits("prune sparsity 1.5")).diagnostics.some((d) => d.severity === "error")).toBe(true);
    expect(checkSource(digits("prune scope everywhere")).diagnostics.some((d) => d.message.includes("everywhere"))).toBe(true);
  });
});

describe("pruning while training", () => {
  it("follows the polynomial schedule, reaches the target exactly and keeps masked weights at zero", async () => {
    const p = programOf(digits("prune sparsity 0.8, start 2, end 5, scope global"));
    const s = await session(p, model(p));
    s.trainer.init();
    const count = weights(s.model).length;
    const seen: number[] = [];
    let masked: boolean[] = [];
    while (!s.trainer.done) {
      s.trainer.beginEpoch();
      // Every update of an epoch after pruning began leaves the masked weights at exactly 0.
      for (let b = s.trainer.step(); b; b = s.trainer.step()) {
        const w = weights(s.model);
        masked.forEach((m, i) => m && expect(w[i]).toBe(0));
      }
      s.trainer.endEpoch();
      const w = weights(s.model);
      masked = w.map((x) => x === 0);
      seen.push(zeros(w));
    }
    const want = [0, 1 - 0.75 ** 3, 1 - 0.5 ** 3, 1 - 0.25 ** 3, 1, 1, 1, 1].map((f) => Math.round(0.8 * f * count));
    expect(seen).toEqual(want);
    expect(s.trainer.pruner!.masked()).toBeCloseTo(Math.round(0.8 * count) / count, 12);
  }, 60_000);

  it("layer scope masks the same share of each layer", async () => {
    const p = programOf(digits("prune sparsity 0.6, start 1, end 2, scope layer", 3));
    const s = await session(p, model(p));
    s.trainer.init();
    s.trainer.run();
    for (const t of s.model.layout.filter((e) => e.name.endsWith(".weight"))) {
      const w = Array.from(s.model.params.subarray(t.offset, t.offset + t.size));
      expect(zeros(w)).toBe(Math.round(0.6 * t.size));
    }
  }, 60_000);

  it("resumes from a checkpoint with its masks: the same weights as the uninterrupted run", async () => {
    const p = programOf(digits("prune sparsity 0.8, start 2, end 5, scope global"));
    const full = await session(p, model(p));
    full.trainer.init();
    full.trainer.run();
    const first = await session(p, model(p));
    first.trainer.init();
    for (let e = 0; e < 3; e++) first.trainer.runEpoch();
    const c = decodeCheckpoint(encodeCheckpoint(first.trainer.state(), first.hash, "Digits", first.data.preprocess));
    if (typeof c === "string") throw new Error(c);
    const second = await session(p, model(p));
    second.trainer.restore(c.state);
    second.trainer.run();
    expect(Array.from(second.model.params)).toEqual(Array.from(full.model.params));
  }, 60_000);

  it("early stopping watches only from the end of pruning: the weights kept are at the target sparsity", async () => {
    const p = programOf(digits("early_stop patience 1, monitor val_accuracy\n  prune sparsity 0.9, start 1, end 4, scope global", 8).replace("test 20%", "validation 20%"));
    const s = await session(p, model(p));
    s.trainer.init();
    s.trainer.run();
    const w = weights(s.model);
    expect(s.trainer.best!.epoch).toBeGreaterThanOrEqual(4);
    expect(zeros(w)).toBe(Math.round(0.9 * w.length));
  }, 60_000);

  it("a digits MLP pruned to 80% keeps its accuracy within 3 points of the dense one", async () => {
    const accuracy = async (prune: string): Promise<number> => {
      const p = programOf(digits(prune, 12));
      const s = await session(p, model(p));
      s.trainer.init();
      s.trainer.run();
      return evaluate(s.model, s.data.test!, s.task, ["accuracy"]).accuracy as number;
    };
    const dense = await accuracy("");
    const pruned = await accuracy("prune sparsity 0.8, start 2, end 6, scope global");
    expect(dense).toBeGreaterThan(0.9);
    expect(pruned).toBeGreaterThan(dense - 0.03);
  }, 60_000);
});
