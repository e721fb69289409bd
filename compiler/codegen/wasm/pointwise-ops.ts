/**
 * The elementwise, layout and reduction ops as `pointwise.ts` kernels: each lowering makes the
 * same loop nest as its TypeScript lowering (`ts/elementwise.ts`, `ts/layout.ts`,
 * `ts/reduce.ts`, `ts/conv.ts`'s bias gradient), as data, and asks the kernels for it. It
 * returns undefined (the TypeScript lowering runs) for what it does not cover: a dropout mask,
 * an activation other than ReLU, an op reading a buffer outside the memory (the kernels say so).
 */
import type { IrNode, IrShape } from "../../ir.js";
import { geometryOf } from "../../ops/conv_geometry.js";
import { permOf, sliceRange } from "../../ops/layout.js";
import { meanCount } from "../../ops/reduce.js";
import { sameShape } from "../../ops/elementwise.js";
import { attrNum, attrStr } from "../../ops/types.js";
import type { EmitContext } from "../ts/context.js";
import { alignedStrides, mergedAxes } from "../ts/loops.js";
import type { Nest, NestBuffer, NestOp, NestOperand, NestRequest } from "./pointwise.js";

/** What the pointwise lowerings ask of the kernels. */
export interface NestKernels {
  nests(r: NestRequest): string | undefined;
}

type NestLowering = (node: IrNode, ctx: EmitContext, kernels: NestKernels) => string | undefined;

/** A nest over `sizes`; operand k is `names[k]` (a literal for a constant) walked by `strides[k]`. */
function nest(sizes: IrShape, operands: readonly (string | number)[], strides: readonly (readonly number[])[], op: NestOp, accumulate = false, offsets: readonly number[] = []): Nest {
  const merged = mergedAxes(sizes, strides);
  // A single value (every size 1) is one axis of one.
  const axes = merged.length > 0 ? merged : [{ batch: false, size: 1, strides: strides.map(() => 0) }];
  const placed = operands.map((o, k): NestOperand => (typeof o === "number" ? { value: o } : { at: o, strides: axes.map((a) => a.strides[k] as number), ...(offsets[k] ? { offset: offsets[k] } : {}) }));
  return { axes: axes.map((a) => ({ size: a.size, batch: a.batch })), operands: placed as [NestBuffer, ...NestOperand[]], op, ...(accumulate ? { accumulate } : {}) };
}

/** The buffer of node `id`, or its literal when it is a constant. */
function operand(ctx: EmitContext, id: number): string | number {
  const n = ctx.node(id);
  return n.op === "constant" ? attrNum(n.attrs, "value") : ctx.ref(id);
}

/** `out = op(inputs…)`, each input broadcast to the output's shape. */
const elementwise =
  (op: NestOp): NestLowering =>
  (node, ctx, kernels) => {
    const rank = node.shape.length;
    const strides = [node.shape, ...node.inputs.map((i) => ctx.node(i).shape)].map((s) => alignedStrides(s, rank));
    const names = node.inputs.map((i) => operand(ctx, i));
    return kernels.nests({ out: ctx.ref(node.id), doc: `${op} of ${names.join(", ")}`, nests: [nest(node.shape, [ctx.ref(node.id), ...names], strides, op)] });
  };

/** `out` = 0 over `shape`. */
function zero(out: string, shape: IrShape): Nest {
  return nest(shape, [out, 0], [alignedStrides(shape, shape.length), shape.map(() => 0)], "copy");
}

/** Every element of x (shape xs) added into the element of `out` (shape os) it reduces to, `out` zeroed first. */
function sumInto(out: string, os: IrShape, x: string, xs: IrShape): Nest[] {
  if (sameShape(xs, os)) return [nest(os, [out, x], [alignedStrides(os, os.length), alignedStrides(xs, xs.length)], "copy")];
  return [zero(out, os), nest(xs, [out, x], [alignedStrides(os, xs.length), alignedStrides(xs, xs.length)], "copy", true)];
}

const sumTo: NestLowering = (node, ctx, kernels) => {
  const x = node.inputs[0] as number;
  const out = ctx.ref(node.id);
  return kernels.nests({ out, doc: `sums of ${ctx.ref(x)}`, nests: sumInto(out, node.shape, ctx.ref(x), ctx.node(x).shape) });
};

/** Rows around `axis`: their count (times n when batched), `width · after` values each. */
function around(shape: IrShape, axis: number): { rows: number; batch: boolean; width: number; after: number } {
  let rows = 1;
  for (let k = 0; k < axis; k++) if (shape[k] !== "n") rows *= shape[k] as number;
  let after = 1;
  for (let k = axis + 1; k < shape.length; k++) after *= shape[k] as number;
  return { rows, batch: shape[0] === "n" && axis > 0, width: shape[axis] as number, after };
}

