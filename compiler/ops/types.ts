/**
 * What every op declares: its shape rule, its forward template, its adjoint (reverse-mode)
 * rule, and what the backward pass reads. One op per file; `registry.ts` lists them.
 */
import type { Attrs, IrNode, IrShape, Origin } from "../ir.js";
import type { ProductShape } from "../codegen/gemm.js";
import type { Geometry } from "./conv-geometry.js";

/** What an op's `emit` may ask of the code generator. */
export interface EmitContext {
  /** Identifier holding a node's values (a preallocated buffer, a view, `x` or `y`). */
  ref(id: number): string;
  /** Identifier of a node's extra buffer, e.g. its dropout mask. */
  aux(id: number, what: string): string;
  /** A numeric literal, safe to paste into code. */
  num(x: number): string;
  node(id: number): IrNode;
  /** Name of the inline uniform generator `() => [0, 1)`, for dropout. */
  readonly rand: string;
  /** Name of the local that receives the loss value. */
  readonly lossVar: string;
  /** Name of the boolean that is true in training mode (for ops with `usesTraining`). */
  readonly training: string;
  /**
   * Scratch buffers for the non-zero entries of one input row of `width` values (their
   * positions and values), shared by every op that asks; allocated once by `createModel`.
   */
  gather(width: number): { readonly idx: string; readonly val: string };
  /**
   * With WebAssembly kernels on: registers this matrix product as a SIMD kernel and returns
   * the statement calling it, or `undefined` when it has no wasm form (then the op emits the
   * TypeScript kernel). Absent when the module is plain TypeScript.
   */
  kernel?(request: KernelRequest): string | undefined;
  /** Likewise for max pooling (channels a multiple of 4, windows inside the image). */
  maxpoolKernel?(request: PoolRequest): string | undefined;
  /** Likewise for im2col (channels a multiple of 4). */
  im2colKernel?(request: Omit<PoolRequest, "arg">): string | undefined;
  /** Likewise for a convolution's input gradient (input channels a multiple of 4). */
  convDxKernel?(request: ConvDxRequest): string | undefined;
}

/** A convolution's input gradient for `EmitContext.convDxKernel`: dz [n, OH, OW, F], w [F, KH, KW, C] → dx. */
export interface ConvDxRequest extends Geometry {
  readonly dz: string;
  /** The filters (not `w`: that is the image width). */
  readonly weights: string;
  readonly dx: string;
  /** Filters. */
  readonly f: number;
}

/** A max-pooling layer for `EmitContext.maxpoolKernel`: buffers and geometry (NHWC). */
export interface PoolRequest extends Geometry {
  readonly x: string;
  readonly out: string;
  /** Where each maximum came from, within its sample. */
  readonly arg: string;
}

/** A matrix product for `EmitContext.kernel`: `GemmSpec`'s operands and strides, and its epilogue as data. */
/**
 * The epilogue fields of a request for activation `act` ({} for none), or undefined when the
 * wasm kernels do not apply it (then the TypeScript kernel runs). Sigmoid is not among them:
 * from tanh it would lose its relative precision for negative inputs (0 below −15.8).
 */
export function kernelActivation(act: unknown): Pick<KernelRequest, "relu" | "act"> | undefined {
  if (act === undefined || act === "linear") return {};
  if (act === "relu") return { relu: true };
  if (act === "tanh") return { act };
  return undefined;
}

/** The epilogue fields for the derivative of `act` read from `saved`. */
export function kernelActivationGrad(act: unknown, saved: string): Pick<KernelRequest, "reluGradOf" | "actGradOf"> | undefined {
  if (act === undefined || act === "linear") return {};
  if (act === "relu") return { reluGradOf: saved };
  if (act === "tanh" || act === "sigmoid") return { actGradOf: { act, saved } };
  return undefined;
}

