/**
 * TypeScript lowerings of the normalizations: softmax over each row of the last axis
 * (max-subtracted, so exp never overflows) and its backward, attention's causal mask, and batch normalization's five ops (`ops/batchnorm.ts`:
 * statistics, normalize, and the gradients of γ, β and x), each a loop over every value with
 * `o` the row offset and `j` the channel.
 */
import { attrNum } from "../../ops/types.js";
import type { TsLowering } from "./context.js";
import type { IrNode } from "../../ir.js";
import { batchCount, perRow } from "./loops.js";

/** `for` over every value of x, with `o` the row offset: `body` per channel `j`. */
function eachChannel(c: number, p: number, body: string): string {
  return [`for (let o = 0; o < n * ${p * c}; o += ${c}) {`, `for (let j = 0; j < ${c}; j++) {`, body, `}`, `}`].join("\n");
}

/** A softmax's rows: the last axis, `m` values, and how many rows there are (as code). */
function rowsOf(node: IrNode): { m: number; rows: string } {
  const m = node.shape[node.shape.length - 1] as number;
  return { m, rows: batchCount(perRow(node) / m) };
}

export const NORM: Readonly<Record<string, TsLowering>> = {
  softmax(node, ctx) {
    const { m, rows } = rowsOf(node);
    const z = ctx.ref(node.inputs[0] as number);
    const p = ctx.ref(node.id);
    return [
      `for (let r = 0; r < ${rows}; r++) {`,
      `const o = r * ${m};`,
      `let max = ${z}[o];`,
      `for (let j = 1; j < ${m}; j++) if (${z}[o + j] > max) max = ${z}[o + j];`,
      `let sum = 0;`,
      `for (let j = 0; j < ${m}; j++) {`,
      `const e = Math.exp(${z}[o + j] - max);`,
      `${p}[o + j] = e;`,
      `sum += e;`,
      `}`,
      `for (let j = 0; j < ${m}; j++) ${p}[o + j] /= sum;`,
      `}`,
    ].join("\n");
  },

  // dz = p ⊙ (dp − Σ_j dp_j·p_j), row by row.
  softmax_grad(node, ctx) {
    const { m, rows } = rowsOf(node);
    const [dp, p] = node.inputs.map((i) => ctx.ref(i)) as [string, string];
    const dz = ctx.ref(node.id);
    return [
      `for (let r = 0; r < ${rows}; r++) {`,
      `const o = r * ${m};`,
      `let dot = 0;`,
      `for (let j = 0; j < ${m}; j++) dot += ${dp}[o + j] * ${p}[o + j];`,
      `for (let j = 0; j < ${m}; j++) ${dz}[o + j] = ${p}[o + j] * (${dp}[o + j] - dot);`,
      `}`,
    ].join("\n");
  },

  // Above the diagonal of each [T, T]: −Infinity (after it a softmax gives 0), or 0 for the adjoint.
  causal_mask(node, ctx) {
    const t = node.shape[node.shape.length - 1] as number;
    const x = ctx.ref(node.inputs[0] as number);
    const out = ctx.ref(node.id);
    const fill = node.attrs["grad"] === 1 ? "0" : "-Infinity";
    return [
      `for (let o = 0; o < ${batchCount(perRow(node))}; o += ${t * t}) {`,
      `for (let i = 0; i < ${t}; i++) {`,
      `for (let j = 0; j <= i; j++) ${out}[o + i * ${t} + j] = ${x}[o + i * ${t} + j];`,
      `for (let j = i + 1; j < ${t}; j++) ${out}[o + i * ${t} + j] = ${fill};`,
      `}`,
      `}`,
    ].join("\n");
  },

  // Training: the batch's mean and 1/√(var + ε) (biased variance), the running statistics moved towards them; else the running ones.
  batchnorm_stats(node, ctx) {
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

  batchnorm(node, ctx) {
    const c = attrNum(node.attrs, "c");
    const p = attrNum(node.attrs, "p");
    const [x, s, gamma, beta] = node.inputs.map((i) => ctx.ref(i)) as [string, string, string, string];
    const y = ctx.ref(node.id);
    return eachChannel(c, p, `${y}[o + j] = (${x}[o + j] - ${s}[j]) * ${s}[${c} + j] * ${gamma}[j] + ${beta}[j];`);
  },

  batchnorm_dgamma(node, ctx) {
    const c = attrNum(node.attrs, "c");
    const p = attrNum(node.attrs, "p");
    const [dy, x, s] = node.inputs.map((i) => ctx.ref(i)) as [string, string, string];
    const out = ctx.ref(node.id);
    return [`for (let j = 0; j < ${c}; j++) ${out}[j] = 0;`, eachChannel(c, p, `${out}[j] += ${dy}[o + j] * (${x}[o + j] - ${s}[j]) * ${s}[${c} + j];`)].join("\n");
  },

  batchnorm_dbeta(node, ctx) {
    const c = attrNum(node.attrs, "c");
    const p = attrNum(node.attrs, "p");
    const dy = ctx.ref(node.inputs[0] as number);
    const out = ctx.ref(node.id);
    return [`for (let j = 0; j < ${c}; j++) ${out}[j] = 0;`, eachChannel(c, p, `${out}[j] += ${dy}[o + j];`)].join("\n");
  },

  batchnorm_dx(node, ctx) {
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
