import type { Command } from "commander";

/** Placeholder until the `compile` command lands; replaced wholesale by its owner. */
export function registerCompile(_program: Command): void {}
