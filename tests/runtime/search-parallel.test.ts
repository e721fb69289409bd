/**
 * Several trials at once (`nnc search --workers N`): `runSearchLoop` over `nextTrialAhead`
 * gives the very sequence of `nextTrial` one trial at a time — for every algorithm, with or
 * without a baseline, for any number of workers and any order in which results come back —
 * and still runs trials side by side where the algorithm allows it.
 */
import { describe, expect, it } from "vitest";
import { parse } from "../../grammar/index.js";
import { readSearch, type Dim } from "../../compiler/search/index.js";
import { nextTrial, nextTrialAhead, WAIT, type Plan, type TrialRecord, type TrialSpec } from "../../runtime/search.js";
import { runSearchLoop } from "../../runtime/search-loop.js";
import { Rng } from "../../runtime/rng.js";

function dimsOf(settings: string): Dim[] {
  const src = `model M {\n  input 2\n  ${settings}\n  dense 2, softmax\n}\nloss cross_entropy\n`;
  return [...readSearch(parse(src).value).value!.dims];
}

const DIMS = dimsOf("dense int(2, 9), choice(relu, tanh, elu)\n  dropout uniform(0, 0.5)");
const STARTED = dimsOf("dense int(2, 9, start: 4), relu");

function plan(over: Partial<Plan>): Plan {
  return { dims: DIMS, algorithm: "random", trials: 10, seed: 1, points: 3, eta: 3, rungs: 3, epochs: 27, direction: "maximize", ...over };
}

/** A trial's score: a pure function of its configuration and rung (as a trial's training is), some failing. */
function scoreOf(salt: number): (s: TrialSpec) => number | null {
  return (s) => {
    const u = new Rng(salt * 7919 + (s.config + 2) * 31 + s.rung).uniform(0, 1);
    return u < 0.1 ? null : Math.round(u * 20) / 20; // ties too
  };
}

function record(s: TrialSpec, score: number | null): TrialRecord {
  return { ...s, values: [], status: score === null ? "failed" : "ok", score, curve: [], seconds: 1 };
}

function sequential(p: Plan, score: (s: TrialSpec) => number | null): TrialRecord[] {
  const done: TrialRecord[] = [];
  for (let s = nextTrial(p, done); s !== undefined; s = nextTrial(p, done)) done.push(record(s, score(s)));
  return done;
}

/** The loop with `workers` at once, each trial taking a random number of ticks: results arrive in any order. */
async function parallel(p: Plan, score: (s: TrialSpec) => number | null, workers: number, seed: number): Promise<{ records: readonly TrialRecord[]; most: number; order: number[] }> {
  const rng = new Rng(seed);
  let now = 0;
  let most = 0;
  const order: number[] = [];
  const running = new Set<number>();
  const { records } = await runSearchLoop(p, [], {
    workers,
    run: async (s) => {
      running.add(s.trial);
      most = Math.max(most, running.size);
      const ticks = 1 + rng.int(6);
      for (let i = 0; i < ticks; i++) await Promise.resolve(now++);
      running.delete(s.trial);
      order.push(s.trial);
      return record(s, score(s));
    },
    onRecord: () => {},
  });
  return { records, most, order };
}

const PLANS: [string, Plan][] = [
  ["random", plan({})],
  ["grid", plan({ algorithm: "grid", trials: 50 })],
  ["halving", plan({ algorithm: "halving", trials: 9 })],
  ["halving, minimizing, eta 2", plan({ algorithm: "halving", trials: 8, eta: 2, rungs: 3, direction: "minimize" })],
  ["asha", plan({ algorithm: "asha", trials: 12 })],
  ["asha, 2 rungs, eta 2", plan({ algorithm: "asha", trials: 9, eta: 2, rungs: 2 })],
  ["asha with a baseline", plan({ algorithm: "asha", trials: 9, dims: STARTED })],
  ["random with a baseline", plan({ dims: STARTED, trials: 5 })],
];

describe("trials at once", () => {
  it.each(PLANS)("%s: the same sequence as one at a time, for 2 to 4 workers and any order of results", async (_, p) => {
    for (let salt = 0; salt < 6; salt++) {
      const score = scoreOf(salt);
      const want = sequential(p, score);
      for (const workers of [1, 2, 3, 4]) {
        const got = await parallel(p, score, workers, salt * 10 + workers);
        expect(got.records, `salt ${salt}, ${workers} workers`).toEqual(want);
        expect(got.most).toBeLessThanOrEqual(workers);
      }
    }
  });

  it("runs trials side by side where the algorithm allows, and results do come back out of order", async () => {
    const score = scoreOf(3);
    const random = await parallel(plan({}), score, 3, 5);
    expect(random.most).toBe(3);
    expect(random.order).not.toEqual([...random.order].sort((a, b) => a - b));
    // ASHA starts new configurations while others run; a promotion waits for its rung.
    expect((await parallel(plan({ algorithm: "asha", trials: 12 }), score, 2, 1)).most).toBe(2);
    expect((await parallel(plan({ algorithm: "halving", trials: 9 }), score, 4, 1)).most).toBe(4);
  });

  it("waits exactly when a running trial's result decides the next", () => {
    const p = plan({ algorithm: "asha", trials: 9 });
    const s = (trial: number, config: number, rung: number): TrialSpec => ({ trial, config, rung, epochs: [3, 9, 27][rung] });
    const done = (trial: number, config: number, score: number): TrialRecord => record(s(trial, config, 0), score);
    // Two at rung 0, one of them running: a third of 2 promotes nobody, so config 2 starts.
    expect(nextTrialAhead(p, [done(1, 0, 0.5), s(2, 1, 0)])).toEqual(s(3, 2, 0));
    // Three at rung 0, one running: its score may make it the one promoted.
    expect(nextTrialAhead(p, [done(1, 0, 0.5), done(2, 1, 0.7), s(3, 2, 0)])).toBe(WAIT);
    expect(nextTrialAhead(p, [done(1, 0, 0.5), done(2, 1, 0.7), done(3, 2, 0.1)])).toEqual(s(4, 1, 1));
    // Config 1 running at rung 1 counts as promoted: the next is a new configuration.
    expect(nextTrialAhead(p, [done(1, 0, 0.5), done(2, 1, 0.7), done(3, 2, 0.1), s(4, 1, 1)])).toEqual(s(5, 3, 0));
    // Halving: the second rung waits for the whole first.
    const h = plan({ algorithm: "halving", trials: 3, rungs: 2 });
    expect(nextTrialAhead(h, [done(1, 0, 0.5), done(2, 1, 0.7), s(3, 2, 0)])).toBe(WAIT);
  });

  it("a failed run stops the loop after the trials running finish, keeping those in order", async () => {
    const p = plan({});
    const seen: number[] = [];
    const err = await runSearchLoop(p, [], {
      workers: 2,
      run: async (s) => {
        await Promise.resolve();
        if (s.trial === 4) throw new Error("lost");
        return record(s, 0.5);
      },
      onRecord: (r) => seen.push(r.trial),
    }).catch((e: unknown) => e);
    expect(String(err)).toContain("lost");
    expect(seen).toEqual([1, 2, 3]);
  });
});
