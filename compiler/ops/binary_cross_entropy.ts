/**
 * Binary cross-entropy on probabilities, logs clipped at 1e-7. Used as written only when the
 * output is not a sigmoid; after a sigmoid `fuse.ts` replaces it with `sigmoid_bce`.
 */
import { lossOp, type LossDef } from "./loss.js";

const clip = (p: string): string => `Math.min(Math.max(${p}, 1e-7), 1 - 1e-7)`;

export const binaryCrossEntropyDef: LossDef = {
  kind: "binary_cross_entropy",
  term: (p, t) => `-(${t} * Math.log(${clip(p)}) + (1 - ${t}) * Math.log(1 - ${clip(p)}))`,
  grad: (p, t) => `(${clip(p)} - ${t}) / (${clip(p)} * (1 - ${clip(p)}))`,
  mean: "all",
};

export const binaryCrossEntropy = lossOp(binaryCrossEntropyDef);
