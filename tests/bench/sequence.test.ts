/**
 * The sequence workloads of the bench (bench/sequence.ts): the batches are well formed, the
 * loss check rejects a run that trained differently, and — where PyTorch is installed — nnc
 * and PyTorch reach the same losses from the same weights on the same batches (the premise of
 * the speed comparison).
 */
import { describe, expect, it } from "vitest";
import { checkLosses, compileWorkload, makeData, runNnc, runTorchSeq, WORKLOADS, type SeqWorkload } from "../../bench/sequence.js";
import { torchMissing } from "../../bench/systems/torch.js";

const workload = (id: string): SeqWorkload => WORKLOADS.find((w) => w.id === id) as SeqWorkload;

describe("bench sequence workloads", () => {
  it("makes the same batches from the same seed, ids in the vocabulary and one-hot targets that match them", () => {
    for (const w of WORKLOADS) {
      const a = makeData(w, 2), b = makeData(w, 2);
      expect(a.x).toEqual(b.x);
      expect(a.x.length).toBe(2 * w.batch * w.steps);
      expect(a.x.every((v) => Number.isInteger(v) && v >= 0 && v < w.vocab)).toBe(true);
      expect(a.ids.length).toBe(2 * w.batch * w.targets);
      a.ids.forEach((id, i) => {
        const row = a.y.subarray(i * w.classes, (i + 1) * w.classes);
        expect(row.reduce((s, v) => s + v, 0)).toBe(1);
        expect(row[Number(id)]).toBe(1);
      });
    }
    // The language model's targets are its inputs shifted by one step.
    const lm = makeData(workload("TRANSFORMER"), 1);
    for (let t = 0; t + 1 < 64; t++) expect(Number(lm.ids[t])).toBe(lm.x[t + 1]);
  });

  it("the loss check accepts the same run and rejects a different first step or a different end", () => {
    const run = [1.4, 1.3, 1.2, 1.1, 1.0, 0.9, 0.8];
    expect(checkLosses(run, run).ok).toBe(true);
    expect(checkLosses(run.map((v, i) => (i === 0 ? v * 1.001 : v)), run).ok).toBe(false);
    expect(checkLosses(run.map((v, i) => (i >= 3 ? v * 1.05 : v)), run).ok).toBe(false);
    // An nnc run shorter than PyTorch's is compared at its own steps.
    expect(checkLosses(run.slice(0, 4), [...run.slice(0, 4), 5, 5, 5]).ok).toBe(true);
  });

  it("the models' parameters are the tensors torch_seq.py copies, with nnc's shapes", () => {
    const names = (id: string): string[] => compileWorkload(workload(id), "js").layout.map((e) => `${e.name}:${e.shape.join("x")}`);
    expect(names("LSTM")).toEqual(["embedding_1.weight:64x32", "lstm_1.weight_ih:256x32", "lstm_1.weight_hh:256x64", "lstm_1.bias:256", "dense_1.weight:4x64", "dense_1.bias:4"]);
    const t = names("TRANSFORMER");
    expect(t).toContain("decoder_2.attention_1.in_proj_weight:192x64");
    expect(t).toContain("positional_1.weight:64x64");
    expect(t).toHaveLength(28);
  });

  it.skipIf(torchMissing() !== undefined)("nnc (wasm kernels) and PyTorch reach the same losses over 3 Adam steps (same weights, same batches)", () => {
    const steps = 3;
    const jobs = WORKLOADS.map((w) => {
      const c = compileWorkload(w, "js");
      return { w, data: makeData(w, steps), initial: c.initial, layout: c.layout, lr: c.lr, steps, warmupMs: 0 };
    });
    const torch = runTorchSeq(jobs);
    for (const j of jobs) {
      const nnc = runNnc(j.w, j.data, "wasm", steps, j.initial, 0);
      const peer = torch.results[j.w.id]!.losses;
      expect(peer).toHaveLength(steps);
      const check = checkLosses(nnc.losses, peer);
      expect(check.first, j.w.id).toBeLessThan(1e-5);
      expect(check.ok, `${j.w.id}: ${nnc.losses.join(", ")} vs ${peer.join(", ")}`).toBe(true);
    }
  }, 180_000);
});
