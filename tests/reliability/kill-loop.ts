/**
 * Crash safety, as a loop both the suite (a few kills) and the campaign (many) run: start a
 * real `nnc train` child, SIGKILL it at a random moment (often inside a checkpoint write,
 * which the child is asked to stretch), then check that whatever checkpoint is on disk loads,
 * and that `--resume` ends with exactly the weights of an uninterrupted run.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { decodeCheckpoint } from "../../runtime/checkpoint.js";
import { run, start } from "./cli-child.js";

/** A small model that checkpoints every epoch. */
export const KILL_MODEL = `model K {
  seed 11
  input 2
  dense 12, tanh
  dropout 0.1
  dense 2, softmax
}
loss cross_entropy
optimizer adam(lr: 0.02)
metrics accuracy
data {
  train spiral(size: 300, noise: 0.05, seed: 4)
  test 20%
  validation 10%
  shuffle seed 5
}
train {
  epochs 12
  batch 16
  checkpoint every 1
}
`;

export interface KillOutcome {
  readonly delayMs: number;
  /** The child had finished before the kill landed. */
  readonly finished: boolean;
  /** Epoch of the checkpoint on disk after the kill (0: none yet). */
  readonly checkpointEpoch: number;
  /** Temporary files found after the kill (a write was cut). */
  readonly temps: number;
  /** What went wrong; empty when all held. */
  readonly problems: readonly string[];
}

export interface Reference {
  readonly nn: string;
  readonly params: readonly number[];
  readonly durationMs: number;
}

/** Trains once without interruption; the weights every interrupted run must end with. */
export async function reference(dir: string): Promise<Reference> {
  mkdirSync(dir, { recursive: true });
  const nn = join(dir, "k.nn");
  writeFileSync(nn, KILL_MODEL);
  const t = performance.now();
  const r = await run(["train", nn, "--out", join(dir, "full"), "--quiet"]);
  const durationMs = performance.now() - t;
  if (r.code !== 0) throw new Error(`reference run failed:\n${r.stderr}`);
  const w = JSON.parse(readFileSync(join(dir, "full", "weights.json"), "utf8")) as { params: number[] };
  return { nn, params: w.params, durationMs };
}

/** When to kill: inside the n-th checkpoint write, or after the n-th write has landed (0: during start-up). */
export interface KillMoment {
  readonly write: number;
  readonly inside: boolean;
  /** Extra wait after the moment is seen. */
  readonly jitterMs: number;
}

export function randomMoment(rand: () => number, epochs = 12, writeDelayMs = 40): KillMoment {
  // Inside writes 1..epochs, or after writes 0..epochs-1 (after the last one the run ends at once).
  const inside = rand() < 0.6;
  const write = inside ? 1 + Math.floor(rand() * epochs) : Math.floor(rand() * epochs);
  return { write, inside, jitterMs: Math.round(rand() * (inside ? writeDelayMs / 2 : 30)) };
}

/**
 * One kill at `moment`, watching the output folder to find it (so a slow or fast machine
 * gets the same kinds of moments); `writeDelayMs` stretches each checkpoint write (the child
 * sleeps half-way through it). Then checks the checkpoint, resumes, and compares.
 */
export async function killOnce(ref: Reference, out: string, moment: KillMoment, writeDelayMs: number): Promise<KillOutcome> {
  const problems: string[] = [];
  const delayMs = moment.jitterMs;
  const where = moment.write === 0 ? "start-up" : `${moment.inside ? "inside" : "after"} checkpoint write ${moment.write} + ${moment.jitterMs} ms`;
  const { child, done } = start(["train", ref.nn, "--out", out, "--quiet"], { env: { NNC_CHECKPOINT_WRITE_DELAY_MS: String(writeDelayMs) } });
  let exited = false;
  void done.then(() => (exited = true));
  let writesSeen = 0;
  let inWrite = false;
  const deadline = Date.now() + 120_000;
  while (!exited && Date.now() < deadline) {
    const files = existsSync(out) ? readdirSync(out) : [];
    const temp = files.some((f) => f.startsWith(".checkpoint.nnck.tmp-"));
    if (temp && !inWrite) writesSeen++;
    inWrite = temp;
    const landed = files.includes("checkpoint.nnck") && !temp;
    const hit = moment.write === 0 || (moment.inside ? temp && writesSeen >= moment.write : landed && writesSeen >= moment.write);
    if (hit) {
      await new Promise((res) => setTimeout(res, moment.jitterMs));
      child.kill("SIGKILL");
      break;
    }
    await new Promise((res) => setTimeout(res, 3));
  }
  const r = await done;
  const finished = r.signal === null;
  if (finished && r.code !== 0) problems.push(`the run failed by itself: ${r.stderr}`);
  const files = existsSync(out) ? readdirSync(out) : [];
  const temps = files.filter((f) => f.includes(".tmp-")).length;
  let checkpointEpoch = 0;
  if (files.includes("checkpoint.nnck")) {
    const c = decodeCheckpoint(readFileSync(join(out, "checkpoint.nnck")));
    if (typeof c === "string") problems.push(`the checkpoint does not load after a kill at ${where}: ${c}`);
    else checkpointEpoch = c.state.epoch;
  }
  if (files.includes("weights.json")) {
    try {
      JSON.parse(readFileSync(join(out, "weights.json"), "utf8"));
    } catch (e) {
      problems.push(`weights.json does not parse after a kill at ${where}: ${String(e)}`);
    }
  }
  // Resume (or start over when no checkpoint was written yet) and finish.
  const resumed = await run(["train", ref.nn, "--out", out, "--quiet", ...(checkpointEpoch > 0 ? ["--resume"] : [])]);
  if (resumed.code !== 0) problems.push(`the resumed run failed after a kill at ${where}:\n${resumed.stderr}`);
  else {
    const w = JSON.parse(readFileSync(join(out, "weights.json"), "utf8")) as { params: number[] };
    const same = w.params.length === ref.params.length && w.params.every((p, i) => Object.is(p, ref.params[i]));
    if (!same) problems.push(`killed at ${where} (checkpoint epoch ${checkpointEpoch}), resumed: the final weights differ from an uninterrupted run`);
    const left = readdirSync(out).filter((f) => f.includes(".tmp-"));
    if (left.length > 0) problems.push(`temporary files left after the resumed run: ${left.join(", ")}`);
  }
  return { delayMs, finished, checkpointEpoch, temps, problems };
}
