/** The elementwise activations by kind (softmax and linear are not elementwise ops). */
import type { ActivationDef } from "./activation.js";
import { reluDef } from "./relu.js";
import { leakyReluDef } from "./leaky_relu.js";
import { eluDef } from "./elu.js";
import { sigmoidDef } from "./sigmoid.js";
import { tanhDef } from "./tanh.js";
import { geluDef } from "./gelu.js";

const ACTIVATIONS: ReadonlyMap<string, ActivationDef> = new Map(
  [reluDef, leakyReluDef, eluDef, sigmoidDef, tanhDef, geluDef].map((d) => [d.kind, d]),
);

export function activationDef(kind: string): ActivationDef {
  const a = ACTIVATIONS.get(kind);
  if (a === undefined) throw new Error(`bug: ${kind} is not an elementwise activation`);
  return a;
}

export function isElementwiseActivation(kind: string): boolean {
  return ACTIVATIONS.has(kind);
}
