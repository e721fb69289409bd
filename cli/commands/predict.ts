import type { Command } from "commander";

/** Placeholder until the `predict` command lands; replaced wholesale by its owner. */
export function registerPredict(_program: Command): void {}
