/**
 * Loop nests the TypeScript lowerings share: one flat loop over every element of a node
 * (`eachElement`), and the strided nests of NumPy broadcasting (`stridedLoops`,
 * `broadcastLoops`), in which each operand is read at its own index expression.
 */
import type { Dim, IrNode, IrShape } from "../../ir.js";
import { attrNum } from "../../ops/types.js";
import type { EmitContext } from "./context.js";

/** Values per sample of a node (all of them when it has no batch axis). */
export function perRow(node: IrNode): number {
  let s = 1;
  for (const d of node.shape) if (d !== "n") s *= d;
  return s;
}

/** `n * m` for m values per sample (`n` when m is 1). */
export function batchCount(m: number): string {
  return m === 1 ? "n" : `n * ${m}`;
}

/** `for (let i = 0; i < n * 128; i++) { body }` over every element of a node. */
export function eachElement(node: IrNode, body: string): string {
  const count = node.shape[0] === "n" ? batchCount(perRow(node)) : String(perRow(node));
  return `for (let i = 0; i < ${count}; i++) {\n${body}\n}`;
}

/** Row-major strides of `shape` along the axes of a rank-`rank` space it is right-aligned in; 0 where it broadcasts. */
export function alignedStrides(shape: IrShape, rank: number): number[] {
  const out = new Array<number>(rank).fill(0);
  let s = 1;
  for (let k = shape.length - 1; k >= 0; k--) {
    const d = shape[k] as Dim;
    if (d !== 1) out[k + rank - shape.length] = s;
    if (d !== "n") s *= d;
  }
  return out;
}

/** `n * 12`, `n` or `12`: how many times a loop over `size` elements runs, `batch` when it includes the batch axis. */
function countExpr(batch: boolean, size: number): string {
  if (!batch) return String(size);
  return size === 1 ? "n" : `n * ${size}`;
}

/** `i0 * 4 + i1`: the flat index of one operand from its strides (0 for a value read at every step). */
function indexExpr(vars: readonly string[], strides: readonly number[]): string {
  const terms = vars.flatMap((v, k) => {
    const s = strides[k] as number;
    return s === 0 ? [] : [s === 1 ? v : `${v} * ${s}`];
  });
  return terms.length === 0 ? "0" : terms.join(" + ");
}

/** One axis of a loop nest: its size (times n when it includes the batch axis) and each operand's stride along it. */
export interface NestAxis {
  readonly batch: boolean;
  readonly size: number;
  readonly strides: readonly number[];
}

/**
 * The axes of a loop nest over `sizes` (`"n"` only as the leading size) in which operand `o`
 * moves by `strides[o][k]` along axis k: axes of size 1 dropped, and neighbouring axes that
 * every operand walks contiguously (or not at all) merged, so same-shape operands give one axis.
 */
export function mergedAxes(sizes: IrShape, strides: readonly (readonly number[])[]): NestAxis[] {
  const axes: NestAxis[] = [];
  sizes.forEach((d, k) => {
    if (d === 1) return;
    const axis: NestAxis = { batch: d === "n", size: d === "n" ? 1 : d, strides: strides.map((s) => s[k] as number) };
    const prev = axes[axes.length - 1];
    if (prev !== undefined && prev.strides.every((s, o) => s === (axis.strides[o] as number) * axis.size)) {
      axes[axes.length - 1] = { batch: prev.batch, size: prev.size * axis.size, strides: axis.strides };
    } else axes.push(axis);
  });
  return axes;
}

/**
 * A loop nest over `sizes` in which operand `o` is read at `Σ index_k · strides[o][k]`, over
 * `mergedAxes`, so same-shape operands give one flat loop — exactly `eachElement`'s. `body`
 * gets each operand's index expression.
 */
export function stridedLoops(sizes: IrShape, strides: readonly (readonly number[])[], body: (index: readonly string[]) => string): string {
  const axes = mergedAxes(sizes, strides);
  const vars = axes.length === 1 ? ["i"] : axes.map((_, k) => `i${k}`);
  let code = body(strides.map((_, o) => indexExpr(vars, axes.map((a) => a.strides[o] as number))));
  for (let k = axes.length - 1; k >= 0; k--) {
    const a = axes[k] as NestAxis;
    const v = vars[k] as string;
    code = `for (let ${v} = 0; ${v} < ${countExpr(a.batch, a.size)}; ${v}++) {\n${code}\n}`;
  }
  return code;
}

/** A loop nest over every element of `shape`, reading each of `operands` (right-aligned, broadcast). */
export function broadcastLoops(shape: IrShape, operands: readonly IrShape[], body: (index: readonly string[]) => string): string {
  return stridedLoops(
    shape,
    operands.map((s) => alignedStrides(s, shape.length)),
    body,
  );
}

/** Element `index` of node `id`; a `constant` is pasted as its literal. */
export function readAt(ctx: EmitContext, id: number, index: string): string {
  const n = ctx.node(id);
  return n.op === "constant" ? ctx.num(attrNum(n.attrs, "value")) : `${ctx.ref(id)}[${index}]`;
}
