/**
 * bmm(a, b): a batch of matrix products, one per index of the leading axes (the batch axis and
 * any axes after it but the last two): out[i] = op(a[i])·op(b[i]), where op(x) is x, or xᵀ when
 * the attribute `ta` (for a) or `tb` (for b) is 1. Attention's products: the scores q·kᵀ
 * (`tb: 1`) and the weighted values p·v.
 *
 * Adjoint of c = op(a)·op(b), from the four cases of the matrix product's rule:
 *
 *   c = a·b      da = dc·bᵀ      db = aᵀ·dc
 *   c = a·bᵀ     da = dc·b       db = dcᵀ·a
 *   c = aᵀ·b     da = b·dcᵀ      db = a·dc
 *   c = aᵀ·bᵀ    da = bᵀ·dcᵀ     db = dcᵀ·aᵀ
 *
 * each again a bmm, so the op is its own backward.
 */
import type { Attrs, IrNode, IrShape } from "../ir.js";
import { showShape } from "../ir.js";
import type { OpDef } from "./types.js";

/** The sizes of one product: the leading axes, then rows × depth times depth × cols. */
export interface BmmDims {
  /** The leading axes (the batch axis first), shared by a, b and the output. */
  readonly lead: IrShape;
  readonly rows: number;
  readonly depth: number;
  readonly cols: number;
  readonly ta: boolean;
  readonly tb: boolean;
}

function flag(attrs: Attrs, key: string): boolean {
  const v = attrs[key];
  if (v !== 0 && v !== 1) throw new Error(`bug: bmm attribute ${key} must be 0 or 1`);
  return v === 1;
}

/** The sizes of bmm(a, b) with these attributes, checked. */
export function bmmDims(a: IrShape, b: IrShape, attrs: Attrs): BmmDims {
  const ta = flag(attrs, "ta");
  const tb = flag(attrs, "tb");
  const r = a.length;
  const lead = a.slice(0, r - 2);
  if (r < 3 || b.length !== r || lead.some((d, k) => d !== b[k])) throw new Error(`bug: bmm of ${showShape(a)} and ${showShape(b)}: not two batches of matrices`);
  const [a0, a1, b0, b1] = [a[r - 2], a[r - 1], b[r - 2], b[r - 1]] as number[] as [number, number, number, number];
  const [rows, depth] = ta ? [a1, a0] : [a0, a1];
  const [depthB, cols] = tb ? [b1, b0] : [b0, b1];
  if (depth !== depthB) throw new Error(`bug: bmm of ${showShape(a)} and ${showShape(b)} (ta ${+ta}, tb ${+tb}): inner sizes ${depth} and ${depthB} differ`);
  return { lead, rows, depth, cols, ta, tb };
}

export const bmm: OpDef = {
  name: "bmm",
  doc: "a batch of matrix products op(a)·op(b) over the leading axes (op: transposed when `ta`/`tb` is 1)",
  shape: (inputs, attrs) => {
    const d = bmmDims(inputs[0] ?? [], inputs[1] ?? [], attrs);
    return [...d.lead, d.rows, d.cols];
  },
  macs: ([a = [], b = []], attrs) => {
    const d = bmmDims(a, b, attrs);
    return (d.lead as number[]).reduce((x, y) => x * y, 1) * d.rows * d.depth * d.cols;
  },
  adjoint(node, dOut, g) {
    if (dOut === undefined) throw new Error("bug: bmm as loss");
    const [a, b] = node.inputs as [number, number];
    const { ta, tb } = bmmDims(g.node(a).shape, g.node(b).shape, node.attrs);
    const product = (x: number, y: number, tx: boolean, ty: boolean, of: number): number =>
      g.add("bmm", [x, y], { ta: tx ? 1 : 0, tb: ty ? 1 : 0 }, g.gradName(of), node.origin);
    let da: number | undefined;
    let db: number | undefined;
    if (g.needsGrad(a)) da = ta ? (tb ? product(b, dOut, true, true, a) : product(b, dOut, false, true, a)) : product(dOut, b, false, !tb, a);
    if (g.needsGrad(b)) db = tb ? (ta ? product(dOut, a, true, true, b) : product(dOut, a, true, false, b)) : product(a, dOut, !ta, false, b);
    return [da, db];
  },
};

