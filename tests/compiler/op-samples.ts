/**
 * One small representative node per op of the registry (a few ops get a second variant: the
 * matrix products, whose epilogues differ), built into a graph of its own, and the emission
 * context a target lowers it in. `op-goldens.test.ts` pins each target's code for them in
 * `tests/golden/ops/`; `targets.test.ts` checks that every op has a sample.
 */
import { GraphBuilder, type Attrs, type Graph, type IrNode, type IrShape } from "../../compiler/ir.js";
import { opDef } from "../../compiler/ops/registry.js";
import { numberLiteral, scratchName } from "../../compiler/codegen/names.js";

export interface OpSample {
  /** The op under test. */
  readonly op: string;
  /** `matmul` or `matmul-gather`: the golden's file name. */
  readonly id: string;
  readonly graph: Graph;
  readonly node: IrNode;
}

/** Adds the inputs a sample needs; the last node added is the sample's node. */
interface Builder {
  input(shape: IrShape, name?: string): number;
  label(shape: IrShape, name?: string): number;
  param(shape: IrShape, name: string): number;
  op(op: string, inputs: readonly number[], attrs?: Attrs, name?: string): number;
}

type Build = (b: Builder) => void;

/** A convolution's geometry attributes (`h, w, c` in, `kh × kw` window, strides, padding, `oh × ow` out). */
function geo(h: number, w: number, c: number, k: number, s: number, pad: number, oh: number, ow: number): Record<string, number> {
  return { h, w, c, kh: k, kw: k, sh: s, sw: s, pt: pad, pl: pad, oh, ow };
}

/** 5×5×2 image, 3×3 windows, `same` padding: 5×5 outputs, each window 18 values. */
const CONV = geo(5, 5, 2, 3, 1, 1, 5, 5);
/** 4×4×4 image, 2×2 windows, stride 2: 2×2 outputs, 4 channels (wasm kernels take multiples of 4). */
const POOL = geo(4, 4, 4, 2, 2, 0, 2, 2);
/** 5×5×2 image, 2×2 windows, stride 2, `same`: 3×3 outputs, the last row and column padded. */
const AVG = geo(5, 5, 2, 2, 2, 0, 3, 3);

/** 4×4×2 image, a 1×1 kernel: the image is its own window rows. */
const POINTWISE = geo(4, 4, 2, 1, 1, 0, 4, 4);

const conv = (b: Builder, act: string, bias: boolean, g: Record<string, number> = CONV): void => {
  const x = b.input(["n", g["h"]!, g["w"]!, g["c"]!]);
  const w = b.param([3, g["kh"]!, g["kw"]!, g["c"]!], "w1");
  const inputs = bias ? [x, w, b.param([3], "b1")] : [x, w];
  b.op("conv2d", inputs, { ...g, f: 3, act, bias }, "h1");
};

const activation = (op: string, attrs: Attrs = {}): Build => (b) => void b.op(op, [b.input(["n", 5])], attrs, "h1");
const loss = (op: string, attrs: Attrs = {}): Build => (b) => void b.op(op, [b.param(["n", 3], "h2"), b.label(["n", 3])], attrs, "loss");
const unary = (op: string): Build => (b) => void b.op(op, [b.input(["n", 4])], {}, "v1");

