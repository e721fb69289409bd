/**
 * Runs the built CLI (`dist/nnc.mjs`, the bundle `npm run build` makes) as a child process, as a user would. `npm test`
 * builds first; a bare `vitest` run builds here when `dist/` is missing or older than the
 * sources.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

export const ROOT = join(import.meta.dirname, "../..");
export const CLI = join(ROOT, "dist/nnc.mjs");

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    const s = statSync(p);
    t = Math.max(t, s.isDirectory() ? newest(p) : s.mtimeMs);
  }
  return t;
}

let built = false;
export function ensureBuilt(): void {
  if (built) return;
  const stale =
    !existsSync(CLI) ||
    ["grammar", "compiler", "runtime", "cli"].some((d) => newest(join(ROOT, d)) > statSync(CLI).mtimeMs);
  if (stale) execFileSync(process.execPath, [join(ROOT, "scripts/bundle-cli.mjs")], { cwd: ROOT, stdio: "inherit" });
  built = true;
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function nnc(args: readonly string[], opts: { cwd?: string; input?: string; env?: Record<string, string> } = {}): CliResult {
  ensureBuilt();
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: opts.cwd ?? ROOT,
    input: opts.input ?? "",
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0", ...opts.env },
    timeout: 120_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
