/**
 * `batchnorm`: normalizes each channel (the last axis) over the batch while training and with
 * running statistics at inference. Keras' conventions: `momentum` is the weight of the old
 * running value (running = m·running + (1 − m)·batch, default 0.99; PyTorch's momentum 0.1
 * is Keras' 0.9), ε = 1e-3 added to the variance inside the root, biased batch variance.
 * Lowers to batchnorm_stats → batchnorm; γ, β trainable, the running mean and variance are
 * non-trainable parameters (saved with the weights, never touched by the optimizer).
 */
import type { LayerBase } from "../program.js";
import { layerOutputName } from "../codegen/names.js";
import { arg, namedPart } from "./common.js";
import { imageOf } from "./image.js";
import { defineLayer } from "./types.js";

export interface BatchNormLayer extends LayerBase {
  readonly kind: "batchnorm";
  /** Running-statistics momentum (Keras' default 0.99). */
  readonly momentum: number;
  readonly epsilon: number;
}

export const batchnorm = defineLayer<BatchNormLayer>({
  word: "batchnorm",
  doc: "Normalizes each channel over the batch while training; uses running statistics at inference.",
  args: [
    arg.number("momentum", "decay of the running mean and variance", { min: 0, max: 1, maxOpen: true, range: "at least 0 and less than 1" }, 0.99),
    arg.number("epsilon", "added to the variance", { min: 0, max: 1, minOpen: true, range: "a small number > 0" }, 1e-3),
  ],
  usage: "e.g. `batchnorm`",
  build: (a, ctx) => ({ ...ctx.base, kind: "batchnorm", momentum: a.num("momentum"), epsilon: a.num("epsilon") }),
  describe: (l) => `batchnorm${namedPart(l)} momentum ${l.momentum}, epsilon ${l.epsilon}`,
  lower(layer, input, ctx) {
    const k = ctx.k;
    const shape = ctx.node(input).shape;
    const image = imageOf(shape);
    const c = image !== undefined ? image[2] : (shape[1] as number);
    const p = image !== undefined ? image[0] * image[1] : 1;
    const fan = { in: c, out: c };
    const gamma = ctx.param("gamma", [c], "ones", `gamma${k}`, fan);
    const beta = ctx.param("beta", [c], "zeros", `beta${k}`, fan);
    const mean = ctx.param("running_mean", [c], "zeros", `mean${k}`, fan, false);
    const variance = ctx.param("running_var", [c], "ones", `var${k}`, fan, false);
    const stats = ctx.add("batchnorm_stats", [input, mean, variance], `stats${k}`, { c, p, momentum: layer.momentum, epsilon: layer.epsilon });
    return ctx.add("batchnorm", [input, stats, gamma, beta], layerOutputName(k), { c, p });
  },
  diagram: { color: "#34d399", connects: "local" },
});
