/**
 * The `search { … }` block: what `nnc search` optimizes and how (`docs/search.md`). Every
 * command checks it (a misspelled setting is reported everywhere); only `nnc search` uses it.
 */
import type { Expr, Statement } from "../../grammar/ast.js";
import type { Span } from "../../grammar/span.js";
import { METRICS, names, SEARCH_SETTINGS } from "../vocabulary.js";
import { openSection, type Checker } from "../check/checker.js";

export const ALGORITHMS = ["random", "grid", "halving", "asha"] as const;
export type Algorithm = (typeof ALGORITHMS)[number];
export type Direction = "maximize" | "minimize";

export interface SearchSettings {
  /** Undefined: the first of the file's metrics. */
  readonly metric: string | undefined;
  readonly metricSpan: Span | undefined;
  /** Undefined: from the metric (`metricMode` in `runtime/metrics.ts`). */
  readonly direction: Direction | undefined;
  readonly algorithm: Algorithm;
  readonly trials: number;
  /** Seconds after which no trial starts. */
  readonly time: number | undefined;
  readonly seed: number;
  readonly points: number;
  readonly eta: number;
  readonly rungs: number;
  /** Share of the training data held out when the data block has no validation split. */
  readonly validation: number;
  readonly span: Span | undefined;
}

export const DEFAULT_SEARCH: SearchSettings = {
  metric: undefined,
  metricSpan: undefined,
  direction: undefined,
  algorithm: "random",
  trials: 20,
  time: undefined,
  seed: 0,
  points: 3,
  eta: 3,
  rungs: 3,
  validation: 0.2,
  span: undefined,
};

export function checkSearch(ck: Checker, s: Statement): SearchSettings | undefined {
  const section = openSection(ck, s, SEARCH_SETTINGS, "e.g. `search { metric accuracy  trials 20 }` with one setting per line");
  if (section === undefined) return undefined;
  const arg = (k: string, need: string): Expr | undefined => section.value(k, need)?.values().next().value?.expr;
  const d = DEFAULT_SEARCH;
  const metricE = arg("metric", "a metric, e.g. `metric accuracy`");
  const metricNames = names(METRICS).filter((m) => m !== "confusion_matrix");
  const metric = metricE === undefined ? undefined : ck.choice(metricE, "metric", metricNames);
  const dirE = arg("direction", "`maximize` or `minimize`");
  const direction = dirE === undefined ? undefined : ck.choice(dirE, "direction", ["maximize", "minimize"] as const);
  const algE = arg("algorithm", "an algorithm, e.g. `algorithm random`");
  const algorithm = algE === undefined ? d.algorithm : ck.choice(algE, "algorithm", ALGORITHMS);
  const num = (k: string, need: string, dflt: number, read: (e: Expr) => number | undefined): number | undefined => {
    const e = arg(k, need);
    return e === undefined ? dflt : read(e);
  };
  const trials = num("trials", "a count, e.g. `trials 20`", d.trials, (e) => ck.posInt(e, "trials", 100_000));
  const timeE = arg("time", "seconds, e.g. `time 600`");
  const time = timeE === undefined ? undefined : ck.ranged(timeE, "time", 0, 1e9, "a number of seconds > 0", { loOpen: true });
  const seed = num("seed", "a whole number", d.seed, (e) => ck.seed(e, "seed"));
  const points = num("points", "a count, e.g. `points 3`", d.points, (e) => ck.ranged(e, "points", 2, 1000, "a whole number from 2 to 1000", { int: true }));
  const eta = num("eta", "a factor, e.g. `eta 3`", d.eta, (e) => ck.ranged(e, "eta", 2, 100, "a whole number from 2 to 100", { int: true }));
  const rungs = num("rungs", "a count, e.g. `rungs 3`", d.rungs, (e) => ck.ranged(e, "rungs", 1, 20, "a whole number from 1 to 20", { int: true }));
  const validation = num("validation", "a share, e.g. `validation 20%`", d.validation, (e) => ck.ranged(e, "validation", 0, 0.9, "a share above 0% and at most 90%", { loOpen: true }));
  const values = [algorithm, trials, seed, points, eta, rungs, validation];
  if (section.failed || values.some((v) => v === undefined) || (metricE !== undefined && metric === undefined) || (dirE !== undefined && direction === undefined) || (timeE !== undefined && time === undefined)) return undefined;
  return {
    metric,
    metricSpan: metricE?.span,
    direction,
    algorithm: algorithm!,
    trials: trials!,
    time,
    seed: seed!,
    points: points!,
    eta: eta!,
    rungs: rungs!,
    validation: validation!,
    span: s.span,
  };
}
