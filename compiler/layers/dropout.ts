/**
 * `dropout rate`: while training, zeroes each value with probability `rate` and scales the kept
 * ones by 1/(1 − rate) (inverted dropout, as PyTorch and Keras); the identity at inference.
 * Lowers to `mul(x, dropout_mask(x))`: the mask is a value of the graph, and the backward pass
 * is `mul`'s. Nothing is lowered when the rate is 0.
 */
import type { LayerBase } from "../program.js";
import { layerOutputName, maskName } from "../codegen/names.js";
import { arg, namedPart } from "./common.js";
import { defineLayer } from "./types.js";

export interface DropoutLayer extends LayerBase {
  readonly kind: "dropout";
  /** Fraction of units dropped while training, in [0, 1). */
  readonly rate: number;
}

export const dropout = defineLayer<DropoutLayer>({
  word: "dropout",
  doc: "Randomly zeroes a fraction of its inputs while training (off at inference). `dropout 0.2`.",
  args: [arg.required(arg.number("rate", "fraction dropped, 0 ≤ rate < 1 (also as a percentage: `dropout 20%`)", { min: 0, max: 1, maxOpen: true, range: "at least 0 and less than 1" }), "a rate")],
  usage: "e.g. `dropout 0.2` or `dropout 20%`",
  build: (a, ctx) => ({ ...ctx.base, kind: "dropout", rate: a.num("rate") }),
  describe: (l) => `dropout${namedPart(l)} ${l.rate}`,
  lower(layer, input, ctx) {
    if (layer.rate === 0) return input;
    const mask = ctx.add("dropout_mask", [input], maskName(ctx.k), { rate: layer.rate });
    return ctx.add("mul", [input, mask], layerOutputName(ctx.k));
  },
  diagram: { color: "#cbd5e1", connects: "local" },
});
