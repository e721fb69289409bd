/**
 * Batch normalization over the last axis (the channels of an NHWC image, or the features of a
 * flat value), in two ops so the backward pass can recompute x̂ instead of storing it:
 *
 *   batchnorm_stats(x, runningMean, runningVar) → [2, C]: per channel the mean and 1/√(var + ε).
 *     Training: the batch's statistics over n·P values per channel (P pixels per sample;
 *     biased variance), and the running statistics moved towards them:
 *     running = momentum·running + (1 − momentum)·batch. Inference: the running statistics.
 *   batchnorm(x, stats, gamma, beta) → γ·(x − mean)·invstd + β.
 *
 * Adjoint (training-mode statistics, which depend on x): with x̂ = (x − mean)·invstd and
 * N = n·P, dβ = Σ dy, dγ = Σ dy·x̂, dx = γ·invstd/N · (N·dy − dβ − x̂·dγ). The running
 * statistics are non-trainable parameters: saved with the weights, never touched by the
 * optimizer.
 */
import type { OpDef } from "./types.js";
import { attrNum } from "./types.js";

export const batchnormStats: OpDef = {
  name: "batchnorm_stats",
  doc: "per-channel mean and 1/√(var + ε): the batch's in training (running stats updated), else the running ones",
  shape: (_inputs, attrs) => [2, attrNum(attrs, "c")],
  usesTraining: true,
};

export const batchnorm: OpDef = {
  name: "batchnorm",
  doc: "γ·(x − mean)·invstd + β per channel",
  shape: (inputs) => inputs[0] ?? [],
  adjoint(node, dOut, g) {
    if (dOut === undefined) throw new Error("bug: batchnorm as loss");
    const [x, stats, gamma, beta] = node.inputs as [number, number, number, number];
    const attrs = { c: attrNum(node.attrs, "c"), p: attrNum(node.attrs, "p") };
    const dgamma = g.add("batchnorm_dgamma", [dOut, x, stats], attrs, g.gradName(gamma), node.origin);
    const dbeta = g.add("batchnorm_dbeta", [dOut], attrs, g.gradName(beta), node.origin);
    const dx = g.needsGrad(x) ? g.add("batchnorm_dx", [dOut, x, stats, gamma, dgamma, dbeta], attrs, g.gradName(x), node.origin) : undefined;
    return [dx, undefined, g.needsGrad(gamma) ? dgamma : undefined, g.needsGrad(beta) ? dbeta : undefined];
  },
};

export const batchnormDgamma: OpDef = {
  name: "batchnorm_dgamma",
  doc: "Σ dy·x̂ per channel",
  shape: (_inputs, attrs) => [attrNum(attrs, "c")],
};

export const batchnormDbeta: OpDef = {
  name: "batchnorm_dbeta",
  doc: "Σ dy per channel",
  shape: (_inputs, attrs) => [attrNum(attrs, "c")],
};

export const batchnormDx: OpDef = {
  name: "batchnorm_dx",
  doc: "γ·invstd/N · (N·dy − dβ − x̂·dγ)",
  shape: (inputs) => inputs[1] ?? [],
};
