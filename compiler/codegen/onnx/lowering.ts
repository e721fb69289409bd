/**
 * The ONNX target's lowering table: op name → the ONNX nodes (opset 17) computing it, for every
 * op that can appear in an inference graph; and `ONNX_REFUSED`, op name → why it has no ONNX
 * form (a loss, a gradient, an op only fusion makes). `tests/compiler/onnx.test.ts` fails when
 * an op of the registry is in neither, or in both.
 *
 * Layout: nnc keeps images NHWC, ONNX's Conv and pools read NCHW. A value has up to two ONNX
 * names, its NHWC one (`ctx.ref`) and its NCHW one (`ctx.nchw`), each made from the other on
 * demand by a Transpose (a [n, H, W] image is one channel: Unsqueeze/Squeeze). A convolution,
 * a pool or a batchnorm over an image hands back its NCHW value (`{ nchw }`), and so do an
 * activation or a residual `add` over such values (`inPlaceLayout`), so the next one reads it
 * without a transpose between; only values read in nnc's layout (flatten, dense, …) are
 * transposed back. Weights are stored in the layout their ONNX op reads (Conv: [F, C, KH, KW],
 * as PyTorch's Conv2d).
 */
import type { IrNode } from "../../ir.js";
import { attrNum, attrStr, alphaOf, shapeOfTo } from "../../ops/types.js";
import { geometryOf, pointwise } from "../../ops/conv_geometry.js";
import { permOf, sliceRange } from "../../ops/layout.js";
import { bmmDims } from "../../ops/bmm.js";
import { tableShape } from "../../ops/gather.js";
import { LOSS_KINDS } from "../../ops/losses.js";
import { float, int, ints, INT64, type OnnxAttrs } from "./graph.js";
import type { Lowered, OnnxContext, OnnxLowering } from "./context.js";
import { RECURRENT } from "./recurrent.js";

const input = (node: IrNode, k = 0): number => node.inputs[k] as number;
const unary =
  (opType: string): OnnxLowering =>
  (node, ctx) =>
    ctx.emit(opType, [ctx.ref(input(node))]);
const binary =
  (opType: string): OnnxLowering =>
  (node, ctx) =>
    ctx.emit(opType, [ctx.ref(input(node)), ctx.ref(input(node, 1))]);

/** Whether `node` is a parameter seen through reshapes (its values are an initializer's: `ctx.weight`). */
function paramView(node: IrNode, ctx: OnnxContext): boolean {
  let n = node;
  while (n.op === "reshape") n = ctx.node(input(n));
  return n.op === "param";
}

/** A shape for Reshape: the batch dim `n` as 0 (ONNX: "as the input's", the batch leads both). */
const reshapeDims = (shape: readonly (number | "n")[]): number[] => shape.map((d) => (d === "n" ? 0 : d));

/** 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))): nnc's gelu (the tanh form; ONNX's Gelu is opset 20). */
function gelu(x: string, ctx: OnnxContext, last?: string): string {
  const cube = ctx.emit("Mul", [ctx.emit("Mul", [x, x], {}, "x2"), x], {}, "x3");
  const inner = ctx.emit("Add", [x, ctx.emit("Mul", [cube, ctx.scalar(0.044715)], {}, "cubic")], {}, "inner");
  const t = ctx.emit("Tanh", [ctx.emit("Mul", [inner, ctx.scalar(Math.sqrt(2 / Math.PI))], {}, "scaled")], {}, "tanh");
  const half = ctx.emit("Mul", [x, ctx.emit("Add", [t, ctx.scalar(1)], {}, "onePlus")], {}, "xTimes");
  return ctx.emit("Mul", [half, ctx.scalar(0.5)], {}, last);
}

/** `kind(x)` for an elementwise activation (`alpha` for leaky_relu and elu); `last` names the final node after the IR node. */
function activate(kind: string, alpha: number, x: string, ctx: OnnxContext, last?: string): string {
  switch (kind) {
    case "linear":
      return x;
    case "relu":
      return ctx.emit("Relu", [x], {}, last);
    case "leaky_relu":
      return ctx.emit("LeakyRelu", [x], { alpha: float(alpha) }, last);
    case "elu":
      return ctx.emit("Elu", [x], { alpha: float(alpha) }, last);
    case "sigmoid":
      return ctx.emit("Sigmoid", [x], {}, last);
    case "tanh":
      return ctx.emit("Tanh", [x], {}, last);
    case "gelu":
      return gelu(x, ctx, last);
    default:
      throw new Error(`bug: the ONNX target has no activation ${kind}`);
  }
}

