/**
 * `start:` on a range (issue 19: a search at least as good as the hand-written file): the first
 * trial is the baseline — each range at its start — trained with the file's full epochs, then
 * the algorithm runs exactly the trials it runs without a start. The winner is the best of the
 * top rung, so it is never worse than the baseline on the validation split.
 */
import { describe, expect, it } from "vitest";
import { parse } from "../../grammar/index.js";
import { readSearch, type Dim } from "../../compiler/search/index.js";
import { BASELINE, bestTrial, configOf, configText, nextTrial, replayMismatch, type Plan, type TrialRecord } from "../../runtime/search.js";
import { check } from "../../compiler/check.js";

const program = (settings: string): string => `model M {\n  input 2\n  ${settings}\n  dense 2, softmax\n}\nloss cross_entropy\n`;

function dimsOf(settings: string): Dim[] {
  return [...readSearch(parse(program(settings)).value).value!.dims];
}

const WITH = dimsOf("dense int(2, 9, start: 4), choice(relu, tanh, elu, start: tanh)\n  dropout uniform(0, 0.5)");
const WITHOUT = dimsOf("dense int(2, 9), choice(relu, tanh, elu)\n  dropout uniform(0, 0.5)");

const plan = (dims: readonly Dim[], over: Partial<Plan> = {}): Plan => ({ dims, algorithm: "random", trials: 9, seed: 1, points: 3, eta: 3, rungs: 3, epochs: 27, direction: "maximize", ...over });

/** Runs a plan to its end; scores from `score(values)`. */
function simulate(p: Plan, score: (values: readonly string[], rung: number) => number): TrialRecord[] {
  const done: TrialRecord[] = [];
  for (let s = nextTrial(p, done); s !== undefined; s = nextTrial(p, done)) {
    const values = configText(p, configOf(p, s.config));
    done.push({ ...s, values, status: "ok", score: score(values, s.rung), curve: [], seconds: 0 });
    if (done.length > 500) throw new Error("does not end");
  }
  return done;
}

describe("start: the baseline trial", () => {
  it("reads each range's start (a ranged number, an option), and a range without one has none", () => {
    expect(WITH.map((d) => d.start)).toEqual([4, 1, undefined]);
    // The baseline takes the starts, and random draw 0 for a range without one.
    const p = plan(WITH);
    const base = configText(p, configOf(p, BASELINE));
    expect(base.slice(0, 2)).toEqual(["4", "tanh"]);
    expect(base[2]).toBe(configText(p, configOf(p, 0))[2]);
  });

  it.each(["random", "grid", "halving", "asha"] as const)("%s: trial 1 is the baseline with the full epochs, then the same trials as without a start", (algorithm) => {
    const score = (v: readonly string[], rung: number): number => Number(v[0]) / 10 + (v[1] === "elu" ? 0.3 : 0) + rung * 0.01;
    const a = simulate(plan(WITH, { algorithm }), score);
    const b = simulate(plan(WITHOUT, { algorithm }), score);
    expect(a[0]).toMatchObject({ trial: 1, config: BASELINE, values: ["4", "tanh", a[0]!.values[2]] });
    const top = algorithm === "halving" || algorithm === "asha";
    expect(a[0]!.rung).toBe(top ? 2 : 0);
    expect(a[0]!.epochs).toBe(top ? 27 : undefined);
    // Without the baseline, the trials are those of the search without starts (in the same order).
    const strip = (rs: readonly TrialRecord[]) => rs.map((r) => [r.config, r.rung, r.epochs, r.values[2]]);
    expect(strip(a.slice(1))).toEqual(strip(b));
    // The winner is never worse than the baseline.
    expect(bestTrial(a, "maximize")!.score!).toBeGreaterThanOrEqual(a[0]!.score!);
    expect(replayMismatch(plan(WITH, { algorithm }), a)).toBeUndefined();
  });

  it("when the baseline scores best, it is the winner (asha: even though it never ran at a low rung)", () => {
    const a = simulate(plan(WITH, { algorithm: "asha" }), (v) => (v[0] === "4" && v[1] === "tanh" ? 1 : 0.5));
    expect(bestTrial(a, "maximize")!.config).toBe(BASELINE);
  });

  it("a start outside its range, or not one of the options, is NN2049 at the start value", () => {
    const at = (settings: string): string[] =>
      check(parse(program(settings)).value).diagnostics.filter((d) => d.code === "NN2049").map((d) => `${d.span.line}:${d.span.column} ${d.message}`);
    expect(at("dense int(2, 9, start: 12), relu")).toEqual(["3:26 `start: 12` must be a whole number from 2 to 9"]);
    expect(at("dense int(2, 9, start: 2.5), relu")).toEqual(["3:26 `start: 2.5` must be a whole number from 2 to 9"]);
    expect(at("dense 4, choice(relu, tanh, start: gelu)")).toEqual(["3:38 `start: gelu` must be one of the options: relu, tanh"]);
    expect(at("dense int(2, 9, start: 3), relu")).toEqual([]);
  });
});
