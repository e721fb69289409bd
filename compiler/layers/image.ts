/**
 * What the image layers (conv2d, the pools) share when they lower: the image [h, w, c] of a
 * value (NHWC; an input [h, w] is one channel), and the window checks — a window larger than
 * a `valid` input is refused (NN3003: the layer is skipped so later layers are still checked),
 * a stride that leaves pixels over is reported (NN3004). Padding follows TensorFlow/Keras
 * (`same`: out = ⌈in / stride⌉, the smaller half of the padding on top/left).
 */
import { showShape, type IrShape } from "../ir.js";
import type { Activation, Padding } from "../program.js";
import { activationDef, isElementwiseActivation } from "../ops/registry.js";
import { geometry, type Geometry } from "../ops/conv_geometry.js";
import type { LowerContext } from "./types.js";
import { arg } from "./common.js";

/** [h, w, c] of a batched image value, or undefined for a flat one. */
export function imageOf(shape: IrShape): [number, number, number] | undefined {
  const dims = shape.slice(1);
  if (dims.length === 2) return [dims[0] as number, dims[1] as number, 1];
  if (dims.length === 3) return [dims[0] as number, dims[1] as number, dims[2] as number];
  return undefined;
}

/** The image of the value a layer reads, or undefined after reporting NN3002. */
export function imageInput(kind: string, input: number, ctx: LowerContext): [number, number, number] | undefined {
  const shape = ctx.node(input).shape;
  const image = imageOf(shape);
  if (image === undefined) {
    ctx.report("layerNeedsImageInput", [kind, showShape(shape.slice(1))], "give the model an image input such as `input [28, 28]` or `input [32, 32, 3]`, and put image layers before `flatten`");
  }
  return image;
}

export const pair = (p: readonly [number, number]): string => `${p[0]}×${p[1]}`;

/** The window's geometry, or undefined (reported) when it does not fit. */
export function windowGeometry(what: string, image: readonly [number, number, number], window: readonly [number, number], stride: readonly [number, number], padding: Padding, ctx: LowerContext): Geometry | undefined {
  const [h, w] = image;
  if (padding === "valid" && (window[0] > h || window[1] > w)) {
    ctx.report("kernelTooLarge", [what, pair(window), pair([h, w])], `use a smaller ${what}, or \`padding: same\``);
    return undefined;
  }
  if (padding === "valid" && ((h - window[0]) % stride[0] !== 0 || (w - window[1]) % stride[1] !== 0)) {
    ctx.report("strideMismatch", [pair(stride), `${pair([h, w])} with ${what} ${pair(window)}`], `use \`padding: same\`, or a stride that divides (input − ${what}) on both axes`);
  }
  return geometry(image, window, stride, padding);
}

/**
 * A convolution's activation: folded into the `conv2d` op's epilogue (its `act`, `alpha`
 * attributes) when its derivative needs only the output; otherwise `separate`, an op of its own
 * after the convolution (none for `linear`).
 */
export function convActivation(a: Activation): { readonly attrs: Readonly<Record<string, string | number>>; readonly separate: boolean } {
  const fold = isElementwiseActivation(a.kind) && activationDef(a.kind).uses === "out";
  if (!fold) return { attrs: {}, separate: a.kind !== "linear" };
  return { attrs: a.kind === "leaky_relu" || a.kind === "elu" ? { act: a.kind, alpha: a.alpha } : { act: a.kind }, separate: false };
}

/** `stride` of a convolution (default 1). */
export const strideArg = arg.pair("stride", "step between windows: `1` or `[2, 1]`", 1);
