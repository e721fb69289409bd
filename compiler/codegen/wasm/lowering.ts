/**
 * The WebAssembly target's lowering table (`kernels: "wasm"`): op name → the call of a SIMD
 * kernel, for the ops that have kernels — the matrix products (attention's `bmm` too), the convolutions (each
 * unfolding its windows itself, one sample at a time: `conv.ts`), max pooling, a
 * convolution's input gradient, softmax, its gradient and the causal mask (`rows.ts`), and the
 * elementwise, layout and reduction ops as loop nests (`pointwise-ops.ts`). A lowering returns undefined when these settings have no
 * kernel (an epilogue the kernels lack, windows too wide to unroll, a buffer outside the
 * memory, …): then the node gets its TypeScript lowering (`ts/lowering.ts`). Every other op is
 * named in `TS_FALLBACK`: an op in neither list is a bug, never a silent fallback
 * (`tests/compiler/targets.test.ts` checks both lists against the registry).
 *
 * The kernels are `WasmKernels` (`module.ts`), which register each kernel and return its call;
 * the requests they take are declared here and in `products.ts`, `rows.ts` and `pointwise.ts`.
 */
import type { IrNode } from "../../ir.js";
import type { Geometry } from "../../ops/conv_geometry.js";
import { geometryOf, pointwise } from "../../ops/conv_geometry.js";
import { attrNum, attrStr } from "../../ops/types.js";
import { poolComputesArgmax } from "../../ops/registry.js";
import type { EmitContext } from "../ts/context.js";
import { productOf } from "../ts/products.js";
import { kernelRequest, type KernelRequest } from "./products.js";
import { POINTWISE_LOWERINGS, type NestKernels } from "./pointwise-ops.js";
import { disjointWindows } from "./pooling.js";
import { lowerRows, type RowKernels } from "./rows.js";
import { recurrentWithKernels, type CellGradRequest, type CellRequest, type StepProduct } from "../ts/recurrent.js";

export type { KernelRequest } from "./products.js";

/** A max-pooling layer for `WasmKernels.maxpool`: buffers and geometry (NHWC). */
export interface PoolRequest extends Geometry {
  readonly x: string;
  readonly out: string;
  /** Where each maximum came from, within its sample (an int32 buffer). */
  readonly arg: string;
}

/** A max pool's gradient for `WasmKernels.maxpoolGrad`: dy and the argmax laid out like the pool's output, dx like its input. */
export interface PoolGradRequest extends Geometry {
  readonly dy: string;
  readonly arg: string;
  readonly dx: string;
  /** The saved ReLU output (laid out like dx) whose gradient the kernel applies too. */
  readonly reluGradOf?: string;
}

/**
 * A convolution's product over one sample's windows at a time, for `WasmKernels.conv`: the
 * kernel unfolds each sample's windows of `image` into `windows` (scratch), then runs
 * `product` — one sample's, reading `windows` as A (conv2d) or B (conv2d_dw).
 */
export interface ConvRequest extends Geometry {
  readonly image: string;
  readonly windows: string;
  readonly product: KernelRequest;
  /** conv2d_dw whose dz is mostly zeros (`poolSparse`): the kernel multiplies its non-zero values alone. */
  readonly sparse?: boolean;
}

/** A convolution's input gradient for `WasmKernels.convDx`: dz [n, OH, OW, F], w [F, KH, KW, C] → dx. */
export interface ConvDxRequest extends Geometry {
  readonly dz: string;
  /** The filters (not `w`: that is the image width). */
  readonly weights: string;
  readonly dx: string;
  /** Filters. */
  readonly f: number;
  /** dz is mostly zeros (`poolSparse`): the kernel multiplies its non-zero values alone. */
  readonly sparse?: boolean;
}

/** What the lowerings ask of the kernels: each registers a kernel and returns its call, or returns undefined. */
export interface Kernels extends NestKernels, RowKernels {
  request(r: KernelRequest): string | undefined;
  conv(r: ConvRequest): string | undefined;
  maxpool(r: PoolRequest): string | undefined;
  maxpoolGrad(r: PoolGradRequest): string | undefined;
  /** The pool gradients (by buffer) whose kernel applied ReLU's gradient too, with the saved output's buffer. */
  readonly reluApplied: ReadonlyMap<string, string>;
  convDx(r: ConvDxRequest): string | undefined;
  /** `per` products per sample (bmm: one per head), their operands shifted by `KernelRequest.sample`. */
  bmm(r: KernelRequest, per: number): string | undefined;
  /** A recurrent layer's product for the step `index` (an expression), called from the node's TypeScript loop. */
  step(p: StepProduct, index: string): string | undefined;
  /** A recurrent cell (LSTM or GRU) for the steps after the first (called with `n, t, p` from the node's loop). */
  cell(r: CellRequest): string | undefined;
  /** The backward cell, likewise. */
  cellGrad(r: CellGradRequest): string | undefined;
}

