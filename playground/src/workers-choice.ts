/**
 * How many workers the page trains with (pure, so the Node tests read it without a DOM).
 */
import { defaultThreads } from "../../runtime/shards.js";

/**
 * The workers the page trains with: the one chosen, or for "auto" the rule of `nnc train`
 * without `--workers` (`defaultThreads`: the cores, up to the shards, for a step of ≥ 100 M
 * multiply-adds). A smaller step — every example of the page — gets one: the page always cuts
 * its batches into shards, so one thread is the same arithmetic, without the hand-offs.
 */
export function pageWorkers(choice: number | "auto", stepMacs: number | undefined, cores: number): number {
  if (choice !== "auto") return choice;
  return defaultThreads(stepMacs, cores) ?? 1;
}