const SAMPLES: readonly (readonly [string, Build])[] = [
  // leaves and aliases: no code
  ["input", (b) => void b.input(["n", 4])],
  ["label", (b) => void b.label(["n", 2])],
  ["param", (b) => void b.param([5, 4], "w1")],
  ["reshape", (b) => void b.op("reshape", [b.input(["n", 4, 5])], { to: "n,20" }, "h1")],
  // matrix products
  ["matmul", (b) => void b.op("matmul", [b.input(["n", 4]), b.param([5, 4], "w1")], {}, "mm1")],
  ["matmul-gather", (b) => void b.op("matmul", [b.input(["n", 64]), b.param([2, 64], "w1")], {}, "mm1")],
  ["dense", (b) => void b.op("dense", [b.input(["n", 4]), b.param([5, 4], "w1"), b.param([5], "b1")], { act: "relu", bias: true }, "h1")],
  ["dense-tanh", (b) => void b.op("dense", [b.input(["n", 4]), b.param([5, 4], "w1")], { act: "tanh", bias: false }, "h1")],
  ["dense-gelu", (b) => void b.op("dense", [b.input(["n", 4]), b.param([5, 4], "w1"), b.param([5], "b1")], { act: "gelu", bias: true }, "h1")],
  ["matmul_nn", (b) => void b.op("matmul_nn", [b.param(["n", 5], "dz2"), b.param([5, 4], "w2")], {}, "dh1")],
  [
    "matmul_nn-fused",
    (b) => {
      const h = b.param(["n", 4], "h1");
      const mask = b.op("dropout_mask", [h], { rate: 0.5 }, "mask2");
      b.op("matmul_nn", [b.param(["n", 5], "dz3"), b.param([5, 4], "w3"), h, mask], { act: "relu", mask: true }, "dz1");
    },
  ],
  ["matmul_nn-elu", (b) => void b.op("matmul_nn", [b.param(["n", 5], "dz2"), b.param([5, 4], "w2"), b.param(["n", 4], "h1")], { act: "elu", alpha: 1 }, "dz1")],
  ["matmul_tn", (b) => void b.op("matmul_tn", [b.param(["n", 5], "dz1"), b.input(["n", 4])], {}, "dw1")],
  ["bias_add", (b) => void b.op("bias_add", [b.param(["n", 5], "mm1"), b.param([5], "b1")], {}, "z1")],
  ["sum_rows", (b) => void b.op("sum_rows", [b.param(["n", 5], "dz1")], {}, "db1")],
  // activations
  ["relu", activation("relu")],
  ["leaky_relu", activation("leaky_relu", { alpha: 0.2 })],
  ["elu", activation("elu", { alpha: 1 })],
  ["sigmoid", activation("sigmoid")],
  ["tanh", activation("tanh")],
  ["gelu", activation("gelu")],
  ["activation_grad", (b) => void b.op("activation_grad", [b.param(["n", 5], "dh1"), b.param(["n", 5], "h1")], { act: "leaky_relu", alpha: 0.2 }, "dz1")],
  ["softmax", activation("softmax")],
  ["softmax_grad", (b) => void b.op("softmax_grad", [b.param(["n", 5], "dh1"), b.param(["n", 5], "h1")], {}, "dz1")],
  ["dropout_mask", (b) => void b.op("dropout_mask", [b.input(["n", 5])], { rate: 0.25 }, "mask1")],
  // losses
  ["mse", loss("mse")],
  ["mae", loss("mae")],
  ["huber", loss("huber", { delta: 2 })],
  ["binary_cross_entropy", loss("binary_cross_entropy")],
  ["cross_entropy", loss("cross_entropy")],
  ["loss_grad", (b) => void b.op("loss_grad", [b.param(["n", 3], "h2"), b.label(["n", 3])], { loss: "huber", delta: 2 }, "dh2")],
  ["softmax_cross_entropy", loss("softmax_cross_entropy")],
  ["softmax_cross_entropy_grad", (b) => void b.op("softmax_cross_entropy_grad", [b.param(["n", 3], "h2"), b.label(["n", 3])], {}, "dz2")],
  ["sigmoid_bce", loss("sigmoid_bce")],
  ["sigmoid_bce_grad", (b) => void b.op("sigmoid_bce_grad", [b.param(["n", 3], "h2"), b.label(["n", 3])], {}, "dz2")],
  // convolutions and pools
  ["conv2d", (b) => conv(b, "relu", true)],
  ["conv2d-sigmoid", (b) => conv(b, "sigmoid", false)],
  ["conv2d-pointwise", (b) => conv(b, "relu", true, POINTWISE)],
  ["conv2d_dx", (b) => void b.op("conv2d_dx", [b.param(["n", 5, 5, 3], "dz1"), b.param([3, 3, 3, 2], "w1")], { ...CONV, f: 3, to: "n,5,5,2" }, "dx")],
  ["conv2d_dw", (b) => void b.op("conv2d_dw", [b.param(["n", 5, 5, 3], "dz1"), b.input(["n", 5, 5, 2])], { ...CONV, f: 3 }, "dw1")],
  ["conv2d_dw-pointwise", (b) => void b.op("conv2d_dw", [b.param(["n", 4, 4, 3], "dz1"), b.input(["n", 4, 4, 2])], { ...POINTWISE, f: 3 }, "dw1")],
  ["conv2d_db", (b) => void b.op("conv2d_db", [b.param(["n", 5, 5, 3], "dz1")], { ...CONV, f: 3 }, "db1")],
  // The positions alone (a pool computing them itself gives them no code: the next sample).
  ["maxpool2d_argmax", (b) => void b.op("maxpool2d_argmax", [b.param(["n", 4, 4, 4], "h1")], POOL, "argmax2")],
  [
    "maxpool2d",
    (b) => {
      const h = b.param(["n", 4, 4, 4], "h1");
      b.op("maxpool2d", [h, b.op("maxpool2d_argmax", [h], POOL, "argmax2")], POOL, "h2");
    },
  ],
  // Positions computed elsewhere: the values are read at them.
  ["maxpool2d-gather", (b) => void b.op("maxpool2d", [b.param(["n", 4, 4, 4], "h1"), b.param(["n", 2, 2, 4], "argmax2")], POOL, "h2")],
  ["maxpool2d_grad", (b) => void b.op("maxpool2d_grad", [b.param(["n", 2, 2, 4], "dh2"), b.param(["n", 2, 2, 4], "argmax2")], { ...POOL, to: "n,4,4,4" }, "dh1")],
  ["avgpool2d", (b) => void b.op("avgpool2d", [b.param(["n", 5, 5, 2], "h1")], AVG, "h2")],
  ["avgpool2d_grad", (b) => void b.op("avgpool2d_grad", [b.param(["n", 3, 3, 2], "dh2")], { ...AVG, to: "n,5,5,2" }, "dh1")],
  // batch normalization
  ["batchnorm_stats", (b) => void b.op("batchnorm_stats", [b.param(["n", 4, 4, 3], "h1"), b.param([3], "mean2"), b.param([3], "var2")], { c: 3, p: 16, momentum: 0.9, epsilon: 0.001 }, "s2")],
  ["batchnorm", (b) => void b.op("batchnorm", [b.param(["n", 4, 4, 3], "h1"), b.param([2, 3], "s2"), b.param([3], "gamma2"), b.param([3], "beta2")], { c: 3, p: 16 }, "h2")],
  ["batchnorm_dgamma", (b) => void b.op("batchnorm_dgamma", [b.param(["n", 4, 4, 3], "dh2"), b.param(["n", 4, 4, 3], "h1"), b.param([2, 3], "s2")], { c: 3, p: 16 }, "dgamma2")],
  ["batchnorm_dbeta", (b) => void b.op("batchnorm_dbeta", [b.param(["n", 4, 4, 3], "dh2")], { c: 3, p: 16 }, "dbeta2")],
  [
    "batchnorm_dx",
    (b) => {
      const ins = [b.param(["n", 4, 4, 3], "dh2"), b.param(["n", 4, 4, 3], "h1"), b.param([2, 3], "s2"), b.param([3], "gamma2"), b.param([3], "dgamma2"), b.param([3], "dbeta2")];
      b.op("batchnorm_dx", ins, { c: 3, p: 16 }, "dh1");
    },
  ],
  // primitives
  ["add", (b) => void b.op("add", [b.input(["n", 3, 4]), b.param([4], "p1")], {}, "v1")],
  ["sub", (b) => void b.op("sub", [b.input(["n", 4]), b.param(["n", 4], "p1")], {}, "v1")],
  ["mul", (b) => void b.op("mul", [b.input(["n", 3, 4]), b.param([3, 1], "p1")], {}, "v1")],
  // By a dropout mask (the dropout layer): a copy at inference, where the mask is not computed.
  [
    "mul-dropout",
    (b) => {
      const x = b.input(["n", 5]);
      b.op("mul", [x, b.op("dropout_mask", [x], { rate: 0.25 }, "mask1")], {}, "h1");
    },
  ],
  ["div", (b) => void b.op("div", [b.input(["n", 4]), b.op("constant", [], { value: 4 }, "c1")], {}, "v1")],
  ["constant", (b) => void b.op("constant", [], { value: 0.5 }, "c1")],
  ["neg", unary("neg")],
  ["nonzero", unary("nonzero")],
  ["exp", unary("exp")],
  ["log", unary("log")],
  ["rsqrt", unary("rsqrt")],
  ["sum", (b) => void b.op("sum", [b.input(["n", 3, 4])], { axis: 1 }, "v1")],
  ["mean", (b) => void b.op("mean", [b.input(["n", 3, 4])], { axis: 2 }, "v1")],
  ["broadcast", (b) => void b.op("broadcast", [b.param([3, 1], "p1")], { to: "n,3,4" }, "v1")],
  ["sum_to", (b) => void b.op("sum_to", [b.input(["n", 3, 4])], { to: "3,1" }, "v1")],
  ["concat", (b) => void b.op("concat", [b.input(["n", 2, 3]), b.param(["n", 4, 3], "p1")], { axis: 1 }, "v1")],
  ["slice", (b) => void b.op("slice", [b.input(["n", 4, 3])], { axis: 1, start: 1, end: 3 }, "v1")],
  ["slice_grad", (b) => void b.op("slice_grad", [b.param(["n", 2, 3], "dv1")], { axis: 1, start: 1, end: 3, to: "n,4,3" }, "dx")],
  ["transpose", (b) => void b.op("transpose", [b.input(["n", 3, 4])], { perm: "0,2,1" }, "v1")],
  ["gather", (b) => void b.op("gather", [b.param([6, 3], "table1"), b.input(["n", 2])], {}, "v1")],
  ["scatter_add", (b) => void b.op("scatter_add", [b.param(["n", 2, 3], "dv1"), b.input(["n", 2])], { to: "6,3" }, "dtable1")],
  ["bmm", (b) => void b.op("bmm", [b.input(["n", 2, 3, 4]), b.param(["n", 2, 5, 4], "k1")], { ta: 0, tb: 1 }, "scores1")],
  ["causal_mask", (b) => void b.op("causal_mask", [b.input(["n", 2, 3, 3])], {}, "masked1")],
  // recurrent layers: T = 3 steps, H = 2 units
  ["recurrent_scan", (b) => void b.op("recurrent_scan", [b.input(["n", 3, 8]), b.param([8, 2], "wh1"), b.param(["n", 3, 1], "m1")], { cell: "lstm", units: 2, reverse: 0, masked: 1 }, "tape1")],
  ["recurrent_scan_gru", (b) => void b.op("recurrent_scan", [b.input(["n", 3, 6]), b.param([6, 2], "wh1"), b.param([6], "bh1")], { cell: "gru", units: 2, reverse: 1, masked: 0 }, "tape1")],
  ["recurrent_states", (b) => void b.op("recurrent_states", [b.input(["n", 3, 12]), b.param(["n", 3, 8], "zx1"), b.param([8, 2], "wh1")], { cell: "lstm", units: 2, reverse: 0, masked: 0, last: 1 }, "h1")],
  ["recurrent_scan_grad", (b) => void b.op("recurrent_scan_grad", [b.input(["n", 3, 2]), b.param(["n", 3, 12], "tape1"), b.param([8, 2], "wh1"), b.param(["n", 3, 1], "m1")], { cell: "lstm", units: 2, reverse: 0, masked: 1, last: 0 }, "dzx1")],
  ["recurrent_scan_grad_gru", (b) => void b.op("recurrent_scan_grad", [b.input(["n", 2]), b.param(["n", 3, 14], "tape1"), b.param([6, 2], "wh1")], { cell: "gru", units: 2, reverse: 1, masked: 0, last: 1 }, "dzx1")],
  ["recurrent_dwh", (b) => void b.op("recurrent_dwh", [b.input(["n", 3, 8]), b.param(["n", 3, 12], "tape1")], { cell: "lstm", units: 2, reverse: 0, masked: 0 }, "dwh1")],
];

