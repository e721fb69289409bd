/**
 * Early stopping keeps the best weights even when it never stops the run: with `patience`
 * longer than the run, the weights a run ends with (and saves) are those of the epoch with the
 * best monitored value, which the output names; checkpoints keep the last epoch's weights, so
 * `--resume` still continues (and extends) a run exactly.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Program } from "../../compiler/program.js";
import { decodeCheckpoint, encodeCheckpoint } from "../../runtime/checkpoint.js";
import { compileModel } from "../../runtime/node/model.js";
import { evaluate } from "../../runtime/batches.js";
import { nncInProcess as nnc } from "../cli/in-process.js";
import { programOf, session } from "./helpers.js";

afterEach(() => vi.restoreAllMocks());

/** Overfits: validation loss falls to a minimum near epoch 11, then rises. */
const OVERFIT = (epochs: number, early = "early_stop patience 100, monitor val_loss") => `model Over {
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
  epochs ${epochs}
  batch 8
  ${early}
}
`;

function model(p: Program) {
  const m = compileModel(p);
  if (!m.value) throw new Error(m.diagnostics.map((d) => d.message).join("\n"));
  return m.value;
}

async function trained(source: string, epochs?: number) {
  const p = programOf(source);
  const s = await session(p, model(p), undefined, epochs === undefined ? {} : { epochs });
  s.trainer.init();
  s.trainer.run();
  return s;
}

/** The 1-based epoch with the lowest `key`, and that value. */
function argmin(history: readonly { epoch: number; values: Readonly<Record<string, number>> }[], key: string): { epoch: number; value: number } {
  let best = history[0]!;
  for (const h of history) if (h.values[key]! < best.values[key]!) best = h;
  return { epoch: best.epoch, value: best.values[key]! };
}

describe("early stopping keeps the best weights when it never triggers", () => {
  it("the run ends with the best epoch's weights: they score exactly the recorded best val_loss", async () => {
    const s = await trained(OVERFIT(20));
    const t = s.trainer;
    expect(t.stopped).toBe(false);
    expect(t.epoch).toBe(20);
    const best = argmin(t.history, "val_loss");
    expect(best.epoch).toBeGreaterThan(3); // in the middle: the test means something
    expect(best.epoch).toBeLessThan(17);
    expect(t.history.at(-1)!.values["val_loss"]).toBeGreaterThan(best.value);
    expect(t.finalWeights()).toEqual({ monitor: "val_loss", bestValue: best.value, bestEpoch: best.epoch, epoch: best.epoch, restored: true });
    expect(Array.from(s.model.params)).toEqual(Array.from(t.best!.params));
    expect(evaluate(s.model, s.data.validation!, s.task, ["accuracy"]).loss).toBe(best.value);
  });

  it("restore_best false keeps the last epoch's weights, and still names the best epoch", async () => {
    const s = await trained(OVERFIT(20, "early_stop patience 100, monitor val_loss, restore_best false"));
    const best = argmin(s.trainer.history, "val_loss");
    expect(s.trainer.finalWeights()).toEqual({ monitor: "val_loss", bestValue: best.value, bestEpoch: best.epoch, epoch: 20, restored: false });
    expect(evaluate(s.model, s.data.validation!, s.task, []).loss).toBe(s.trainer.history.at(-1)!.values["val_loss"]);
  });

  it("without early_stop nothing changes: no best epoch", async () => {
    const s = await trained(OVERFIT(5, ""));
    expect(s.trainer.best).toBeUndefined();
    expect(s.trainer.finalWeights()).toBeUndefined();
  });

  it("a checkpoint keeps the last epoch's weights: a finished run resumed gives the best again, an extended one continues exactly", async () => {
    const p = programOf(OVERFIT(20));
    const full = await trained(OVERFIT(20));

    const first = await trained(OVERFIT(20), 12);
    expect(first.trainer.finalWeights()!.epoch).toBeLessThan(12);
    const c = decodeCheckpoint(encodeCheckpoint(first.trainer.state(), first.hash, "Over", first.data.preprocess));
    if (typeof c === "string") throw new Error(c);
    expect(Array.from(c.state.model.params)).not.toEqual(Array.from(first.model.params)); // the last epoch's, not the best

    // The same 12 epochs, resumed: done at once, with the best weights.
    const again = await session(p, model(p), undefined, { epochs: 12 });
    again.trainer.restore(c.state);
    expect(again.trainer.done).toBe(true);
    expect(Array.from(again.model.params)).toEqual(Array.from(first.model.params));
    expect(again.trainer.finalWeights()).toEqual(first.trainer.finalWeights());

    // Extended to 20: the same weights, history and best epoch as the uninterrupted run.
    const more = await session(p, model(p));
    more.trainer.restore(c.state);
    expect(more.trainer.done).toBe(false);
    more.trainer.run();
    expect(more.trainer.history.map((h) => h.values)).toEqual(full.trainer.history.map((h) => h.values));
    expect(Array.from(more.model.params)).toEqual(Array.from(full.model.params));
    expect(more.trainer.finalWeights()).toEqual(full.trainer.finalWeights());
  });
});

