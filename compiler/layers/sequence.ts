/**
 * Layers over sequences [T, D] (T steps of D values): `embedding` (token ids → vectors),
 * `conv1d` (a window sliding over the steps) and the global pools over the steps. None needs an
 * op of its own: an embedding is a `gather` of table rows (its adjoint a `scatter_add`), and a
 * sequence [T, D] is an image [T, 1, D] to `conv2d` and the pools, so the 1-D layers reshape
 * and reuse the 2-D ops and their wasm kernels.
 *
 * Conventions: Keras' `Embedding` (ids are whole numbers, id 0 the padding, a learned row like
 * any other; uniform ±0.05 initialization), Keras' `Conv1D` (channels last, `same` padding as
 * TensorFlow), `GlobalMaxPooling1D`/`GlobalAveragePooling1D` (over every step, padding included).
 */
import { shapeSize, showShape, type Penalty } from "../ir.js";
import type { Activation, InitializerKind, LayerBase, Padding } from "../program.js";
import { geometryAttrs } from "../ops/conv_geometry.js";
import { argmaxName, biasName, layerOutputName, preActivationName, weightName } from "../codegen/names.js";
import { activationArg, arg, biasArg, biasInitArg, describeActivation, describePenalty, initArg, namedPart, paddingArg, penaltyArgs, penaltyOf, weighted } from "./common.js";
import { convActivation, windowGeometry } from "./image.js";
import { defineLayer, type LowerContext } from "./types.js";

/** [T, D] of a batched sequence value, or undefined after reporting what it got. */
export function sequenceInput(word: string, input: number, ctx: LowerContext): [number, number] | undefined {
  const shape = ctx.node(input).shape;
  if (shape.length !== 3) {
    ctx.report("layerNeedsSequenceInput", [word, showShape(shape.slice(1))], "put it after an `embedding` (ids [T] → [T, D]), or give the model an input [steps, features]");
    return undefined;
  }
  return [shape[1] as number, shape[2] as number];
}

/**
 * x [n, T, D] times wᵀ (w [M, D], PyTorch's `Linear` layout) at every step, plus b [M], then the
 * activation: [n, T, M]. The steps are the pixels of a pointwise `conv2d` (the weights seen as
 * [M, 1, 1, D]), so the product and its gradients are the convolution's, wasm kernels included.
 * `dense` on a sequence and attention's projections use it.
 */
export function stepwise(ctx: LowerContext, x: number, w: number, b: number | undefined, activation: Activation, names: { readonly tag: string; readonly pre: string; readonly out: string }): number {
  const [, t, d] = ctx.node(x).shape as ["n", number, number];
  const m = ctx.node(w).shape[0] as number;
  const geo = windowGeometry("kernel", [t, 1, d], [1, 1], [1, 1], "valid", ctx);
  if (geo === undefined) throw new Error("bug: a pointwise window does not fit");
  const image = ctx.add("reshape", [x], `${names.tag}Steps`, { to: `n,${t},1,${d}` });
  const filters = ctx.add("reshape", [w], `${names.tag}Filters`, { to: `${m},1,1,${d}` });
  const act = convActivation(activation);
  const z = ctx.add("conv2d", b === undefined ? [image, filters] : [image, filters, b], `${names.tag}Conv`, { ...geometryAttrs(geo), f: m, bias: b !== undefined, ...act.attrs });
  const out = ctx.add("reshape", [z], act.separate ? names.pre : names.out, { to: `n,${t},${m}` });
  return act.separate ? ctx.activate(activation, out) : out;
}

export interface EmbeddingLayer extends LayerBase {
  readonly kind: "embedding";
  readonly vocabulary: number;
  readonly dim: number;
  readonly init: InitializerKind;
  /** Id 0 reads a vector of zeros and takes no gradient (Keras' `mask_zero`), so `lstm …, mask: true` skips the padding. */
  readonly maskZero: boolean;
  /** `l1:`/`l2:` on the table (Keras' `embeddings_regularizer`). */
  readonly penalty: Penalty;
}

export const embedding = defineLayer<EmbeddingLayer>({
  word: "embedding",
  doc: "Token ids [T] → vectors [T, dim], one learned row per id (0 = padding, 1 = unknown). `embedding 64, 16`.",
  args: [
    arg.required(arg.int("vocabulary", "ids it knows: 0 … vocabulary − 1 (the tokenizer's `vocabulary` or more)", 2, 1 << 22), "a vocabulary size"),
    arg.required(arg.int("dim", "length of each id's vector", 1, 1 << 16), "a vector length"),
    arg.initializer("init", "initializer of the table", "uniform"),
    arg.bool("mask_zero", "id 0 (padding) reads zeros and learns nothing, so recurrent layers with `mask: true` skip it", false),
    ...penaltyArgs,
  ],
  usage: "e.g. `embedding 64, 16` (64 ids, vectors of 16)",
  build: (a, ctx) => ({ ...ctx.base, kind: "embedding", vocabulary: a.num("vocabulary"), dim: a.num("dim"), init: a.str("init") as InitializerKind, maskZero: a.bool("mask_zero"), penalty: penaltyOf(a) }),
  describe: (l) => `embedding${namedPart(l)} ${l.vocabulary}, ${l.dim}${l.maskZero ? ", mask_zero" : ""}${describePenalty(l.penalty)}`,
  lower(layer, input, ctx) {
    const shape = ctx.node(input).shape;
    if (shape.length !== 2) {
      ctx.report("layerNeedsFlatInput", ["embedding", showShape(shape.slice(1))], "an embedding reads one row of token ids: `input [length]`");
      return input;
    }
    const table = ctx.param("weight", [layer.vocabulary, layer.dim], layer.init, weightName(ctx.k), { in: layer.vocabulary, out: layer.dim }, true, layer.penalty);
    if (!layer.maskZero) return ctx.add("gather", [table, input], layerOutputName(ctx.k));
    const rows = ctx.add("gather", [table, input], `emb${ctx.k}`);
    const t = shape[1] as number;
    const real = ctx.add("nonzero", [ctx.add("reshape", [input], `ids${ctx.k}`, { to: `n,${t},1` })], `real${ctx.k}`);
    return ctx.add("mul", [rows, real], layerOutputName(ctx.k));
  },
  diagram: { color: "#34d399", connects: "local" },
});

