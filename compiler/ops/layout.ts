/**
 * Layout primitives: concat (along one axis), slice (a range of one axis), slice_grad (a slice's
 * adjoint: dy placed back in a zeroed tensor of the input's shape) and transpose (a permutation
 * of the axes). None of them may move or cut the batch axis. (`reshape` is in its own file.) `sliceRange` and `permOf` read and check the attributes
 * (for the targets too).
 */
import type { Attrs, Dim, IrShape } from "../ir.js";
import { showShape } from "../ir.js";
import type { OpDef } from "./types.js";
import { attrNum, attrStr, shapeOfTo, toShape } from "./types.js";

function fail(op: string, why: string): never {
  throw new Error(`bug: ${op}: ${why}`);
}

/** Checks that `axis` is an axis of `shape` other than the batch axis. */
function cutAxis(op: string, shape: IrShape, attrs: Attrs): number {
  const axis = attrNum(attrs, "axis");
  if (!Number.isInteger(axis) || axis < 0 || axis >= shape.length) fail(op, `axis ${axis} is not an axis of ${showShape(shape)}`);
  if (shape[axis] === "n") fail(op, "cannot work along the batch axis");
  return axis;
}

/** concat(x₁, …, x_k) along `axis` (not the batch axis). Adjoint: a slice of dy per input. */
export const concat: OpDef = {
  name: "concat",
  doc: "the inputs side by side along one axis",
  shape: (inputs, attrs) => {
    const first = inputs[0];
    if (first === undefined) fail("concat", "no inputs");
    const axis = cutAxis("concat", first, attrs);
    let width = 0;
    for (const s of inputs) {
      if (s.length !== first.length || s.some((d, k) => k !== axis && d !== first[k])) fail("concat", `${inputs.map(showShape).join(", ")} differ off axis ${axis}`);
      width += s[axis] as number;
    }
    return first.map((d, k): Dim => (k === axis ? width : d));
  },
  adjoint(node, dOut, g) {
    if (dOut === undefined) fail("concat", "as loss");
    const axis = attrNum(node.attrs, "axis");
    let start = 0;
    return node.inputs.map((id) => {
      const end = start + (g.node(id).shape[axis] as number);
      const slice = g.needsGrad(id) ? g.add("slice", [dOut], { axis, start, end }, g.gradName(id), node.origin) : undefined;
      start = end;
      return slice;
    });
  },
};

/** The range [start, end) of `axis` that a slice or slice_grad names, checked against `shape`. */
export function sliceRange(op: string, shape: IrShape, attrs: Attrs): { axis: number; start: number; end: number } {
  const axis = cutAxis(op, shape, attrs);
  const start = attrNum(attrs, "start");
  const end = attrNum(attrs, "end");
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end <= start || end > (shape[axis] as number)) {
    fail(op, `[${start}, ${end}) is not a non-empty range of axis ${axis} of ${showShape(shape)}`);
  }
  return { axis, start, end };
}

/** slice(x) = x[…, start:end, …] along `axis` (not the batch axis). Adjoint: slice_grad, dy placed back among zeros. */
export const slice: OpDef = {
  name: "slice",
  doc: "the range [start, end) of one axis",
  shape: (inputs, attrs) => {
    const { axis, start, end } = sliceRange("slice", inputs[0] ?? [], attrs);
    return (inputs[0] as IrShape).map((d, k): Dim => (k === axis ? end - start : d));
  },
  adjoint(node, dOut, g) {
    if (dOut === undefined) fail("slice", "as loss");
    const x = node.inputs[0] as number;
    const { axis, start, end } = sliceRange("slice", g.node(x).shape, node.attrs);
    return [g.add("slice_grad", [dOut], { axis, start, end, to: toShape(g.node(x).shape) }, g.gradName(x), node.origin)];
  },
};

/** slice_grad(dy) of shape `to`: zeros, with dy at [start, end) of `axis` (a slice's adjoint). Adjoint: the slice of its dy. */
export const sliceGrad: OpDef = {
  name: "slice_grad",
  doc: "dy placed at [start, end) of one axis of a zeroed tensor of shape `to`",
  shape: (inputs, attrs) => {
    const to = shapeOfTo(attrs);
    const { axis, start, end } = sliceRange("slice_grad", to, attrs);
    const dy = inputs[0] ?? [];
    if (dy.length !== to.length || dy.some((d, k) => d !== (k === axis ? end - start : to[k]))) fail("slice_grad", `${showShape(dy)} is not a [${start}, ${end}) slice of ${showShape(to)}`);
    return to;
  },
  adjoint(node, dOut, g) {
    if (dOut === undefined) fail("slice_grad", "as loss");
    const dy = node.inputs[0] as number;
    const { axis, start, end } = sliceRange("slice_grad", node.shape, node.attrs);
    return [g.add("slice", [dOut], { axis, start, end }, g.gradName(dy), node.origin)];
  },
};

/** The permutation a `perm` attribute names ("0,2,1"), checked against a rank; the batch axis stays first. */
export function permOf(attrs: Attrs, shape: IrShape): number[] {
  const perm = attrStr(attrs, "perm").split(",").map(Number);
  const ok = perm.length === shape.length && [...perm].sort((a, b) => a - b).every((p, k) => p === k);
  if (!ok) fail("transpose", `perm "${attrStr(attrs, "perm")}" is not a permutation of the ${shape.length} axes of ${showShape(shape)}`);
  if (shape[0] === "n" && perm[0] !== 0) fail("transpose", "the batch axis must stay first");
  return perm;
}

/** transpose(x): out axis k is x's axis perm[k] (`perm`: all axes, comma-separated, batch axis first). Adjoint: the inverse permutation. */
export const transpose: OpDef = {
  name: "transpose",
  doc: "the axes of x permuted: out axis k = x axis perm[k]",
  shape: (inputs, attrs) => {
    const x = inputs[0] ?? [];
    return permOf(attrs, x).map((p) => x[p] as Dim);
  },
  adjoint(node, dOut, g) {
    if (dOut === undefined) fail("transpose", "as loss");
    const x = node.inputs[0] as number;
    const perm = permOf(node.attrs, g.node(x).shape);
    const inverse = perm.map((_, k) => perm.indexOf(k));
    return [g.add("transpose", [dOut], { perm: inverse.join(",") }, g.gradName(x), node.origin)];
  },
};
