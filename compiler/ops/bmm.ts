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
import type { Attrs, IrShape } from "../ir.js";
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
