/**
 * TypeScript lowerings of the losses (`ops/losses.ts`): each loss's per-element term and its
 * derivative as code, the mean that makes the scalar (`value = total / n…`), `loss_grad`, and
 * the fused pairs computed from the logits (`softmax_cross_entropy`, `sigmoid_bce` and their
 * gradients).
 */
import { shapeSize, type IrShape } from "../../ir.js";
import { attrStr } from "../../ops/types.js";
import { LOSS_KINDS, lossDef } from "../../ops/losses.js";
import type { TsLowering } from "./context.js";
import { batchCount, eachElement, perRow } from "./loops.js";

interface LossCode {
  /** The term of one element, from the prediction `p`, the target `t` and `delta`. */
  term(p: string, t: string, delta: string): string;
  /** d term / d p. */
  grad(p: string, t: string, delta: string): string;
}

const clip = (p: string): string => `Math.min(Math.max(${p}, 1e-7), 1 - 1e-7)`;

const CODE: ReadonlyMap<string, LossCode> = new Map(
  Object.entries({
    mse: {
      term: (p, t) => `(${p} - ${t}) * (${p} - ${t})`,
      grad: (p, t) => `2 * (${p} - ${t})`,
    },
    // The derivative is 0 exactly at p = t.
    mae: {
      term: (p, t) => `Math.abs(${p} - ${t})`,
      grad: (p, t) => `${p} > ${t} ? 1 : ${p} < ${t} ? -1 : 0`,
    },
    huber: {
      term: (p, t, d) => `Math.abs(${p} - ${t}) <= ${d} ? 0.5 * (${p} - ${t}) * (${p} - ${t}) : ${d} * (Math.abs(${p} - ${t}) - 0.5 * ${d})`,
      grad: (p, t, d) => `${p} - ${t} > ${d} ? ${d} : ${p} - ${t} < -${d} ? -${d} : ${p} - ${t}`,
    },
    // Logs clipped at 1e-7.
    binary_cross_entropy: {
      term: (p, t) => `-(${t} * Math.log(${clip(p)}) + (1 - ${t}) * Math.log(1 - ${clip(p)}))`,
      grad: (p, t) => `(${clip(p)} - ${t}) / (${clip(p)} * (1 - ${clip(p)}))`,
    },
    cross_entropy: {
      term: (p, t) => `-${t} * Math.log(Math.max(${p}, 1e-7))`,
      grad: (p, t) => `-${t} / Math.max(${p}, 1e-7)`,
    },
  } satisfies Record<string, LossCode>),
);

/** The losses this target has code for (`targets.test.ts` checks it is every one). */
export const LOSS_CODE_KINDS: readonly string[] = [...CODE.keys()];

function lossCode(kind: string): LossCode {
  const c = CODE.get(kind);
  if (c === undefined) throw new Error(`bug: the TypeScript target has no code for loss ${kind}`);
  return c;
}

/**
 * The divisor of a loss over a prediction of this shape, as code: every value (`mean: "all"`),
 * or the rows of its last axis (`"rows"`: one class per row — per sample, or per step of a
 * sequence [n, T, V], as PyTorch's cross-entropy averages over every step).
 */
function meanDivisor(mean: "all" | "rows", shape: IrShape): string {
  const k = mean === "all" ? shapeSize(shape) : lastRows(shape);
  return k !== 1 ? `(n * ${k})` : "n";
}

/** Rows of the last axis per sample. */
function lastRows(shape: IrShape): number {
  return shapeSize(shape) / (shape[shape.length - 1] as number);
}

/** The rows of classes of a prediction: `m` classes (its last axis) in each of `rows` (code: `n`, or `n * T` for a sequence). */
function classRows(shape: IrShape): { m: number; rows: string } {
  return { m: shape[shape.length - 1] as number, rows: batchCount(lastRows(shape)) };
}

/**
 * With `class_weight` on a binary cross-entropy (attribute `weighted`), each training target
 * carries its class's weight (`runtime/class-weight.ts`, `binaryTarget`): 1 and 0 are classes 1
 * and 0 with weight 1 (so validation and test labels pass as they are), 2 + w class 1 with
 * weight w, −1 − w class 0 with weight w. The loop reads `yv` and gets the class `t` and weight `w`
 * (w to float32 precision); any other value is a label taken as it is, with weight 1.
 */
const WEIGHTED_TARGET = `const t = yv >= 2 ? 1 : yv <= -1 ? 0 : yv, w = yv >= 2 ? yv - 2 : yv <= -1 ? -1 - yv : 1; // the class (a held-out label as it is) and its weight`;
const isWeighted = (attrs: Readonly<Record<string, unknown>>): boolean => attrs["weighted"] === 1;

/** `delta` of huber (1 for the others, which ignore it). */
const deltaOf = (attrs: Readonly<Record<string, unknown>>): number => (typeof attrs["delta"] === "number" ? attrs["delta"] : 1);

