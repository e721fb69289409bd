/**
 * The elementwise activations — relu, leaky_relu, elu, sigmoid, tanh, gelu — and their shared
 * backward `activation_grad`. An activation is declared by its kind and by what its derivative
 * reads: the saved output y ("out": relu, leaky_relu, elu, sigmoid, tanh) or the input x ("in":
 * gelu). Each becomes an op whose adjoint is an `activation_grad` node, and which `fuse.ts` can
 * fold into a matrix product's epilogue. (softmax and linear are not elementwise activations.)
 */
import type { OpDef } from "./types.js";
import { alphaOf } from "./types.js";

export interface ActivationDef {
  readonly kind: string;
  /** One line: the function. */
  readonly doc: string;
  /** What the derivative reads: the output `y` ("out") or the input `x` ("in"). */
  readonly uses: "out" | "in";
}

const ACTIVATION_DEFS: readonly ActivationDef[] = [
  { kind: "relu", doc: "max(x, 0)", uses: "out" },
  // alpha ≥ 0, so y > 0 exactly where x > 0: the derivative can read y.
  { kind: "leaky_relu", doc: "x for x > 0, alpha·x otherwise", uses: "out" },
  // For x ≤ 0 the derivative is y + alpha.
  { kind: "elu", doc: "x for x > 0, alpha·(eˣ − 1) otherwise", uses: "out" },
  { kind: "sigmoid", doc: "1 / (1 + e⁻ˣ)", uses: "out" },
  { kind: "tanh", doc: "tanh x", uses: "out" },
  // The tanh approximation, as in BERT/GPT-2 and Keras' `approximate=True`.
  { kind: "gelu", doc: "0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))", uses: "in" },
];

const ACTIVATIONS: ReadonlyMap<string, ActivationDef> = new Map(ACTIVATION_DEFS.map((d) => [d.kind, d]));

export function activationDef(kind: string): ActivationDef {
  const a = ACTIVATIONS.get(kind);
  if (a === undefined) throw new Error(`bug: ${kind} is not an elementwise activation`);
  return a;
}

export function isElementwiseActivation(kind: string): boolean {
  return ACTIVATIONS.has(kind);
}

/** The op of an activation: dx = activation_grad(dy, saved value). */
function activationOp(def: ActivationDef): OpDef {
  return {
    name: def.kind,
    doc: `elementwise ${def.kind}: ${def.doc}`,
    shape: (inputs) => inputs[0] ?? [],
    inPlace: true,
    adjoint(node, dOut, g) {
      if (dOut === undefined) throw new Error("bug: activation as loss");
      const saved = def.uses === "out" ? node.id : (node.inputs[0] as number);
      const src = node.inputs[0] as number;
      return [g.add("activation_grad", [dOut, saved], { act: def.kind, ...(node.attrs["alpha"] !== undefined ? { alpha: alphaOf(node.attrs) } : {}) }, g.gradName(src), node.origin)];
    },
  };
}

export const ACTIVATION_OPS: readonly OpDef[] = ACTIVATION_DEFS.map(activationOp);

/** activation_grad(dy, saved) with attributes `act` (and `alpha`): dx = dy · act′, from the saved output or input. */
export const activationGrad: OpDef = {
  name: "activation_grad",
  doc: "dL/dx of an activation from dL/dy and the saved value",
  shape: (inputs) => inputs[0] ?? [],
  inPlace: true,
};