/** Kernel, strides and explicit pads [top, left, bottom, right] of a window op (TensorFlow's `same` is asymmetric: the larger half below and right). */
function windowAttrs(node: IrNode): OnnxAttrs {
  const g = geometryOf(node.attrs);
  const pb = Math.max(0, (g.oh - 1) * g.sh + g.kh - g.h - g.pt);
  const pr = Math.max(0, (g.ow - 1) * g.sw + g.kw - g.w - g.pl);
  return { kernel_shape: ints([g.kh, g.kw]), strides: ints([g.sh, g.sw]), pads: ints([g.pt, g.pl, pb, pr]) };
}

/**
 * An elementwise op whose operands all exist as NCHW only, with one shape (a residual `add`
 * after two convolutions, an activation after a batchnorm): computed in NCHW, so the next Conv
 * reads it without a Transpose there and back. `op(names, part)` makes the nodes.
 */
function inPlaceLayout(node: IrNode, ctx: OnnxContext, op: (names: readonly string[], part?: string) => string): Lowered {
  const shape = node.shape.join(",");
  const nchw = node.inputs.map((i) => (ctx.node(i).shape.join(",") === shape ? ctx.nchwOnly(i) : undefined));
  if (node.shape.length === 4 && nchw.every((n) => n !== undefined)) return { nchw: op(nchw as string[], "nchw") };
  return op(node.inputs.map((i) => ctx.ref(i)));
}

const ACTIVATIONS: Readonly<Record<string, OnnxLowering>> = Object.fromEntries(
  ["relu", "leaky_relu", "elu", "sigmoid", "tanh", "gelu"].map((kind) => [kind, (node: IrNode, ctx: OnnxContext) => inPlaceLayout(node, ctx, ([x], part) => activate(kind, alphaOf(node.attrs), x as string, ctx, part))]),
);

