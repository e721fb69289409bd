/** `flatten`: an image [h, w, c] as one row of h·w·c values (NHWC order). Free: a reshape shares its input's buffer. */
import { shapeSize } from "../ir.js";
import type { LayerBase } from "../program.js";
import { layerOutputName } from "../codegen/names.js";
import { namedPart } from "./common.js";
import { defineLayer } from "./types.js";

export const flatten = defineLayer<LayerBase>({
  word: "flatten",
  doc: "Reshapes its input to one dimension, e.g. [28, 28] → [784]. Free: no copy.",
  args: [],
  usage: "",
  build: (_a, ctx) => ({ ...ctx.base, kind: "flatten" }),
  describe: (l) => `flatten${namedPart(l)}`,
  lower(_layer, input, ctx) {
    const shape = ctx.node(input).shape;
    return shape.length > 2 ? ctx.add("reshape", [input], layerOutputName(ctx.k), { to: `n,${shapeSize(shape)}` }) : input;
  },
  diagram: { color: "#cbd5e1", connects: "local" },
});