const loss =
  (kind: string): TsLowering =>
  (node, ctx) => {
    const code = lossCode(kind);
    const [p, y] = node.inputs as [number, number];
    const m = perRow(ctx.node(p));
    const delta = ctx.num(deltaOf(node.attrs));
    const weighted = isWeighted(node.attrs);
    return [
      `let total = 0;`,
      `for (let i = 0; i < ${batchCount(m)}; i++) {`,
      ...(weighted ? [`const p = ${ctx.ref(p)}[i], yv = ${ctx.ref(y)}[i];`, WEIGHTED_TARGET, `total += w * (${code.term("p", "t", delta)});`] : [`const p = ${ctx.ref(p)}[i], t = ${ctx.ref(y)}[i];`, `total += ${code.term("p", "t", delta)};`]),
      `}`,
      `${ctx.lossVar} = total / ${meanDivisor(lossDef(kind).mean, ctx.node(p).shape)};`,
    ].join("\n");
  };

export const LOSSES: Readonly<Record<string, TsLowering>> = {
  ...Object.fromEntries(LOSS_KINDS.map((kind) => [kind, loss(kind)])),

  loss_grad(node, ctx) {
    const kind = attrStr(node.attrs, "loss");
    const [p, y] = node.inputs as [number, number];
    const m = perRow(node);
    return [
      `const scale = 1 / ${meanDivisor(lossDef(kind).mean, node.shape)};`,
      `for (let i = 0; i < ${batchCount(m)}; i++) {`,
      ...(isWeighted(node.attrs) ? [`const p = ${ctx.ref(p)}[i], yv = ${ctx.ref(y)}[i];`, WEIGHTED_TARGET] : [`const p = ${ctx.ref(p)}[i], t = ${ctx.ref(y)}[i];`]),
      `${ctx.ref(node.id)}[i] = ${isWeighted(node.attrs) ? "w * " : ""}(${lossCode(kind).grad("p", "t", ctx.num(deltaOf(node.attrs)))}) * scale;`,
      `}`,
    ].join("\n");
  },

  // −Σ t·(z − max − log Σ e^(z − max)) per row: exact for any logits.
  softmax_cross_entropy(node, ctx) {
    const [zi, yi] = node.inputs as [number, number];
    const { m, rows } = classRows(ctx.node(zi).shape);
    const z = ctx.ref(zi);
    const y = ctx.ref(yi);
    return [
      `let total = 0;`,
      `for (let r = 0; r < ${rows}; r++) {`,
      `const o = r * ${m};`,
      `let max = ${z}[o];`,
      `for (let j = 1; j < ${m}; j++) if (${z}[o + j] > max) max = ${z}[o + j];`,
      `let sum = 0;`,
      `for (let j = 0; j < ${m}; j++) sum += Math.exp(${z}[o + j] - max);`,
      `const lse = max + Math.log(sum);`,
      `for (let j = 0; j < ${m}; j++) total += ${y}[o + j] * (lse - ${z}[o + j]);`,
      `}`,
      `${ctx.lossVar} = total / ${meanDivisor("rows", ctx.node(zi).shape)};`,
    ].join("\n");
  },

  // (p·Σt − t) / rows: (p − t) / n for one-hot labels, one row per sample.
  softmax_cross_entropy_grad(node, ctx) {
    const { m, rows } = classRows(node.shape);
    const [p, y] = node.inputs.map((i) => ctx.ref(i)) as [string, string];
    const dz = ctx.ref(node.id);
    return [
      `const scale = 1 / ${meanDivisor("rows", node.shape)};`,
      `for (let r = 0; r < ${rows}; r++) {`,
      `const o = r * ${m};`,
      `let sumT = 0;`,
      `for (let j = 0; j < ${m}; j++) sumT += ${y}[o + j];`,
      `for (let j = 0; j < ${m}; j++) ${dz}[o + j] = (${p}[o + j] * sumT - ${y}[o + j]) * scale;`,
      `}`,
    ].join("\n");
  },

  // max(z, 0) − z·t + log(1 + e^−|z|): exact for any z.
  sigmoid_bce(node, ctx) {
    const [zi, yi] = node.inputs as [number, number];
    const m = perRow(ctx.node(zi));
    const weighted = isWeighted(node.attrs);
    return [
      `let total = 0;`,
      `for (let i = 0; i < ${batchCount(m)}; i++) {`,
      `const z = ${ctx.ref(zi)}[i];`,
      ...(weighted
        ? [`const yv = ${ctx.ref(yi)}[i];`, WEIGHTED_TARGET, `total += w * ((z > 0 ? z : 0) - z * t + Math.log1p(Math.exp(-Math.abs(z))));`]
        : [`total += (z > 0 ? z : 0) - z * ${ctx.ref(yi)}[i] + Math.log1p(Math.exp(-Math.abs(z)));`]),
      `}`,
      `${ctx.lossVar} = total / ${meanDivisor("all", ctx.node(zi).shape)};`,
    ].join("\n");
  },

  sigmoid_bce_grad(node, ctx) {
    const [p, y] = node.inputs.map((i) => ctx.ref(i)) as [string, string];
    if (isWeighted(node.attrs)) {
      return `const scale = 1 / ${meanDivisor("all", node.shape)};\n${eachElement(node, `const yv = ${y}[i];\n${WEIGHTED_TARGET}\n${ctx.ref(node.id)}[i] = w * (${p}[i] - t) * scale;`)}`;
    }
    return `const scale = 1 / ${meanDivisor("all", node.shape)};\n${eachElement(node, `${ctx.ref(node.id)}[i] = (${p}[i] - ${y}[i]) * scale;`)}`;
  },
};
