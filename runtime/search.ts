/**
 * The search's decisions, browser-safe and deterministic: which configuration each trial
 * tries and with how many epochs. Trial `id`'s configuration is drawn from its own stream
 * (`deriveSeed(seed, id)`), and the next trial is a pure function of the trials done so far,
 * so a search read back from its log continues exactly where it stopped, and the same seed
 * gives the same trials.
 *
 * - `random`: configuration i is drawn at random (log scale for `loguniform`).
 * - `grid`: every combination of `points` values per numeric range and every option, in order.
 * - `halving` (successive halving, Jamieson & Talwalkar 2016): `trials` configurations at
 *   epochs/eta^(rungs−1); the best 1/eta of a rung go on to eta times the epochs, up to the
 *   file's epochs.
 * - `asha` (Li et al. 2018): promote a configuration as soon as it is in the top 1/eta of its
 *   rung, else start a new one.
 * With several trials at once (`--workers`), `nextTrialAhead` starts only the trials whose
 * choice no running trial can change, so the sequence is the same for any number of workers.
 * A trial trains from scratch with its rung's epochs, so the winner's plain file reproduces it.
 *
 * When a range says where to `start:`, the search first trains that baseline (configuration
 * `BASELINE`: the hand-written values) with the file's full epochs, then runs its algorithm
 * exactly as it would without it. The winner is then at least as good as the baseline on the
 * validation split.
 */
import type { Dim, Config } from "../compiler/search/space.js";
import { hasStart, roundValue, startConfig, valueText } from "../compiler/search/space.js";
import type { Algorithm, Direction } from "../compiler/search/settings.js";
import { deriveSeed, Rng } from "./rng.js";

/** What the next trial runs. */
export interface TrialSpec {
  /** 1-based, in the order trials run. */
  readonly trial: number;
  /** Which configuration (0-based; random: its draw, grid: its place in the grid). */
  readonly config: number;
  /** halving/asha: the rung (0 = fewest epochs); 0 otherwise. */
  readonly rung: number;
  /** The epochs it trains; undefined: the file's own. */
  readonly epochs: number | undefined;
}

/** A finished trial, as the log keeps it. */
export interface TrialRecord extends TrialSpec {
  /** Per dimension, the value as written in the file (`0.003`, `relu`, `adam(lr: 0.01)`). */
  readonly values: readonly string[];
  readonly status: "ok" | "diverged" | "failed";
  /** The metric on the validation split; null when the trial did not finish. */
  readonly score: number | null;
  /** Why it failed or diverged. */
  readonly message?: string;
  /** The metric on the validation split after each epoch. */
  readonly curve: readonly number[];
  /** Test-split figures of the trained model, when the file has a test split. */
  readonly test?: Readonly<Record<string, number>>;
  readonly seconds: number;
}

export interface Plan {
  readonly dims: readonly Dim[];
  readonly algorithm: Algorithm;
  readonly trials: number;
  readonly seed: number;
  readonly points: number;
  readonly eta: number;
  readonly rungs: number;
  /** The file's epochs: the budget of the top rung. */
  readonly epochs: number;
  readonly direction: Direction;
}

// ── configurations ───────────────────────────────────────────────────────────
/** Configuration `id` of a random search: each range drawn from the trial's own stream. */
export function drawConfig(dims: readonly Dim[], seed: number, id: number): Config {
  const rng = new Rng(deriveSeed(seed, id));
  return dims.map((d) => {
    switch (d.kind) {
      case "choice":
        return rng.int(d.options.length);
      case "int":
        return d.lo + rng.int(d.hi - d.lo + 1);
      case "uniform":
        return clamp(roundValue(rng.uniform(d.lo, d.hi)), d);
      case "loguniform":
        return clamp(roundValue(Math.exp(rng.uniform(Math.log(d.lo), Math.log(d.hi)))), d);
    }
  });
}

function clamp(v: number, d: { lo: number; hi: number }): number {
  return Math.min(d.hi, Math.max(d.lo, v));
}

/** The values a grid tries for one dimension. */
export function gridValues(d: Dim, points: number): number[] {
  if (d.kind === "choice") return d.options.map((_, i) => i);
  if (d.kind === "int") {
    const n = d.hi - d.lo + 1;
    if (n <= points) return Array.from({ length: n }, (_, i) => d.lo + i);
    return [...new Set(Array.from({ length: points }, (_, i) => Math.round(d.lo + (i * (d.hi - d.lo)) / (points - 1))))];
  }
  const at = (t: number): number =>
    d.kind === "loguniform" ? Math.exp(Math.log(d.lo) + t * (Math.log(d.hi) - Math.log(d.lo))) : d.lo + t * (d.hi - d.lo);
  return Array.from({ length: points }, (_, i) => (i === 0 ? d.lo : i === points - 1 ? d.hi : clamp(roundValue(at(i / (points - 1))), d)));
}

