/** bias_add(z, b): adds b [M] to every row of z [n, M]. Adjoint: dz passes through; db = Σ rows. */
import type { OpDef } from "./types.js";
import { perRow } from "./types.js";

export const biasAdd: OpDef = {
  name: "bias_add",
  doc: "z + b, b broadcast over the rows",
  shape: (inputs) => inputs[0] ?? [],
  saves: [],
  adjoint(node, dOut, g) {
    if (dOut === undefined) throw new Error("bug: bias_add as loss");
    const [z, b] = node.inputs as [number, number];
    const db = g.needsGrad(b) ? g.add("sum_rows", [dOut], {}, g.gradName(b), node.origin) : undefined;
    return [g.needsGrad(z) ? dOut : undefined, db];
  },
  emit(node, ctx) {
    const [z, b] = node.inputs as [number, number];
    const m = perRow(node);
    const out = ctx.ref(node.id);
    return `for (let r = 0; r < n; r++) {\nfor (let j = 0; j < ${m}; j++) ${out}[r * ${m} + j] = ${ctx.ref(z)}[r * ${m} + j] + ${ctx.ref(b)}[j];\n}`;
  },
};
