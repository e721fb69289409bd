/**
 * The PyTorch target's lowering table: per layer kind, the module it becomes in `__init__`,
 * its line of `forward`, the shape it hands on, and where each of its nnc tensors lives in the
 * module's state dict (with the permutation between the two layouts). A kind the target does
 * not cover is an explicit refusal with its reason (NN3045); `tests/targets/pytorch.test.ts`
 * fails when a layer kind has neither.
 *
 * Values in `forward` keep PyTorch's layouts: images are NCHW (nnc's are NHWC, so `flatten`
 * permutes back to NHWC before flattening and the flat order is nnc's), sequences [n, T, D],
 * a model input [h, w] is [n, h, w] until an image layer reads it as one channel. `same`
 * padding is TensorFlow's, explicit through `F.pad` (the smaller half on top and left).
 */
import type { Activation, Layer } from "../../program.js";
import { geometry } from "../../ops/conv_geometry.js";
import type { DenseLayer } from "../../layers/dense.js";
import type { Conv2dLayer } from "../../layers/conv2d.js";
import type { Pool2dLayer } from "../../layers/pooling.js";
import type { BatchNormLayer } from "../../layers/batchnorm.js";
import type { LayerNormLayer } from "../../layers/layernorm.js";
import type { DropoutLayer } from "../../layers/dropout.js";
import type { ActivationLayer } from "../../layers/activation.js";
import { pyNumber } from "./quote.js";

/** How a value is held in `forward`: [n, f]; [n, T, D]; NCHW for an nnc image [h, w, c]; a raw [n, h, w] input. */
export type PyKind = "flat" | "seq" | "image" | "grid";

export interface PyValue {
  /** The Python variable holding it. */
  readonly name: string;
  /** nnc's shape of one sample. */
  readonly shape: readonly number[];
  readonly kind: PyKind;
}

/** Where an nnc tensor lives in the module: its state-dict key after the attribute (`""`: the attribute itself), and nnc's axes in the module's order (none: same layout). */
export interface PyParam {
  readonly tensor: string;
  readonly key: string;
  readonly permute?: readonly number[];
}

export interface PyLayerCode {
  readonly init: readonly string[];
  readonly forward: readonly string[];
  readonly out: PyValue;
  readonly params: readonly PyParam[];
  /** Helper classes the code uses (`KerasBatchNorm`). */
  readonly helpers?: readonly string[];
}

export interface PyLayerContext {
  /** The module attribute of the layer (`dense_1`). */
  readonly attr: string;
  /** The variable its output goes to (`h1`). */
  readonly out: string;
  /** The activation the loss applies itself (softmax before cross-entropy), left out of `forward`. */
  readonly head: string | undefined;
  /**
   * Refuses the layer (NN3045). `out`: what it would hand on, when its shape is known, so the
   * layers after it are still checked; without it, they are not (their input is unknown).
   */
  refuse(reason: string, out?: PyValue): PyLayerCode;
}

export type PyLayerRule =
  | { readonly emit: (layer: Layer, inputs: readonly PyValue[], ctx: PyLayerContext) => PyLayerCode }
  | { readonly refuse: string };

