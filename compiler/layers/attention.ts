/**
 * Layers for transformers over a sequence [T, D]: `attention` (multi-head self-attention) and
 * `positional` (a learned vector per step, added). Both are compositions of primitives — the
 * projections are `stepwise` products (pointwise convolutions), the scores and the weighted
 * values `bmm`, then `softmax` over the keys, `causal_mask`, `transpose`, `slice` — so they need
 * no adjoint and no code of their own. With `block`, a transformer encoder layer is one
 * definition (`examples/names-transformer.nn`).
 *
 * Conventions: PyTorch's `nn.MultiheadAttention(D, heads, batch_first=True)` as self-attention
 * (query = key = value = the input): `in_proj_weight` [3D, D] holding Wq, Wk, Wv one above the
 * other, `in_proj_bias` [3D], `out_proj_weight` [D, D], `out_proj_bias` [D]; each head sees
 * D / heads features; scores scaled by 1/√(D / heads). Both matrices start Glorot uniform and
 * the biases at zero (PyTorch draws `out_proj` as a `Linear`, ±1/√D). Keras'
 * `MultiHeadAttention(heads, key_dim=D / heads)` computes the same with its kernels reshaped.
 * `causal: true` lets each step attend to itself and the steps before it (PyTorch's
 * `is_causal`, Keras' `use_causal_mask`); `mask: true` keeps every step from attending to
 * padding — the steps whose token id was 0 in the embedding the sequence came from, however
 * many layers before (Keras' propagated mask, PyTorch's `key_padding_mask`).
 */
import type { LayerBase, InitializerKind } from "../program.js";
import type { Penalty } from "../ir.js";
import { layerOutputName } from "../codegen/names.js";
import { arg, describePenalty, namedPart, penaltyArgs, penaltyOf } from "./common.js";
import { sequenceInput, stepwise } from "./sequence.js";
import { defineLayer, type LowerContext } from "./types.js";

export interface AttentionLayer extends LayerBase {
  readonly kind: "attention";
  readonly heads: number;
  readonly causal: boolean;
  readonly mask: boolean;
  readonly init: InitializerKind;
  /** `l1:`/`l2:` on the projection matrices (Keras' `kernel_regularizer`), not the biases. */
  readonly penalty: Penalty;
}

/** Masked-out scores: low enough that softmax gives them 0, finite so that a row with every key masked stays a number. */
const MASKED = -1e9;

export const attention = defineLayer<AttentionLayer>({
  word: "attention",
  doc: "Multi-head self-attention over the steps of a sequence [T, D] → [T, D]: `attention 4` (4 heads of D/4 features).",
  args: [
    arg.required(arg.int("heads", "attention heads; each sees D / heads features", 1, 1 << 10), "a number of heads"),
    arg.bool("causal", "each step attends only to itself and the steps before it (language models)", false),
    arg.bool("mask", "no step attends to padding (the steps whose token id was 0 in the embedding before)", false),
    arg.initializer("init", "initializer of the projection matrices", "xavier"),
    ...penaltyArgs,
  ],
  usage: "e.g. `attention 4`",
  build: (a, ctx) => ({ ...ctx.base, kind: "attention", heads: a.num("heads"), causal: a.bool("causal"), mask: a.bool("mask"), init: a.str("init") as InitializerKind, penalty: penaltyOf(a) }),
  describe: (l) => `attention${namedPart(l)} ${l.heads}${l.causal ? ", causal" : ""}${l.mask ? ", mask" : ""}${describePenalty(l.penalty)}`,
  lower(layer, input, ctx) {
    const seq = sequenceInput("attention", input, ctx);
    if (seq === undefined) return input;
    const [t, d] = seq;
    const h = layer.heads;
    if (d % h !== 0) {
      ctx.report("headsDoNotDivide", ["attention", h, d], `use a number of heads that divides ${d} (${divisors(d).join(", ")}), or change the width before it`);
      return input;
    }
    const dk = d / h;
    const k = ctx.k;
    const tag = `att${k}`;
    const fan = { in: d, out: d };
    // Glorot over the stacked [3D, D] matrix, as PyTorch's `xavier_uniform_(in_proj_weight)`.
    const inW = ctx.param("in_proj_weight", [3 * d, d], layer.init, `${tag}Win`, { in: d, out: 3 * d }, true, layer.penalty);
    const inB = ctx.param("in_proj_bias", [3 * d], "zeros", `${tag}Bin`, fan);
    const qkv = stepwise(ctx, input, inW, inB, { kind: "linear", alpha: 0, span: layer.span }, { tag: `${tag}In`, pre: `${tag}Qkv`, out: `${tag}Qkv` });
    // q, k, v [n, T, D] → [n, heads, T, D / heads]
    const split = (part: number, what: string): number => {
      const cut = ctx.add("slice", [qkv], `${tag}${what}`, { axis: 2, start: part * d, end: (part + 1) * d });
      const perHead = ctx.add("reshape", [cut], `${tag}${what}Split`, { to: `n,${t},${h},${dk}` });
      return ctx.add("transpose", [perHead], `${tag}${what}Heads`, { perm: "0,2,1,3" });
    };
    const [q, key, v] = [split(0, "Q"), split(1, "K"), split(2, "V")];
    let scores = ctx.add("bmm", [q, key], `${tag}Dots`, { ta: 0, tb: 1 });
    scores = ctx.add("mul", [scores, ctx.add("constant", [], `${tag}Scale`, { value: 1 / Math.sqrt(dk) })], `${tag}Scores`);
    if (layer.mask) {
      const bias = paddingBias(ctx, input, t, tag);
      if (bias === undefined) ctx.report("maskNeedsEmbedding", ["attention"], "put an `embedding` before it (its id 0 is the padding), or leave out `mask: true`");
      else scores = ctx.add("add", [scores, bias], `${tag}ScoresMasked`);
    }
    if (layer.causal) scores = ctx.add("causal_mask", [scores], `${tag}ScoresCausal`);
    const weights = ctx.add("softmax", [scores], `${tag}Weights`);
    const heads = ctx.add("bmm", [weights, v], `${tag}Heads`, { ta: 0, tb: 0 });
    const merged = ctx.add("reshape", [ctx.add("transpose", [heads], `${tag}Steps`, { perm: "0,2,1,3" })], `${tag}Merged`, { to: `n,${t},${d}` });
    const outW = ctx.param("out_proj_weight", [d, d], layer.init, `${tag}Wout`, fan, true, layer.penalty);
    const outB = ctx.param("out_proj_bias", [d], "zeros", `${tag}Bout`, fan);
    const out = layerOutputName(k);
    return stepwise(ctx, merged, outW, outB, { kind: "linear", alpha: 0, span: layer.span }, { tag: `${tag}Out`, pre: out, out });
  },
  diagram: { color: "#fb923c", connects: "all" },
});

