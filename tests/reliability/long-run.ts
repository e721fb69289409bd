/**
 * What the interrupt and output-folder tests share: a run long enough to be caught in the
 * middle (a few seconds, ~1 s per epoch of 9,000 batches), its uninterrupted weights, and a
 * pseudo-terminal to press Ctrl-C in (`pty-run.py`, through Python's `pty` module).
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CLI, ensureBuilt } from "../cli/run-cli.js";
import { run } from "./cli-child.js";

/** Three epochs of 9,000 batches; dropout, so the RNG state must survive an interruption too. */
export const LONG_MODEL = `model Long {
  seed 3
  input 2
  dense 256, tanh
  dropout 0.1
  dense 256, tanh
  dense 3, softmax
}
loss cross_entropy
optimizer adam(lr: 0.01)
metrics accuracy
data {
  train spiral(size: 40000, noise: 0.05, classes: 3, seed: 4)
  validation 10%
  shuffle seed 5
}
train {
  epochs 3
  batch 4
}
`;

export interface LongReference {
  readonly nn: string;
  readonly params: readonly number[];
}

/** Writes the model to `dir` and trains it once, uninterrupted. */
export async function longReference(dir: string, source = LONG_MODEL): Promise<LongReference> {
  mkdirSync(dir, { recursive: true });
  const nn = join(dir, "long.nn");
  writeFileSync(nn, source);
  const r = await run(["train", nn, "--out", join(dir, "reference"), "--quiet"]);
  if (r.code !== 0) throw new Error(`reference run failed:\n${r.stderr}`);
  return { nn, params: paramsOf(join(dir, "reference")) };
}

export function paramsOf(out: string): number[] {
  return (JSON.parse(readFileSync(join(out, "weights.json"), "utf8")) as { params: number[] }).params;
}

/** Bit for bit (`Object.is` on every number). */
export function sameParams(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => Object.is(x, b[i]));
}

export interface Press {
  /** A regular expression on the terminal output since the previous press. */
  readonly after: string;
  readonly delay?: number;
  readonly key?: string;
}

export interface PtyResult {
  readonly exit: number | null;
  readonly signal: number | null;
  /** Everything the program wrote to the terminal (Latin-1). */
  readonly output: string;
  /** Seconds since the start at which each key was pressed, and at which the program ended. */
  readonly pressed: readonly number[];
  readonly ended: number;
}

/** Why pseudo-terminal tests cannot run here, or undefined when they can. */
export function ptyUnavailable(): string | undefined {
  if (process.platform === "win32") return "no pseudo-terminals on Windows";
  const py = spawnSync("python3", ["-c", "import pty, termios, fcntl"], { encoding: "utf8" });
  if (py.error || py.status !== 0) return `python3 with the pty module is needed (${py.error?.message ?? py.stderr.trim()})`;
  return undefined;
}

/** `nnc ARGS` in a pseudo-terminal, pressing keys (Ctrl-C by default) as `presses` say. */
export function inPty(args: readonly string[], presses: readonly Press[], env: Record<string, string> = {}, timeout = 120): Promise<PtyResult> {
  ensureBuilt();
  const spec = JSON.stringify({ presses, timeout, cols: 120 });
  const child = spawn("python3", [join(import.meta.dirname, "pty-run.py"), spec, "--", process.execPath, CLI, ...args], {
    env: { ...process.env, FORCE_COLOR: "0", NO_COLOR: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (s: string) => (out += s));
  child.stderr.setEncoding("utf8").on("data", (s: string) => (err += s));
  return new Promise((resolve, reject) =>
    child.on("close", (code) => {
      try {
        resolve(JSON.parse(out) as PtyResult);
      } catch {
        reject(new Error(`pty-run.py failed (${code}): ${err}\n${out}`));
      }
    }),
  );
}

/** The index of the last occurrence of `s` in `text` (-1 when absent). */
export function lastIndex(text: string, s: string): number {
  return text.lastIndexOf(s);
}
