/**
 * The layers' `l1:`/`l2:` penalties in the generated module (Keras' `kernel_regularizer`): the
 * loss gains Σ l1·Σ|w| + l2·Σw² over the penalized weight tensors, and their gradient gains
 * l1·sign(w) + 2·l2·w (sign(0) = 0, as TensorFlow's and PyTorch's |w|).
 *
 * Not in the IR: the loss op stays the graph's root (the fused losses and the wasm kernels rely
 * on it). `penalty()` is added to what `lossOf` returns and `addPenaltyGradient()` runs at the
 * end of `backward`, after the layers' gradients are written, so `loss`, `lossAndGrad` and
 * `trainStep` are the value and gradient of one objective, the penalty included (as Keras
 * reports it): gradient checks see the whole of it, clipping clips the whole gradient, and a
 * gradient summed from shards (each weighted by its share of the batch, the shares summing to 1)
 * holds the penalty's once. Every TypeScript loop reads `params`/`grads`, which are views of the
 * kernels' memory under `--kernels wasm`, so both targets share this code.
 */
import type { Graph } from "../ir.js";
import { nodeOf, shapeSize } from "../ir.js";
import { commentText } from "./names.js";

/** A penalized tensor's elements [start, end) of the flat parameter array and its coefficients. */
export interface PenaltyRange {
  readonly name: string;
  readonly start: number;
  readonly end: number;
  readonly l1: number;
  readonly l2: number;
}

/** Every trainable tensor with a penalty, in layout order. */
export function penaltyRanges(graph: Graph, offsets: ReadonlyMap<number, number>): PenaltyRange[] {
  const out: PenaltyRange[] = [];
  for (const p of graph.params) {
    if (p.penalty === undefined || p.trainable === false || (p.penalty.l1 === 0 && p.penalty.l2 === 0)) continue;
    const start = offsets.get(p.node) as number;
    out.push({ name: p.name, start, end: start + shapeSize(nodeOf(graph, p.node).shape), l1: p.penalty.l1, l2: p.penalty.l2 });
  }
  return out;
}

/** `penalty()` and `addPenaltyGradient()` for the module's body; no lines without a penalty. */
export function penaltyFunctions(ranges: readonly PenaltyRange[], T: (t: string) => string, num: (x: number) => string): string[] {
  if (ranges.length === 0) return [];
  const value: string[] = [`// the layers' l1/l2 penalties, added to the loss: l1·Σ|w| + l2·Σw²`, `function penalty()${T(": number")} {`, `let total = 0;`];
  const gradient: string[] = [`// their gradient, added to the layers' own: l1·sign(w) + 2·l2·w`, `function addPenaltyGradient()${T(": void")} {`];
  for (const r of ranges) {
    const label = commentText(`${r.name}: ${r.l1 > 0 ? `l1 ${r.l1}` : ""}${r.l1 > 0 && r.l2 > 0 ? ", " : ""}${r.l2 > 0 ? `l2 ${r.l2}` : ""}`);
    const loop = `for (let i = ${r.start}; i < ${r.end}; i++)`;
    if (r.l1 > 0 && r.l2 > 0) {
      value.push(`{ // ${label}`, `let s1 = 0;`, `let s2 = 0;`, `${loop} {`, `const w = params[i];`, `s1 += Math.abs(w);`, `s2 += w * w;`, `}`, `total += ${num(r.l1)} * s1 + ${num(r.l2)} * s2;`, `}`);
    } else if (r.l1 > 0) {
      value.push(`{ // ${label}`, `let s = 0;`, `${loop} s += Math.abs(params[i]);`, `total += ${num(r.l1)} * s;`, `}`);
    } else {
      value.push(`{ // ${label}`, `let s = 0;`, `${loop} s += params[i] * params[i];`, `total += ${num(r.l2)} * s;`, `}`);
    }
    const sign = `(w > 0 ? ${num(r.l1)} : w < 0 ? -${num(r.l1)} : 0)`;
    if (r.l1 > 0) gradient.push(`${loop} { // ${label}`, `const w = params[i];`, `grads[i] += ${r.l2 > 0 ? `${num(2 * r.l2)} * w + ` : ""}${sign};`, `}`);
    else gradient.push(`${loop} grads[i] += ${num(2 * r.l2)} * params[i]; // ${label}`);
  }
  return [...value, `return total;`, `}`, ...gradient, `}`];
}