/** The wasm lowering of one op: the statements calling its kernels, or undefined for "use the TypeScript lowering". */
export type WasmLowering = (node: IrNode, ctx: EmitContext, kernels: Kernels) => string | undefined;

/** A matrix product as one kernel, when the kernels have its epilogue. */
const product: WasmLowering = (node, ctx, kernels) => {
  const r = kernelRequest(productOf(node, ctx));
  return r !== undefined ? kernels.request(r) : undefined;
};

/**
 * conv2d and conv2d_dw: one kernel that unfolds each sample's windows and runs the product
 * over them; a pointwise kernel reads the image as its rows, a plain product.
 */
const convolution: WasmLowering = (node, ctx, kernels) => {
  const g = geometryOf(node.attrs);
  const p = productOf(node, ctx);
  const r = kernelRequest(p);
  if (r === undefined) return undefined;
  if (pointwise(g)) return kernels.request(r);
  const forward = node.op === "conv2d";
  const image = node.inputs[forward ? 0 : 1] as number;
  const sparse = !forward && poolSparse(node.inputs[0] as number, ctx);
  return kernels.conv({ ...g, image: ctx.ref(image), windows: forward ? p.a : p.b, product: r, ...(sparse ? { sparse } : {}) });
};

/**
 * Whether the gradient `id` is a max pool's gradient with disjoint windows of 4 pixels or more
 * (each window passes one value per channel: 3 in 4 or more are zeros), or ReLU's gradient of
 * one (more zeros).
 */
function poolSparse(id: number, ctx: EmitContext): boolean {
  let d = ctx.node(id);
  if (d.op === "activation_grad" && attrStr(d.attrs, "act") === "relu") d = ctx.node(d.inputs[0] as number);
  if (d.op !== "maxpool2d_grad") return false;
  const g = geometryOf(d.attrs);
  return disjointWindows(g) && g.kh * g.kw >= 4;
}

/**
 * The saved output whose ReLU gradient a max pool's gradient applies too: when ReLU's gradient
 * (`activation_grad`) of the layer before the pool is the pool gradient's only reader, and the
 * pool's windows are disjoint (each position written once). That reader then copies (or, placed
 * over its input, does nothing).
 */
function reluAfter(node: IrNode, ctx: EmitContext): number | undefined {
  const readers = ctx.readers(node.id);
  const r = readers[0];
  if (readers.length !== 1 || r === undefined || !disjointWindows(geometryOf(node.attrs))) return undefined;
  if (r.op !== "activation_grad" || attrStr(r.attrs, "act") !== "relu" || r.inputs[0] !== node.id || r.inputs[1] === node.id) return undefined;
  return r.inputs[1];
}

const maxpoolGrad: WasmLowering = (node, ctx, kernels) => {
  const [dy, argmax] = node.inputs as [number, number];
  const saved = reluAfter(node, ctx);
  return kernels.maxpoolGrad({ ...geometryOf(node.attrs), dy: ctx.ref(dy), arg: ctx.ref(argmax), dx: ctx.ref(node.id), ...(saved !== undefined ? { reluGradOf: ctx.ref(saved) } : {}) });
};

/** ReLU's gradient: a copy when the pool gradient before it applied it already (`reluAfter`), else a pointwise kernel. */
const activationGrad: WasmLowering = (node, ctx, kernels) => {
  const [dx, saved] = node.inputs as [number, number];
  const pool = ctx.node(dx);
  if (pool.op === "maxpool2d_grad" && kernels.reluApplied.get(ctx.ref(dx)) === ctx.ref(saved)) return POINTWISE_LOWERINGS["broadcast"]?.({ ...node, inputs: [dx] }, ctx, kernels);
  return POINTWISE_LOWERINGS["activation_grad"]?.(node, ctx, kernels);
};