/** A nest over `rows` rows of `w` values: operand k at `offsets[k] + r · rowStrides[k] + j`. */
function rowNest(rows: { rows: number; batch: boolean }, w: number, operands: readonly (string | number)[], rowStrides: readonly number[], offsets: readonly number[], op: NestOp = "copy"): Nest {
  const sizes: IrShape = rows.batch ? ["n", rows.rows, w] : [rows.rows, w];
  const strides = rowStrides.map((s) => (rows.batch ? [rows.rows * s, s, 1] : [s, 1]));
  return nest(sizes, operands, strides, op, false, offsets);
}

export const POINTWISE_LOWERINGS: Readonly<Record<string, NestLowering>> = {
  add: elementwise("add"),
  sub: elementwise("sub"),
  mul: (node, ctx, kernels) => (node.inputs.some((i) => ctx.node(i).op === "dropout_mask") ? undefined : elementwise("mul")(node, ctx, kernels)),
  div: elementwise("div"),
  neg: elementwise("neg"),
  rsqrt: elementwise("rsqrt"),
  broadcast: elementwise("copy"),
  activation_grad: (node, ctx, kernels) => (attrStr(node.attrs, "act") === "relu" ? elementwise("relu_grad")(node, ctx, kernels) : undefined),

  transpose(node, ctx, kernels) {
    const x = node.inputs[0] as number;
    const xs = ctx.node(x).shape;
    const perm = permOf(node.attrs, xs);
    const xStrides = alignedStrides(xs, xs.length);
    const out = ctx.ref(node.id);
    const strides = [alignedStrides(node.shape, node.shape.length), perm.map((p) => xStrides[p] as number)];
    return kernels.nests({ out, doc: `${ctx.ref(x)} transposed`, nests: [nest(node.shape, [out, ctx.ref(x)], strides, "copy")] });
  },

  slice(node, ctx, kernels) {
    const x = node.inputs[0] as number;
    const { axis, start } = sliceRange("slice", ctx.node(x).shape, node.attrs);
    const r = around(ctx.node(x).shape, axis);
    const w = (node.shape[axis] as number) * r.after;
    const out = ctx.ref(node.id);
    return kernels.nests({ out, doc: `a slice of ${ctx.ref(x)}`, nests: [rowNest(r, w, [out, ctx.ref(x)], [w, r.width * r.after], [0, start * r.after])] });
  },

  slice_grad(node, ctx, kernels) {
    const { axis, start, end } = sliceRange("slice_grad", node.shape, node.attrs);
    const r = around(node.shape, axis);
    const row = r.width * r.after;
    const w = (end - start) * r.after;
    const out = ctx.ref(node.id);
    const dy = ctx.ref(node.inputs[0] as number);
    const nests = [
      ...(start > 0 ? [rowNest(r, start * r.after, [out, 0], [row, 0], [0, 0])] : []),
      rowNest(r, w, [out, dy], [row, w], [start * r.after, 0]),
      ...(end < r.width ? [rowNest(r, row - end * r.after, [out, 0], [row, 0], [end * r.after, 0])] : []),
    ];
    return kernels.nests({ out, doc: `${dy} into its slice, zeros around`, nests });
  },

  sum: sumTo,
  sum_to: sumTo,

  mean(node, ctx, kernels) {
    const x = node.inputs[0] as number;
    const out = ctx.ref(node.id);
    const count = meanCount(ctx.node(x).shape, attrNum(node.attrs, "axis"));
    const own = alignedStrides(node.shape, node.shape.length);
    const nests = [...sumInto(out, node.shape, ctx.ref(x), ctx.node(x).shape), nest(node.shape, [out, out, count], [own, own, node.shape.map(() => 0)], "div")];
    return kernels.nests({ out, doc: `means of ${ctx.ref(x)}`, nests });
  },

  sum_rows(node, ctx, kernels) {
    const m = node.shape[0] as number;
    const out = ctx.ref(node.id);
    const dy = ctx.ref(node.inputs[0] as number);
    return kernels.nests({ out, doc: `column sums of ${dy}`, nests: sumInto(out, [m], dy, ["n", m]) });
  },

  conv2d_db(node, ctx, kernels) {
    const g = geometryOf(node.attrs);
    const f = attrNum(node.attrs, "f");
    const out = ctx.ref(node.id);
    const dz = ctx.ref(node.inputs[0] as number);
    return kernels.nests({ out, doc: `column sums of ${dz}`, nests: sumInto(out, [f], dz, ["n", g.oh * g.ow, f]) });
  },
};
