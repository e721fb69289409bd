/**
 * The `train { … }` block: epochs, batch, the learning-rate schedule and warm-up, early
 * stopping and `reduce_on_plateau` (and that they watch a metric the file computes), checkpoints.
 */
import type { Expr, Statement } from "../../grammar/ast.js";
import { SCHEDULES, TRAIN_SETTINGS } from "../vocabulary.js";
import type { EarlyStop, Metric, Prune, QuantizeSetting, Schedule, Train } from "../program.js";
import { expectNoBlock, openSection, word, type Checker } from "./checker.js";
import { checkFitSettings } from "./train-fit.js";

export const DEFAULT_TRAIN: Train = {
  epochs: 10,
  batch: 32,
  schedule: { kind: "constant", span: undefined },
  warmup: 0,
  earlyStop: undefined,
  checkpointEvery: 0,
  span: undefined,
};

const MONITORABLE = /^(val_)?(loss|accuracy|mse|rmse|mae|r2|precision|recall|f1|auc)$/;

export function checkTrain(ck: Checker, s: Statement): Train | undefined {
  const section = openSection(ck, s, TRAIN_SETTINGS, "e.g. `train { epochs 10 }` with one setting per line");
  if (section === undefined) return undefined;
  const { st } = section;
  let ok = true;
  const arg = (k: string, need: string): Expr | undefined => section.value(k, need)?.values().next().value?.expr;
  const epochsE = arg("epochs", "a count, e.g. `epochs 10`");
  const epochs = epochsE === undefined ? DEFAULT_TRAIN.epochs : ck.posInt(epochsE, "epochs", 1_000_000);
  const batchE = arg("batch", "a size, e.g. `batch 32`");
  const batch = batchE === undefined ? DEFAULT_TRAIN.batch : ck.posInt(batchE, "batch", 65_536);
  const warmE = arg("warmup", "a number of epochs");
  const warmup = warmE === undefined ? 0 : ck.nonNegInt(warmE, "warmup", 1_000_000);
  const ckE = arg("checkpoint", "a number of epochs, e.g. `checkpoint every 1`");
  const checkpointEvery = ckE === undefined ? 0 : ck.nonNegInt(ckE, "checkpoint every", 1_000_000);
  let schedule: Schedule | undefined = DEFAULT_TRAIN.schedule;
  const schedE = arg("schedule", "a schedule, e.g. `schedule cosine`");
  if (schedE !== undefined) {
    const c = ck.callable(schedE, SCHEDULES, "schedule", "unknownOption");
    if (c === undefined) schedule = undefined;
    else {
      const g = (k: string): Expr | undefined => c.args.get(k)?.expr;
      switch (c.word.name) {
        case "constant":
          schedule = { kind: "constant", span: c.span };
          break;
        case "step": {
          const every = g("every") === undefined ? 10 : ck.posInt(g("every") as Expr, "every");
          const gamma = g("gamma") === undefined ? 0.5 : ck.ranged(g("gamma") as Expr, "gamma", 0, 1, "a number > 0 and at most 1", { loOpen: true });
          schedule = every === undefined || gamma === undefined ? undefined : { kind: "step", every, gamma, span: c.span };
          break;
        }
        case "exponential": {
          const gamma = g("gamma") === undefined ? 0.95 : ck.ranged(g("gamma") as Expr, "gamma", 0, 1, "a number > 0 and at most 1", { loOpen: true });
          schedule = gamma === undefined ? undefined : { kind: "exponential", gamma, span: c.span };
          break;
        }
        case "cosine": {
          const minLr = g("min_lr") === undefined ? 0 : ck.ranged(g("min_lr") as Expr, "min_lr", 0, 10, "a number ≥ 0");
          schedule = minLr === undefined ? undefined : { kind: "cosine", minLr, span: c.span };
          break;
        }
        case "reduce_on_plateau": {
          // Keras' ReduceLROnPlateau defaults (min_delta absolute, as its mode "auto" with threshold 1e-4).
          const m = g("monitor");
          const monitor = m === undefined ? "val_loss" : monitorOf(ck, m);
          const factor = g("factor") === undefined ? 0.1 : ck.ranged(g("factor") as Expr, "factor", 0, 1, "a number > 0 and < 1", { loOpen: true, hiOpen: true });
          const patience = g("patience") === undefined ? 10 : ck.nonNegInt(g("patience") as Expr, "patience", 1_000_000);
          const minLr = g("min_lr") === undefined ? 0 : ck.ranged(g("min_lr") as Expr, "min_lr", 0, 10, "a number ≥ 0");
          const minDelta = g("min_delta") === undefined ? 1e-4 : ck.ranged(g("min_delta") as Expr, "min_delta", 0, 1e9, "a number ≥ 0");
          const cooldown = g("cooldown") === undefined ? 0 : ck.nonNegInt(g("cooldown") as Expr, "cooldown", 1_000_000);
          schedule =
            monitor === undefined || factor === undefined || patience === undefined || minLr === undefined || minDelta === undefined || cooldown === undefined
              ? undefined
              : { kind: "reduce_on_plateau", monitor, factor, patience, minLr, minDelta, cooldown, span: c.span };
          break;
        }
      }
    }
  }
  let earlyStop: EarlyStop | undefined;
  const es = st.get("early_stop");
  if (es !== undefined) {
    expectNoBlock(ck, es);
    const b = ck.bind(es.keyword, word(TRAIN_SETTINGS, "early_stop"), es.args);
    const p = b.get("patience");
    const patience = p === undefined ? 5 : ck.posInt(p.expr, "patience", 1_000_000);
    const m = b.get("monitor");
    const monitor = m === undefined ? "val_loss" : monitorOf(ck, m.expr);
    const d = b.get("min_delta");
    const minDelta = d === undefined ? 0 : ck.ranged(d.expr, "min_delta", 0, 1e9, "a number ≥ 0");
    const r = b.get("restore_best");
    const restoreBest = r === undefined ? true : ck.bool(r.expr, "restore_best");
    if (patience === undefined || monitor === undefined || minDelta === undefined || restoreBest === undefined) ok = false;
    else earlyStop = { patience, monitor, minDelta, restoreBest, span: es.span };
  }
  const pr = st.get("prune");
  const prune = pr === undefined || epochs === undefined ? undefined : checkPrune(ck, pr, epochs);
  if (pr !== undefined && prune === undefined) ok = false;
  const qs = st.get("quantize");
  const quantize = qs === undefined ? undefined : checkQuantizeSetting(ck, qs);
  if (qs !== undefined && quantize === undefined) ok = false;
  const fit = checkFitSettings(ck, section, monitorOf);
  if (fit === undefined) ok = false;
  if (!ok || section.failed || epochs === undefined || batch === undefined || warmup === undefined || checkpointEvery === undefined || schedule === undefined) return undefined;
  return { epochs, batch, schedule, warmup, earlyStop, checkpointEvery, ...(prune ? { prune } : {}), ...(quantize ? { quantize } : {}), ...fit, span: s.span };
}

