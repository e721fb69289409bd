/**
 * Lowering of the convolutional family (issue 8), called by `lower.ts` for each such layer:
 *
 *   conv2d     → im2col (a free reshape for a 1×1, stride-1 kernel) → conv2d (bias and an
 *                activation whose derivative reads its output, in the matmul's epilogue;
 *                other activations follow as their own op)
 *   maxpool2d  → maxpool2d (argmax saved for the backward pass)
 *   avgpool2d  → avgpool2d
 *   batchnorm  → batchnorm_stats (batch or running statistics) → batchnorm (scale and shift);
 *                γ, β trainable; running mean/variance non-trainable parameters
 *
 * Images are NHWC; an input [h, w] is an image with one channel. The shape checks (NN3xxx)
 * point at the layer: a layer fed a flat tensor, a window larger than its input, a stride that
 * does not step evenly across the input with `valid` padding. After an error the layer is
 * skipped (or its output size rounded down) so later layers are still checked.
 */
import type { Diagnostic } from "../grammar/diagnostics.js";
import { diag } from "../grammar/diagnostics.js";
import type { Activation, BatchNormLayer, Conv2dLayer, Layer, Pool2dLayer } from "./program.js";
import type { Attrs, GraphBuilder, IrShape, Origin } from "./ir.js";
import { showShape } from "./ir.js";
import { activationDef, isElementwiseActivation } from "./ops/registry.js";
import { biasName, layerOutputName, preActivationName, weightName } from "./codegen/names.js";
import type { Geometry } from "./ops/conv-geometry.js";
import { geometry, geometryAttrs } from "./ops/conv-geometry.js";

export type ConvFamilyLayer = Conv2dLayer | Pool2dLayer | BatchNormLayer;

/** Whether `lowerConvLayer` handles this layer (not a type guard: lower.ts's switch stays exhaustive). */
export function isConvFamily(layer: Layer): boolean {
  return layer.kind === "conv2d" || layer.kind === "maxpool2d" || layer.kind === "avgpool2d" || layer.kind === "batchnorm";
}

/** What `lower.ts` lends the conv lowering. */
export interface ConvContext {
  readonly g: GraphBuilder;
  readonly diagnostics: Diagnostic[];
  /** Appends a forward node, its shape from the op's rule. */
  add(op: string, inputs: number[], name: string, origin: Origin | undefined, attrs?: Attrs): number;
  /** Applies a layer's activation as its own op (with lower.ts's checks, e.g. softmax last). */
  activate(a: Activation, value: number): number;
}

const pair = (p: readonly [number, number]): string => `${p[0]}×${p[1]}`;

function describeActivation(a: Activation): string {
  return a.kind === "leaky_relu" || a.kind === "elu" ? `${a.kind}(${a.alpha})` : a.kind;
}

/** A one-line description for comments and dumps (user text: sanitized by the emitter). */
export function describeConvLayer(layer: ConvFamilyLayer): string {
  const named = layer.named ? ` ${layer.name}` : "";
  switch (layer.kind) {
    case "conv2d":
      return `conv2d${named} ${layer.filters}, ${pair(layer.kernel)}, stride ${pair(layer.stride)}, ${layer.padding}, ${describeActivation(layer.activation)}`;
    case "maxpool2d":
    case "avgpool2d":
      return `${layer.kind}${named} ${pair(layer.size)}, stride ${pair(layer.stride)}, ${layer.padding}`;
    case "batchnorm":
      return `batchnorm${named} momentum ${layer.momentum}, epsilon ${layer.epsilon}`;
  }
}

/** [h, w, c] of a batched image value, or undefined for a flat one. */
export function imageOf(shape: IrShape): [number, number, number] | undefined {
  const dims = shape.slice(1);
  if (dims.length === 2) return [dims[0] as number, dims[1] as number, 1];
  if (dims.length === 3) return [dims[0] as number, dims[1] as number, dims[2] as number];
  return undefined;
}

/**
 * The window checks shared by convolutions and pools: a window larger than a `valid` input is
 * refused (undefined: skip the layer); a stride that leaves pixels over is reported.
 */
function checkWindow(what: string, image: readonly [number, number, number], window: readonly [number, number], stride: readonly [number, number], padding: "same" | "valid", layer: Layer, ctx: ConvContext): Geometry | undefined {
  const [h, w] = image;
  if (padding === "valid" && (window[0] > h || window[1] > w)) {
    ctx.diagnostics.push(
      diag("kernelTooLarge", layer.span, [what, pair(window), pair([h, w])], {
        hint: `use a smaller ${what}, or \`padding: same\``,
      }),
    );
    return undefined;
  }
  if (padding === "valid" && ((h - window[0]) % stride[0] !== 0 || (w - window[1]) % stride[1] !== 0)) {
    ctx.diagnostics.push(
      diag("strideMismatch", layer.span, [pair(stride), `${pair([h, w])} with ${what} ${pair(window)}`], {
        hint: `use \`padding: same\`, or a stride that divides (input − ${what}) on both axes`,
      }),
    );
  }
  return geometry(image, window, stride, padding);
}

