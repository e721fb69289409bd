import type { Command } from "commander";

/** Placeholder until the `fmt` command lands; replaced wholesale by its owner. */
export function registerFmt(_program: Command): void {}
