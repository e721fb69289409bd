/**
 * Reductions and their duals: sum and mean over one axis (kept, with size 1), broadcast (to a
 * larger shape) and sum_to (summing back down to a shape that broadcasts to the input's). The
 * adjoint of each is the other: sum → broadcast, broadcast → sum_to, sum_to → broadcast.
 */
import type { Dim, IrNode, IrShape } from "../ir.js";
import { showShape } from "../ir.js";
import type { OpDef } from "./types.js";
import { attrNum, shapeOfTo, toShape } from "./types.js";
import { broadcastsTo, constantNode } from "./elementwise.js";

/** The input's shape with `axis` (0 = the batch axis when there is one) reduced to size 1. */
function keptShape(op: string, input: IrShape | undefined, attrs: IrNode["attrs"]): IrShape {
  const axis = attrNum(attrs, "axis");
  if (input === undefined || !Number.isInteger(axis) || axis < 0 || axis >= input.length) {
    throw new Error(`bug: ${op}: axis ${axis} is not an axis of ${input === undefined ? "nothing" : showShape(input)}`);
  }
  return input.map((d, k): Dim => (k === axis ? 1 : d));
}

/** sum(x) over axis `axis`, kept with size 1 (the batch axis too: then the result has no batch dim). Adjoint: broadcast dy back. */
export const sum: OpDef = {
  name: "sum",
  doc: "Σ over one axis, kept with size 1",
  shape: (inputs, attrs) => keptShape("sum", inputs[0], attrs),
  adjoint(node, dOut, g) {
    if (dOut === undefined) throw new Error("bug: sum as loss");
    const x = node.inputs[0] as number;
    return [g.add("broadcast", [dOut], { to: toShape(g.node(x).shape) }, g.gradName(x), node.origin)];
  },
};

/** The number of values a mean over `axis` of `shape` averages (never the batch axis). */
export function meanCount(shape: IrShape, axis: number): number {
  const d = shape[axis];
  if (typeof d !== "number") throw new Error("bug: mean over the batch axis (use sum)");
  return d;
}

/** mean(x) over axis `axis` (not the batch axis), kept with size 1. Adjoint: broadcast of dy / count. */
export const mean: OpDef = {
  name: "mean",
  doc: "mean over one axis (not the batch axis), kept with size 1",
  shape: (inputs, attrs) => {
    meanCount(inputs[0] ?? [], attrNum(attrs, "axis"));
    return keptShape("mean", inputs[0], attrs);
  },
  adjoint(node, dOut, g) {
    if (dOut === undefined) throw new Error("bug: mean as loss");
    const x = node.inputs[0] as number;
    const dx = g.gradName(x);
    const count = constantNode(g, meanCount(g.node(x).shape, attrNum(node.attrs, "axis")), `${dx}Count`, node);
    const scaled = g.add("div", [dOut, count], {}, `${dx}Mean`, node.origin);
    return [g.add("broadcast", [scaled], { to: toShape(g.node(x).shape) }, dx, node.origin)];
  },
};

/** broadcast(x) to shape `to` (NumPy's rules; see `elementwise.ts`). Adjoint: sum_to x's shape. */
export const broadcast: OpDef = {
  name: "broadcast",
  doc: "x repeated along the axes where it has size 1 (or none), to shape `to`",
  shape: (inputs, attrs) => {
    const to = shapeOfTo(attrs);
    if (inputs[0] === undefined || !broadcastsTo(inputs[0], to)) throw new Error(`bug: broadcast: ${showShape(inputs[0] ?? [])} does not broadcast to ${showShape(to)}`);
    return to;
  },
  adjoint(node, dOut, g) {
    if (dOut === undefined) throw new Error("bug: broadcast as loss");
    const x = node.inputs[0] as number;
    return [g.add("sum_to", [dOut], { to: toShape(g.node(x).shape) }, g.gradName(x), node.origin)];
  },
};

/** sum_to(x) shape `to`, a shape that broadcasts to x's: Σ over the broadcast axes (a copy when the shapes agree). Adjoint: broadcast. */
export const sumTo: OpDef = {
  name: "sum_to",
  doc: "x summed over the axes along which shape `to` broadcasts to it",
  shape: (inputs, attrs) => {
    const to = shapeOfTo(attrs);
    if (inputs[0] === undefined || !broadcastsTo(to, inputs[0])) throw new Error(`bug: sum_to: ${showShape(to)} does not broadcast to ${showShape(inputs[0] ?? [])}`);
    return to;
  },
  adjoint(node, dOut, g) {
    if (dOut === undefined) throw new Error("bug: sum_to as loss");
    const x = node.inputs[0] as number;
    return [g.add("broadcast", [dOut], { to: toShape(g.node(x).shape) }, g.gradName(x), node.origin)];
  },
};
