/**
 * Every optimizer, by word. Adding one = one file in this folder + one line in `OPTIMIZER_DEFS`
 * (+ a test): its arguments reach the checker, the docs, completion and hover, and its update
 * reaches the code generator, from that one definition.
 */
import { arg, type ArgSchema } from "../schema.js";
import type { Optimizer } from "../program.js";
import type { OptimizerDef } from "./types.js";
import { sgd } from "./sgd.js";
import { adam, adamw } from "./adam.js";
import { rmsprop } from "./rmsprop.js";
import { adagrad } from "./adagrad.js";
import { lion } from "./lion.js";

export const OPTIMIZER_DEFS: readonly OptimizerDef[] = [sgd, adam, adamw, rmsprop, adagrad, lion];

const BY_WORD = new Map(OPTIMIZER_DEFS.map((d) => [d.word, d]));

export function optimizerDef(word: string): OptimizerDef {
  const d = BY_WORD.get(word);
  if (d === undefined) throw new Error(`bug: unknown optimizer ${word}`);
  return d;
}

/** An optimizer's whole schema: its own arguments, then the ones every optimizer takes. */
export function optimizerArgs(d: OptimizerDef): readonly ArgSchema[] {
  const decayDoc = d.decay === "l2" ? "L2 penalty added to the gradient" : "decoupled weight decay: the weights shrink by lr·wd each step";
  return [
    ...d.args,
    arg.number("weight_decay", decayDoc, { min: 0, max: 1, range: "from 0 to 1" }, d.defaultDecay ?? 0),
    arg.number("clip_norm", "rescale the gradient when its global norm exceeds this; 0 = off", { min: 0, max: 1e9, range: "a number ≥ 0 (0 = off)" }, 0),
    arg.number("clip_value", "clip every gradient element to [-v, v]; 0 = off", { min: 0, max: 1e9, range: "a number ≥ 0 (0 = off)" }, 0),
  ];
}

/** Number of moment arrays (each the size of `params`) an optimizer keeps. */
export function momentCount(o: Optimizer): number {
  return optimizerDef(o.kind).moments(o);
}

/** `adam(lr 0.001, beta1 0.9, …)`, for generated comments. */
export function describeOptimizer(o: Optimizer): string {
  const parts = [`lr ${o.lr}`, ...optimizerDef(o.kind).describe(o)];
  if (o.weightDecay > 0) parts.push(`weight_decay ${o.weightDecay}`);
  if (o.clipNorm > 0) parts.push(`clip_norm ${o.clipNorm}`);
  if (o.clipValue > 0) parts.push(`clip_value ${o.clipValue}`);
  return `${o.kind}(${parts.join(", ")})`;
}
