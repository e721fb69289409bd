/**
 * A run stopped inside an epoch (what Ctrl-C saves) continues exactly, in-process and
 * deterministically: at every batch boundary of an epoch, the state goes through a version-2
 * checkpoint into a fresh trainer, which ends with the weights and every epoch's figures of an
 * uninterrupted run. And the checkpoint records the run's seeds and data, which `--resume`
 * compares (`runMismatch`).
 */
import { describe, expect, it } from "vitest";
import { decodeCheckpoint, encodeCheckpoint, runMismatch } from "../../runtime/checkpoint.js";
import { compileModel } from "../../runtime/node/model.js";
import { runIdentity } from "../../runtime/session.js";
import type { Program } from "../../compiler/program.js";
import { programOf, session } from "./helpers.js";

const SOURCE = `model Mid {
  seed 7
  input 2
  dense 16, relu
  dropout 0.3
  dense 3, softmax
}
loss cross_entropy
optimizer adam(lr: 0.01)
metrics accuracy, precision, confusion_matrix
data {
  train spiral(size: 150, noise: 0.05, classes: 3, seed: 3)
  validation 20%
  shuffle seed 4
}
train {
  epochs 3
  batch 16
  early_stop patience 5, monitor val_loss
}
`;

function model(p: Program) {
  const m = compileModel(p);
  if (!m.value) throw new Error(m.diagnostics.map((d) => d.message).join("\n"));
  return m.value;
}

describe("stopping inside an epoch", () => {
  it("at every batch of the second epoch: a checkpoint there resumes to the uninterrupted weights and figures", async () => {
    const p = programOf(SOURCE);
    const full = await session(p, model(p));
    full.trainer.init();
    full.trainer.run();
    const batches = full.trainer.batches;
    expect(batches).toBe(8); // 120 samples in batches of 16: the last one partial

    for (let stopAt = 1; stopAt <= batches; stopAt++) {
      const first = await session(p, model(p));
      first.trainer.init();
      first.trainer.runEpoch();
      first.trainer.beginEpoch();
      for (let b = 0; b < stopAt; b++) first.trainer.step();
      expect(first.trainer.batchesDone).toBe(stopAt);
      const state = first.trainer.state();
      expect(state.position?.batch).toBe(stopAt);
      const bytes = encodeCheckpoint(state, first.hash, "Mid", first.data.preprocess, runIdentity(first.trainer.config, first.data));
      const c = decodeCheckpoint(bytes);
      if (typeof c === "string") throw new Error(c);
      expect(c.header.position?.batch).toBe(stopAt);

      const second = await session(p, model(p));
      second.trainer.restore(c.state);
      expect(second.trainer.batchesDone).toBe(stopAt);
      second.trainer.run();
      expect(second.trainer.epoch).toBe(3);
      expect(Array.from(second.model.params), `stopped after batch ${stopAt}`).toEqual(Array.from(full.model.params));
      expect(second.trainer.history.map((h) => h.values)).toEqual(full.trainer.history.map((h) => h.values));
    }
  });

  it("a checkpoint at an epoch boundary has no position, and one of version 1 still loads", async () => {
    const p = programOf(SOURCE);
    const s = await session(p, model(p));
    s.trainer.init();
    s.trainer.runEpoch();
    expect(s.trainer.state().position).toBeUndefined();
    const bytes = encodeCheckpoint(s.trainer.state(), s.hash, "Mid", s.data.preprocess);
    // Rewrite as version 1 (no run, no position), with its checksum.
    const v1 = new Uint8Array(bytes);
    new DataView(v1.buffer).setUint32(4, 1, true);
    const { fnv32 } = await import("../../runtime/hash.js");
    new DataView(v1.buffer).setUint32(v1.length - 4, fnv32(v1.subarray(0, v1.length - 4)), true);
    const c = decodeCheckpoint(v1);
    if (typeof c === "string") throw new Error(c);
    expect(c.header.run).toBeUndefined();
    expect(runMismatch(c.header.run, runIdentity(s.trainer.config, s.data))).toBeUndefined();
  });

  it("the run's identity: another seed, shuffle seed or a single changed value differs", async () => {
    const p = programOf(SOURCE);
    const a = await session(p, model(p));
    const id = runIdentity(a.trainer.config, a.data);
    expect(runMismatch(id, id)).toBeUndefined();
    const b = await session(p, model(p), undefined, { seed: 9 });
    expect(runMismatch(id, runIdentity(b.trainer.config, b.data))?.why).toMatch(/trained with seed 7 \(shuffle seed 4\), and this run has seed 9/);
    const x = new Float32Array(a.data.train.x);
    x[17] = x[17]! + 0.5;
    const changed = runIdentity(a.trainer.config, { ...a.data, train: { ...a.data.train, x } });
    expect(runMismatch(id, changed)?.why).toMatch(/same number of samples, but other values/);
    const other = programOf(SOURCE.replace("shuffle seed 4", "shuffle seed 5"));
    const c = await session(other, model(other));
    expect(runMismatch(id, runIdentity(c.trainer.config, c.data))?.why).toMatch(/shuffle seed 5/);
  });
});
