/**
 * `keep_best monitor M` keeps the best epoch's weights without early stopping (the run goes to
 * its last epoch; the weights it ends with are those of the best epoch, named in the output);
 * `print every N` prints every N-th epoch line and the last (and any epoch with a note).
 */
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { checkSource } from "../../compiler/check.js";
import { compileModel } from "../../runtime/node/model.js";
import { Progress } from "../../runtime/node/progress.js";
import { evaluate } from "../../runtime/batches.js";
import { programOf, session } from "./helpers.js";

/** Overfits (as best-weights.test.ts's): validation loss falls to a minimum, then rises. */
const OVERFIT = (keep: string, extra = "") => `model Over {
  seed 1
  input 2
  dense 64, relu
  dense 64, relu
  dense 2, softmax
}
loss cross_entropy
optimizer adam(lr: 0.0004)
metrics accuracy
data {
  train gaussian(size: 80, noise: 1.6, classes: 2, seed: 5)
  validation 50%
  shuffle seed 3
}
train {
  epochs 40
  batch 8
  ${keep}
${extra}
}
`;

describe("keep_best", () => {
  it("runs every epoch, then ends with the best val_loss epoch's weights", async () => {
    const p = programOf(OVERFIT("keep_best monitor val_loss"));
    const m = compileModel(p).value!;
    const s = await session(p, m);
    s.trainer.init();
    s.trainer.run();
    expect(s.trainer.epoch).toBe(40);
    expect(s.trainer.stopped).toBe(false);
    const vals = s.trainer.history.map((h) => h.values["val_loss"]!);
    const bestEpoch = vals.indexOf(Math.min(...vals)) + 1;
    expect(bestEpoch).toBeLessThan(35); // the run overfits: the best is well before the end
    const f = s.trainer.finalWeights()!;
    expect(f).toMatchObject({ monitor: "val_loss", bestEpoch, epoch: bestEpoch, restored: true });
    // The weights the model holds score the best epoch's val_loss, not the last one's.
    const v = evaluate(m, s.data.validation!, s.task, ["loss"]);
    expect(v.loss).toBeCloseTo(vals[bestEpoch - 1]!, 5);
    expect(Math.abs(v.loss - vals[39]!)).toBeGreaterThan(1e-3);
  });

  it("watches a metric the file computes; not beside early_stop", () => {
    const r = checkSource(OVERFIT("keep_best monitor val_auc"));
    expect(r.diagnostics.map((d) => `${d.code} ${d.span.line}`)).toEqual(["NN2026 19"]);
    expect(r.diagnostics[0]!.hint).toContain("add `auc` to `metrics`");
    const both = checkSource(OVERFIT("keep_best", "  early_stop patience 3"));
    expect(both.diagnostics.map((d) => `${d.code} ${d.span.line}:${d.span.column}`)).toEqual(["NN2026 19:3"]);
  });
});

describe("print every N", () => {
  function lines(every: number, epochs: number, notes: Record<number, string> = {}): number[] {
    let text = "";
    const out = new Writable({ write: (c: Buffer, _e, cb) => ((text += String(c)), cb()) });
    const p = new Progress("plain", epochs, 1, out, out);
    p.every = every;
    for (let e = 1; e <= epochs; e++) p.epoch({ epoch: e, lr: 0.1, seconds: 0.01, samplesPerSecond: 100, values: { loss: 1 / e } }, notes[e]);
    return [...text.matchAll(/^epoch +(\d+)\/\d+/gm)].map((m) => Number(m[1]));
  }
  it("every N-th epoch, the last, and an epoch with a note", () => {
    expect(lines(1, 4)).toEqual([1, 2, 3, 4]);
    expect(lines(3, 10)).toEqual([3, 6, 9, 10]);
    expect(lines(5, 12, { 7: "stopped early" })).toEqual([5, 7, 10, 12]);
  });
  it("is a positive whole number", () => {
    const r = checkSource(OVERFIT("print every 0"));
    expect(r.diagnostics.map((d) => `${d.code} ${d.span.line}:${d.span.column}`)).toEqual(["NN2019 19:15"]);
    expect(programOf(OVERFIT("print every 10")).train.printEvery).toBe(10);
  });
});
