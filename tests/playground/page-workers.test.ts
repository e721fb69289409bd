/** The page's "auto" workers (issue 16): the rule of `nnc train` without `--workers`, and one for a small step. */
import { describe, expect, it } from "vitest";
import { checkSource } from "../../compiler/check.js";
import { stepMacs } from "../../compiler/work.js";
import { pageWorkers, PAGE_SHARDS } from "../../playground/src/workers-choice.js";
import { defaultThreads, SHARD_MIN_MACS } from "../../runtime/shards.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const macsOf = (name: string): number => {
  const r = checkSource(readFileSync(join(__dirname, "..", "..", "examples", `${name}.nn`), "utf8"));
  return stepMacs(r.value!)!;
};

describe("pageWorkers", () => {
  it("keeps a number chosen in the page", () => {
    expect(pageWorkers(2, undefined, 1)).toBe(2);
    expect(pageWorkers(1, 1e12, 8)).toBe(1);
  });

  it("auto: the CLI's choice for a large step, one worker for a small one or none known", () => {
    expect(pageWorkers("auto", 1e12, 8)).toBe(defaultThreads(1e12, 8, PAGE_SHARDS));
    expect(pageWorkers("auto", 1e12, 8)).toBe(PAGE_SHARDS);
    expect(pageWorkers("auto", 1e12, 2)).toBe(2);
    expect(pageWorkers("auto", SHARD_MIN_MACS - 1, 8)).toBe(1);
    expect(pageWorkers("auto", undefined, 8)).toBe(1);
  });

  it("auto gives the page's examples one worker on any machine", () => {
    for (const name of ["spiral", "digits-cnn", "names", "xor"]) expect(pageWorkers("auto", macsOf(name), 16), name).toBe(1);
    expect(pageWorkers("auto", macsOf("fashion-cnn"), 16)).toBe(PAGE_SHARDS);
  });
});