/** A recurrent op: its TypeScript loop over the steps, with the products and the cell as kernels. */
const recurrent: WasmLowering = (node, ctx, kernels) => recurrentWithKernels(node, ctx, { step: (p, i) => kernels.step(p, i), cell: (r) => kernels.cell(r), cellGrad: (r) => kernels.cellGrad(r) });

export const WASM_LOWERINGS: ReadonlyMap<string, WasmLowering> = new Map<string, WasmLowering>([
  [
    // One product per index of the leading axes (sample, head): a kernel loops over them.
    "bmm",
    (node, ctx, kernels) => {
      const r = kernelRequest(productOf(node, ctx));
      const per = node.shape.slice(1, -2).reduce((m: number, d) => m * (d as number), 1);
      return r !== undefined ? kernels.bmm(r, per) : undefined;
    },
  ],
  // The loop over the steps in TypeScript, each step's product a kernel called with the step.
  ["recurrent_scan", recurrent],
  ["recurrent_scan_grad", recurrent],
  ["recurrent_dwh", recurrent],
  ["matmul", product],
  ["dense", product],
  ["matmul_nn", product],
  ["matmul_tn", product],
  ["conv2d", convolution],
  ["conv2d_dw", convolution],
  [
    // The kernel writes the positions with the maxima, so only a pool that computes its argmax input.
    "maxpool2d",
    (node, ctx, kernels) => {
      if (!poolComputesArgmax(node, ctx.node)) return undefined;
      const [x, argmax] = node.inputs as [number, number];
      return kernels.maxpool({ x: ctx.ref(x), out: ctx.ref(node.id), arg: ctx.ref(argmax), ...geometryOf(node.attrs) });
    },
  ],
  // Elementwise, layout and reduction ops as loop nests (`pointwise-ops.ts`), rows (`rows.ts`).
  ...Object.entries(POINTWISE_LOWERINGS),
  // (after them: ReLU's gradient may have been applied by the max pool's gradient)
  ["activation_grad", activationGrad],
  ["maxpool2d_grad", maxpoolGrad],
  ["softmax", lowerRows],
  ["softmax_grad", lowerRows],
  ["causal_mask", lowerRows],
  [
    "conv2d_dx",
    (node, ctx, kernels) => {
      const [dz, w] = node.inputs as [number, number];
      return kernels.convDx({ ...geometryOf(node.attrs), dz: ctx.ref(dz), weights: ctx.ref(w), dx: ctx.ref(node.id), f: attrNum(node.attrs, "f"), ...(poolSparse(dz, ctx) ? { sparse: true } : {}) });
    },
  ],
]);

/** The ops without kernels, by name: lowered to TypeScript in a wasm module too. */
export const TS_FALLBACK: ReadonlySet<string> = new Set([
  // leaves and aliases: no code
  "input",
  "label",
  "param",
  "reshape",
  // elementwise: activations (ReLU's gradient is a pointwise kernel), dropout, exp and log
  "relu",
  "leaky_relu",
  "elu",
  "sigmoid",
  "tanh",
  "gelu",
  "bias_add",
  "dropout_mask",
  "constant",
  "nonzero",
  "exp",
  "log",
  // losses
  "mse",
  "mae",
  "huber",
  "binary_cross_entropy",
  "cross_entropy",
  "loss_grad",
  "softmax_cross_entropy",
  "softmax_cross_entropy_grad",
  "sigmoid_bce",
  "sigmoid_bce_grad",
  // no code of its own when the pool after it computes both (the wasm max-pool kernel does)
  "maxpool2d_argmax",
  "avgpool2d",
  "avgpool2d_grad",
  "batchnorm_stats",
  "batchnorm",
  "batchnorm_dgamma",
  "batchnorm_dbeta",
  "batchnorm_dx",
  // layout and lookups
  "concat",
  "gather",
  "scatter_add",
  // a copy of the states out of a recurrent scan's tape
  "recurrent_states",
]);

/** The kernel call computing `node`, or undefined when it runs as TypeScript (no kernel for the op, or for these settings). */
export function lowerWasm(node: IrNode, ctx: EmitContext, kernels: Kernels): string | undefined {
  const lower = WASM_LOWERINGS.get(node.op);
  if (lower !== undefined) return lower(node, ctx, kernels);
  if (TS_FALLBACK.has(node.op)) return undefined;
  throw new Error(`bug: the wasm target neither lowers op ${node.op} nor lists it as a TypeScript fallback`);
}
