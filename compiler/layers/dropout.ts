/**
 * `dropout rate`: while training, zeroes each value with probability `rate` and scales the kept
 * ones by 1/(1 − rate) (inverted dropout, as PyTorch and Keras); the identity at inference.
 * Nothing is lowered when the rate is 0.
 */
import type { LayerBase } from "../program.js";
import { layerOutputName } from "../codegen/names.js";
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
  lower: (layer, input, ctx) => (layer.rate > 0 ? ctx.add("dropout", [input], layerOutputName(ctx.k), { rate: layer.rate }) : input),
  diagram: { color: "#cbd5e1", connects: "local" },
});
