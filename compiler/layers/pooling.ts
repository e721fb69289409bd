/**
 * `maxpool2d size` and `avgpool2d size`: the largest value or the mean of each window, per
 * channel. Stride defaults to the window (Keras and PyTorch); `same` padding as TensorFlow,
 * where the average counts only the pixels inside the image (Keras' `count_include_pad`-free
 * behaviour). Max pooling lowers to `maxpool2d_argmax(x)` (each maximum's position, an i32
 * value the backward pass reads) and `maxpool2d(x, argmax)`; average pooling to `avgpool2d(x)`.
 */
import type { LayerBase, Padding } from "../program.js";
import { geometryAttrs } from "../ops/conv_geometry.js";
import { argmaxName, layerOutputName } from "../codegen/names.js";
import { arg, namedPart, paddingArg } from "./common.js";
import { imageInput, pair, windowGeometry } from "./image.js";
import { defineLayer, type LayerDef } from "./types.js";

export interface Pool2dLayer extends LayerBase {
  readonly kind: "maxpool2d" | "avgpool2d";
  readonly size: readonly [number, number];
  /** Defaults to the pool size. */
  readonly stride: readonly [number, number];
  readonly padding: Padding;
}

function pool(word: "maxpool2d" | "avgpool2d", doc: string): LayerDef {
  return defineLayer<Pool2dLayer>({
    word,
    doc,
    args: [arg.pair("size", "window size: `2` or `[2, 2]`", 2), arg.pair("stride", "step between windows", undefined, "the window size"), { ...paddingArg, doc: "`valid` or `same`" }],
    usage: `e.g. \`${word} 2\``,
    build(a, ctx) {
      const size = a.pair("size");
      return { ...ctx.base, kind: word, size, stride: a.maybe<readonly [number, number]>("stride") ?? size, padding: a.str("padding") as Padding };
    },
    describe: (l) => `${l.kind}${namedPart(l)} ${pair(l.size)}, stride ${pair(l.stride)}, ${l.padding}`,
    lower(layer, input, ctx) {
      const image = imageInput(word, input, ctx);
      if (image === undefined) return input;
      const g = windowGeometry("pool", image, layer.size, layer.stride, layer.padding, ctx);
      if (g === undefined) return input;
      const attrs = geometryAttrs(g);
      if (word === "avgpool2d") return ctx.add(word, [input], layerOutputName(ctx.k), attrs);
      const argmax = ctx.add("maxpool2d_argmax", [input], argmaxName(ctx.k), attrs);
      return ctx.add(word, [input, argmax], layerOutputName(ctx.k), attrs);
    },
    diagram: { color: "#94a3b8", connects: "local" },
  });
}

export const maxpool2d = pool("maxpool2d", "Keeps the largest value of each window. `maxpool2d 2`.");
export const avgpool2d = pool("avgpool2d", "Averages each window. `avgpool2d 2`.");