const LOWERINGS: Readonly<Record<string, OnnxLowering>> = {
  ...ACTIVATIONS,
  // lstm and gru: the loop over the steps, unrolled (`recurrent.ts`)
  ...RECURRENT,

  // ── leaves and aliases ──
  input: (node, ctx) => ctx.modelInput(node.id),
  param: (node, ctx) => ctx.weight(node.id, node.shape as number[], node.shape.map((_, k) => k)),
  reshape(node, ctx) {
    if (paramView(node, ctx)) return ctx.weight(node.id, node.shape as number[], node.shape.map((_, k) => k));
    return ctx.emit("Reshape", [ctx.ref(input(node)), ctx.int64s(reshapeDims(node.shape), "shape")]);
  },

  // ── dense layers: x·wᵀ with w [units, inputs] (PyTorch's Linear, exported as PyTorch does) ──
  matmul: (node, ctx) => ctx.emit("Gemm", [ctx.ref(input(node)), ctx.ref(input(node, 1))], { transB: int(1) }),
  bias_add: binary("Add"),
  softmax: (node, ctx) => ctx.emit("Softmax", [ctx.ref(input(node))], { axis: int(-1) }),
  // Inference: the mask is all ones (and the `mul` reading it hands its other operand on).
  dropout_mask: (_node, ctx) => ctx.scalar(1),

  // ── the convolutional family ──
  conv2d(node, ctx) {
    const g = geometryOf(node.attrs);
    const f = attrNum(node.attrs, "f");
    const [x, w, b] = node.inputs as [number, number, number | undefined];
    const act = typeof node.attrs["act"] === "string" ? attrStr(node.attrs, "act") : "linear";
    const alpha = alphaOf(node.attrs);
    if (pointwise(g) && ctx.node(x).shape.length === 4) {
      // A 1×1 kernel over every pixel (dense at every step of a sequence): a product in nnc's layout, no transposes.
      const z = ctx.emit("MatMul", [ctx.ref(x), ctx.weight(w, [f, g.c], [1, 0])], {}, act === "linear" && b === undefined ? undefined : "product");
      const biased = b === undefined ? z : ctx.emit("Add", [z, ctx.ref(b)], {}, act === "linear" ? undefined : "biased");
      return activate(act, alpha, biased, ctx);
    }
    const filters = ctx.weight(w, [f, g.kh, g.kw, g.c], [0, 3, 1, 2]);
    const conv = ctx.emit("Conv", [ctx.nchw(x), filters, ...(b !== undefined ? [ctx.ref(b)] : [])], windowAttrs(node), act === "linear" ? "nchw" : "conv");
    return { nchw: act === "linear" ? conv : activate(act, alpha, conv, ctx, "nchw") };
  },
  // Computed by the maxpool2d reading it.
  maxpool2d_argmax: () => undefined,
  maxpool2d: (node, ctx) => ({ nchw: ctx.emit("MaxPool", [ctx.nchw(input(node))], windowAttrs(node), "nchw") }),
  // count_include_pad 0: a window at the border averages the pixels inside the image only, as nnc (and TensorFlow) do.
  avgpool2d: (node, ctx) => ({ nchw: ctx.emit("AveragePool", [ctx.nchw(input(node))], { ...windowAttrs(node), count_include_pad: int(0) }, "nchw") }),
  // Inference: the running statistics, which batchnorm reads itself.
  batchnorm_stats: () => undefined,
  batchnorm(node, ctx) {
    const [x, statsId, gamma, beta] = node.inputs as [number, number, number, number];
    const stats = ctx.node(statsId);
    const [, mean, variance] = stats.inputs as [number, number, number];
    const attrs = { epsilon: float(attrNum(stats.attrs, "epsilon")) };
    const params = [ctx.ref(gamma), ctx.ref(beta), ctx.ref(mean), ctx.ref(variance)];
    // Channels on axis 1: a flat [n, C] as it is, an image as NCHW.
    if (ctx.node(x).shape.length === 2) return ctx.emit("BatchNormalization", [ctx.ref(x), ...params], attrs);
    return { nchw: ctx.emit("BatchNormalization", [ctx.nchw(x), ...params], attrs, "nchw") };
  },

  // ── primitives ──
  add: (node, ctx) => inPlaceLayout(node, ctx, (ins, part) => ctx.emit("Add", ins, {}, part)),
  sub: binary("Sub"),
  mul(node, ctx) {
    const [a, b] = node.inputs as [number, number];
    const other = ctx.node(b).op === "dropout_mask" ? a : ctx.node(a).op === "dropout_mask" ? b : undefined;
    return other !== undefined ? ctx.ref(other) : binary("Mul")(node, ctx);
  },
  div: binary("Div"),
  constant: (node, ctx) => ctx.scalar(attrNum(node.attrs, "value")),
  neg: unary("Neg"),
  nonzero: (node, ctx) => ctx.emit("Cast", [ctx.emit("Not", [ctx.emit("Equal", [ctx.ref(input(node)), ctx.scalar(0)], {}, "zero")], {}, "nonzero")], { to: int(1) }),
  exp: unary("Exp"),
  log: unary("Log"),
  rsqrt: (node, ctx) => ctx.emit("Reciprocal", [ctx.emit("Sqrt", [ctx.ref(input(node))], {}, "sqrt")]),
  sum: (node, ctx) => ctx.emit("ReduceSum", [ctx.ref(input(node)), ctx.int64s([attrNum(node.attrs, "axis")], "axes")], { keepdims: int(1) }),
  // Opset 17's ReduceMean takes its axes as an attribute (an input from opset 18).
  mean: (node, ctx) => ctx.emit("ReduceMean", [ctx.ref(input(node))], { axes: ints([attrNum(node.attrs, "axis")]), keepdims: int(1) }),
  broadcast: (node, ctx) => ctx.emit("Expand", [ctx.ref(input(node)), ctx.int64s(node.shape.map((d) => (d === "n" ? 1 : d)), "shape")]),
  sum_to(node, ctx) {
    const from = ctx.node(input(node)).shape;
    const to = shapeOfTo(node.attrs);
    const lead = from.length - to.length;
    const axes = from.map((_, k) => k).filter((k) => k < lead || (to[k - lead] === 1 && from[k] !== 1));
    const summed = axes.length === 0 ? ctx.ref(input(node)) : ctx.emit("ReduceSum", [ctx.ref(input(node)), ctx.int64s(axes, "axes")], { keepdims: int(1) }, "summed");
    return ctx.emit("Reshape", [summed, ctx.int64s(reshapeDims(to), "shape")]);
  },
  concat: (node, ctx) => ctx.emit("Concat", node.inputs.map((i) => ctx.ref(i)), { axis: int(attrNum(node.attrs, "axis")) }),
  slice(node, ctx) {
    const bound = ctx.modelInput(node.id);
    if (bound !== undefined) return bound;
    const { axis, start, end } = sliceRange("slice", ctx.node(input(node)).shape, node.attrs);
    return ctx.emit("Slice", [ctx.ref(input(node)), ctx.int64s([start], "starts"), ctx.int64s([end], "ends"), ctx.int64s([axis], "axes")]);
  },
  transpose: (node, ctx) => ctx.emit("Transpose", [ctx.ref(input(node))], { perm: ints(permOf(node.attrs, ctx.node(input(node)).shape)) }),
  // Ids are floats rounded to the nearest whole number (Math.round: ⌊x + ½⌋); an id outside
  // [0, V) reads a row of zeros, as in nnc, where ONNX's Gather would fail.
  gather(node, ctx) {
    const [table, idx] = node.inputs as [number, number];
    const [v] = tableShape("gather", ctx.node(table).shape);
    const ids = ctx.emit("Floor", [ctx.emit("Add", [ctx.ref(idx), ctx.scalar(0.5)], {}, "half")], {}, "rounded");
    const inside = ctx.emit("And", [ctx.emit("GreaterOrEqual", [ids, ctx.scalar(0)], {}, "atLeast0"), ctx.emit("Less", [ids, ctx.scalar(v)], {}, "belowV")], {}, "inside");
    const safe = ctx.emit("Cast", [ctx.emit("Where", [inside, ids, ctx.scalar(0)], {}, "clamped")], { to: int(INT64) }, "ids");
    const rows = ctx.emit("Gather", [ctx.ref(table), safe], { axis: int(0) }, "rows");
    const keep = ctx.emit("Unsqueeze", [ctx.emit("Cast", [inside], { to: int(1) }, "keep"), ctx.int64s([-1], "last")], {}, "keepRows");
    return ctx.emit("Mul", [rows, keep]);
  },

  // ── attention ──
  bmm(node, ctx) {
    const [a, b] = node.inputs as [number, number];
    const { ta, tb } = bmmDims(ctx.node(a).shape, ctx.node(b).shape, node.attrs);
    const rank = node.shape.length;
    const swap = [...Array(rank - 2).keys(), rank - 1, rank - 2];
    const side = (id: number, t: boolean, part: string): string => (t ? ctx.emit("Transpose", [ctx.ref(id)], { perm: ints(swap) }, part) : ctx.ref(id));
    return ctx.emit("MatMul", [side(a, ta, "aT"), side(b, tb, "bT")]);
  },
  causal_mask(node, ctx) {
    const t = node.shape[node.shape.length - 1] as number;
    const lower = Array.from({ length: t * t }, (_, p) => (p % t <= Math.floor(p / t) ? 1 : 0));
    const fill = node.attrs["grad"] === 1 ? 0 : -Infinity;
    return ctx.emit("Where", [ctx.bools([t, t], lower, "causal"), ctx.ref(input(node)), ctx.scalar(fill)]);
  },
};

