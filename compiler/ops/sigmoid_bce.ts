/**
 * The fused sigmoid + binary cross-entropy, made by `fuse.ts` from
 * binary_cross_entropy(sigmoid(z)):
 *
 *   sigmoid_bce(z, t)        max(z, 0) − z·t + log(1 + e^−|z|) from the logits (exact for any
 *                            z), the mean over the batch and the outputs
 *   sigmoid_bce_grad(p, t)   (p − t) / (n·outputs)
 *
 * With `class_weight` (attribute `weighted`, kept from the loss), each target carries its
 * class's weight w and both become w times the above (`runtime/class-weight.ts`).
 */
import type { OpDef } from "./types.js";

export const sigmoidBce: OpDef = {
  name: "sigmoid_bce",
  doc: "mean binary cross-entropy of sigmoid(z), from the logits",
  shape: () => [],
};

export const sigmoidBceGrad: OpDef = {
  name: "sigmoid_bce_grad",
  doc: "(p − t) / (n·outputs)",
  shape: (inputs) => inputs[0] ?? [],
};
