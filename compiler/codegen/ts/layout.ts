/**
 * TypeScript lowerings of the ops that move values without arithmetic: the leaves (input,
 * label, param) and reshape, which need no code; concat, slice, slice_grad and transpose
 * (`ops/layout.ts`); and the embedding lookups gather and scatter_add (`ops/gather.ts`), whose
 * indices outside [0, V) give a row of zeros or are dropped.
 */
import type { IrShape } from "../../ir.js";
import { shapeSize } from "../../ir.js";
import { permOf, sliceRange } from "../../ops/layout.js";
import { tableShape } from "../../ops/gather.js";
import { attrNum } from "../../ops/types.js";
import type { TsLowering } from "./context.js";
import { alignedStrides, batchCount, eachElement, stridedLoops } from "./loops.js";

/**
 * A tensor seen as rows around `axis`: `rows` (the product of the axes before it, as code, e.g.
 * `n * 3`), `width` (the size of the axis) and `after` (the product of the axes after it); one
 * row of the axis is `width · after` contiguous values.
 */
function around(shape: IrShape, axis: number): { rows: string; width: number; after: number } {
  let lit = 1;
  for (let k = 0; k < axis; k++) if (shape[k] !== "n") lit *= shape[k] as number;
  const rows = shape[0] === "n" && axis > 0 ? (lit === 1 ? "n" : `n * ${lit}`) : String(lit);
  let after = 1;
  for (let k = axis + 1; k < shape.length; k++) after *= shape[k] as number;
  return { rows, width: shape[axis] as number, after };
}

/** `r * 20 + 8` with the zero and unit terms left out (`r` is `0` when there is one row). */
function at(r: string, stride: number, offset: number): string {
  const parts = [r === "0" ? "" : stride === 1 ? r : `${r} * ${stride}`, offset === 0 ? "" : String(offset)].filter((s) => s !== "");
  return parts.length === 0 ? "" : parts.join(" + ") + " + ";
}

/** `body(r)` once per row: a loop over `r`, or the body alone with `r` = 0 when there is one row. */
function eachRow(rows: string, body: (r: string) => string): string {
  return rows === "1" ? body("0") : `for (let r = 0; r < ${rows}; r++) {\n${body("r")}\n}`;
}

/** How many indices `idx` holds, as code (`n * 5` when batched). */
function indexCount(idx: IrShape): string {
  return idx[0] === "n" ? batchCount(shapeSize(idx)) : String(shapeSize(idx));
}

/** Leaves and aliases: their buffers are given (`x`, `y`, views of `params`, the input's buffer). */
const none: TsLowering = () => "";

export const LAYOUT: Readonly<Record<string, TsLowering>> = {
  input: none,
  label: none,
  param: none,
  reshape: none,

  concat(node, ctx) {
    const axis = attrNum(node.attrs, "axis");
    const { rows, width, after } = around(node.shape, axis);
    const out = ctx.ref(node.id);
    return eachRow(rows, (r) => {
      let offset = 0;
      return node.inputs
        .map((id) => {
          const w = (ctx.node(id).shape[axis] as number) * after;
          const line = `for (let j = 0; j < ${w}; j++) ${out}[${at(r, width * after, offset)}j] = ${ctx.ref(id)}[${at(r, w, 0)}j];`;
          offset += w;
          return line;
        })
        .join("\n");
    });
  },

  slice(node, ctx) {
    const x = node.inputs[0] as number;
    const { axis, start } = sliceRange("slice", ctx.node(x).shape, node.attrs);
    const { rows, width, after } = around(ctx.node(x).shape, axis);
    const w = (node.shape[axis] as number) * after;
    const out = ctx.ref(node.id);
    return eachRow(rows, (r) => `for (let j = 0; j < ${w}; j++) ${out}[${at(r, w, 0)}j] = ${ctx.ref(x)}[${at(r, width * after, start * after)}j];`);
  },

  slice_grad(node, ctx) {
    const { axis, start, end } = sliceRange("slice_grad", node.shape, node.attrs);
    const { rows, width, after } = around(node.shape, axis);
    const row = width * after;
    const w = (end - start) * after;
    const out = ctx.ref(node.id);
    const dy = ctx.ref(node.inputs[0] as number);
    return eachRow(rows, (r) =>
      [
        ...(start > 0 ? [`for (let j = 0; j < ${start * after}; j++) ${out}[${at(r, row, 0)}j] = 0;`] : []),
        `for (let j = 0; j < ${w}; j++) ${out}[${at(r, row, start * after)}j] = ${dy}[${at(r, w, 0)}j];`,
        ...(end < width ? [`for (let j = ${end * after}; j < ${row}; j++) ${out}[${at(r, row, 0)}j] = 0;`] : []),
      ].join("\n"),
    );
  },

  transpose(node, ctx) {
    const x = node.inputs[0] as number;
    const xs = ctx.node(x).shape;
    const perm = permOf(node.attrs, xs);
    const xStrides = alignedStrides(xs, xs.length);
    const out = ctx.ref(node.id);
    return stridedLoops(node.shape, [alignedStrides(node.shape, node.shape.length), perm.map((p) => xStrides[p] as number)], ([o, ix]) => `${out}[${o}] = ${ctx.ref(x)}[${ix}];`);
  },

  gather(node, ctx) {
    const [table, idx] = node.inputs as [number, number];
    const [v, d] = tableShape("gather", ctx.node(table).shape);
    const out = ctx.ref(node.id);
    return [
      `for (let p = 0; p < ${indexCount(ctx.node(idx).shape)}; p++) {`,
      `const row = Math.round(${ctx.ref(idx)}[p]);`,
      `if (row >= 0 && row < ${v}) {`,
      `for (let j = 0; j < ${d}; j++) ${out}[p * ${d} + j] = ${ctx.ref(table)}[row * ${d} + j];`,
      `} else {`,
      `for (let j = 0; j < ${d}; j++) ${out}[p * ${d} + j] = 0; // index out of range: a zero row`,
      `}`,
      `}`,
    ].join("\n");
  },

  scatter_add(node, ctx) {
    const [dy, idx] = node.inputs as [number, number];
    const [v, d] = tableShape("scatter_add", node.shape);
    const out = ctx.ref(node.id);
    return [
      eachElement(node, `${out}[i] = 0;`),
      `for (let p = 0; p < ${indexCount(ctx.node(idx).shape)}; p++) {`,
      `const row = Math.round(${ctx.ref(idx)}[p]);`,
      `if (row >= 0 && row < ${v}) {`,
      `for (let j = 0; j < ${d}; j++) ${out}[row * ${d} + j] += ${ctx.ref(dy)}[p * ${d} + j];`,
      `}`,
      `}`,
    ].join("\n");
  },
};