export interface KernelRequest extends ProductShape {
  readonly a: string;
  readonly b: string;
  readonly out: string;
  /** Buffer added per column. */
  readonly bias?: string;
  readonly relu?: boolean;
  /** Buffer multiplied in, laid out like the output (a dropout mask). */
  readonly mask?: string;
  /** Saved ReLU output laid out like the output: the result is zeroed where it is ≤ 0. */
  readonly reluGradOf?: string;
  /** tanh on the result. */
  readonly act?: "tanh";
  /** The result times the derivative of tanh or sigmoid, from the saved output (laid out like the output). */
  readonly actGradOf?: { readonly act: "tanh" | "sigmoid"; readonly saved: string };
  /** For the description only: `n` counts this many rows per sample (a convolution's window rows). */
  readonly rowsPerSample?: number;
}

/** What an adjoint rule may do: append backward nodes. */
export interface AdjointBuilder {
  add(op: string, inputs: readonly number[], attrs: Attrs, name: string, origin?: Origin): number;
  node(id: number): IrNode;
  /** Whether the gradient of this value is needed (it depends on a parameter). */
  needsGrad(id: number): boolean;
  /** The adjoint's name for a value: `h2` → `dh2`. */
  gradName(id: number): string;
}

export interface OpDef {
  readonly name: string;
  /** One line: what the op computes. */
  readonly doc: string;
  /** Output shape from input shapes (user shape errors are caught earlier, in `lower`). */
  shape(inputs: readonly IrShape[], attrs: Attrs): IrShape;
  /** Which values the adjoint reads: input indices, or "out" for the op's own output. */
  readonly saves: readonly (number | "out")[];
  /**
   * Reverse-mode rule: the adjoints of the inputs, given the adjoint of the output
   * (`undefined` for the loss itself: the seed 1). `undefined` entries: no gradient.
   */
  adjoint?(node: IrNode, dOut: number | undefined, g: AdjointBuilder): readonly (number | undefined)[];
  /** Code computing the node (its buffer, or `ctx.lossVar` for a loss). Empty for leaves. */
  emit(node: IrNode, ctx: EmitContext): string;
  /** The output shares its input's buffer (reshape): no code, no memory. */
  readonly alias?: boolean;
  /** Extra buffers, same size as the output (e.g. "mask"). */
  readonly auxBuffers?: readonly string[];
  /** The forward code reads `ctx.training` (dropout; batchnorm's batch statistics). */
  readonly usesTraining?: boolean;
}

/** Helpers shared by the elementwise templates. */
export function rowsOf(node: IrNode): string {
  return node.shape[0] === "n" ? "n" : "1";
}

export function perRow(node: IrNode): number {
  let s = 1;
  for (const d of node.shape) if (d !== "n") s *= d;
  return s;
}

/** `n * m` for m values per sample (`n` when m is 1). */
export function batchCount(m: number): string {
  return m === 1 ? "n" : `n * ${m}`;
}

/** `for (let i = 0; i < n * 128; i++) { body }` over every element of a node. */
export function eachElement(node: IrNode, body: string): string {
  const count = node.shape[0] === "n" ? batchCount(perRow(node)) : String(perRow(node));
  return `for (let i = 0; i < ${count}; i++) {\n${body}\n}`;
}

export function attrNum(attrs: Attrs, key: string): number {
  const v = attrs[key];
  if (typeof v !== "number") throw new Error(`bug: attribute ${key} is not a number`);
  return v;
}

/** The `alpha` of leaky_relu/elu; 0 for activations without one. */
export function alphaOf(attrs: Attrs): number {
  const v = attrs["alpha"];
  return typeof v === "number" ? v : 0;
}

/** The `to` attribute of an op whose output takes another node's shape (reshape, the adjoints of pools and convolutions). */
export function toShape(shape: IrShape): string {
  return shape.join(",");
}

/** The shape a `to` attribute names (see `toShape`). */
export function shapeOfTo(attrs: Attrs): IrShape {
  return attrStr(attrs, "to")
    .split(",")
    .map((d) => (d === "n" ? "n" : Number(d)));
}

export function attrStr(attrs: Attrs, key: string): string {
  const v = attrs[key];
  if (typeof v !== "string") throw new Error(`bug: attribute ${key} is not a string`);
  return v;
}
