/**
 * The shape of a loss op. Each loss is one file (`mse.ts`, …) giving its per-element term and
 * that term's derivative; this helper makes the op (prediction and labels in, a scalar out)
 * whose adjoint is a `loss_grad` node. Losses are means: over the batch and the outputs
 * (`mean: "all"`, like Keras' mse/mae/huber/binary cross-entropy) or over the batch only
 * (`mean: "rows"`, cross-entropy, whose term is summed over the classes).
 */
import type { OpDef } from "./types.js";
import { batchCount, perRow } from "./types.js";

export interface LossDef {
  readonly kind: string;
  /** The term of one element, from the prediction `p`, the target `t` and `delta`. */
  term(p: string, t: string, delta: string): string;
  /** d term / d p. */
  grad(p: string, t: string, delta: string): string;
  readonly mean: "all" | "rows";
}

/** The divisor of a loss over `m` outputs per sample, as code. */
export function meanDivisor(mean: "all" | "rows", m: number): string {
  return mean === "all" && m !== 1 ? `(n * ${m})` : "n";
}

export function lossOp(def: LossDef): OpDef {
  return {
    name: def.kind,
    doc: `mean ${def.kind} loss`,
    shape: () => [],
    saves: [0, 1],
    adjoint(node, dOut, g) {
      if (dOut !== undefined) throw new Error("bug: a loss must be the root of the graph");
      const [p] = node.inputs as [number, number];
      return [g.add("loss_grad", node.inputs, { ...node.attrs, loss: def.kind }, g.gradName(p), node.origin), undefined];
    },
    emit(node, ctx) {
      const [p, y] = node.inputs as [number, number];
      const m = perRow(ctx.node(p));
      const delta = ctx.num((typeof node.attrs["delta"] === "number" ? node.attrs["delta"] : 1));
      return [
        `let total = 0;`,
        `for (let i = 0; i < ${batchCount(m)}; i++) {`,
        `const p = ${ctx.ref(p)}[i], t = ${ctx.ref(y)}[i];`,
        `total += ${def.term("p", "t", delta)};`,
        `}`,
        `${ctx.lossVar} = total / ${meanDivisor(def.mean, m)};`,
      ].join("\n");
    },
  };
}
