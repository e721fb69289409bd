/**
 * The one policy of every golden test: `UPDATE_GOLDEN=1` (re)writes the golden file; otherwise
 * a missing golden fails (never skipped, never written silently) and a different one fails,
 * each with the command that refreshes it — review the diff before committing it.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, relative } from "node:path";
import { expect } from "vitest";

export const updatingGoldens = process.env["UPDATE_GOLDEN"] === "1";

/** Checks `actual` against the golden file at `path` (absolute), or writes it under `UPDATE_GOLDEN=1`. */
export function expectGolden(path: string, actual: string): void {
  const name = relative(process.cwd(), path);
  if (updatingGoldens) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  expect(existsSync(path), `${name} is missing: run with UPDATE_GOLDEN=1 and review it`).toBe(true);
  expect(actual, `${name} changed; if intended, run with UPDATE_GOLDEN=1 and review the diff`).toBe(readFileSync(path, "utf8"));
}
