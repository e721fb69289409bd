/**
 * `nnc search` end to end on real data, with small budgets: on the shipped tabular examples and
 * on wine (a data set no other example uses) the winner is at least as good, on the search's
 * own measure (the validation split it holds out), as the hand-written file measured the same
 * way (`nnc search` of the file without ranges: one trial); the same seed gives the same
 * trials and winner; `best.nn` trains to the same result; a search killed — between trials or
 * half-way through writing its log — continues the same sequence of trials.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { nncInProcess } from "../cli/in-process.js";
import { CLI, ensureBuilt, nnc, ROOT } from "../cli/run-cli.js";

const tmp = mkdtempSync(join(tmpdir(), "nnc-search-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A copy of an example in `tmp`, its data path made absolute and `edits` applied. */
function copy(example: string, name: string, edits: readonly [string | RegExp, string][] = []): string {
  let text = readFileSync(join(ROOT, "examples", example), "utf8").replace(/csv\("(\.\.\/)?data\//, `csv("${join(ROOT, "examples/data")}/`);
  for (const [from, to] of edits) {
    const next = text.replace(from, to);
    if (next === text) throw new Error(`${example}: ${String(from)} not found`);
    text = next;
  }
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
}

interface Logged {
  trial: number;
  config: number;
  rung: number;
  values: string[];
  score: number | null;
  test?: Record<string, number>;
  curve: number[];
}

function log(dir: string): Logged[] {
  return readFileSync(join(dir, "trials.jsonl"), "utf8").trim().split("\n").slice(1).map((l) => JSON.parse(l) as Logged);
}

/** The trials without their timings. */
function sequence(dir: string): unknown[] {
  return log(dir).map(({ trial, config, rung, values, score, curve }) => ({ trial, config, rung, values, score, curve }));
}

async function search(file: string, out: string, ...extra: string[]): Promise<Logged[]> {
  const r = await nncInProcess("search", file, "--out", out, "--quiet", "--kernels", "js", ...extra);
  expect(r.code, r.err).toBe(0);
  return log(out);
}

function best(records: Logged[], maximize: boolean): Logged {
  const top = Math.max(...records.map((r) => r.rung));
  const s = records.filter((r) => r.rung === top && r.score !== null).sort((a, b) => (maximize ? b.score! - a.score! : a.score! - b.score!) || a.trial - b.trial);
  return s[0]!;
}

const CASES = [
  { name: "iris", hand: "iris.nn", search: "search/iris-search.nn", edits: [["trials    12", "trials    4"]], maximize: true },
  { name: "penguins", hand: "penguins.nn", search: "search/penguins-search.nn", edits: [["trials    9", "trials    3"], ["rungs     3", "rungs     2"]], maximize: true },
  // Cars at 30 epochs for both files (the hand-written one too), by random search of 3 trials.
  { name: "cars", hand: "cars-resmlp.nn", search: "search/cars-resmlp-search.nn", edits: [["trials    12", "trials    3"], ["algorithm asha", "algorithm random"], ["epochs   120", "epochs   30"]], handEdits: [["epochs   120", "epochs   30"]], maximize: false },
  { name: "wine", hand: "search/wine.nn", search: "search/wine-search.nn", edits: [["points    3", "points    2"], ["trials    54", "trials    16"], ["int(1, 2)", "1"]], maximize: true },
] as const;

describe.each(CASES.filter((c) => process.env.SEARCH_CASE === undefined || c.name === process.env.SEARCH_CASE))("nnc search on $name", (c) => {
  it("finds a configuration at least as good as the hand-written one, and the same again with the same seed", async () => {
    const file = copy(c.search, `${c.name}-search.nn`, c.edits as unknown as [string, string][]);
    const hand = copy(c.hand, `${c.name}.nn`, ("handEdits" in c ? c.handEdits : []) as unknown as [string, string][]);
    const baseline = await search(hand, join(tmp, `${c.name}-base`));
    expect(baseline).toHaveLength(1);
    const first = await search(file, join(tmp, `${c.name}-a`));
    const winner = best(first, c.maximize);
    // A search whose ranges `start:` at the hand-written values begins with that very file.
    if (c.name === "cars") expect(first[0]!.score).toBe(baseline[0]!.score);
    if (c.maximize) expect(winner.score!).toBeGreaterThanOrEqual(baseline[0]!.score!);
    else expect(winner.score!).toBeLessThanOrEqual(baseline[0]!.score!);
    await search(file, join(tmp, `${c.name}-b`));
    expect(sequence(join(tmp, `${c.name}-b`))).toEqual(sequence(join(tmp, `${c.name}-a`)));
    expect(readFileSync(join(tmp, `${c.name}-b`, "best.nn"), "utf8")).toBe(readFileSync(join(tmp, `${c.name}-a`, "best.nn"), "utf8"));
  }, 300_000);
});

describe("the results of a search", () => {
  it("best.nn is a plain file that nnc train trains to the winner's test figures", async () => {
    const out = join(tmp, "iris-a");
    const winner = best(log(out), true);
    const bestNn = readFileSync(join(out, "best.nn"), "utf8");
    expect(bestNn).not.toMatch(/loguniform|choice\(|int\(|search \{/);
    expect(bestNn).toContain("validation 20%");
    const r = await nncInProcess("train", join(out, "best.nn"), "--out", join(tmp, "iris-best-train"), "--json", "--kernels", "js");
    expect(r.code, r.err).toBe(0);
    const done = r.out.trim().split("\n").map((l) => JSON.parse(l) as { event?: string; test?: Record<string, number> }).find((e) => e.event === "done");
    expect(done?.test?.accuracy).toBe(winner.test?.accuracy);
    expect(done?.test?.loss).toBe(winner.test?.loss);
  });

  it("writes a leaderboard and a self-contained report with a parallel-coordinates chart and a curve per trial", () => {
    const out = join(tmp, "iris-a");
    const board = readFileSync(join(out, "leaderboard.md"), "utf8");
    expect(board.split("\n").filter((l) => l.startsWith("| ")).length).toBe(1 + log(out).length);
    const html = readFileSync(join(out, "report.html"), "utf8");
    expect(html).toContain('aria-label="parallel coordinates of the trials"');
    expect(html.match(/accuracy per epoch"/g)?.length).toBe(log(out).length);
    expect(html).not.toMatch(/<script|src=|href=/);
  });

  it("escapes what comes from the file in the report", async () => {
    const file = copy("search/iris-search.nn", "evil.nn", [["trials    12", "trials    2"], ['label: species)', 'label: species)\n  inputs    "<b>x</b>": [sepal_length, sepal_width, petal_length, petal_width]']]);
    const r = await nncInProcess("search", file, "--out", join(tmp, "evil"), "--quiet", "--kernels", "js");
    // Whatever the checker makes of it, nothing unescaped reaches a page.
    if (r.code === 0) expect(readFileSync(join(tmp, "evil", "report.html"), "utf8")).not.toContain("<b>x</b>");
    else expect(r.err).toContain("error");
  });

  it("a second search into the same folder is refused unless it resumes (NN5036)", async () => {
    const r = await nncInProcess("search", copy("search/iris-search.nn", "again.nn", [["trials    12", "trials    4"]]), "--out", join(tmp, "iris-a"));
    expect(r.code).not.toBe(0);
    expect(r.err).toContain("NN5036");
    expect(r.err).toContain("--resume");
  });
});

/** Starts the built CLI and kills it with SIGKILL once `ready(dir)` holds. */
function killWhen(args: string[], ready: () => boolean, env: Record<string, string> = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: "ignore" });
    const timer = setInterval(() => {
      if (ready()) {
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
}

describe("resume after a kill", () => {
  const file = (): string => copy("search/iris-search.nn", "resume.nn", [["trials    12", "trials    6"], ["epochs 100", "epochs 40"]]);

  it("continues the same sequence of trials (killed between trials, and half-way through writing the log)", async () => {
    ensureBuilt();
    const f = file();
    const whole = join(tmp, "resume-whole");
    expect(nnc(["search", f, "--out", whole, "--quiet", "--kernels", "js"]).code).toBe(0);

    // Killed once two trials are in the log.
    const a = join(tmp, "resume-a");
    await killWhen(["search", f, "--out", a, "--kernels", "js"], () => existsSync(join(a, "trials.jsonl")) && readFileSync(join(a, "trials.jsonl"), "utf8").split("\n").length >= 4);
    const kept = log(a).length;
    expect(kept).toBeGreaterThanOrEqual(2);
    expect(kept).toBeLessThan(6);
    expect(nnc(["search", f, "--out", a, "--resume", "--quiet", "--kernels", "js"]).code).toBe(0);
    expect(sequence(a)).toEqual(sequence(whole));

    // Killed while the log's temporary is half written (every write sleeps half-way): the log
    // on disk is the one before that write, whole.
    const b = join(tmp, "resume-b");
    await killWhen(["search", f, "--out", b, "--kernels", "js"], () => existsSync(b) && readdirSync(b).some((n) => n.startsWith(".trials.jsonl.tmp-")) && existsSync(join(b, "trials.jsonl")), { NNC_CHECKPOINT_WRITE_DELAY_MS: "400" });
    const before = readFileSync(join(b, "trials.jsonl"), "utf8");
    expect(before.endsWith("\n")).toBe(true);
    expect(readdirSync(b).some((n) => n.startsWith(".trials.jsonl.tmp-"))).toBe(true);
    const r = nnc(["search", f, "--out", b, "--resume", "--quiet", "--kernels", "js"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain("NN5030");
    expect(sequence(b)).toEqual(sequence(whole));
    expect(readdirSync(b).some((n) => n.includes(".tmp-"))).toBe(false);
  }, 120_000);
});
