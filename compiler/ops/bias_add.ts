/**
 * bias_add(z, b): adds b [M] to every row of z [n, M]. Adjoint: dz passes through;
 * db = sum_rows(dz), Σ over the batch → [M].
 */
import type { OpDef } from "./types.js";

export const biasAdd: OpDef = {
  name: "bias_add",
  doc: "z + b, b broadcast over the rows",
  shape: (inputs) => inputs[0] ?? [],
  adjoint(node, dOut, g) {
    if (dOut === undefined) throw new Error("bug: bias_add as loss");
    const [z, b] = node.inputs as [number, number];
    const db = g.needsGrad(b) ? g.add("sum_rows", [dOut], {}, g.gradName(b), node.origin) : undefined;
    return [g.needsGrad(z) ? dOut : undefined, db];
  },
};

export const sumRows: OpDef = {
  name: "sum_rows",
  doc: "Σ_rows dy: [n, M] → [M]",
  shape: (inputs) => [inputs[0]?.[1] ?? 0],
};
