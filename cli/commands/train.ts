import type { Command } from "commander";

/** Placeholder until the `train` command lands; replaced wholesale by its owner. */
export function registerTrain(_program: Command): void {}
