/**
 * The losses — mse, mae, huber, binary_cross_entropy, cross_entropy — and their shared backward
 * `loss_grad`. A loss takes the prediction and the labels and gives a scalar; it is a mean,
 * over the batch and the outputs (`mean: "all"`, like Keras' mse/mae/huber/binary
 * cross-entropy) or over the batch only (`mean: "rows"`, cross-entropy, whose term is summed
 * over the classes). Its adjoint is a `loss_grad` node. After a softmax or a sigmoid,
 * `fuse.ts` replaces cross-entropy and binary cross-entropy by the fused ops computed from the
 * logits (`softmax_cross_entropy.ts`, `sigmoid_bce.ts`).
 */
import type { OpDef } from "./types.js";

export interface LossDef {
  readonly kind: string;
  /** One line: the term of one element (p: prediction, t: target). */
  readonly doc: string;
  readonly mean: "all" | "rows";
}

const LOSS_DEFS: readonly LossDef[] = [
  { kind: "mse", doc: "(p − t)²", mean: "all" },
  { kind: "mae", doc: "|p − t| (derivative 0 exactly at p = t)", mean: "all" },
  { kind: "huber", doc: "½e² for |e| ≤ delta, delta·(|e| − ½delta) beyond (e = p − t)", mean: "all" },
  // Used as written only when the output is not a sigmoid.
  { kind: "binary_cross_entropy", doc: "−(t·log p + (1 − t)·log(1 − p)), logs clipped at 1e-7", mean: "all" },
  { kind: "cross_entropy", doc: "−Σ t·log p over the classes, logs clipped at 1e-7", mean: "rows" },
];

const LOSSES: ReadonlyMap<string, LossDef> = new Map(LOSS_DEFS.map((d) => [d.kind, d]));

/** Every loss kind. */
export const LOSS_KINDS: readonly string[] = LOSS_DEFS.map((d) => d.kind);

export function lossDef(kind: string): LossDef {
  const l = LOSSES.get(kind);
  if (l === undefined) throw new Error(`bug: unknown loss ${kind}`);
  return l;
}

/** The op of a loss: (prediction, labels) → scalar; the seed's adjoint is loss_grad for the prediction. */
function lossOp(def: LossDef): OpDef {
  return {
    name: def.kind,
    doc: `mean ${def.kind} loss: ${def.doc}`,
    shape: () => [],
    adjoint(node, dOut, g) {
      if (dOut !== undefined) throw new Error("bug: a loss must be the root of the graph");
      const [p] = node.inputs as [number, number];
      return [g.add("loss_grad", node.inputs, { ...node.attrs, loss: def.kind }, g.gradName(p), node.origin), undefined];
    },
  };
}

export const LOSS_OPS: readonly OpDef[] = LOSS_DEFS.map(lossOp);

/** loss_grad(p, t) with attribute `loss` (and `delta`): d(mean loss)/dp, elementwise. */
export const lossGrad: OpDef = {
  name: "loss_grad",
  doc: "gradient of a mean loss with respect to the prediction",
  shape: (inputs) => inputs[0] ?? [],
};
