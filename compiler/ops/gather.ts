/**
 * Embedding lookups: gather (rows of a table picked by index) and its adjoint scatter_add (rows
 * of dy added into a zeroed table). Indices are whole numbers stored as floats, like labels,
 * rounded to the nearest integer. An index outside [0, V) — or NaN — is ZEROED, not clamped:
 * gather gives a row of zeros for it and scatter_add drops its row, so neither reads nor
 * writes outside the table.
 */
import type { IrShape } from "../ir.js";
import { showShape } from "../ir.js";
import type { OpDef } from "./types.js";
import { shapeOfTo, toShape } from "./types.js";

/** The [V, D] of a table shape (`bug:` when it is not a matrix). */
export function tableShape(op: string, table: IrShape | undefined): [number, number] {
  if (table === undefined || table.length !== 2 || typeof table[0] !== "number" || typeof table[1] !== "number") {
    throw new Error(`bug: ${op}: the table ${table === undefined ? "is missing" : showShape(table)} is not a [V, D] matrix`);
  }
  return [table[0], table[1]];
}

/** gather(table [V, D], idx [n, T]) → [n, T, D]: row idx[p] of the table for every index p. Adjoint: scatter_add for the table, none for idx. */
export const gather: OpDef = {
  name: "gather",
  doc: "rows of table [V, D] picked by idx (zeros for indices outside [0, V))",
  shape: (inputs) => {
    const [, d] = tableShape("gather", inputs[0]);
    return [...(inputs[1] ?? []), d];
  },
  adjoint(node, dOut, g) {
    if (dOut === undefined) throw new Error("bug: gather as loss");
    const [table, idx] = node.inputs as [number, number];
    const dTable = g.needsGrad(table) ? g.add("scatter_add", [dOut, idx], { to: toShape(g.node(table).shape) }, g.gradName(table), node.origin) : undefined;
    return [dTable, undefined];
  },
};

/** scatter_add(dy [n, T, D], idx [n, T]) → `to` = [V, D]: zeros, then row p of dy added to row idx[p]. Adjoint: gather of dy's adjoint. */
export const scatterAdd: OpDef = {
  name: "scatter_add",
  doc: "rows of dy added into a zeroed [V, D] table at rows idx (indices outside [0, V) dropped)",
  shape: (inputs, attrs) => {
    const to = shapeOfTo(attrs);
    const [, d] = tableShape("scatter_add", to);
    const dy = inputs[0] ?? [];
    const idx = inputs[1] ?? [];
    if (dy.length !== idx.length + 1 || dy[dy.length - 1] !== d || idx.some((s, k) => s !== dy[k])) {
      throw new Error(`bug: scatter_add: dy ${showShape(dy)} is not idx ${showShape(idx)} × ${d}`);
    }
    return to;
  },
  adjoint(node, dOut, g) {
    if (dOut === undefined) throw new Error("bug: scatter_add as loss");
    const [dy, idx] = node.inputs as [number, number];
    return [g.add("gather", [dOut, idx], {}, g.gradName(dy), node.origin), undefined];
  },
};
