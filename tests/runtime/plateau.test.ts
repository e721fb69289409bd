/**
 * `schedule reduce_on_plateau(…)`: Keras' ReduceLROnPlateau step by step against a trace
 * worked out by hand from its `on_epoch_end`; a run's rates against a replay of its own
 * history; its state through a checkpoint, so `--resume` (after an epoch or inside one) ends
 * bit-identical to an uninterrupted run; the checker's rules for it.
 */
import { describe, expect, it } from "vitest";
import { checkSource } from "../../compiler/check.js";
import type { PlateauSchedule, Program } from "../../compiler/program.js";
import { FILE_START } from "../../grammar/span.js";
import { decodeCheckpoint, encodeCheckpoint } from "../../runtime/checkpoint.js";
import { compileModel } from "../../runtime/node/model.js";
import { learningRate, plateauStart, plateauUpdate, type PlateauState } from "../../runtime/schedule.js";
import type { TrainerState } from "../../runtime/train.js";
import { programOf, session } from "./helpers.js";

const plateau = (o: Partial<PlateauSchedule>): PlateauSchedule => ({
  kind: "reduce_on_plateau",
  monitor: "val_loss",
  factor: 0.1,
  patience: 10,
  minLr: 0,
  minDelta: 1e-4,
  cooldown: 0,
  span: FILE_START,
  ...o,
});

function trace(s: PlateauSchedule, values: readonly number[], mode: "min" | "max", base = 0.1): PlateauState[] {
  let st = plateauStart(base);
  return values.map((v) => (st = plateauUpdate(s, st, v, mode)));
}

describe("plateauUpdate follows Keras' ReduceLROnPlateau", () => {
  it("patience, factor, min_lr and a cooldown (Keras counts the cooldown's last epoch already)", () => {
    const s = plateau({ factor: 0.5, patience: 2, minLr: 0.01, minDelta: 0, cooldown: 1 });
    const values = [1, 0.9, 0.95, 0.92, 0.91, 0.93, 0.89, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95];
    const t = trace(s, values, "min");
    expect(t.map((x) => x.lr)).toEqual([0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125, 0.0125, 0.01, 0.01, 0.01, 0.01]);
    expect(t.map((x) => x.wait)).toEqual([0, 0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 1, 2, 3]);
    expect(t.map((x) => x.best)).toEqual([1, 0.9, 0.9, 0.9, 0.9, 0.9, 0.89, 0.89, 0.89, 0.89, 0.89, 0.89, 0.89, 0.89]);
    expect(t.map((x) => x.cooldown)).toEqual([0, 0, 0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 0, 0]);
  });

  it("maximizes accuracy-like monitors, with an absolute min_delta; NaN changes nothing", () => {
    const s = plateau({ patience: 1, minDelta: 0.01 });
    const t = trace(s, [0.5, 0.5001, NaN, 0.6], "max");
    expect(t.map((x) => [x.lr, x.best])).toEqual([
      [0.1, 0.5],
      [expect.closeTo(0.01, 15), 0.5],
      [expect.closeTo(0.01, 15), 0.5],
      [expect.closeTo(0.01, 15), 0.6],
    ]);
  });

  it("the rate is the state's after warm-up", () => {
    const p = { base: 0.1, schedule: plateau({}), warmup: 1, epochs: 5, stepsPerEpoch: 2 };
    const st = { lr: 0.003, best: 1, wait: 0, cooldown: 0 };
    expect([learningRate(p, 0, 0, st), learningRate(p, 0, 1, st), learningRate(p, 1, 0, st), learningRate(p, 3, 1)]).toEqual([0.05, 0.1, 0.003, 0.1]);
  });
});

const SOURCE = (extra = "") => `model Plateau {
  seed 4
  input 2
  dense 16, relu
  dense 2, softmax
}
loss cross_entropy
optimizer adam(lr: 0.05)
metrics accuracy, auc
data {
  train gaussian(size: 96, noise: 2, classes: 2, seed: 3)
  validation 25%
  shuffle seed 2
}
train {
  epochs 14
  batch 12
  warmup 1
  schedule reduce_on_plateau(monitor: val_auc, factor: 0.5, patience: 1, min_lr: 0.002, min_delta: 0)
  ${extra}
}
`;

async function fresh(p: Program) {
  const m = compileModel(p).value!;
  return session(p, m);
}

function bits(a: ArrayLike<number>): string {
  return Buffer.from(new Float64Array(Array.from(a)).buffer).toString("hex");
}