const bool = (b: boolean): string => (b ? "True" : "False");
const tuple = (a: readonly number[]): string => `(${a.join(", ")}${a.length === 1 ? "," : ""})`;
const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** An activation applied to a Python expression (`linear` and the loss's own head: unchanged). */
export function activate(expr: string, a: Activation | undefined, head: string | undefined, kind: PyKind): string {
  if (a === undefined || a.kind === "linear" || a.kind === head) return expr;
  switch (a.kind) {
    case "relu":
      return `F.relu(${expr})`;
    case "sigmoid":
      return `torch.sigmoid(${expr})`;
    case "tanh":
      return `torch.tanh(${expr})`;
    case "leaky_relu":
      return `F.leaky_relu(${expr}, ${pyNumber(a.alpha)})`;
    case "elu":
      return `F.elu(${expr}, ${pyNumber(a.alpha)})`;
    case "gelu":
      return `F.gelu(${expr}, approximate="tanh")`;
    case "softmax":
      return `torch.softmax(${expr}, dim=${kind === "image" ? 1 : -1})`;
    default:
      throw new Error(`bug: activation ${a.kind} has no PyTorch form`);
  }
}

/** The value as NCHW (a raw [h, w] input becomes one channel). */
function image(v: PyValue): { expr: string; h: number; w: number; c: number } {
  const [h, w, c] = v.shape as [number, number, number | undefined];
  return { expr: v.kind === "grid" ? `${v.name}.unsqueeze(1)` : v.name, h, w, c: c ?? 1 };
}

/** `F.pad` arguments (left, right, top, bottom) of TensorFlow's `same`, or undefined when none is needed. */
function samePads(h: number, w: number, k: readonly [number, number], s: readonly [number, number], pad: "same" | "valid"): number[] | undefined {
  const g = geometry([h, w, 1], k, s, pad);
  const bottom = Math.max((g.oh - 1) * s[0] + k[0] - h - g.pt, 0);
  const right = Math.max((g.ow - 1) * s[1] + k[1] - w - g.pl, 0);
  const pads = [g.pl, right, g.pt, bottom];
  return pads.some((p) => p > 0) ? pads : undefined;
}

/** Whether (left, right, top, bottom) pads each axis alike. */
const symmetric = (p: readonly number[]): boolean => p[0] === p[1] && p[2] === p[3];

const same = (v: PyValue, name: string, shape = v.shape, kind = v.kind): PyValue => ({ name, shape, kind });

const dense = (l: DenseLayer, [x]: readonly PyValue[], ctx: PyLayerContext): PyLayerCode => {
  const v = x as PyValue;
  if (v.kind === "image" || v.kind === "grid") return ctx.refuse("a `dense` layer reads a flat value or a sequence; add `flatten` before it");
  const fanIn = v.shape[v.shape.length - 1] as number;
  return {
    init: [`self.${ctx.attr} = nn.Linear(${fanIn}, ${l.units}, bias=${bool(l.useBias)})`],
    forward: [`${ctx.out} = ${activate(`self.${ctx.attr}(${v.name})`, l.activation, ctx.head, v.kind)}`],
    out: same(v, ctx.out, [...v.shape.slice(0, -1), l.units]),
    params: [{ tensor: "weight", key: "weight" }, ...(l.useBias ? [{ tensor: "bias", key: "bias" }] : [])],
  };
};

const conv2d = (l: Conv2dLayer, [x]: readonly PyValue[], ctx: PyLayerContext): PyLayerCode => {
  const { expr, h, w, c } = image(x as PyValue);
  const g = geometry([h, w, c], l.kernel, l.stride, l.padding);
  const pads = samePads(h, w, l.kernel, l.stride, l.padding);
  // Even padding is the module's own; uneven (TensorFlow's `same`, the smaller half on top and left) is explicit.
  const even = pads !== undefined && symmetric(pads);
  const input = pads && !even ? `F.pad(${expr}, ${tuple(pads)})` : expr;
  const padding = even ? `, padding=${tuple([pads[2] as number, pads[0] as number])}` : "";
  return {
    init: [`self.${ctx.attr} = nn.Conv2d(${c}, ${l.filters}, ${tuple(l.kernel)}, stride=${tuple(l.stride)}${padding}, bias=${bool(l.useBias)})`],
    forward: [`${ctx.out} = ${activate(`self.${ctx.attr}(${input})`, l.activation, ctx.head, "image")}${pads && !even ? "  # TensorFlow's `same`: the smaller half of the padding on top and left" : ""}`],
    out: { name: ctx.out, shape: [g.oh, g.ow, l.filters], kind: "image" },
    // nnc: [filters, kh, kw, channels]; PyTorch: [filters, channels, kh, kw].
    params: [{ tensor: "weight", key: "weight", permute: [0, 3, 1, 2] }, ...(l.useBias ? [{ tensor: "bias", key: "bias" }] : [])],
  };
};

const pool = (l: Pool2dLayer, [x]: readonly PyValue[], ctx: PyLayerContext): PyLayerCode => {
  const { expr, h, w, c } = image(x as PyValue);
  const g = geometry([h, w, c], l.size, l.stride, l.padding);
  const pads = samePads(h, w, l.size, l.stride, l.padding);
  const [k, s] = [tuple(l.size), tuple(l.stride)];
  let line: string;
  // Even padding: the pool's own (−∞ for the maximum; the mean over the pixels inside without count_include_pad).
  if (pads && symmetric(pads) && (pads[0] as number) * 2 <= l.size[1] && (pads[2] as number) * 2 <= l.size[0]) {
    const padding = tuple([pads[2] as number, pads[0] as number]);
    line = l.kind === "maxpool2d" ? `F.max_pool2d(${expr}, ${k}, ${s}, padding=${padding})` : `F.avg_pool2d(${expr}, ${k}, ${s}, padding=${padding}, count_include_pad=False)`;
  } else if (l.kind === "maxpool2d") line = `F.max_pool2d(${pads ? `F.pad(${expr}, ${tuple(pads)}, value=-math.inf)` : expr}, ${k}, ${s})`;
  else if (!pads) line = `F.avg_pool2d(${expr}, ${k}, ${s})`;
  // TensorFlow's `same` average counts only the pixels inside the image: a sum over each window, divided by its count.
  else line = `F.avg_pool2d(F.pad(${expr}, ${tuple(pads)}), ${k}, ${s}, divisor_override=1) / F.avg_pool2d(F.pad(torch.ones_like(${expr}[:1, :1]), ${tuple(pads)}), ${k}, ${s}, divisor_override=1)`;
  return { init: [], forward: [`${ctx.out} = ${line}`], out: { name: ctx.out, shape: [g.oh, g.ow, c], kind: "image" }, params: [] };
};

const batchnorm = (l: BatchNormLayer, [x]: readonly PyValue[], ctx: PyLayerContext): PyLayerCode => {
  const v = x as PyValue;
  if (v.kind === "seq") return ctx.refuse("`batchnorm` on a sequence is not carried to PyTorch; use `layernorm`");
  const { expr, c } = v.kind === "flat" ? { expr: v.name, c: v.shape[0] as number } : image(v);
  return {
    init: [`self.${ctx.attr} = KerasBatchNorm(${c}, momentum=${pyNumber(l.momentum)}, eps=${pyNumber(l.epsilon)})`],
    forward: [`${ctx.out} = self.${ctx.attr}(${expr})`],
    out: v.kind === "flat" ? same(v, ctx.out) : { name: ctx.out, shape: [v.shape[0] as number, v.shape[1] as number, c], kind: "image" },
    params: [
      { tensor: "gamma", key: "weight" },
      { tensor: "beta", key: "bias" },
      { tensor: "running_mean", key: "running_mean" },
      { tensor: "running_var", key: "running_var" },
    ],
    helpers: ["KerasBatchNorm"],
  };
};

const layernorm = (l: LayerNormLayer, [x]: readonly PyValue[], ctx: PyLayerContext): PyLayerCode => {
  const v = x as PyValue;
  const c = v.shape[v.shape.length - 1] as number;
  const channels = v.kind === "image" ? image(v).c : v.kind === "grid" ? 1 : c;
  if (v.kind === "grid") return ctx.refuse("`layernorm` over a one-channel input is not carried to PyTorch");
  const call = v.kind === "image" ? `self.${ctx.attr}(${v.name}.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)  # over the channels` : `self.${ctx.attr}(${v.name})`;
  return {
    init: [`self.${ctx.attr} = nn.LayerNorm(${channels}, eps=${pyNumber(l.epsilon)})`],
    forward: [`${ctx.out} = ${call}`],
    out: same(v, ctx.out),
    params: [
      { tensor: "gamma", key: "weight" },
      { tensor: "beta", key: "bias" },
    ],
  };
};

const flatten = (_l: Layer, [x]: readonly PyValue[], ctx: PyLayerContext): PyLayerCode => {
  const v = x as PyValue;
  if (v.kind === "flat") return { init: [], forward: [], out: v, params: [] };
  const line = v.kind === "image" ? `${v.name}.permute(0, 2, 3, 1).flatten(1)  # NHWC order, as nnc flattens` : `${v.name}.flatten(1)`;
  return { init: [], forward: [`${ctx.out} = ${line}`], out: { name: ctx.out, shape: [size(v.shape)], kind: "flat" }, params: [] };
};

const dropout = (l: DropoutLayer, [x]: readonly PyValue[], ctx: PyLayerContext): PyLayerCode => {
  const v = x as PyValue;
  if (l.rate === 0) return { init: [], forward: [], out: v, params: [] };
  return { init: [`self.${ctx.attr} = nn.Dropout(${pyNumber(l.rate)})`], forward: [`${ctx.out} = self.${ctx.attr}(${v.name})`], out: same(v, ctx.out), params: [] };
};

const activation = (l: ActivationLayer, [x]: readonly PyValue[], ctx: PyLayerContext): PyLayerCode => {
  const v = x as PyValue;
  const line = activate(v.name, l.activation, ctx.head, v.kind);
  return line === v.name ? { init: [], forward: [], out: v, params: [] } : { init: [], forward: [`${ctx.out} = ${line}`], out: same(v, ctx.out), params: [] };
};

const add = (_l: Layer, xs: readonly PyValue[], ctx: PyLayerContext): PyLayerCode => {
  const first = xs[0] as PyValue;
  if (xs.some((v) => v.kind !== first.kind)) return ctx.refuse("`add` of values held in different layouts");
  return { init: [], forward: [`${ctx.out} = ${xs.map((v) => v.name).join(" + ")}`], out: same(first, ctx.out), params: [] };
};

const concat = (_l: Layer, xs: readonly PyValue[], ctx: PyLayerContext): PyLayerCode => {
  const first = xs[0] as PyValue;
  if (xs.some((v) => v.kind !== first.kind) || first.kind === "grid") return ctx.refuse("`concat` of values held in different layouts");
  const last = xs.reduce((t, v) => t + (v.shape[v.shape.length - 1] as number), 0);
  const dim = first.kind === "image" ? 1 : -1;
  return {
    init: [],
    forward: [`${ctx.out} = torch.cat([${xs.map((v) => v.name).join(", ")}], dim=${dim})`],
    out: same(first, ctx.out, [...first.shape.slice(0, -1), last]),
    params: [],
  };
};

interface EmbeddingLike extends Layer {
  readonly vocabulary: number;
  readonly dim: number;
  readonly maskZero: boolean;
}

const embedding = (l: EmbeddingLike, [x]: readonly PyValue[], ctx: PyLayerContext): PyLayerCode => {
  const v = x as PyValue;
  if (v.kind !== "flat") return ctx.refuse("`embedding` reads a flat row of token ids");
  const out: PyValue = { name: ctx.out, shape: [v.shape[0] as number, l.dim], kind: "seq" };
  if (l.maskZero) return ctx.refuse("`mask_zero` (id 0 reads zeros) has no PyTorch counterpart here", out);
  return {
    init: [`self.${ctx.attr} = nn.Embedding(${l.vocabulary}, ${l.dim})`],
    forward: [`${ctx.out} = self.${ctx.attr}(${v.name}.long())  # token ids arrive as floats`],
    out,
    params: [{ tensor: "weight", key: "weight" }],
  };
};

const globalPool = (l: Layer, [x]: readonly PyValue[], ctx: PyLayerContext): PyLayerCode => {
  const v = x as PyValue;
  if (v.kind !== "seq") return ctx.refuse(`\`${l.kind}\` reads a sequence`);
  const line = l.kind === "globalmaxpool1d" ? `${v.name}.amax(dim=1)` : `${v.name}.mean(dim=1)`;
  return { init: [], forward: [`${ctx.out} = ${line}`], out: { name: ctx.out, shape: [v.shape[1] as number], kind: "flat" }, params: [] };
};

interface RecurrentLike extends Layer {
  readonly kind: "lstm" | "gru";
  readonly units: number;
  readonly returnSequences: boolean;
  readonly bidirectional: boolean;
  readonly mask: boolean;
}

/** PyTorch's LSTM and GRU, whose gate order and matrices nnc keeps; nnc's LSTM has one bias, PyTorch's b_ih (b_hh stays zero, frozen). */
const recurrent = (l: RecurrentLike, [x]: readonly PyValue[], ctx: PyLayerContext): PyLayerCode => {
  const v = x as PyValue;
  if (v.kind !== "seq") return ctx.refuse(`\`${l.kind}\` reads a sequence`);
  const [t, d] = v.shape as [number, number];
  const h = l.units;
  const width = l.bidirectional ? 2 * h : h;
  const out: PyValue = l.returnSequences ? { name: ctx.out, shape: [t, width], kind: "seq" } : { name: ctx.out, shape: [width], kind: "flat" };
  if (l.mask) return ctx.refuse("`mask: true` (steps of zeros carry the state over) has no PyTorch counterpart here", out);
  const mod = l.kind === "lstm" ? "nn.LSTM" : "nn.GRU";
  const init = [`self.${ctx.attr} = ${mod}(${d}, ${h}, batch_first=True${l.bidirectional ? ", bidirectional=True" : ""})`];
  const directions = l.bidirectional ? ["", "_reverse"] : [""];
  if (l.kind === "lstm") {
    for (const r of directions) init.push(`self.${ctx.attr}.bias_hh_l0${r}.data.zero_()`, `self.${ctx.attr}.bias_hh_l0${r}.requires_grad_(False)  # nnc's one bias is b_ih`);
  }
  const params: PyParam[] = directions.flatMap((r, i) => {
    const nnc = i === 0 ? "" : "reverse_";
    return [
      { tensor: `${nnc}weight_ih`, key: `weight_ih_l0${r}` },
      { tensor: `${nnc}weight_hh`, key: `weight_hh_l0${r}` },
      { tensor: `${nnc}bias${l.kind === "gru" ? "_ih" : ""}`, key: `bias_ih_l0${r}` },
      ...(l.kind === "gru" ? [{ tensor: `${nnc}bias_hh`, key: `bias_hh_l0${r}` }] : []),
    ];
  });
  const forward = [`${ctx.out}, _ = self.${ctx.attr}(${v.name})`];
  if (!l.returnSequences) {
    // The last state: the forward direction's at the last step, the backward one's at the first.
    forward.push(l.bidirectional ? `${ctx.out} = torch.cat([${ctx.out}[:, -1, :${h}], ${ctx.out}[:, 0, ${h}:]], dim=-1)` : `${ctx.out} = ${ctx.out}[:, -1]`);
  }
  return { init, forward, out, params };
};

interface AttentionLike extends Layer {
  readonly heads: number;
  readonly causal: boolean;
  readonly mask: boolean;
}

/** nn.MultiheadAttention as self-attention: nnc keeps its layout (in_proj [3D, D], out_proj). */
const attention = (l: AttentionLike, [x]: readonly PyValue[], ctx: PyLayerContext): PyLayerCode => {
  const v = x as PyValue;
  if (v.kind !== "seq") return ctx.refuse("`attention` reads a sequence");
  if (l.mask) return ctx.refuse("`mask: true` (padding found through the embedding) is not carried yet", same(v, ctx.out));
  const [t, d] = v.shape as [number, number];
  const mask = l.causal ? `, attn_mask=torch.ones(${t}, ${t}, dtype=torch.bool).triu(1)` : "";
  return {
    init: [`self.${ctx.attr} = nn.MultiheadAttention(${d}, ${l.heads}, batch_first=True)`],
    forward: [`${ctx.out}, _ = self.${ctx.attr}(${v.name}, ${v.name}, ${v.name}, need_weights=False${mask})${l.causal ? "  # causal: no step sees a later one" : ""}`],
    out: same(v, ctx.out),
    params: [
      { tensor: "in_proj_weight", key: "in_proj_weight" },
      { tensor: "in_proj_bias", key: "in_proj_bias" },
      { tensor: "out_proj_weight", key: "out_proj.weight" },
      { tensor: "out_proj_bias", key: "out_proj.bias" },
    ],
  };
};

const positional = (_l: Layer, [x]: readonly PyValue[], ctx: PyLayerContext): PyLayerCode => {
  const v = x as PyValue;
  if (v.kind !== "seq") return ctx.refuse("`positional` reads a sequence");
  const [t, d] = v.shape as [number, number];
  return {
    init: [`self.${ctx.attr} = nn.Parameter(torch.zeros(${t}, ${d}))  # a learned vector per step`],
    forward: [`${ctx.out} = ${v.name} + self.${ctx.attr}`],
    out: same(v, ctx.out),
    params: [{ tensor: "weight", key: "" }],
  };
};

interface Conv1dLike extends Layer {
  readonly filters: number;
  readonly kernel: number;
  readonly stride: number;
  readonly padding: "same" | "valid";
  readonly activation: Activation;
  readonly useBias: boolean;
}

/** nn.Conv1d over the steps (channels first inside, so the sequence is transposed in and out). */
const conv1d = (l: Conv1dLike, [x]: readonly PyValue[], ctx: PyLayerContext): PyLayerCode => {
  const v = x as PyValue;
  if (v.kind !== "seq") return ctx.refuse("`conv1d` reads a sequence");
  const [t, d] = v.shape as [number, number];
  const g = geometry([t, 1, d], [l.kernel, 1], [l.stride, 1], l.padding);
  const pads = samePads(t, 1, [l.kernel, 1], [l.stride, 1], l.padding);
  const steps = `${v.name}.transpose(1, 2)`;
  const even = pads !== undefined && pads[2] === pads[3];
  const input = pads && !even ? `F.pad(${steps}, (${pads[2]}, ${pads[3]}))` : steps;
  return {
    init: [`self.${ctx.attr} = nn.Conv1d(${d}, ${l.filters}, ${l.kernel}, stride=${l.stride}${even ? `, padding=${pads[2]}` : ""}, bias=${bool(l.useBias)})`],
    forward: [`${ctx.out} = ${activate(`self.${ctx.attr}(${input}).transpose(1, 2)`, l.activation, ctx.head, "seq")}`],
    out: { name: ctx.out, shape: [g.oh, l.filters], kind: "seq" },
    // nnc: [filters, kernel, 1, features]; PyTorch: [filters, features, kernel].
    params: [{ tensor: "weight", key: "weight", permute: [0, 3, 1, 2] }, ...(l.useBias ? [{ tensor: "bias", key: "bias" }] : [])],
  };
};

// The casts erase each rule's own layer type for the table (as `defineLayer` does for the registry).
type AnyEmit = (layer: Layer, inputs: readonly PyValue[], ctx: PyLayerContext) => PyLayerCode;
const rule = <L extends Layer>(emit: (layer: L, inputs: readonly PyValue[], ctx: PyLayerContext) => PyLayerCode): PyLayerRule => ({ emit: emit as unknown as AnyEmit });

/** Every layer kind of `layers/index.ts`: its PyTorch code, or why the target refuses it. */
export const PYTORCH_LAYERS: Readonly<Record<string, PyLayerRule>> = {
  dense: rule(dense),
  dropout: rule(dropout),
  flatten: rule(flatten),
  activation: rule(activation),
  conv2d: rule(conv2d),
  maxpool2d: rule(pool),
  avgpool2d: rule(pool),
  batchnorm: rule(batchnorm),
  layernorm: rule(layernorm),
  add: rule(add),
  concat: rule(concat),
  embedding: rule(embedding),
  globalmaxpool1d: rule(globalPool),
  globalavgpool1d: rule(globalPool),
  conv1d: rule(conv1d),
  lstm: rule(recurrent),
  gru: rule(recurrent),
  attention: rule(attention),
  positional: rule(positional),
};
