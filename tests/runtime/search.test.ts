import { describe, expect, it } from "vitest";
import { parse } from "../../grammar/index.js";
import { readSearch, type Dim } from "../../compiler/search/index.js";
import { bestTrial, configOf, configText, drawConfig, gridConfig, gridSize, gridValues, nextTrial, replayMismatch, rungEpochs, type Plan, type TrialRecord } from "../../runtime/search.js";
import { logText, parseLog } from "../../runtime/node/search-log.js";

function dimsOf(settings: string): Dim[] {
  const src = `model M {\n  input 2\n  ${settings}\n  dense 2, softmax\n}\nloss cross_entropy\n`;
  return [...readSearch(parse(src).value).value!.dims];
}

const DIMS = dimsOf("dense int(2, 9), choice(relu, tanh, elu)\n  dropout uniform(0, 0.5)\n  dense 3, activation: choice(relu, gelu)\n  layernorm eps: loguniform(1e-6, 1e-2)");

function plan(over: Partial<Plan> = {}): Plan {
  return { dims: DIMS, algorithm: "random", trials: 10, seed: 1, points: 3, eta: 3, rungs: 3, epochs: 27, direction: "maximize", ...over };
}

/** Runs a plan to its end with scores from `score(config, rung)`. */
function simulate(p: Plan, score: (config: number, rung: number) => number | null): TrialRecord[] {
  const done: TrialRecord[] = [];
  for (let s = nextTrial(p, done); s !== undefined; s = nextTrial(p, done)) {
    const v = score(s.config, s.rung);
    done.push({ ...s, values: [], status: v === null ? "failed" : "ok", score: v, curve: [], seconds: 0 });
    if (done.length > 1000) throw new Error("does not end");
  }
  return done;
}

describe("configurations", () => {
  it("random: each draw in its range, the same seed the same draws, another seed others", () => {
    const a = Array.from({ length: 200 }, (_, i) => drawConfig(DIMS, 1, i));
    expect(Array.from({ length: 200 }, (_, i) => drawConfig(DIMS, 1, i))).toEqual(a);
    expect(Array.from({ length: 200 }, (_, i) => drawConfig(DIMS, 2, i))).not.toEqual(a);
    for (const c of a) {
      expect(Number.isInteger(c[0]) && c[0]! >= 2 && c[0]! <= 9).toBe(true);
      expect([0, 1, 2]).toContain(c[1]);
      expect(c[2]! >= 0 && c[2]! <= 0.5).toBe(true);
      expect(c[4]! >= 1e-6 && c[4]! <= 1e-2).toBe(true);
    }
    // Every whole number of int(2, 9) comes up, and loguniform spreads over the decades evenly.
    expect(new Set(a.map((c) => c[0])).size).toBe(8);
    const decades = [0, 0, 0, 0];
    for (const c of a) decades[Math.min(3, Math.floor(Math.log10(c[4]!) + 6))]!++;
    for (const n of decades) expect(n).toBeGreaterThan(25);
  });

  it("grid: evenly spaced points (log-spaced for loguniform), every combination once", () => {
    expect(gridValues(DIMS[0]!, 3)).toEqual([2, 6, 9]);
    expect(gridValues(DIMS[2]!, 3)).toEqual([0, 0.25, 0.5]);
    expect(gridValues(DIMS[4]!, 3)).toEqual([1e-6, 1e-4, 1e-2]);
    expect(gridValues(dimsOf("dense int(1, 3), relu")[0]!, 5)).toEqual([1, 2, 3]);
    const n = gridSize(DIMS, 3);
    expect(n).toBe(3 * 3 * 3 * 2 * 3);
    const all = new Set(Array.from({ length: n }, (_, i) => gridConfig(DIMS, 3, i).join(",")));
    expect(all.size).toBe(n);
    expect(simulate(plan({ algorithm: "grid", trials: 1000 }), () => 1)).toHaveLength(n);
  });
});

