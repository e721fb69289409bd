/**
 * The fused softmax + cross-entropy, made by `fuse.ts` from cross_entropy(softmax(z)):
 *
 *   softmax_cross_entropy(z, t)        −Σ t·(z − max − log Σ e^(z − max)) per row (log-sum-exp,
 *                                      exact for any logits), the mean over the batch
 *   softmax_cross_entropy_grad(p, t)   the logits' gradient (p·Σt − t) / n: (p − t) / n for
 *                                      one-hot labels
 */
import type { OpDef } from "./types.js";

export const softmaxCrossEntropy: OpDef = {
  name: "softmax_cross_entropy",
  doc: "mean cross-entropy of softmax(z), by log-sum-exp",
  shape: () => [],
};

export const softmaxCrossEntropyGrad: OpDef = {
  name: "softmax_cross_entropy_grad",
  doc: "(p − t) / n, the fused softmax + cross-entropy gradient",
  shape: (inputs) => inputs[0] ?? [],
};
