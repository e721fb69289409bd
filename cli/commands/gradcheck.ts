import type { Command } from "commander";

/** Placeholder until the `gradcheck` command lands; replaced wholesale by its owner. */
export function registerGradcheck(_program: Command): void {}
