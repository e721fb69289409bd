/**
 * Crash safety and determinism, with real child processes:
 * - the same seed gives bit-identical weights across runs (and another seed does not);
 * - SIGKILL at random moments (10 here; the campaign does many more, see kill-loop.ts) always
 *   leaves a loadable checkpoint or none, and `--resume` ends bit-identical to an
 *   uninterrupted run. (The runtime's own test kills once, deterministically, inside the second
 *   checkpoint write; this one spreads kills over the whole run.)
 * - an absurd learning rate stops with the divergence guard's message: no weights file, and
 *   the checkpoint on disk holds finite numbers only.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeCheckpoint } from "../../runtime/checkpoint.js";
import { expectOneClearError, pool, run } from "./cli-child.js";
import { killOnce, randomMoment, reference, type Reference } from "./kill-loop.js";
import { streamFrom } from "../../runtime/rng.js";

const DIR = mkdtempSync(join(tmpdir(), "nnc-crash-"));
let ref: Reference | undefined;
async function getRef(): Promise<Reference> {
  ref ??= await reference(join(DIR, "ref"));
  return ref;
}

const params = (dir: string): number[] => (JSON.parse(readFileSync(join(dir, "weights.json"), "utf8")) as { params: number[] }).params;

describe("determinism", () => {
  it("the same seed gives bit-identical weights; another seed does not", async () => {
    const r = await getRef();
    const [a, b] = await pool([
      () => run(["train", r.nn, "--out", join(DIR, "again"), "--quiet"]),
      () => run(["train", r.nn, "--out", join(DIR, "seed2"), "--quiet", "--seed", "2"]),
    ]);
    expect(a!.code, a!.stderr).toBe(0);
    expect(b!.code, b!.stderr).toBe(0);
    const again = params(join(DIR, "again"));
    expect(again.length).toBe(r.params.length);
    expect(again.every((p, i) => Object.is(p, r.params[i]))).toBe(true);
    expect(params(join(DIR, "seed2"))).not.toEqual(r.params);
  }, 90_000);
});

describe("crash safety", () => {
  it("10 SIGKILLs at random moments: the checkpoint always loads, and resuming ends bit-identical", async () => {
    const r = await getRef();
    const rand = streamFrom(2026);
    // Kills land during start-up, inside checkpoint writes, and between them.
    const moments = Array.from({ length: 10 }, () => randomMoment(rand));
    const outcomes = await pool(moments.map((m, i) => () => killOnce(r, join(DIR, `kill${i}`), m, 40)), 2);
    const problems = outcomes.flatMap((o) => o.problems);
    expect(problems).toEqual([]);
    // The kills were spread out: some left a checkpoint behind, not every run had finished.
    expect(outcomes.some((o) => o.checkpointEpoch > 0), JSON.stringify(outcomes)).toBe(true);
    expect(outcomes.some((o) => o.temps > 0), JSON.stringify(outcomes)).toBe(true);
    // A loaded machine may miss a moment and let a run finish (a whole epoch takes milliseconds
    // with the wasm kernels); at least half must be real kills.
    expect(outcomes.filter((o) => !o.finished).length, JSON.stringify(outcomes)).toBeGreaterThanOrEqual(5);
  }, 240_000);
});

describe("numerical safety", () => {
  // fuzz-crashes.md #6: the update that overflows the float32 weights has a finite loss; the
  // trainer now checks the weights at the end of every epoch, before a checkpoint is written.
  it("an absurd learning rate stops with NN5001, writes no weights, and keeps only finite checkpoints", async () => {
    const nn = join(DIR, "diverge.nn");
    writeFileSync(
      nn,
      `model D {\n  seed 1\n  input 1\n  dense 16\n  dense 1\n}\nloss mse\noptimizer sgd(lr: 10)\ndata {\n  train sine(size: 64, noise: 0.05, seed: 2)\n}\ntrain {\n  epochs 30\n  batch 64\n  checkpoint every 1\n}\n`,
    );
    const out = join(DIR, "diverged");
    const r = await run(["train", nn, "--out", out]);
    expectOneClearError(r, "NN5001", "absurd learning rate");
    expect(r.stderr).toMatch(/training diverged: the loss became (NaN|Infinity)/);
    expect(existsSync(join(out, "weights.json"))).toBe(false);
    if (existsSync(join(out, "checkpoint.nnck"))) {
      const c = decodeCheckpoint(readFileSync(join(out, "checkpoint.nnck")));
      if (typeof c === "string") throw new Error(c);
      expect(c.state.model.params.every(Number.isFinite)).toBe(true);
      expect(c.state.model.optimizer.every(Number.isFinite)).toBe(true);
    }
  }, 60_000);
});