/** Op name → its ONNX lowering. */
export const ONNX_LOWERINGS: ReadonlyMap<string, OnnxLowering> = new Map(Object.entries(LOWERINGS));

const BACKWARD = "is a gradient, and an ONNX model is for inference";
const LOSS = "is a loss, which needs labels: an ONNX model is for inference";

/** Op name → why it has no ONNX form (shown in NN3040). None of these is in an inference graph today. */
export const ONNX_REFUSED: ReadonlyMap<string, string> = new Map([
  ["label", "holds the labels, which only the loss reads"],
  ...[...LOSS_KINDS, "softmax_cross_entropy", "sigmoid_bce"].map((op): [string, string] => [op, LOSS]),
  ...[
    "matmul_nn",
    "matmul_tn",
    "sum_rows",
    "activation_grad",
    "softmax_grad",
    "loss_grad",
    "softmax_cross_entropy_grad",
    "sigmoid_bce_grad",
    "conv2d_dx",
    "conv2d_dw",
    "conv2d_db",
    "maxpool2d_grad",
    "avgpool2d_grad",
    "batchnorm_dgamma",
    "batchnorm_dbeta",
    "batchnorm_dx",
    "slice_grad",
    "scatter_add",
    "recurrent_scan_grad",
    "recurrent_dwh",
  ].map((op): [string, string] => [op, BACKWARD]),
  ["dense", "is made by fusion, and the ONNX target lowers the unfused graph"],
]);