function build(id: string, f: Build): OpSample {
  const g = new GraphBuilder();
  const leaf = (op: string, shape: IrShape, name: string): number => g.add({ op, inputs: [], shape, name, phase: "forward" });
  let count = 0;
  const b: Builder = {
    input: (shape, name = "x") => leaf("input", shape, name),
    label: (shape, name = "y") => leaf("label", shape, name),
    param: (shape, name) => leaf("param", shape, name),
    op: (op, inputs, attrs = {}, name = `v${++count}`) => {
      const shape = opDef(op).shape(
        inputs.map((i) => g.node(i).shape),
        attrs,
      );
      return g.add({ op, inputs, shape, attrs, name, phase: "forward", dtype: opDef(op).dtype });
    },
  };
  f(b);
  const last = g.size - 1;
  const graph = g.finish(last, last);
  const node = graph.nodes[last] as IrNode;
  return { op: node.op, id, graph, node };
}

/** Every sample, in a stable order. */
export function opSamples(): OpSample[] {
  return SAMPLES.map(([id, f]) => build(id, f));
}

/**
 * The fields of the emission context for a sample's graph: every node's buffer is its name
 * (a loss writes `value`), scratch memory is `<node><Role>` (the sample's node: the last one),
 * the names of the generator's locals as `module.ts` gives them.
 */
export function sampleContext(graph: Graph) {
  const node = (id: number): IrNode => {
    const n = graph.nodes[id];
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  };
  const last = graph.nodes[graph.nodes.length - 1] as IrNode;
  return {
    ref: (id: number): string => (node(id).shape.length === 0 ? "value" : node(id).name),
    scratch: (role: string): string => scratchName(last.name, role),
    maxBatch: 4,
    num: numberLiteral,
    node,
    readers: (id: number): IrNode[] => graph.nodes.filter((n) => n.inputs.includes(id)),
    rand: "rand",
    lossVar: "value",
    training: "training",
  };
}
