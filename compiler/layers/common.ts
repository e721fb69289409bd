/**
 * What several layers share: their common arguments (activation, initializers, bias, padding,
 * written once with their defaults), the default initializer rule, and the activation's
 * description in generated comments.
 */
import { arg, type BoundArgs } from "../schema.js";
import type { Activation, InitializerKind } from "../program.js";
import type { BuildContext } from "./types.js";

export const activationArg = arg.activation("activation", "applied to each output", "linear");
export const initArg = arg.initializer("init", "weight initializer", undefined, "the model's `init`");
export const biasInitArg = arg.initializer("bias_init", "bias initializer", "zeros");
export const biasArg = arg.bool("bias", "whether the layer has a bias", true);
export const paddingArg = arg.choice("padding", "`valid` (no padding) or `same` (output as large as input / stride)", ["valid", "same"], "valid");

/** Activations for which He initialization is the default (Keras' advice); Glorot otherwise. */
const RELU_FAMILY = new Set(["relu", "leaky_relu", "elu", "gelu"]);

/** The weight initializer: the layer's `init`, else the model's, else by activation. */
function weightInit(a: BoundArgs, act: Activation, ctx: BuildContext): InitializerKind {
  return a.maybe<InitializerKind>("init") ?? ctx.defaultInit ?? (RELU_FAMILY.has(act.kind) ? "he" : "xavier");
}

/** The settings every layer with weights, a bias and an activation has. */
export function weighted(a: BoundArgs, ctx: BuildContext): { activation: Activation; init: InitializerKind; biasInit: InitializerKind; useBias: boolean } {
  const activation = a.activation("activation");
  return { activation, init: weightInit(a, activation, ctx), biasInit: a.str("bias_init") as InitializerKind, useBias: a.bool("bias") };
}

/** `relu`, `leaky_relu(0.2)`: an activation in generated comments. */
export function describeActivation(a: Activation): string {
  return a.kind === "leaky_relu" || a.kind === "elu" ? `${a.kind}(${a.alpha})` : a.kind;
}

/** ` name` when the user named the layer, for descriptions. */
export function namedPart(layer: { readonly named: boolean; readonly name: string }): string {
  return layer.named ? ` ${layer.name}` : "";
}

/** The schema helper `arg` re-exported, so a layer file needs one import for its arguments. */
export { arg };
