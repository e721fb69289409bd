/** The page's "auto" workers (issue 16): the rule of `nnc train` without `--workers`, and one for a small step. */
import { describe, expect, it } from "vitest";
import { stepMacs } from "../../compiler/work.js";
import { pageWorkers } from "../../playground/src/workers-choice.js";
import { DEFAULT_SHARDS, defaultThreads, SHARD_MIN_MACS } from "../../runtime/shards.js";
import { example, programOf } from "../runtime/helpers.js";

const macsOf = (name: string): number => stepMacs(programOf(example(name)))!;

describe("pageWorkers", () => {
  it("keeps a number chosen in the page", () => {
    expect(pageWorkers(2, undefined, 1)).toBe(2);
    expect(pageWorkers(1, 1e12, 8)).toBe(1);
  });

  it("auto: the CLI's choice for a large step, one worker for a small one or none known", () => {
    expect(pageWorkers("auto", 1e12, 8)).toBe(defaultThreads(1e12, 8, DEFAULT_SHARDS));
    expect(pageWorkers("auto", 1e12, 8)).toBe(DEFAULT_SHARDS);
    expect(pageWorkers("auto", 1e12, 2)).toBe(2);
    expect(pageWorkers("auto", SHARD_MIN_MACS - 1, 8)).toBe(1);
    expect(pageWorkers("auto", undefined, 8)).toBe(1);
  });

  it("auto gives the page's examples one worker on any machine", () => {
    for (const name of ["spiral", "digits-cnn", "names", "xor"]) expect(pageWorkers("auto", macsOf(name), 16), name).toBe(1);
    expect(pageWorkers("auto", macsOf("fashion-cnn"), 16)).toBe(DEFAULT_SHARDS);
  });
});
