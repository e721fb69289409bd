/**
 * What several layers share: their common arguments (activation, initializers, bias, padding,
 * the weights' `l1:`/`l2:` penalties, written once with their defaults), the default
 * initializer rule, and the activation's description in generated comments.
 */
import { arg, type BoundArgs } from "../schema.js";
import type { Activation, InitializerKind } from "../program.js";
import type { Penalty } from "../ir.js";
import type { BuildContext } from "./types.js";

export const activationArg = arg.activation("activation", "applied to each output", "linear");
export const initArg = arg.initializer("init", "weight initializer", undefined, "the model's `init`");
export const biasInitArg = arg.initializer("bias_init", "bias initializer", "zeros");
export const biasArg = arg.bool("bias", "whether the layer has a bias", true);
export const paddingArg = arg.choice("padding", "`valid` (no padding) or `same` (output as large as input / stride)", ["valid", "same"], "valid");

/**
 * `l1:`, `l2:` on a layer with weights: Keras' `kernel_regularizer=L1L2(l1, l2)`, the loss gains
 * l1·Σ|w| + l2·Σw² over the layer's weight tensors (never its biases). Keras' l2 has no ½, so
 * PyTorch's `weight_decay` λ (gradient λ·w) is `l2: λ/2`. Last in each schema: written by name.
 */
export const penaltyArgs = [
  arg.number("l1", "L1 penalty on the weights: the loss gains l1·Σ|w| (Keras' `kernel_regularizer`)", { min: 0, max: 1000, range: "a number ≥ 0 (and at most 1000)" }, 0),
  arg.number("l2", "L2 penalty on the weights: the loss gains l2·Σw², no ½ (Keras' `kernel_regularizer`; PyTorch's weight_decay λ is l2 = λ/2)", { min: 0, max: 1000, range: "a number ≥ 0 (and at most 1000)" }, 0),
];

/** The layer's `l1:`/`l2:`. */
export function penaltyOf(a: BoundArgs): Penalty {
  return { l1: a.num("l1"), l2: a.num("l2") };
}

/** `, l1 0.001, l2 0.0001` for descriptions; empty without a penalty. */
export function describePenalty(p: Penalty): string {
  return `${p.l1 > 0 ? `, l1 ${p.l1}` : ""}${p.l2 > 0 ? `, l2 ${p.l2}` : ""}`;
}

/** Activations for which He initialization is the default (Keras' advice); Glorot otherwise. */
const RELU_FAMILY = new Set(["relu", "leaky_relu", "elu", "gelu"]);

/** The weight initializer: the layer's `init`, else the model's, else by activation. */
function weightInit(a: BoundArgs, act: Activation, ctx: BuildContext): InitializerKind {
  return a.maybe<InitializerKind>("init") ?? ctx.defaultInit ?? (RELU_FAMILY.has(act.kind) ? "he" : "xavier");
}

/** The settings every layer with weights, a bias and an activation has (its schema ends with `penaltyArgs`). */
export function weighted(a: BoundArgs, ctx: BuildContext): { activation: Activation; init: InitializerKind; biasInit: InitializerKind; useBias: boolean; penalty: Penalty } {
  const activation = a.activation("activation");
  return { activation, init: weightInit(a, activation, ctx), biasInit: a.str("bias_init") as InitializerKind, useBias: a.bool("bias"), penalty: penaltyOf(a) };
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
