/**
 * Ctrl-C and SIGTERM during `nnc train` (issue 22, item 3), with the real CLI:
 * - in a pseudo-terminal, Ctrl-C in the middle of an epoch: the batch finishes, a checkpoint
 *   of that point in the epoch is written, the cursor and line wrapping the progress bar had
 *   turned off are turned back on, the command to resume is printed, the exit code is 130, and
 *   `--resume` ends bit-identical to an uninterrupted run;
 * - a second Ctrl-C while that checkpoint is being written ends the process at once (the
 *   terminal already restored); the next run cleans up after it;
 * - SIGTERM without a terminal (--json): exit 143, an "interrupted" event, the same resume;
 * - a signal during an epoch's checkpoint write stops after it, at the epoch boundary.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { decodeCheckpoint, type Checkpoint } from "../../runtime/checkpoint.js";
import { run, start } from "./cli-child.js";
import { inPty, lastIndex, LONG_MODEL, longReference, paramsOf, ptyUnavailable, sameParams, type LongReference } from "./long-run.js";

const DIR = mkdtempSync(join(tmpdir(), "nnc-interrupt-"));
let ref: LongReference;
beforeAll(async () => {
  ref = await longReference(DIR);
}, 120_000);

const NO_PTY = ptyUnavailable();
if (NO_PTY) console.warn(`interrupt.test.ts: skipping the pseudo-terminal tests: ${NO_PTY}`);

/** Once the bar of epoch 2 shows a hundred batches or more. */
const MID_EPOCH_2 = "epoch 2/3 \\[[^\\]]*\\] [1-9][0-9]{2,}/9000";

function checkpointIn(out: string): Checkpoint {
  const c = decodeCheckpoint(readFileSync(join(out, "checkpoint.nnck")));
  if (typeof c === "string") throw new Error(c);
  return c;
}

const leftovers = (out: string): string[] => readdirSync(out).filter((f) => f.includes(".tmp-") || f.startsWith(".nnc-lock"));

async function resumeMatches(out: string, expectFrom: RegExp): Promise<void> {
  const r = await run(["train", ref.nn, "--out", out, "--resume"]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout + r.stderr).toMatch(expectFrom);
  expect(sameParams(paramsOf(out), ref.params), "resumed weights equal the uninterrupted run's").toBe(true);
  expect(leftovers(out)).toEqual([]);
}

describe("Ctrl-C in a terminal", () => {
  it.skipIf(NO_PTY !== undefined)(
    "finishes the batch, saves the epoch so far, restores cursor and line wrap, says how to resume, exits 130; resuming is bit-identical",
    async () => {
      const out = join(DIR, "ctrl-c");
      const r = await inPty(["train", ref.nn, "--out", out], [{ after: MID_EPOCH_2 }]);
      const o = r.output;
      expect(r.exit, o).toBe(130);
      // The bar hid the cursor and turned wrapping off; both are back on after the last time.
      expect(o).toContain("\x1b[?25l");
      expect(o).toContain("\x1b[?7l");
      expect(lastIndex(o, "\x1b[?25h")).toBeGreaterThan(lastIndex(o, "\x1b[?25l"));
      expect(lastIndex(o, "\x1b[?7h")).toBeGreaterThan(lastIndex(o, "\x1b[?7l"));
      expect(o).toMatch(/Ctrl-C: stopping after this batch to save a checkpoint/);
      const m = /warning NN5011: interrupted by SIGINT in epoch 2, after batch (\d+) of 9000; the run so far is saved in (\S+)/.exec(o);
      expect(m, o).not.toBeNull();
      expect(m![2]).toBe(join(out, "checkpoint.nnck"));
      expect(o).toContain(`hint: resume with: nnc train ${ref.nn} --out ${out} --resume`);
      expect(o).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
      // The checkpoint holds the point inside epoch 2, and nothing else is left behind.
      const c = checkpointIn(out);
      expect(c.state.epoch).toBe(1);
      expect(c.state.position?.batch).toBe(Number(m![1]));
      expect(c.state.position?.batches).toBe(9000);
      expect(leftovers(out)).toEqual([]);
      expect(existsSync(join(out, "weights.json"))).toBe(false);
      await resumeMatches(out, new RegExp(`resuming from \\S+ in epoch 2, after batch ${m![1]} of 9000`));
    },
    180_000,
  );

  it.skipIf(NO_PTY !== undefined)(
    "a second Ctrl-C during the checkpoint write ends the process at once, the terminal already restored; the next run cleans up",
    async () => {
      const out = join(DIR, "ctrl-c-twice");
      // Every write sleeps 4 s half-way: the second Ctrl-C lands inside the checkpoint write.
      const r = await inPty(
        ["train", ref.nn, "--out", out],
        [{ after: MID_EPOCH_2 }, { after: "stopping after this batch", delay: 0.3 }],
        { NNC_CHECKPOINT_WRITE_DELAY_MS: "4000" },
      );
      const o = r.output;
      expect(r.pressed).toHaveLength(2);
      // Ended by the signal's default action (a shell shows 130), well before the write's 4 s were over.
      expect(r.signal === 2 || r.exit === 130, JSON.stringify({ exit: r.exit, signal: r.signal })).toBe(true);
      expect(r.ended - r.pressed[1]!, "seconds from the second Ctrl-C to the end").toBeLessThan(2);
      expect(lastIndex(o, "\x1b[?25h")).toBeGreaterThan(lastIndex(o, "\x1b[?25l"));
      expect(lastIndex(o, "\x1b[?7h")).toBeGreaterThan(lastIndex(o, "\x1b[?7l"));
      // The cut write left its temporary, never a torn checkpoint; the lock is stale.
      expect(existsSync(join(out, "checkpoint.nnck"))).toBe(false);
      expect(readdirSync(out).some((f) => f.startsWith(".checkpoint.nnck.tmp-"))).toBe(true);
      // The next run takes the stale lock over (a warning), removes the temporary, starts over.
      const again = await run(["train", ref.nn, "--out", out, "--resume"]);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stderr).toMatch(/warning NN5008: took over the lock of .*: the run that held it \(pid \d+, started .*\) is no longer running/);
      expect(again.stderr).toMatch(/warning NN5006: no checkpoint to resume/);
      expect(sameParams(paramsOf(out), ref.params)).toBe(true);
      expect(leftovers(out)).toEqual([]);
    },
    180_000,
  );
});

