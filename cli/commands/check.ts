import type { Command } from "commander";

/** Placeholder until the `check` command lands. */
export function registerCheck(_program: Command): void {}
