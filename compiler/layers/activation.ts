/** `activation act`: an activation as a layer of its own, e.g. after `batchnorm`. */
import type { Activation, LayerBase } from "../program.js";
import { arg, describeActivation, namedPart } from "./common.js";
import { defineLayer } from "./types.js";

export interface ActivationLayer extends LayerBase {
  readonly kind: "activation";
  readonly activation: Activation;
}

export const activation = defineLayer<ActivationLayer>({
  word: "activation",
  doc: "A standalone activation layer, e.g. `activation tanh`.",
  args: [arg.required(arg.activation("activation", "the activation function"), "an activation")],
  usage: "e.g. `activation relu`",
  build: (a, ctx) => ({ ...ctx.base, kind: "activation", activation: a.activation("activation") }),
  describe: (l) => `activation${namedPart(l)} ${describeActivation(l.activation)}`,
  lower: (layer, input, ctx) => ctx.activate(layer.activation, input),
  diagram: { color: "#facc15", connects: "local" },
});