describe("scheduling", () => {
  it("random and grid run `trials` configurations in order; without ranges, one", () => {
    expect(simulate(plan(), () => 0.5).map((r) => r.config)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(simulate(plan({ dims: [] }), () => 0.5)).toHaveLength(1);
  });

  it("halving: the whole first rung at epochs/9, then the best third at /3, then the best at full", () => {
    const p = plan({ algorithm: "halving", trials: 9 });
    const quality = (c: number): number => [0.2, 0.9, 0.4, 0.8, 0.1, 0.7, 0.3, 0.6, 0.5][c]!;
    const done = simulate(p, (c) => quality(c));
    expect(done.map((r) => [r.config, r.rung, r.epochs])).toEqual([
      ...[0, 1, 2, 3, 4, 5, 6, 7, 8].map((c) => [c, 0, 3]),
      [1, 1, 9], [3, 1, 9], [5, 1, 9],
      [1, 2, 27],
    ]);
    expect(bestTrial(done, "maximize")?.config).toBe(1);
    expect([0, 1, 2].map((k) => rungEpochs(p, k))).toEqual([3, 9, 27]);
  });

  it("halving minimizes when asked, and a failed trial never goes on", () => {
    const done = simulate(plan({ algorithm: "halving", trials: 3, rungs: 2, direction: "minimize" }), (c) => (c === 0 ? null : c));
    expect(done.map((r) => [r.config, r.rung])).toEqual([[0, 0], [1, 0], [2, 0], [1, 1]]);
  });

  it("asha: promotes as soon as a configuration is in the top third of its rung; ends with a full run", () => {
    const quality = (c: number): number => [0.2, 0.9, 0.4, 0.8, 0.1, 0.7, 0.3, 0.6, 0.5][c]!;
    const done = simulate(plan({ algorithm: "asha", trials: 9 }), (c) => quality(c));
    // After three at rung 0, the best of them (config 1) goes on at once.
    expect(done.slice(0, 4).map((r) => [r.config, r.rung])).toEqual([[0, 0], [1, 0], [2, 0], [1, 1]]);
    expect(done.filter((r) => r.rung === 0)).toHaveLength(9);
    const top = done.filter((r) => r.rung === 2);
    expect(top.length).toBeGreaterThanOrEqual(1);
    expect(bestTrial(done, "maximize")?.config).toBe(1);
    // With too few configurations to promote by rank, the best still gets a full run.
    const few = simulate(plan({ algorithm: "asha", trials: 2 }), (c) => quality(c));
    expect(few.at(-1)).toMatchObject({ config: 1, rung: 2 });
  });

  it("a log is continued only by the search that wrote it", () => {
    const p = plan();
    const done = simulate(p, () => 0.5).map((r) => ({ ...r, values: configText(p, configOf(p, r.config)) }));
    expect(replayMismatch(p, done)).toBeUndefined();
    expect(replayMismatch(plan({ seed: 2 }), done)).toMatch(/trial 1 there tried .*; this file draws/);
    expect(replayMismatch(plan({ algorithm: "halving" }), done)).toMatch(/rung/);
    expect(replayMismatch(plan({ trials: 4 }), done)).toMatch(/stops after 4/);
  });
});

describe("the trial log", () => {
  const header = { nnc_search: 1, fingerprint: "abc", file: "x.nn" };
  const rec = (trial: number): TrialRecord => ({ trial, config: trial - 1, rung: 0, epochs: undefined, values: ["4"], status: "ok", score: 0.5, curve: [0.4, 0.5], seconds: 1 });

  it("reads back what it wrote", () => {
    const text = logText(header, [rec(1), rec(2)]);
    expect(text.endsWith("\n")).toBe(true);
    const r = parseLog(text, "t.jsonl", "abc");
    expect(r.diagnostics).toEqual([]);
    expect(r.value).toEqual([rec(1), rec(2)]);
  });

  it("drops a torn last line with a warning (that trial runs again)", () => {
    const text = logText(header, [rec(1), rec(2)]);
    const torn = text.slice(0, text.length - 9);
    const r = parseLog(torn, "t.jsonl", "abc");
    expect(r.value).toEqual([rec(1)]);
    expect(r.diagnostics.map((d) => d.code)).toEqual(["NN5030"]);
  });

  it("refuses another search's log, and a damaged line", () => {
    expect(parseLog(logText(header, [rec(1)]), "t.jsonl", "other").diagnostics.map((d) => d.code)).toEqual(["NN5031"]);
    const damaged = parseLog(logText(header, [rec(1)]).replace('"trial":1', '"trial":'), "t.jsonl", "abc");
    expect(damaged.value).toBeUndefined();
    expect(damaged.diagnostics[0]?.code).toBe("NN5032");
    expect(damaged.diagnostics[0]?.message).toContain("line 2");
  });
});