/** Lowers one layer of the family; returns the node the next layer reads. */
export function lowerConvLayer(layer: Layer, k: number, cur: number, ctx: ConvContext): number {
  if (!(layer.kind === "conv2d" || layer.kind === "maxpool2d" || layer.kind === "avgpool2d" || layer.kind === "batchnorm")) {
    throw new Error(`bug: ${layer.kind} is not a convolutional layer`);
  }
  const origin: Origin = { text: describeConvLayer(layer), line: layer.span.line, span: layer.span };
  const shape = ctx.g.node(cur).shape;
  const image = imageOf(shape);
  if (layer.kind === "batchnorm") return lowerBatchnorm(layer, k, cur, image, shape, origin, ctx);
  if (image === undefined) {
    ctx.diagnostics.push(
      diag("layerNeedsImageInput", layer.span, [layer.kind, showShape(shape.slice(1))], {
        hint: "give the model an image input such as `input [28, 28]` or `input [32, 32, 3]`, and put image layers before `flatten`",
      }),
    );
    return cur;
  }
  if (layer.kind === "conv2d") return lowerConv2d(layer, k, cur, image, origin, ctx);
  const g = checkWindow("pool", image, layer.size, layer.stride, layer.padding, layer, ctx);
  if (g === undefined) return cur;
  return ctx.add(layer.kind, [cur], layerOutputName(k), origin, geometryAttrs(g));
}

function lowerConv2d(layer: Conv2dLayer, k: number, cur: number, image: [number, number, number], origin: Origin, ctx: ConvContext): number {
  const geo = checkWindow("kernel", image, layer.kernel, layer.stride, layer.padding, layer, ctx);
  if (geo === undefined) return cur;
  const f = layer.filters;
  const [kh, kw] = layer.kernel;
  const c = geo.c;
  const attrs = geometryAttrs(geo);

  // The windows as rows; a 1×1 kernel with stride 1 reads the image as it is.
  const identity = kh === 1 && kw === 1 && geo.sh === 1 && geo.sw === 1 && geo.pt === 0 && geo.pl === 0;
  const col = identity
    ? ctx.add("reshape", [cur], `col${k}`, origin, { to: `n,${geo.h * geo.w},${c}` })
    : ctx.add("im2col", [cur], `col${k}`, origin, attrs);

  const fanIn = kh * kw * c;
  const wTensor = `${layer.name}.weight`;
  const w = ctx.g.add({ op: "param", inputs: [], shape: [f, kh, kw, c], attrs: { tensor: wTensor, init: layer.init }, name: weightName(k), phase: "forward", origin });
  ctx.g.addParam({ node: w, name: wTensor, init: layer.init, fanIn, fanOut: f * kh * kw });
  const inputs = [col, cur, w];
  if (layer.useBias) {
    const bTensor = `${layer.name}.bias`;
    const b = ctx.g.add({ op: "param", inputs: [], shape: [f], attrs: { tensor: bTensor, init: layer.biasInit }, name: biasName(k), phase: "forward", origin });
    ctx.g.addParam({ node: b, name: bTensor, init: layer.biasInit, fanIn, fanOut: f * kh * kw });
    inputs.push(b);
  }

  // Fold the activation into the epilogue when its derivative needs only the output.
  const a = layer.activation;
  const fold = isElementwiseActivation(a.kind) && activationDef(a.kind).uses === "out";
  const convAttrs: Record<string, number | string | boolean> = { ...attrs, f, bias: layer.useBias };
  if (fold) {
    convAttrs["act"] = a.kind;
    if (a.kind === "leaky_relu" || a.kind === "elu") convAttrs["alpha"] = a.alpha;
  }
  const separate = !fold && a.kind !== "linear";
  const z = ctx.add("conv2d", inputs, separate ? preActivationName(k) : layerOutputName(k), origin, convAttrs);
  return separate ? ctx.activate(a, z) : z;
}

/** Batch normalization over the channels of an image, or the features of a flat value. */
function lowerBatchnorm(layer: BatchNormLayer, k: number, cur: number, image: [number, number, number] | undefined, shape: IrShape, origin: Origin, ctx: ConvContext): number {
  const c = image !== undefined ? image[2] : (shape[1] as number);
  const p = image !== undefined ? image[0] * image[1] : 1;
  const tensor = (what: string, init: string, trainable: boolean, name: string): number => {
    const t = `${layer.name}.${what}`;
    const id = ctx.g.add({ op: "param", inputs: [], shape: [c], attrs: { tensor: t, init }, name, phase: "forward", origin });
    ctx.g.addParam({ node: id, name: t, init, fanIn: c, fanOut: c, ...(trainable ? {} : { trainable: false }) });
    return id;
  };
  const gamma = tensor("gamma", "ones", true, `gamma${k}`);
  const beta = tensor("beta", "zeros", true, `beta${k}`);
  const mean = tensor("running_mean", "zeros", false, `mean${k}`);
  const variance = tensor("running_var", "ones", false, `var${k}`);
  const stats = ctx.add("batchnorm_stats", [cur, mean, variance], `stats${k}`, origin, { c, p, momentum: layer.momentum, epsilon: layer.epsilon });
  return ctx.add("batchnorm", [cur, stats, gamma, beta], layerOutputName(k), origin, { c, p });
}
