/**
 * The merges of a graph: `add` (a residual connection: the values summed, as Keras' `Add` and
 * PyTorch's `x + skip`) and `concat` (the values side by side along their last axis: the
 * features of flat values, the channels of images, as Keras' `Concatenate(axis=-1)`). Both take
 * the values named in their arguments (`add skip`: the value before it and `skip`; `add a, b`:
 * `a` and `b`), which the model checker resolves; a mismatch names the shapes of every branch.
 */
import { showShape, type IrShape } from "../ir.js";
import type { LayerBase } from "../program.js";
import { layerOutputName } from "../codegen/names.js";
import { namedPart } from "./common.js";
import { defineLayer, type LowerContext } from "./types.js";

/** The shapes of the branches, for a mismatch message: "[8, 8, 16] (line 4) and [8, 8, 32] (line 7)". */
function branches(ctx: LowerContext): string {
  return ctx.inputs.map((v, i) => `${showShape(ctx.node(v).shape.slice(1))} (line ${ctx.inputSpans[i]?.line ?? "?"})`).join(" and ");
}

function mismatch(ctx: LowerContext, word: string, hint: string): void {
  ctx.report("mergeShapeMismatch", [word, branches(ctx)], hint, ctx.inputSpans.map((span, i) => ({ message: `branch ${i + 1}: ${showShape(ctx.node(ctx.inputs[i] as number).shape.slice(1))}`, span })));
}

export const add = defineLayer<LayerBase>({
  word: "add",
  doc: "Sums values of the same shape: a residual connection. `add skip` (the value before it + `skip`) or `add a, b`.",
  args: [],
  usage: "e.g. `add skip`",
  merge: true,
  build: (_a, ctx) => ({ ...ctx.base, kind: "add" }),
  describe: (l) => `add${namedPart(l)}`,
  lower(_layer, input, ctx) {
    const first = ctx.node(input).shape;
    const same = (s: IrShape): boolean => s.length === first.length && s.every((d, k) => d === first[k]);
    if (!ctx.inputs.every((v) => same(ctx.node(v).shape))) {
      mismatch(ctx, "add", "the values of an `add` must have the same shape: change a branch's width, or project the skip with `dense`/`conv2d`");
      return input;
    }
    let sum = input;
    const rest = ctx.inputs.slice(1);
    rest.forEach((v, i) => {
      sum = ctx.add("add", [sum, v], i === rest.length - 1 ? layerOutputName(ctx.k) : `${layerOutputName(ctx.k)}_${i + 1}`);
    });
    return sum;
  },
  diagram: { color: "#fbbf24", connects: "local" },
});

export const concat = defineLayer<LayerBase>({
  word: "concat",
  doc: "Joins values side by side along their last axis (features, or an image's channels). `concat image_features, side`.",
  args: [],
  usage: "e.g. `concat a, b`",
  merge: true,
  build: (_a, ctx) => ({ ...ctx.base, kind: "concat" }),
  describe: (l) => `concat${namedPart(l)}`,
  lower(_layer, input, ctx) {
    const first = ctx.node(input).shape;
    const fits = (s: IrShape): boolean => s.length === first.length && s.every((d, k) => k === s.length - 1 || d === first[k]);
    if (!ctx.inputs.every((v) => fits(ctx.node(v).shape))) {
      const ranks = new Set(ctx.inputs.map((v) => ctx.node(v).shape.length));
      mismatch(ctx, "concat", ranks.size > 1 ? "flatten the image branch first (`flatten`), then concat the flat values" : "the values of a `concat` must agree on every axis but the last");
      return input;
    }
    return ctx.add("concat", ctx.inputs, layerOutputName(ctx.k), { axis: first.length - 1 });
  },
  diagram: { color: "#fbbf24", connects: "local" },
});
