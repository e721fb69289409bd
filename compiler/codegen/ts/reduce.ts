/**
 * TypeScript lowerings of the reductions and their duals: sum_rows (a bias gradient), sum and
 * mean over one axis, broadcast and sum_to (`ops/reduce.ts`).
 */
import type { IrNode } from "../../ir.js";
import { sameShape } from "../../ops/elementwise.js";
import { meanCount } from "../../ops/reduce.js";
import { attrNum } from "../../ops/types.js";
import type { EmitContext, TsLowering } from "./context.js";
import { broadcastLoops, eachElement } from "./loops.js";

/** `out` zeroed, then every element of `x` added into the one it reduces to (a copy when the shapes agree). */
function sumTo(node: IrNode, ctx: EmitContext): string {
  const x = node.inputs[0] as number;
  const xs = ctx.node(x).shape;
  const out = ctx.ref(node.id);
  if (sameShape(xs, node.shape)) return eachElement(node, `${out}[i] = ${ctx.ref(x)}[i];`);
  return [eachElement(node, `${out}[i] = 0;`), broadcastLoops(xs, [xs, node.shape], ([ix, io]) => `${out}[${io}] += ${ctx.ref(x)}[${ix}];`)].join("\n");
}

export const REDUCE: Readonly<Record<string, TsLowering>> = {
  sum_rows(node, ctx) {
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

  sum: sumTo,

  mean(node, ctx) {
    const count = meanCount(ctx.node(node.inputs[0] as number).shape, attrNum(node.attrs, "axis"));
    return [sumTo(node, ctx), eachElement(node, `${ctx.ref(node.id)}[i] /= ${count};`)].join("\n");
  },

  broadcast(node, ctx) {
    const x = node.inputs[0] as number;
    const out = ctx.ref(node.id);
    return broadcastLoops(node.shape, [node.shape, ctx.node(x).shape], ([o, ix]) => `${out}[${o}] = ${ctx.ref(x)}[${ix}];`);
  },

  sum_to: sumTo,
};
