/**
 * Max pooling as two values, so the position each maximum came from is a value of the graph
 * (an integer one), not a buffer on the side:
 *
 *   maxpool2d_argmax(x)     the position of each window's maximum, per channel, within its
 *                           sample (the offset into x's [H, W, C]): [n, H, W, C] → [n, OH, OW, C], i32
 *   maxpool2d(x, argmax)    the maxima themselves: x at those positions → [n, OH, OW, C]
 *   maxpool2d_grad(dy, argmax)   the adjoint: each dy routed to the one input its maximum came
 *                           from, → [n, H, W, C]
 *
 * Why this split rather than one op with two outputs, or a pool that recomputes its positions
 * in the backward pass: an IR node has one output, and the backward pass must not need x (the
 * pool's input is often needed there anyway, but not always). The positions are what the
 * backward pass reads, so they are the value; the maxima are a gather from them. Computed
 * apart, the two would read each window twice, so when `maxpool2d` reads the positions that
 * `maxpool2d_argmax` computed just before it from the same x (as the layer lowers them), each
 * target computes both in one pass in maxpool2d's code and the argmax node has none of its own
 * (`codegen/ts/conv.ts`; the wasm kernel writes both too). The first maximum of a window wins;
 * NaN never does.
 */
import type { IrNode } from "../ir.js";
import type { OpDef } from "./types.js";
import { shapeOfTo, toShape } from "./types.js";
import { geometryOf } from "./conv_geometry.js";

const pooled: OpDef["shape"] = (inputs, attrs) => {
  const g = geometryOf(attrs);
  return [inputs[0]?.[0] ?? "n", g.oh, g.ow, g.c];
};

export const maxpool2dArgmax: OpDef = {
  name: "maxpool2d_argmax",
  doc: "position of each window's maximum per channel, within its sample: [n, H, W, C] → [n, OH, OW, C] i32",
  shape: pooled,
  dtype: "i32",
};

export const maxpool2d: OpDef = {
  name: "maxpool2d",
  doc: "window maximum per channel, x read at the argmax positions: [n, H, W, C], [n, OH, OW, C] i32 → [n, OH, OW, C]",
  shape: pooled,
  adjoint(node, dOut, g) {
    if (dOut === undefined) throw new Error("bug: maxpool2d as loss");
    const [x, argmax] = node.inputs as [number, number];
    return [g.add("maxpool2d_grad", [dOut, argmax], { ...node.attrs, to: toShape(g.node(x).shape) }, g.gradName(x), node.origin), undefined];
  },
};

export const maxpool2dGrad: OpDef = {
  name: "maxpool2d_grad",
  doc: "dy routed to each window's argmax: [n, OH, OW, C], [n, OH, OW, C] i32 → [n, H, W, C]",
  shape: (_inputs, attrs) => shapeOfTo(attrs),
};

/**
 * Whether `pool` (a maxpool2d) computes its argmax input itself in one pass: that input is a
 * maxpool2d_argmax of the same image, computed right before it (the targets then give the
 * argmax node no code of its own).
 */
export function poolComputesArgmax(pool: IrNode, node: (id: number) => IrNode): boolean {
  const [x, a] = pool.inputs as [number, number];
  const argmax = node(a);
  return argmax.op === "maxpool2d_argmax" && argmax.inputs[0] === x && argmax.id === pool.id - 1 && argmax.phase === pool.phase;
}