describe("SIGTERM and signals between epochs, without a terminal", () => {
  it.each([
    ["SIGTERM", 143],
    ["SIGHUP", 129], // the terminal closed: the same as SIGTERM, with the shell's code for it
  ] as const)("%s with --json: exit %i, an interrupted event with the resume command, and a bit-identical resume", async (sig, code) => {
    const out = join(DIR, sig.toLowerCase());
    const { child, done } = start(["train", ref.nn, "--out", out, "--json"]);
    let stdout = "";
    let sent = false;
    child.stdout?.on("data", (s: string) => {
      stdout += s;
      if (!sent && stdout.includes('"event":"epoch","epoch":1,')) sent = child.kill(sig); // once: a second would end it at once
    });
    const r = await done;
    expect(r.code, r.stderr).toBe(code);
    expect(r.signal).toBeNull();
    const events = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    const last = events.at(-1)!;
    expect(last.event).toBe("interrupted");
    expect(last.signal).toBe(sig);
    expect(last.checkpoint).toBe(join(out, "checkpoint.nnck"));
    expect(last.resume).toBe(`nnc train ${ref.nn} --out ${out} --resume`);
    // In JSON mode the diagnostic is a JSON line on stderr too.
    expect(r.stderr).toMatch(/"code":"NN5011"/);
    const c = checkpointIn(out);
    expect(c.state.epoch + (c.state.position ? 1 : 0)).toBeGreaterThanOrEqual(1);
    await resumeMatches(out, /resuming from/);
  }, 180_000);

  it("SIGINT during an epoch's checkpoint write: the write completes, the run stops at that epoch, and resumes bit-identical", async () => {
    const every = join(DIR, "every.nn");
    writeFileSync(every, LONG_MODEL.replace("batch 4\n", "batch 4\n  checkpoint every 1\n"));
    const out = join(DIR, "between");
    const { child, done } = start(["train", every, "--out", out, "--quiet"], { env: { NNC_CHECKPOINT_WRITE_DELAY_MS: "1500" } });
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline && child.exitCode === null) {
      if (existsSync(out) && readdirSync(out).some((f) => f.startsWith(".checkpoint.nnck.tmp-"))) {
        child.kill("SIGINT");
        break;
      }
      await new Promise((res) => setTimeout(res, 20));
    }
    const r = await done;
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/warning NN5011: interrupted by SIGINT after epoch 1; the run so far is saved in/);
    const c = checkpointIn(out);
    expect(c.state.epoch).toBe(1);
    expect(c.state.position).toBeUndefined();
    const resumed = await run(["train", every, "--out", out, "--resume", "--quiet"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(sameParams(paramsOf(out), ref.params)).toBe(true);
    expect(leftovers(out)).toEqual([]);
  }, 180_000);
});
