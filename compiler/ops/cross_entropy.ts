/**
 * Categorical cross-entropy on probabilities: −Σ t·log p per sample, logs clipped at 1e-7.
 * After a softmax `fuse.ts` replaces it with `softmax_cross_entropy` (log-sum-exp).
 */
import { lossOp, type LossDef } from "./loss.js";

export const crossEntropyDef: LossDef = {
  kind: "cross_entropy",
  term: (p, t) => `-${t} * Math.log(Math.max(${p}, 1e-7))`,
  grad: (p, t) => `-${t} / Math.max(${p}, 1e-7)`,
  mean: "rows",
};

export const crossEntropy = lossOp(crossEntropyDef);