describe("nnc train names the epoch the weights come from", () => {
  const dir = (): string => mkdtempSync(join(tmpdir(), "nnc-best-"));

  it("in its output, its JSON, the weights file and the report; `nnc eval` of the weights scores the best val_loss exactly", async () => {
    const d = dir();
    const file = join(d, "over.nn");
    writeFileSync(file, OVERFIT(20));
    const out = join(d, "run");
    const t = await nnc("train", file, "--out", out, "--json");
    expect(t.code).toBe(0);
    const events = t.out.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    const epochs = events.filter((e) => e["event"] === "epoch").map((e) => ({ epoch: e["epoch"] as number, values: { val_loss: e["val_loss"] as number } }));
    expect(epochs).toHaveLength(20);
    const best = argmin(epochs, "val_loss");
    expect(best.epoch).toBeGreaterThan(1);
    expect(best.epoch).toBeLessThan(20);
    const done = events.at(-1)!;
    expect(done).toMatchObject({ event: "done", epochs: 20, weightsEpoch: best.epoch, best: { monitor: "val_loss", value: best.value, epoch: best.epoch, restored: true } });
    expect(t.err).toContain(`best val_loss ${fmt4(best.value)} at epoch ${best.epoch}: the weights are that epoch's, restored (training ran to epoch 20)`);

    const weights = JSON.parse(readFileSync(join(out, "weights.json"), "utf8")) as { epochs: number; best: unknown };
    expect(weights.epochs).toBe(20);
    expect(weights.best).toEqual({ monitor: "val_loss", value: best.value, epoch: best.epoch, restored: true });
    const report = readFileSync(join(out, "report.html"), "utf8");
    expect(report).toContain(`<tr><th>best epoch</th><td>${best.epoch} (val_loss ${fmt4(best.value)})</td></tr>`);
    expect(report).toContain(`<tr><th>weights from</th><td>epoch ${best.epoch} (the best, restored)</td></tr>`);
    expect(report).toContain(`best val_loss (epoch ${best.epoch})`);

    const e = await nnc("eval", file, "--weights", join(out, "weights.json"), "--data", "validation", "--json");
    expect(e.code).toBe(0);
    expect((JSON.parse(e.out) as { loss: number }).loss).toBe(best.value);

    // Text output: the same line on stdout, after the last epoch's.
    const text = await nnc("train", file, "--out", join(d, "text"));
    expect(text.out).toMatch(new RegExp(`^epoch 20/20 .*\\nbest val_loss ${fmt4(best.value).replace(".", "\\.")} at epoch ${best.epoch}: the weights are that epoch's, restored \\(training ran to epoch 20\\)\\n`, "m"));
  });

  it("--resume extends a finished run from its last weights, to the same result as an uninterrupted run", async () => {
    const d = dir();
    const file = join(d, "over.nn");
    writeFileSync(file, OVERFIT(20));
    expect((await nnc("train", file, "--out", join(d, "full"), "--quiet")).code).toBe(0);
    expect((await nnc("train", file, "--out", join(d, "parts"), "--quiet", "--epochs", "12")).code).toBe(0);
    const r = await nnc("train", file, "--out", join(d, "parts"), "--resume", "--json");
    expect(r.code).toBe(0);
    expect(r.err).toContain("resuming from");
    const read = (dir: string): unknown => JSON.parse(readFileSync(join(d, dir, "weights.json"), "utf8"));
    expect(read("parts")).toEqual(read("full"));
  });
});

/** What `fmt` in runtime/train.ts prints for the figures here (4 significant digits). */
function fmt4(x: number): string {
  return String(Number(x.toPrecision(4)));
}
