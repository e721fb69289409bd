/**
 * `conv2d filters, kernel, act`: a 2-D convolution over an NHWC image, filters stored
 * [F, KH, KW, C] (TensorFlow's HWIO transposed so each filter is one contiguous row).
 * Lowers to one semantic op, `conv2d(x, w[, b])`, with the bias and an activation whose
 * derivative reads its output in the op's epilogue; other activations follow as their own op.
 * How the windows are read (unfolded into rows in scratch memory, one sample at a time, or
 * the image itself for a 1×1, stride-1, unpadded kernel) is each target's choice, not the
 * IR's. Cross-correlation, as every framework computes it.
 */
import type { Activation, InitializerKind, LayerBase, Padding } from "../program.js";
import type { Penalty } from "../ir.js";
import { geometryAttrs } from "../ops/conv_geometry.js";
import { biasName, layerOutputName, preActivationName, weightName } from "../codegen/names.js";
import { activationArg, arg, biasArg, biasInitArg, describeActivation, describePenalty, initArg, namedPart, paddingArg, penaltyArgs, weighted } from "./common.js";
import { convActivation, imageInput, pair, strideArg, windowGeometry } from "./image.js";
import { defineLayer } from "./types.js";

export interface Conv2dLayer extends LayerBase {
  readonly kind: "conv2d";
  readonly filters: number;
  /** [height, width] */
  readonly kernel: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly padding: Padding;
  readonly activation: Activation;
  readonly init: InitializerKind;
  readonly biasInit: InitializerKind;
  readonly useBias: boolean;
  /** `l1:`/`l2:` on the filters (not the bias). */
  readonly penalty: Penalty;
}

export const conv2d = defineLayer<Conv2dLayer>({
  word: "conv2d",
  doc: "2-D convolution over an image [h, w, c]. `conv2d 32, 3, relu`.",
  args: [
    arg.required(arg.int("filters", "number of output channels", 1, 4096), "a filter count"),
    arg.required(arg.pair("kernel", "kernel size: `3` or `[3, 5]`"), "a kernel size"),
    activationArg,
    strideArg,
    paddingArg,
    initArg,
    biasInitArg,
    biasArg,
    ...penaltyArgs,
  ],
  usage: "e.g. `conv2d 32, 3, relu`",
  build: (a, ctx) => ({ ...ctx.base, kind: "conv2d", filters: a.num("filters"), kernel: a.pair("kernel"), stride: a.pair("stride"), padding: a.str("padding") as Padding, ...weighted(a, ctx) }),
  describe: (l) => `conv2d${namedPart(l)} ${l.filters}, ${pair(l.kernel)}, stride ${pair(l.stride)}, ${l.padding}, ${describeActivation(l.activation)}${describePenalty(l.penalty)}`,
  lower(layer, input, ctx) {
    const image = imageInput("conv2d", input, ctx);
    if (image === undefined) return input;
    const geo = windowGeometry("kernel", image, layer.kernel, layer.stride, layer.padding, ctx);
    if (geo === undefined) return input;
    const k = ctx.k;
    const f = layer.filters;
    const [kh, kw] = layer.kernel;
    const c = geo.c;
    const attrs = geometryAttrs(geo);

    const fan = { in: kh * kw * c, out: f * kh * kw };
    const inputs = [input, ctx.param("weight", [f, kh, kw, c], layer.init, weightName(k), fan, true, layer.penalty)];
    if (layer.useBias) inputs.push(ctx.param("bias", [f], layer.biasInit, biasName(k), fan));

    // Fold the activation into the epilogue when its derivative needs only the output.
    const act = convActivation(layer.activation);
    const z = ctx.add("conv2d", inputs, act.separate ? preActivationName(k) : layerOutputName(k), { ...attrs, f, bias: layer.useBias, ...act.attrs });
    return act.separate ? ctx.activate(layer.activation, z) : z;
  },
  diagram: { color: "#a78bfa", connects: "local" },
});
