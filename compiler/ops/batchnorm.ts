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

/** `for` over every value of x, with `o` the row offset: `body` per channel `j`. */
function eachChannel(c: number, p: number, body: string): string {
  return [`for (let o = 0; o < n * ${p * c}; o += ${c}) {`, `for (let j = 0; j < ${c}; j++) {`, body, `}`, `}`].join("\n");
}

export const batchnormStats: OpDef = {
  name: "batchnorm_stats",
  doc: "per-channel mean and 1/√(var + ε): the batch's in training (running stats updated), else the running ones",
  shape: (_inputs, attrs) => [2, attrNum(attrs, "c")],
  saves: [],
  usesTraining: true,
  emit(node, ctx) {
    const c = attrNum(node.attrs, "c");
    const p = attrNum(node.attrs, "p");
    const m = attrNum(node.attrs, "momentum");
    const eps = ctx.num(attrNum(node.attrs, "epsilon"));
    const [xi, mi, vi] = node.inputs as [number, number, number];
    const x = ctx.ref(xi);
    const mean = ctx.ref(mi);
    const variance = ctx.ref(vi);
    const s = ctx.ref(node.id);
    return [
      `if (${ctx.training}) {`,
      `for (let j = 0; j < ${2 * c}; j++) ${s}[j] = 0;`,
      eachChannel(c, p, `${s}[j] += ${x}[o + j];`),
      `const count = n * ${p};`,
      `for (let j = 0; j < ${c}; j++) ${s}[j] /= count;`,
      eachChannel(c, p, `const d = ${x}[o + j] - ${s}[j];\n${s}[${c} + j] += d * d;`),
      `for (let j = 0; j < ${c}; j++) {`,
      `const v = ${s}[${c} + j] / count;`,
      `${s}[${c} + j] = 1 / Math.sqrt(v + ${eps});`,
      `${mean}[j] = ${ctx.num(m)} * ${mean}[j] + ${ctx.num(1 - m)} * ${s}[j];`,
      `${variance}[j] = ${ctx.num(m)} * ${variance}[j] + ${ctx.num(1 - m)} * v;`,
      `}`,
      `} else {`,
      `for (let j = 0; j < ${c}; j++) {`,
      `${s}[j] = ${mean}[j];`,
      `${s}[${c} + j] = 1 / Math.sqrt(${variance}[j] + ${eps});`,
      `}`,
      `}`,
    ].join("\n");
  },
};

export const batchnorm: OpDef = {
  name: "batchnorm",
  doc: "γ·(x − mean)·invstd + β per channel",
  shape: (inputs) => inputs[0] ?? [],
  saves: [0, 1, 2],
  adjoint(node, dOut, g) {
    if (dOut === undefined) throw new Error("bug: batchnorm as loss");
    const [x, stats, gamma, beta] = node.inputs as [number, number, number, number];
    const attrs = { c: attrNum(node.attrs, "c"), p: attrNum(node.attrs, "p") };
    const dgamma = g.add("batchnorm_dgamma", [dOut, x, stats], attrs, g.gradName(gamma), node.origin);
    const dbeta = g.add("batchnorm_dbeta", [dOut], attrs, g.gradName(beta), node.origin);
    const dx = g.needsGrad(x) ? g.add("batchnorm_dx", [dOut, x, stats, gamma, dgamma, dbeta], attrs, g.gradName(x), node.origin) : undefined;
    return [dx, undefined, g.needsGrad(gamma) ? dgamma : undefined, g.needsGrad(beta) ? dbeta : undefined];
  },
  emit(node, ctx) {
    const c = attrNum(node.attrs, "c");
    const p = attrNum(node.attrs, "p");
    const [x, s, gamma, beta] = node.inputs.map((i) => ctx.ref(i)) as [string, string, string, string];
    const y = ctx.ref(node.id);
    return eachChannel(c, p, `${y}[o + j] = (${x}[o + j] - ${s}[j]) * ${s}[${c} + j] * ${gamma}[j] + ${beta}[j];`);
  },
};

export const batchnormDgamma: OpDef = {
  name: "batchnorm_dgamma",
  doc: "Σ dy·x̂ per channel",
  shape: (_inputs, attrs) => [attrNum(attrs, "c")],
  saves: [],
  emit(node, ctx) {
    const c = attrNum(node.attrs, "c");
    const p = attrNum(node.attrs, "p");
    const [dy, x, s] = node.inputs.map((i) => ctx.ref(i)) as [string, string, string];
    const out = ctx.ref(node.id);
    return [`for (let j = 0; j < ${c}; j++) ${out}[j] = 0;`, eachChannel(c, p, `${out}[j] += ${dy}[o + j] * (${x}[o + j] - ${s}[j]) * ${s}[${c} + j];`)].join("\n");
  },
};

export const batchnormDbeta: OpDef = {
  name: "batchnorm_dbeta",
  doc: "Σ dy per channel",
  shape: (_inputs, attrs) => [attrNum(attrs, "c")],
  saves: [],
  emit(node, ctx) {
    const c = attrNum(node.attrs, "c");
    const p = attrNum(node.attrs, "p");
    const dy = ctx.ref(node.inputs[0] as number);
    const out = ctx.ref(node.id);
    return [`for (let j = 0; j < ${c}; j++) ${out}[j] = 0;`, eachChannel(c, p, `${out}[j] += ${dy}[o + j];`)].join("\n");
  },
};

export const batchnormDx: OpDef = {
  name: "batchnorm_dx",
  doc: "γ·invstd/N · (N·dy − dβ − x̂·dγ)",
  shape: (inputs) => inputs[1] ?? [],
  saves: [],
  emit(node, ctx) {
    const c = attrNum(node.attrs, "c");
    const p = attrNum(node.attrs, "p");
    const [dy, x, s, gamma, dgamma, dbeta] = node.inputs.map((i) => ctx.ref(i)) as [string, string, string, string, string, string];
    const dx = ctx.ref(node.id);
    return [
      `const count = n * ${p};`,
      eachChannel(
        c,
        p,
        [
          `const invstd = ${s}[${c} + j];`,
          `const xhat = (${x}[o + j] - ${s}[j]) * invstd;`,
          `${dx}[o + j] = ((${gamma}[j] * invstd) / count) * (count * ${dy}[o + j] - ${dbeta}[j] - xhat * ${dgamma}[j]);`,
        ].join("\n"),
      ),
    ].join("\n");
  },
};