describe("reduce_on_plateau in a run", () => {
  it("each epoch's rate is the replay of the history before it (after warm-up), and it drops", async () => {
    const p = programOf(SOURCE());
    const s = await fresh(p);
    s.trainer.init();
    s.trainer.run();
    const h = s.trainer.history;
    expect(h).toHaveLength(14);
    const sched = p.train.schedule as PlateauSchedule;
    let st = plateauStart(0.05);
    for (const r of h) {
      if (r.epoch > 1) expect(r.lr).toBe(st.lr); // epoch 1 is warm-up: its last batch runs at the base rate
      if (r.epoch > 1) st = plateauUpdate(sched, st, r.values["val_auc"], "max");
    }
    expect(s.trainer.plateau).toEqual(st);
    const rates = new Set(h.map((r) => r.lr));
    expect(rates.size).toBeGreaterThan(2);
    expect(Math.min(...h.map((r) => r.lr))).toBeGreaterThanOrEqual(0.002);
  });

  it("resumes bit-identically from a checkpoint after an epoch and from one inside an epoch", async () => {
    const p = programOf(SOURCE());
    const a = await fresh(p);
    a.trainer.init();
    a.trainer.run();

    const through = (st: TrainerState): TrainerState => {
      const c = decodeCheckpoint(encodeCheckpoint(st, "h", "Plateau", a.data.preprocess));
      if (typeof c === "string") throw new Error(c);
      return c.state;
    };
    // after epoch 6
    const b = await fresh(p);
    b.trainer.init();
    for (let e = 0; e < 6; e++) b.trainer.runEpoch();
    const saved = through(b.trainer.state());
    expect(saved.plateau).toEqual(b.trainer.plateau);
    const c = await fresh(p);
    c.trainer.restore(saved);
    c.trainer.run();
    expect(bits(c.trainer.model.params)).toBe(bits(a.trainer.model.params));
    expect(c.trainer.history.map((r) => r.lr)).toEqual(a.trainer.history.map((r) => r.lr));
    expect(c.trainer.plateau).toEqual(a.trainer.plateau);

    // inside epoch 9, after 3 batches
    const d = await fresh(p);
    d.trainer.init();
    for (let e = 0; e < 8; e++) d.trainer.runEpoch();
    d.trainer.beginEpoch();
    for (let k = 0; k < 3; k++) d.trainer.step();
    const mid = through(d.trainer.state());
    const e2 = await fresh(p);
    e2.trainer.restore(mid);
    e2.trainer.run();
    expect(bits(e2.trainer.model.params)).toBe(bits(a.trainer.model.params));
    expect(e2.trainer.history.map((r) => r.values)).toEqual(a.trainer.history.map((r) => r.values));
  });

  it("a checkpoint without plateau state (older, or another schedule's) starts it afresh; a malformed one is refused", async () => {
    const p = programOf(SOURCE());
    const b = await fresh(p);
    b.trainer.init();
    b.trainer.runEpoch();
    b.trainer.runEpoch();
    const { plateau: _dropped, ...old } = b.trainer.state();
    const c = await fresh(p);
    c.trainer.restore(old);
    expect(c.trainer.plateau).toEqual(plateauStart(0.05));
    const bad = encodeCheckpoint({ ...b.trainer.state(), plateau: { lr: -1, best: null, wait: 0, cooldown: 0 } }, "h", "Plateau", b.data.preprocess);
    expect(decodeCheckpoint(bad)).toMatch(/plateau.*lr/);
  });
});

describe("checking reduce_on_plateau", () => {
  const errors = (src: string) => checkSource(src).diagnostics.filter((d) => d.severity === "error");
  it("defaults as Keras, and the monitored metric must be computed", () => {
    const p = programOf(SOURCE().replace(/schedule .*/, "schedule reduce_on_plateau"));
    expect(p.train.schedule).toMatchObject({ kind: "reduce_on_plateau", monitor: "val_loss", factor: 0.1, patience: 10, minLr: 0, minDelta: 1e-4, cooldown: 0 });
    const noAuc = errors(SOURCE().replace("metrics accuracy, auc", "metrics accuracy"));
    expect(noAuc.map((d) => d.message)).toEqual(["`reduce_on_plateau` watches `val_auc`, but `metrics` does not compute `auc`"]);
    expect(errors(SOURCE().replace("factor: 0.5", "factor: 1"))).toHaveLength(1);
    expect(errors(SOURCE().replace("monitor: val_auc", "monitor: val_nonsense"))).toHaveLength(1);
  });
});