/**
 * causal_mask(s): the last two axes [T, T] with every entry above the diagonal (a step looking
 * at a later one) set to −Infinity, so that after a softmax each step attends to itself and
 * the steps before it only. With `grad: 1` those entries are set to 0 instead: that is its
 * adjoint (they are constants), and the adjoint's adjoint.
 */
export const causalMask: OpDef = {
  name: "causal_mask",
  doc: "entries above the diagonal of the last two axes set to −Infinity (0 with `grad: 1`)",
  shape: (inputs) => inputs[0] ?? [],
  adjoint(node, dOut, g) {
    if (dOut === undefined) throw new Error("bug: causal_mask as loss");
    const x = node.inputs[0] as number;
    return [g.add("causal_mask", [dOut], { grad: 1 }, g.gradName(x), node.origin)];
  },
};

/**
 * The triangle of a causal attention's [T, T] matrix that a bmm may skip, every skipped term
 * an exact zero or an output nobody reads:
 *
 * - `out`: only the outputs on and below the diagonal are read (q·kᵀ before its causal mask;
 *   dO·vᵀ, read by the gradient of a causal softmax, whose probabilities above the diagonal are
 *   0): the kernel may write 0 above the diagonal instead of the sums.
 * - `lower`: op(a) is zero above its diagonal (a = P, a causal softmax's output, or dS, the
 *   gradient through a causal mask): row r sums over depth 0…r only (P·v, dS·k).
 * - `upper`: op(a) is zero below its diagonal (op(a) = Pᵀ or dSᵀ): row r sums over depth r…T−1
 *   (Pᵀ·dO, dSᵀ·q).
 *
 * A target may ignore it (the TypeScript kernels do): the results are the same values.
 */
export type CausalSkip = "out" | "lower" | "upper";

/** What `causalSkip` reads of the graph (an `EmitContext` has both). */
export interface GraphView {
  node(id: number): IrNode;
  /** The nodes that read a node's value. */
  readers(id: number): readonly IrNode[];
}

const isMask = (n: IrNode): boolean => n.op === "causal_mask" && n.attrs["grad"] !== 1;

/** Whether a [.., T, T] value is exactly 0 above the diagonal of its last two axes. */
function zeroAbove(id: number, g: GraphView): boolean {
  const n = g.node(id);
  if (n.op === "causal_mask") return n.attrs["grad"] === 1;
  if (n.op === "softmax") return isMask(g.node(n.inputs[0] as number)); // exp(−∞) = 0
  if (n.op === "mul" && n.inputs.length === 2) {
    // dS times the constant scale: 0 · a finite constant = 0.
    const [x, y] = n.inputs as [number, number];
    const finite = (i: number): boolean => g.node(i).op === "constant" && Number.isFinite(g.node(i).attrs["value"]);
    return (zeroAbove(x, g) && finite(y)) || (zeroAbove(y, g) && finite(x));
  }
  return false;
}

/**
 * Whether no value above the diagonal of a [.., T, T] node reaches anything but a causal mask
 * (which replaces it) or the gradient of a causal softmax (which multiplies it by an exact 0):
 * through elementwise `mul`s and `add`s of its own shape (the scale, a padding mask), whose
 * values above the diagonal come from its values above the diagonal.
 */
function onlyLowerRead(id: number, g: GraphView): boolean {
  const readers = g.readers(id);
  const shape = g.node(id).shape;
  return (
    readers.length > 0 &&
    readers.every((r) => {
      if (isMask(r)) return true;
      if (r.op === "softmax_grad") return r.inputs[0] === id && r.inputs[1] !== id && g.node(r.inputs[1] as number).op === "softmax" && zeroAbove(r.inputs[1] as number, g);
      const sameShape = r.shape.length === shape.length && r.shape.every((d, k) => d === shape[k]);
      return (r.op === "mul" || r.op === "add") && sameShape && onlyLowerRead(r.id, g);
    })
  );
}

/** The triangle this bmm node may skip (`CausalSkip`), or undefined. */
export function causalSkip(node: IrNode, g: GraphView): CausalSkip | undefined {
  const [a, b] = node.inputs as [number, number];
  const d = bmmDims(g.node(a).shape, g.node(b).shape, node.attrs);
  if (d.rows === d.cols && onlyLowerRead(node.id, g)) return "out";
  if (d.rows === d.depth && zeroAbove(a, g)) return d.ta ? "upper" : "lower";
  return undefined;
}