/**
 * [n, 1, 1, T]: 0 for a real key step, MASKED for padding; added to every head's scores. The
 * padding is where the token ids that the sequence was embedded from are 0: the `embedding`
 * found by walking back from the layer's input (Keras propagates the mask the same way, through
 * every layer that keeps the steps). Undefined when no embedding is found.
 */
function paddingBias(ctx: LowerContext, x: number, t: number, tag: string): number | undefined {
  const ids = embeddedIds(ctx, x, t);
  if (ids === undefined) return undefined;
  const real = ctx.add("nonzero", [ids], `${tag}Real`);
  const one = ctx.add("constant", [], `${tag}One`, { value: 1 });
  const big = ctx.add("constant", [], `${tag}Big`, { value: -MASKED });
  const bias = ctx.add("mul", [ctx.add("sub", [real, one], `${tag}Pad`), big], `${tag}PadBias`);
  return ctx.add("reshape", [bias], `${tag}KeyBias`, { to: `n,1,1,${t}` });
}

/** The token ids [n, T] of the nearest embedding (a `gather` of T rows) that `x` was computed from. */
function embeddedIds(ctx: LowerContext, x: number, t: number): number | undefined {
  const seen = new Set<number>();
  const stack = [x];
  while (stack.length > 0) {
    const id = stack.pop() as number;
    if (seen.has(id)) continue;
    seen.add(id);
    const node = ctx.node(id);
    if (node.op === "gather") {
      const ids = node.inputs[1] as number;
      const shape = ctx.node(ids).shape;
      if (shape.length === 2 && shape[1] === t) return ids;
    }
    stack.push(...node.inputs);
  }
  return undefined;
}

function divisors(d: number): number[] {
  const out: number[] = [];
  for (let q = 1; q <= d && out.length < 6; q++) if (d % q === 0) out.push(q);
  return out;
}

export interface PositionalLayer extends LayerBase {
  readonly kind: "positional";
  readonly init: InitializerKind;
}

export const positional = defineLayer<PositionalLayer>({
  word: "positional",
  doc: "Adds a learned vector per step to a sequence [T, D], so that attention knows the order of the steps.",
  args: [arg.initializer("init", "initializer of the table", "uniform")],
  usage: "e.g. `positional`",
  build: (a, ctx) => ({ ...ctx.base, kind: "positional", init: a.str("init") as InitializerKind }),
  describe: (l) => `positional${namedPart(l)}`,
  lower(layer, input, ctx) {
    const seq = sequenceInput("positional", input, ctx);
    if (seq === undefined) return input;
    const [t, d] = seq;
    const table = ctx.param("weight", [t, d], layer.init, `pos${ctx.k}`, { in: t, out: d });
    return ctx.add("add", [input, table], layerOutputName(ctx.k));
  },
  diagram: { color: "#fdba74", connects: "local" },
});
