/** sum_rows(dy): the bias gradient, Σ over the batch of dy [n, M] → [M]. */
import type { OpDef } from "./types.js";

export const sumRows: OpDef = {
  name: "sum_rows",
  doc: "Σ_rows dy: [n, M] → [M]",
  shape: (inputs) => [inputs[0]?.[1] ?? 0],
  saves: [],
  emit(node, ctx) {
    const m = node.shape[0] as number;
    const out = ctx.ref(node.id);
    const dy = ctx.ref(node.inputs[0] as number);
    return [
      `for (let j = 0; j < ${m}; j++) ${out}[j] = 0;`,
      `for (let r = 0; r < n; r++) {`,
      `for (let j = 0; j < ${m}; j++) ${out}[j] += ${dy}[r * ${m} + j];`,
      `}`,
    ].join("\n");
  },
};
