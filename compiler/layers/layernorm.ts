/**
 * `layernorm`: normalizes each sample over its last axis (the features of a flat value, the
 * channels of each pixel), then scales and shifts per feature: γ·(x − mean)/√(var + ε) + β.
 * Biased variance, ε inside the root and default 1e-5, as PyTorch's `LayerNorm(C)` and Keras'
 * `LayerNormalization(axis=-1)` (whose default ε is 1e-3: write `epsilon: 1e-3` to match it).
 * Same in training and inference. A composition of primitives (mean, sub, mul, add, rsqrt):
 * no gradient rule or emitted code of its own — autodiff and every target already know them.
 */
import type { LayerBase } from "../program.js";
import { layerOutputName } from "../codegen/names.js";
import { arg, namedPart } from "./common.js";
import { defineLayer } from "./types.js";

export interface LayerNormLayer extends LayerBase {
  readonly kind: "layernorm";
  readonly epsilon: number;
}

export const layernorm = defineLayer<LayerNormLayer>({
  word: "layernorm",
  doc: "Normalizes each sample over its last axis (features or channels), then scales and shifts; the same in training and inference.",
  args: [arg.number("epsilon", "added to the variance", { min: 0, max: 1, minOpen: true, range: "a small number > 0" }, 1e-5)],
  usage: "e.g. `layernorm`",
  build: (a, ctx) => ({ ...ctx.base, kind: "layernorm", epsilon: a.num("epsilon") }),
  describe: (l) => `layernorm${namedPart(l)} epsilon ${l.epsilon}`,
  lower(layer, x, ctx) {
    const k = ctx.k;
    const shape = ctx.node(x).shape;
    const axis = shape.length - 1;
    const c = shape[axis] as number;
    const name = (what: string): string => `ln${k}_${what}`;
    const mean = ctx.add("mean", [x], name("mean"), { axis });
    const centered = ctx.add("sub", [x, mean], name("centered"));
    const squares = ctx.add("mul", [centered, centered], name("squares"));
    const variance = ctx.add("mean", [squares], name("var"), { axis });
    const epsilon = ctx.add("constant", [], name("eps"), { value: layer.epsilon });
    const invstd = ctx.add("rsqrt", [ctx.add("add", [variance, epsilon], name("varEps"))], name("invstd"));
    const normalized = ctx.add("mul", [centered, invstd], name("xhat"));
    const fan = { in: c, out: c };
    const gamma = ctx.param("gamma", [c], "ones", `gamma${k}`, fan);
    const beta = ctx.param("beta", [c], "zeros", `beta${k}`, fan);
    return ctx.add("add", [ctx.add("mul", [normalized, gamma], name("scaled")), beta], layerOutputName(k));
  },
  diagram: { color: "#10b981", connects: "local" },
});