export interface Conv1dLayer extends LayerBase {
  readonly kind: "conv1d";
  readonly filters: number;
  readonly kernel: number;
  readonly stride: number;
  readonly padding: Padding;
  readonly activation: Activation;
  readonly init: InitializerKind;
  readonly biasInit: InitializerKind;
  readonly useBias: boolean;
  /** `l1:`/`l2:` on the filters (not the bias). */
  readonly penalty: Penalty;
}

export const conv1d = defineLayer<Conv1dLayer>({
  word: "conv1d",
  doc: "1-D convolution over the steps of a sequence [T, D]: `conv1d 32, 3, relu` (32 filters, windows of 3 steps).",
  args: [
    arg.required(arg.int("filters", "number of filters (outputs per step)", 1, 1 << 16), "a filter count"),
    arg.required(arg.int("kernel", "window length, in steps", 1, 1 << 16), "a window length"),
    activationArg,
    arg.int("stride", "steps between windows", 1, 1 << 16, 1),
    paddingArg,
    initArg,
    biasInitArg,
    biasArg,
    ...penaltyArgs,
  ],
  usage: "e.g. `conv1d 32, 3, relu`",
  build: (a, ctx) => ({ ...ctx.base, kind: "conv1d", filters: a.num("filters"), kernel: a.num("kernel"), stride: a.num("stride"), padding: a.str("padding") as Padding, ...weighted(a, ctx) }),
  describe: (l) => `conv1d${namedPart(l)} ${l.filters}, ${l.kernel}, stride ${l.stride}, ${l.padding}, ${describeActivation(l.activation)}${describePenalty(l.penalty)}`,
  lower(layer, input, ctx) {
    const seq = sequenceInput("conv1d", input, ctx);
    if (seq === undefined) return input;
    const [t, d] = seq;
    const geo = windowGeometry("kernel", [t, 1, d], [layer.kernel, 1], [layer.stride, 1], layer.padding, ctx);
    if (geo === undefined) return input;
    const k = ctx.k;
    const f = layer.filters;
    const image = ctx.add("reshape", [input], `seq${k}`, { to: `n,${t},1,${d}` });
    const fan = { in: layer.kernel * d, out: f * layer.kernel };
    const inputs = [image, ctx.param("weight", [f, layer.kernel, 1, d], layer.init, weightName(k), fan, true, layer.penalty)];
    if (layer.useBias) inputs.push(ctx.param("bias", [f], layer.biasInit, biasName(k), fan));
    const act = convActivation(layer.activation);
    const z = ctx.add("conv2d", inputs, `conv${k}`, { ...geometryAttrs(geo), f, bias: layer.useBias, ...act.attrs });
    const out = ctx.add("reshape", [z], act.separate ? preActivationName(k) : layerOutputName(k), { to: `n,${geo.oh},${f}` });
    return act.separate ? ctx.activate(layer.activation, out) : out;
  },
  diagram: { color: "#a78bfa", connects: "local" },
});

function globalPool(word: "globalmaxpool1d" | "globalavgpool1d", doc: string) {
  return defineLayer<LayerBase>({
    word,
    doc,
    args: [],
    usage: "",
    build: (_a, ctx) => ({ ...ctx.base, kind: word }),
    describe: (l) => `${word}${namedPart(l)}`,
    lower(_layer, input, ctx) {
      const seq = sequenceInput(word, input, ctx);
      if (seq === undefined) return input;
      const [t, d] = seq;
      const k = ctx.k;
      const image = ctx.add("reshape", [input], `seq${k}`, { to: `n,${t},1,${d}` });
      const geo = windowGeometry("pool", [t, 1, d], [t, 1], [t, 1], "valid", ctx);
      if (geo === undefined) return input;
      const attrs = geometryAttrs(geo);
      const op = word === "globalmaxpool1d" ? "maxpool2d" : "avgpool2d";
      const pooled = op === "maxpool2d" ? ctx.add(op, [image, ctx.add("maxpool2d_argmax", [image], argmaxName(k), attrs)], `pool${k}`, attrs) : ctx.add(op, [image], `pool${k}`, attrs);
      return ctx.add("reshape", [pooled], layerOutputName(k), { to: `n,${shapeSize([d])}` });
    },
    diagram: { color: "#94a3b8", connects: "local" },
  });
}

export const globalmaxpool1d = globalPool("globalmaxpool1d", "The largest value of each feature over all steps: [T, D] → [D].");
export const globalavgpool1d = globalPool("globalavgpool1d", "The mean of each feature over all steps: [T, D] → [D].");
