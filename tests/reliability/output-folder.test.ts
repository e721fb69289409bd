/**
 * One run per output folder, the right run resumed, and an unwritable folder found first
 * (issue 22, items 4 and 10), with the real CLI as child processes:
 * - a second run into a busy `--out` is refused at once (NN5007, naming the first's pid), and
 *   the first ends exactly as a lone run; of three started at once, exactly one trains;
 * - a lock left by a dead run is taken over with one warning (NN5008), by exactly one of three;
 * - `--resume` refuses a checkpoint of another seed, of other data, or stopped inside an epoch
 *   of another batch size (NN5009), and leaves it byte for byte;
 * - an output folder that cannot be written is reported before the data is even read.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { hostname } from "node:os";
import { beforeAll, describe, expect, it } from "vitest";
import { decodeCheckpoint } from "../../runtime/checkpoint.js";
import { expectOneClearError, run, start, type ChildResult } from "./cli-child.js";
import { LONG_MODEL, longReference, paramsOf, sameParams, type LongReference } from "./long-run.js";

const DIR = mkdtempSync(join(tmpdir(), "nnc-out-folder-"));
let ref: LongReference;
beforeAll(async () => {
  ref = await longReference(DIR);
}, 120_000);

const LOCK = ".nnc-lock";

async function until(test: () => boolean, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}

const lockPid = (out: string): number | undefined => {
  try {
    return (JSON.parse(readFileSync(join(out, LOCK), "utf8")) as { pid: number }).pid;
  } catch {
    return undefined;
  }
};

describe("one run per output folder", () => {
  it("a second run into a busy --out is refused at once, naming the first; the first ends as a lone run would", async () => {
    const out = join(DIR, "busy");
    const a = start(["train", ref.nn, "--out", out, "--quiet"]);
    await until(() => lockPid(out) === a.child.pid);
    for (const extra of [[], ["--resume"]]) {
      const t = performance.now();
      const b = await run(["train", ref.nn, "--out", out, ...extra]);
      expectOneClearError(b, "NN5007", `second run ${extra.join(" ")}`);
      expect(b.stderr).toMatch(new RegExp(`the output folder \\S+busy is in use: another \`nnc train\` is writing to it \\(pid ${a.child.pid}, started `));
      expect(b.stderr).toMatch(/hint: wait for that run to end, or choose another --out/);
      expect(b.stdout).not.toMatch(/epoch/);
      expect(performance.now() - t, "refused before loading data or training").toBeLessThan(15_000);
    }
    const r = await a.done;
    expect(r.code, r.stderr).toBe(0);
    expect(sameParams(paramsOf(out), ref.params)).toBe(true);
    expect(readdirSync(out).filter((f) => f.startsWith(".")), "no lock or temporary left").toEqual([]);
  }, 180_000);

  it("three runs started at once into one fresh --out: exactly one trains, the others are refused", async () => {
    const out = join(DIR, "race");
    const runs = await Promise.all([0, 1, 2].map(() => start(["train", ref.nn, "--out", out, "--quiet"]).done));
    expectWinner(runs, out);
  }, 180_000);

  it("a lock of a dead run is taken over with one warning; of three runs that find it at once, exactly one takes it", async () => {
    const out = join(DIR, "stale");
    mkdirSync(out, { recursive: true });
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid!;
    writeFileSync(join(out, LOCK), JSON.stringify({ pid: dead, host: hostname(), started: "2026-01-01T00:00:00.000Z", token: "dead-run" }) + "\n");
    const runs = await Promise.all([0, 1, 2].map(() => start(["train", ref.nn, "--out", out, "--quiet"]).done));
    const winner = expectWinner(runs, out);
    expect(winner.stderr).toMatch(new RegExp(`warning NN5008: took over the lock of \\S+stale: the run that held it \\(pid ${dead}, started 2026-01-01T00:00:00.000Z\\) is no longer running`));
    expect(runs.map((r) => r.stderr).join("").match(/NN5008/g)).toHaveLength(1);
  }, 180_000);
});

function expectWinner(runs: readonly ChildResult[], out: string): ChildResult {
  const won = runs.filter((r) => r.code === 0);
  expect(won.length, runs.map((r) => r.stderr).join("\n---\n")).toBe(1);
  for (const r of runs) if (r.code !== 0) expectOneClearError(r, "NN5007", "a loser of the race");
  expect(sameParams(paramsOf(out), ref.params)).toBe(true);
  expect(existsSync(join(out, LOCK))).toBe(false);
  return won[0]!;
}

const csvModel = (extra = "") => `model M {
  seed 1
  input 2
  dense 4, relu
  dense 2, softmax
}
loss cross_entropy
optimizer sgd(lr: 0.1)
data {
  train csv("d.csv")
  shuffle seed 9
}
train {
  epochs 2
  batch 4
  ${extra}
}
`;
const CSV = "a,b,y\n" + Array.from({ length: 16 }, (_, i) => `${(i % 4) / 4},${(i % 3) / 3},${i % 2}`).join("\n") + "\n";

describe("--resume continues the same run or refuses", () => {
  it("another seed: refused with the seed to pass (or to leave out); the checkpoint is left byte for byte", async () => {
    const dir = join(DIR, "seed");
    mkdirSync(dir);
    writeFileSync(join(dir, "m.nn"), csvModel());
    writeFileSync(join(dir, "d.csv"), CSV);
    const m = join(dir, "m.nn");
    const out = join(dir, "out");
    expect((await run(["train", m, "--out", out, "--seed", "2"])).code).toBe(0);
    const before = readFileSync(join(out, "checkpoint.nnck"));
    const r = await run(["train", m, "--out", out, "--resume", "--epochs", "3"]);
    expectOneClearError(r, "NN5009", "resume without --seed 2");
    expect(r.stderr).toMatch(/belongs to another run: it was trained with seed 2, and this run has seed 1 \(shuffle seed 9\)/);
    expect(r.stderr).toMatch(/hint: pass --seed 2 to continue it/);
    expect(readFileSync(join(out, "checkpoint.nnck")).equals(before)).toBe(true);
    const ok = await run(["train", m, "--out", out, "--resume", "--epochs", "3", "--seed", "2"]);
    expect(ok.code, ok.stderr).toBe(0);
    // Trained with the file's seeds, resumed with --seed 5: the hint says to leave it out.
    const out2 = join(dir, "out2");
    expect((await run(["train", m, "--out", out2])).code).toBe(0);
    const r2 = await run(["train", m, "--out", out2, "--resume", "--seed", "5"]);
    expectOneClearError(r2, "NN5009", "resume with --seed 5");
    expect(r2.stderr).toMatch(/hint: leave out --seed to continue it/);
  }, 120_000);

  it("other data (one cell changed, a row added): refused, the checkpoint left as it was", async () => {
    const dir = join(DIR, "data");
    mkdirSync(dir);
    writeFileSync(join(dir, "m.nn"), csvModel());
    writeFileSync(join(dir, "d.csv"), CSV);
    const m = join(dir, "m.nn");
    const out = join(dir, "out");
    expect((await run(["train", m, "--out", out])).code).toBe(0);
    const before = readFileSync(join(out, "checkpoint.nnck"));
    writeFileSync(join(dir, "d.csv"), CSV.replace("0.5,", "0.75,"));
    const r = await run(["train", m, "--out", out, "--resume", "--epochs", "3"]);
    expectOneClearError(r, "NN5009", "one cell changed");
    expect(r.stderr).toMatch(/its data differ from this run's \(it was trained on the same number of samples, but other values\)/);
    writeFileSync(join(dir, "d.csv"), CSV + "0.5,0.5,1\n");
    const r2 = await run(["train", m, "--out", out, "--resume", "--epochs", "3"]);
    expectOneClearError(r2, "NN5009", "a row added");
    expect(r2.stderr).toMatch(/it was trained on 16 training samples, this run has 17 training samples/);
    expect(readFileSync(join(out, "checkpoint.nnck")).equals(before)).toBe(true);
    // The same data again: it resumes.
    writeFileSync(join(dir, "d.csv"), CSV);
    expect((await run(["train", m, "--out", out, "--resume", "--epochs", "3"])).code).toBe(0);
  }, 120_000);

  it("a checkpoint taken inside an epoch, resumed with another batch size or fewer epochs: refused", async () => {
    const out = join(DIR, "batch");
    const { child, done } = start(["train", ref.nn, "--out", out, "--json"]);
    let sent = false;
    let seen = "";
    child.stdout?.on("data", (s: string) => {
      seen += s;
      // 0.3 s into epoch 2 (of ~1 s): a checkpoint inside the epoch, not at its boundary
      if (!sent && seen.includes('"event":"epoch"')) sent = Boolean(setTimeout(() => child.kill("SIGTERM"), 300));
    });
    expect((await done).code).toBe(143);
    const saved = decodeCheckpoint(readFileSync(join(out, "checkpoint.nnck")));
    expect(typeof saved === "string" ? saved : saved.state.position?.batch).toBeGreaterThan(0);
    const nn8 = join(DIR, "long8.nn");
    writeFileSync(nn8, LONG_MODEL.replace("batch 4", "batch 8"));
    const r = await run(["train", nn8, "--out", out, "--resume"]);
    expectOneClearError(r, "NN5009", "another batch size");
    expect(r.stderr).toMatch(/it stopped after batch \d+ of 9000 in epoch 2, and this run has 4500 batches per epoch/);
    // Fewer epochs than the one it stopped in would end the run with half an epoch trained.
    const short = await run(["train", ref.nn, "--out", out, "--resume", "--epochs", "1"]);
    expectOneClearError(short, "NN5009", "--epochs below the interrupted epoch");
    expect(short.stderr).toMatch(/it stopped inside epoch 2, and this run ends after epoch 1/);
    expect(short.stderr).toMatch(/hint: resume with --epochs 2 or more/);
  }, 180_000);
});

describe("an unwritable --out is found before anything is read or trained", () => {
  // The data file does not exist: were it read first, the error would be NN4001.
  const setup = (name: string): { dir: string; nn: string } => {
    const dir = join(DIR, `unwritable-${name}`);
    mkdirSync(dir, { recursive: true });
    const nn = join(dir, "m.nn");
    writeFileSync(nn, csvModel().replace('csv("d.csv")', 'csv("missing.csv")'));
    return { dir, nn };
  };
  const cases: [string, (dir: string) => string, string, RegExp][] = [
    ["--out under a regular file", (d) => (writeFileSync(join(d, "f"), "x"), join(d, "f", "out")), "NN5005", /cannot write \S+: a part of the path is a file|cannot write \S+: a file has that name/],
    ["--out is a regular file", (d) => (writeFileSync(join(d, "f"), "x"), join(d, "f")), "NN5005", /a file has that name \(EEXIST\)/],
    ["weights.json is a folder", (d) => (mkdirSync(join(d, "o", "weights.json"), { recursive: true }), join(d, "o")), "NN5005", /weights\.json: a folder has that name/],
    ["report.html is a folder", (d) => (mkdirSync(join(d, "o", "report.html"), { recursive: true }), join(d, "o")), "NN5005", /report\.html: a folder has that name/],
    ["checkpoint.nnck is a folder", (d) => (mkdirSync(join(d, "o", "checkpoint.nnck"), { recursive: true }), join(d, "o")), "NN5005", /checkpoint\.nnck: a folder has that name/],
    ["the lock's name is a folder", (d) => (mkdirSync(join(d, "o", LOCK), { recursive: true }), join(d, "o")), "NN5007", /it is not a regular file/],
    ["the lock's name is a planted link", (d) => (mkdirSync(join(d, "o"), { recursive: true }), symlinkSync("/etc/passwd", join(d, "o", LOCK)), join(d, "o")), "NN5007", /it is a symbolic link/],
  ];
  it.each(cases)("%s", async (name, make, code, text) => {
    const { dir, nn } = setup(name.replace(/\W+/g, "-"));
    const out = make(dir);
    const r = await run(["train", nn, "--out", out]);
    expectOneClearError(r, code, name);
    expect(r.stderr).toMatch(text);
    expect(r.stdout).not.toMatch(/epoch/);
    expect(readFileSync("/etc/passwd", "utf8").length).toBeGreaterThan(0);
  }, 60_000);

  it("a folder the run created is removed again when the run ends before writing to it", async () => {
    const { dir, nn } = setup("created");
    const out = join(dir, "new-out");
    const r = await run(["train", nn, "--out", out]);
    expectOneClearError(r, "NN4001", "missing data, after the output check passed");
    expect(existsSync(out)).toBe(false);
  }, 60_000);
});