export function gridSize(dims: readonly Dim[], points: number): number {
  return dims.reduce((n, d) => n * gridValues(d, points).length, 1);
}

/** Grid configuration `id`: the last dimension varies fastest. */
export function gridConfig(dims: readonly Dim[], points: number, id: number): Config {
  const out: number[] = new Array<number>(dims.length);
  let rest = id;
  for (let i = dims.length - 1; i >= 0; i--) {
    const values = gridValues(dims[i]!, points);
    out[i] = values[rest % values.length]!;
    rest = Math.floor(rest / values.length);
  }
  return out;
}

/** The configuration number of the baseline trial (`start:`). */
export const BASELINE = -1;

export function configOf(plan: Plan, id: number): Config {
  if (id === BASELINE) return startConfig(plan.dims, drawConfig(plan.dims, plan.seed, 0));
  return plan.algorithm === "grid" ? gridConfig(plan.dims, plan.points, id) : drawConfig(plan.dims, plan.seed, id);
}

export function configText(plan: Plan, config: Config): string[] {
  return plan.dims.map((d, i) => valueText(d, config[i]!));
}

// ── ranking ──────────────────────────────────────────────────────────────────
/** Negative when `a` ranks before `b`: finished before failed, then by score, then by trial. */
export function compareTrials(a: TrialRecord, b: TrialRecord, direction: Direction): number {
  if (a.score === null || b.score === null) return a.score === null && b.score === null ? a.trial - b.trial : a.score === null ? 1 : -1;
  const d = direction === "maximize" ? b.score - a.score : a.score - b.score;
  return d !== 0 ? d : a.trial - b.trial;
}

/** Every trial, best first: the highest rung reached first (the full budget), then by score. */
export function leaderboard(records: readonly TrialRecord[], direction: Direction): TrialRecord[] {
  return [...records].sort((a, b) => b.rung - a.rung || compareTrials(a, b, direction));
}

/** The winner: the best finished trial of the highest rung. */
export function bestTrial(records: readonly TrialRecord[], direction: Direction): TrialRecord | undefined {
  const top = leaderboard(records, direction)[0];
  return top !== undefined && top.score !== null ? top : undefined;
}

// ── scheduling ───────────────────────────────────────────────────────────────
/** halving/asha: the epochs of rung k, epochs/eta^(rungs−1−k), at least 1. */
export function rungEpochs(plan: Plan, k: number): number {
  return Math.max(1, Math.round(plan.epochs / plan.eta ** (plan.rungs - 1 - k)));
}

/** A trial started and not finished yet: its spec, without a result. */
export type Known = TrialRecord | TrialSpec;

/** `nextTrialAhead`'s answer when the next trial depends on a result not in yet. */
export const WAIT = "wait";

const finished = (r: Known): r is TrialRecord => "status" in r;

/** The trial after `done` (in the order they ran), or undefined when the search is complete. */
export function nextTrial(plan: Plan, all: readonly TrialRecord[]): TrialSpec | undefined {
  const next = nextTrialAhead(plan, all);
  if (next === WAIT) throw new Error("bug: the scheduler waits with every trial finished");
  return next;
}

/**
 * The trial after trials 1 … n (`known`, any order), some of them still running: the very trial
 * `nextTrial` chooses once they have finished, whatever their results, or WAIT when that
 * choice depends on a result not in yet (a rung's ranking). Several trials run at once
 * (`--workers`) by starting only what this returns, so any number of workers runs the same
 * sequence of trials as one.
 */
export function nextTrialAhead(plan: Plan, all: readonly Known[]): TrialSpec | undefined | typeof WAIT {
  const trial = all.length + 1;
  if (hasStart(plan.dims) && all.length === 0) {
    // The baseline trains with the full budget: the top rung where there are rungs.
    const rungs = plan.algorithm === "halving" || plan.algorithm === "asha";
    return rungs ? spec(plan, trial, BASELINE, plan.rungs - 1) : { trial, config: BASELINE, rung: 0, epochs: undefined };
  }
  // The algorithms decide from their own trials: the baseline is not one of their configurations.
  const done = all.filter((r) => r.config !== BASELINE);
  switch (plan.algorithm) {
    case "random":
    case "grid": {
      // Without ranges there is one configuration: one trial (the file as written, measured as the search measures).
      const limit = plan.algorithm === "grid" || plan.dims.length === 0 ? Math.min(plan.trials, gridSize(plan.dims, plan.points)) : plan.trials;
      return done.length < limit ? { trial, config: done.length, rung: 0, epochs: undefined } : undefined;
    }
    case "halving":
      return nextHalving(plan, done, trial);
    case "asha":
      return nextAsha(plan, done, trial);
  }
}

