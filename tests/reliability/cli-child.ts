/**
 * The real CLI (`dist/nnc.mjs`) as a child process, asynchronously, so a test can run a few at
 * once or kill one mid-run; and the oracle for a refused command: a non-zero exit with exactly
 * one error, whose code is in the table, and no stack trace.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { expect } from "vitest";
import { CLI, ensureBuilt } from "../cli/run-cli.js";
import { KNOWN_CODES } from "../fuzz/frontend-oracle.js";

export interface ChildResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ChildOptions {
  readonly cwd?: string;
  readonly env?: Record<string, string>;
  /** Written to the child's standard input, then closed; without it stdin is closed at once. */
  readonly stdin?: string;
}

export function start(args: readonly string[], opts: ChildOptions = {}): { child: ChildProcess; done: Promise<ChildResult> } {
  ensureBuilt();
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: opts.cwd,
    env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0", ...opts.env },
    stdio: [opts.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
  });
  if (opts.stdin !== undefined) child.stdin?.end(opts.stdin);
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (s: string) => (stdout += s));
  child.stderr?.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  const done = new Promise<ChildResult>((resolve) => child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

export function run(args: readonly string[], opts: ChildOptions = {}): Promise<ChildResult> {
  return start(args, opts).done;
}

/** Runs jobs with at most `limit` children at once. */
export async function pool<T>(jobs: readonly (() => Promise<T>)[], limit = 3): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await (jobs[i] as () => Promise<T>)();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return out;
}

/** The codes of the `error NNxxxx` lines in rendered CLI output. */
export function errorCodes(text: string): string[] {
  return [...text.matchAll(/error (NN\d{4})/g)].map((m) => m[1] as string);
}

/** A refusal as a user should see it: exit 1, one error with a known code, no stack trace. */
export function expectOneClearError(r: ChildResult, code: string | RegExp, what: string): void {
  const all = r.stdout + r.stderr;
  const codes = errorCodes(all);
  expect(r.signal, what).toBeNull();
  expect(r.code, `${what}: exit code\n${all}`).not.toBe(0);
  expect(codes, `${what}: expected exactly one error\n${all}`).toHaveLength(1);
  expect(KNOWN_CODES.has(codes[0] as string), `${what}: code in the table`).toBe(true);
  if (typeof code === "string") expect(codes[0], `${what}\n${all}`).toBe(code);
  else expect(codes[0], `${what}\n${all}`).toMatch(code);
  expect(all, `${what}: no stack trace`).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  expect(all, `${what}: no raw exception`).not.toMatch(/(TypeError|RangeError|ReferenceError|SyntaxError):/);
}
