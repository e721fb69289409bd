/**
 * The TypeScript target's lowering table: op name → code, assembled from the family files
 * (elementwise, products, conv, norm, losses, reduce, layout, recurrent). Every op of the registry has an
 * entry (`tests/compiler/targets.test.ts`); an op without one is a bug, reported by name —
 * never a silent fallback. The WebAssembly target lowers first where it has kernels
 * (`wasm/lowering.ts`) and hands every other node to this table.
 */
import type { IrNode } from "../../ir.js";
import type { EmitContext, TsLowering } from "./context.js";
import { ELEMENTWISE } from "./elementwise.js";
import { PRODUCTS } from "./products.js";
import { CONV } from "./conv.js";
import { NORM } from "./norm.js";
import { LOSSES } from "./losses.js";
import { REDUCE } from "./reduce.js";
import { LAYOUT } from "./layout.js";
import { RECURRENT } from "./recurrent.js";

const FAMILIES: readonly Readonly<Record<string, TsLowering>>[] = [ELEMENTWISE, PRODUCTS, CONV, NORM, LOSSES, REDUCE, LAYOUT, RECURRENT];

function assemble(): ReadonlyMap<string, TsLowering> {
  const table = new Map<string, TsLowering>();
  for (const family of FAMILIES) {
    for (const [op, lower] of Object.entries(family)) {
      if (table.has(op)) throw new Error(`bug: two TypeScript lowerings of ${op}`);
      table.set(op, lower);
    }
  }
  return table;
}

/** Op name → its TypeScript lowering. */
export const TS_LOWERINGS: ReadonlyMap<string, TsLowering> = assemble();

/** The TypeScript code computing `node` ("" for leaves and aliases). */
export function lowerTs(node: IrNode, ctx: EmitContext): string {
  const lower = TS_LOWERINGS.get(node.op);
  if (lower === undefined) throw new Error(`bug: the TypeScript target has no lowering for op ${node.op}`);
  return lower(node, ctx);
}