/** `prune sparsity 0.8, start 2, end 6, scope global`, its window within the run's epochs (NN2081). */
function checkPrune(ck: Checker, st: Statement, epochs: number): Prune | undefined {
  expectNoBlock(ck, st);
  const b = ck.bind(st.keyword, word(TRAIN_SETTINGS, "prune"), st.args);
  const g = (k: string): Expr | undefined => b.get(k)?.expr;
  const sparsity = g("sparsity") === undefined ? 0.5 : ck.ranged(g("sparsity") as Expr, "sparsity", 0, 0.99, "a number from 0 to 0.99");
  const start = g("start") === undefined ? 1 : ck.posInt(g("start") as Expr, "start", 1_000_000);
  const end = g("end") === undefined ? Math.max(start ?? 1, Math.ceil(epochs / 2)) : ck.posInt(g("end") as Expr, "end", 1_000_000);
  const scopeE = g("scope");
  const scope = scopeE === undefined ? "layer" : ck.text(scopeE, "scope");
  if (scope !== undefined && scope !== "global" && scope !== "layer") {
    ck.report("unknownOption", (scopeE as Expr).span, [scope, "scope"], "use `scope global` or `scope layer`");
    return undefined;
  }
  if (sparsity === undefined || start === undefined || end === undefined || scope === undefined) return undefined;
  if (start > end || end > epochs) {
    ck.report("pruneWindow", st.span, [start, end, epochs], `e.g. \`prune sparsity ${sparsity}, start 1, end ${Math.max(1, Math.ceil(epochs / 2))}\``);
    return undefined;
  }
  return { sparsity, start, end, scope, span: st.span };
}

/** `quantize calibrate 1000, calibration percentile` (whether the model can be quantized: `quantize/setting.ts`). */
function checkQuantizeSetting(ck: Checker, st: Statement): QuantizeSetting | undefined {
  expectNoBlock(ck, st);
  const b = ck.bind(st.keyword, word(TRAIN_SETTINGS, "quantize"), st.args);
  const c = b.get("calibrate")?.expr;
  const calibrate = c === undefined ? 1000 : ck.posInt(c, "calibrate", 1_000_000_000);
  const m = b.get("calibration")?.expr;
  const calibration = m === undefined ? "minmax" : ck.choice(m, "calibration", ["minmax", "percentile"] as const);
  if (calibrate === undefined || calibration === undefined) return undefined;
  return { calibrate, calibration, span: st.span };
}

/** A metric name to watch (`val_loss`, `auc`, …), or undefined (reported). */
function monitorOf(ck: Checker, e: Expr): string | undefined {
  const monitor = ck.text(e, "monitor");
  if (monitor === undefined || MONITORABLE.test(monitor)) return monitor;
  ck.report("unknownOption", e.span, [monitor, "monitor"], "monitor a metric such as `val_loss`, `val_accuracy`, `loss` or `accuracy`");
  return undefined;
}

/** `early_stop` and `reduce_on_plateau` can only watch the loss or a metric the file asks for. */
export function checkMonitor(ck: Checker, train: Train, metrics: readonly Metric[]): void {
  const watchers = [
    ...(train.earlyStop ? [{ who: "early_stop", monitor: train.earlyStop.monitor, span: train.earlyStop.span }] : []),
    ...(train.schedule.kind === "reduce_on_plateau" ? [{ who: "reduce_on_plateau", monitor: train.schedule.monitor, span: train.schedule.span }] : []),
    ...(train.keepBest ? [{ who: "keep_best", monitor: train.keepBest.monitor, span: train.keepBest.span }] : []),
  ];
  for (const { who, monitor, span } of watchers) {
    const base = monitor.replace(/^val_/, "");
    if (base === "loss" || metrics.some((m) => m.kind === base)) continue;
    ck.report("conflictingSettings", span, [`\`${who}\` watches \`${monitor}\`, but \`metrics\` does not compute \`${base}\``], `add \`${base}\` to \`metrics\`, or watch \`val_loss\``);
  }
}
