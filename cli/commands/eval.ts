import type { Command } from "commander";

/** Placeholder until the `eval` command lands; replaced wholesale by its owner. */
export function registerEval(_program: Command): void {}
