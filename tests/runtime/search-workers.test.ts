/**
 * `nnc search --workers N` end to end: worker threads give the same log — the same
 * configurations, rungs, scores and curves — as one trial at a time (a random search in this
 * process, whose threads load the sources through tsx; successive halving through the built
 * CLI, whose threads run `dist/search-worker.mjs`), and a search with workers killed half-way,
 * or one of whose threads is lost, resumes to the same sequence as an uninterrupted one.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { nncInProcess } from "../cli/in-process.js";
import { CLI, ensureBuilt, nnc, ROOT } from "../cli/run-cli.js";

const tmp = mkdtempSync(join(tmpdir(), "nnc-search-workers-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function copy(example: string, name: string, edits: readonly [string, string][]): string {
  let text = readFileSync(join(ROOT, "examples", example), "utf8").replace(/csv\("(\.\.\/)?data\//, `csv("${join(ROOT, "examples/data")}/`);
  for (const [from, to] of edits) {
    if (!text.includes(from)) throw new Error(`${example}: ${from} not found`);
    text = text.replace(from, to);
  }
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
}

interface Logged {
  trial: number;
  config: number;
  rung: number;
  epochs?: number;
  values: string[];
  score: number | null;
  curve: number[];
  test?: Record<string, number>;
  seconds: number;
}

function log(dir: string): Logged[] {
  return readFileSync(join(dir, "trials.jsonl"), "utf8").trim().split("\n").slice(1).map((l) => JSON.parse(l) as Logged);
}

/** The log without its timings. */
function sequence(dir: string): Omit<Logged, "seconds">[] {
  return log(dir).map(({ seconds: _, ...rest }) => rest);
}

const IRIS: [string, string][] = [["trials    12", "trials    4"], ["epochs 100", "epochs 30"]];
const PENGUINS: [string, string][] = [["trials    9", "trials    4"], ["rungs     3", "rungs     2"], ["epochs 40", "epochs 6"]];

describe("nnc search --workers", () => {
  it("a random search with 2 workers logs the same trials, scores and winner as with 1 (in this process)", async () => {
    const file = copy("search/iris-search.nn", "iris.nn", IRIS);
    for (const w of ["1", "2"]) {
      const r = await nncInProcess("search", file, "--out", join(tmp, `iris-${w}`), "--quiet", "--kernels", "js", "--workers", w);
      expect(r.code, r.err).toBe(0);
    }
    expect(log(join(tmp, "iris-1"))).toHaveLength(4);
    expect(sequence(join(tmp, "iris-2"))).toEqual(sequence(join(tmp, "iris-1")));
    expect(readFileSync(join(tmp, "iris-2", "best.nn"), "utf8")).toBe(readFileSync(join(tmp, "iris-1", "best.nn"), "utf8"));
  }, 120_000);

  it("successive halving with 2 workers (the built CLI) logs the same as with 1", () => {
    const file = copy("search/penguins-search.nn", "penguins.nn", PENGUINS);
    const one = nnc(["search", file, "--out", join(tmp, "pen-1"), "--quiet", "--kernels", "js"]);
    expect(one.code, one.stderr).toBe(0);
    const two = nnc(["search", file, "--out", join(tmp, "pen-2"), "--quiet", "--kernels", "js", "--workers", "2"]);
    expect(two.code, two.stderr).toBe(0);
    // 4 configurations at 2 epochs, then the best at 6.
    expect(log(join(tmp, "pen-1")).map((r) => [r.rung, r.epochs])).toEqual([[0, 2], [0, 2], [0, 2], [0, 2], [1, 6]]);
    expect(sequence(join(tmp, "pen-2"))).toEqual(sequence(join(tmp, "pen-1")));
    expect(two.stdout).toBe(one.stdout.replaceAll("pen-1", "pen-2"));
  }, 120_000);

  it("refuses a --workers that is not a whole number from 1 to 64", () => {
    const r = nnc(["search", join(ROOT, "examples/search/iris-search.nn"), "--check", "--workers", "0"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--workers must be a whole number in 1..64");
  });

  it("killed mid-search with 2 workers, resumes to the same sequence of trials", async () => {
    ensureBuilt();
    const file = copy("search/iris-search.nn", "resume.nn", [["trials    12", "trials    6"], ["epochs 100", "epochs 40"]]);
    const whole = join(tmp, "resume-whole");
    expect(nnc(["search", file, "--out", whole, "--quiet", "--kernels", "js"]).code).toBe(0);
    const dir = join(tmp, "resume-a");
    const logPath = join(dir, "trials.jsonl");
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, [CLI, "search", file, "--out", dir, "--kernels", "js", "--workers", "2"], { cwd: ROOT, stdio: "ignore" });
      const timer = setInterval(() => {
        // Killed once two trials are logged (header + 2 lines).
        if (existsSync(logPath) && readFileSync(logPath, "utf8").split("\n").length >= 4) {
          clearInterval(timer);
          child.kill("SIGKILL");
        }
      }, 5);
      child.on("exit", () => {
        clearInterval(timer);
        resolve();
      });
      child.on("error", reject);
    });
    const kept = log(dir).length;
    expect(kept).toBeGreaterThanOrEqual(2);
    expect(kept).toBeLessThan(6);
    // The log is a prefix of the whole sequence: trials finished out of order were not logged ahead of a gap.
    expect(sequence(dir)).toEqual(sequence(whole).slice(0, kept));
    const r = nnc(["search", file, "--out", dir, "--resume", "--quiet", "--kernels", "js", "--workers", "2"]);
    expect(r.code, r.stderr).toBe(0);
    expect(sequence(dir)).toEqual(sequence(whole));
  }, 120_000);

  it("a thread lost mid-search stops it with NN5060, the trials before it logged; --resume goes on", () => {
    const file = join(tmp, "resume.nn");
    const dir = join(tmp, "lost");
    const r = nnc(["search", file, "--out", dir, "--quiet", "--kernels", "js", "--workers", "2"], { env: { NNC_TEST_SEARCH_WORKER_EXIT: "3" } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("NN5060");
    expect(r.stderr).toContain("(trial 3) exited with code 70");
    expect(r.stderr).toContain("--resume");
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(sequence(dir)).toEqual(sequence(join(tmp, "resume-whole")).slice(0, 2));
    expect(nnc(["search", file, "--out", dir, "--resume", "--quiet", "--kernels", "js", "--workers", "2"]).code).toBe(0);
    expect(sequence(dir)).toEqual(sequence(join(tmp, "resume-whole")));
  }, 120_000);
});