/** The finished trials of rung k, best first. */
function atRung(plan: Plan, done: readonly Known[], k: number): TrialRecord[] {
  return done.filter((r): r is TrialRecord => r.rung === k && finished(r)).sort((a, b) => compareTrials(a, b, plan.direction));
}

function spec(plan: Plan, trial: number, config: number, rung: number): TrialSpec {
  return { trial, config, rung, epochs: rungEpochs(plan, rung) };
}

/** Synchronous successive halving: a whole rung, then the best 1/eta of it at the next. */
function nextHalving(plan: Plan, done: readonly Known[], trial: number): TrialSpec | undefined | typeof WAIT {
  let members = Array.from({ length: plan.trials }, (_, i) => i);
  for (let k = 0; k < plan.rungs; k++) {
    const ran = done.filter((r) => r.rung === k);
    const todo = members.find((c) => !ran.some((r) => r.config === c));
    if (todo !== undefined) return spec(plan, trial, todo, k);
    // The next rung's members are a ranking of this one: every member's result is needed.
    if (ran.some((r) => !finished(r) && members.includes(r.config))) return WAIT;
    const results = atRung(plan, done, k).filter((r) => members.includes(r.config) && r.score !== null);
    members = results.slice(0, Math.max(1, Math.floor(members.length / plan.eta))).map((r) => r.config);
    if (members.length === 0) return undefined;
  }
  return undefined;
}

/**
 * ASHA: the first promotable configuration from the top rung down, else a new one. A rung's
 * promotion is decided once every trial of it has finished (with trials running there, WAIT),
 * so the order of promotions is the order of the trials, however many run at once.
 */
function nextAsha(plan: Plan, done: readonly Known[], trial: number): TrialSpec | undefined | typeof WAIT {
  for (let k = plan.rungs - 2; k >= 0; k--) {
    const ran = done.filter((r) => r.rung === k);
    const quota = Math.floor(ran.length / plan.eta);
    if (quota === 0) continue;
    if (ran.some((r) => !finished(r))) return WAIT;
    // Started at the rung above counts as promoted, finished or not.
    const above = new Set(done.filter((r) => r.rung === k + 1).map((r) => r.config));
    const top = atRung(plan, done, k).filter((r) => r.score !== null).slice(0, quota);
    const promote = top.find((r) => !above.has(r.config));
    if (promote !== undefined) return spec(plan, trial, promote.config, k + 1);
  }
  const started = done.filter((r) => r.rung === 0).length;
  if (started < plan.trials) return spec(plan, trial, started, 0);
  if (done.some((r) => !finished(r))) return WAIT;
  // No configuration left to start: the best of the highest rung reached goes on, until one
  // has trained with the full budget (the winner is always a full run).
  if (plan.rungs > 1 && !done.some((r) => r.rung === plan.rungs - 1 && finished(r) && r.score !== null)) {
    for (let k = plan.rungs - 2; k >= 0; k--) {
      const above = new Set(done.filter((r) => r.rung === k + 1).map((r) => r.config));
      const best = atRung(plan, done, k).find((r) => r.score !== null && !above.has(r.config));
      if (best !== undefined) return spec(plan, trial, best.config, k + 1);
    }
  }
  return undefined;
}

/**
 * Whether a log's trials are the ones this plan runs, in order; the first that is not, as a
 * sentence. Resuming only continues a search that is the same sequence.
 */
export function replayMismatch(plan: Plan, records: readonly TrialRecord[]): string | undefined {
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    const want = nextTrial(plan, records.slice(0, i));
    if (want === undefined) return `it has ${records.length} trials, and this search stops after ${i}`;
    if (want.config !== r.config || want.rung !== r.rung || want.epochs !== r.epochs) return `trial ${i + 1} there is configuration ${r.config + 1} at rung ${r.rung}; this search runs configuration ${want.config + 1} at rung ${want.rung}`;
    const values = configText(plan, configOf(plan, r.config));
    if (values.join("\u0000") !== r.values.join("\u0000")) return `trial ${i + 1} there tried ${r.values.join(", ")}; this file draws ${values.join(", ")}`;
  }
  return undefined;
}
