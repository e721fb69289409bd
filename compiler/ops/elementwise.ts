/**
 * Elementwise primitives — add, sub, mul, div (NumPy broadcasting), constant, neg, exp, log,
 * rsqrt — and the broadcasting rules they share with `reduce.ts`: the shape rule, and
 * `reduceTo`/`passTo`, which reduce an adjoint back to the shape of the input it belongs to.
 *
 * Broadcasting is NumPy's, right-aligned: a missing or size-1 dim takes the other's size; the
 * batch dim `"n"` matches only `"n"`, 1 or a missing dim, and stays the leading axis.
 */
import type { Dim, IrNode, IrShape } from "../ir.js";
import { showShape } from "../ir.js";
import type { AdjointBuilder, OpDef } from "./types.js";
import { attrNum, toShape } from "./types.js";

// ── shapes ──────────────────────────────────────────────────────────────────────

/** The broadcast shape of `shapes` (throws `bug:` when they do not broadcast; `lower` checks user shapes first). */
export function broadcastShape(shapes: readonly IrShape[], op: string): IrShape {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const fail = (why: string): never => {
    throw new Error(`bug: ${op}: shapes ${shapes.map(showShape).join(", ")} ${why}`);
  };
  for (const s of shapes) {
    if (s.slice(1).includes("n")) fail("have the batch dim n off the leading axis");
    if (s[0] === "n" && s.length !== rank) fail("would move the batch dim n off the leading axis");
  }
  const out: Dim[] = [];
  for (let k = 0; k < rank; k++) {
    let d: Dim = 1;
    for (const s of shapes) {
      const e = s[k - (rank - s.length)];
      if (e === undefined || e === 1) continue;
      if (d === 1) d = e;
      else if (d !== e) fail("do not broadcast");
    }
    out.push(d);
  }
  return out;
}

export function sameShape(a: IrShape, b: IrShape): boolean {
  return a.length === b.length && a.every((d, k) => d === b[k]);
}

/** Whether `from` broadcasts to exactly `to` (the relation of `broadcast` and `sum_to`). */
export function broadcastsTo(from: IrShape, to: IrShape): boolean {
  try {
    return sameShape(broadcastShape([from, to], "broadcast"), to);
  } catch {
    return false;
  }
}

export function binaryShape(op: string): OpDef["shape"] {
  return (inputs) => {
    if (inputs.length !== 2) throw new Error(`bug: ${op} takes two inputs`);
    return broadcastShape(inputs, op);
  };
}

// ── adjoints ────────────────────────────────────────────────────────────────────

/** `v` (a fresh adjoint node with the op's shape) summed back to the shape of input `id` over the axes it was broadcast along (`sum_to`); `v` itself when the shapes agree. */
export function reduceTo(g: AdjointBuilder, v: number, id: number, node: IrNode, name: string = g.gradName(id)): number {
  const target = g.node(id).shape;
  return sameShape(g.node(v).shape, target) ? v : g.add("sum_to", [v], { to: toShape(target) }, name, node.origin);
}

/**
 * The op's adjoint `dy` handed on unchanged to input `id` (add, sub), reduced to its shape. A
 * parameter of the same shape gets a copy (a `sum_to` to the same shape): `codegen/module.ts`
 * places a parameter's gradient node in the `grads` array, so two parameters must never share
 * one node (as they would in `add(p, q)`, or `add(add(p, x), q)`).
 */
export function passTo(g: AdjointBuilder, dy: number, id: number, node: IrNode): number {
  const target = g.node(id);
  if (target.op === "param" && sameShape(g.node(dy).shape, target.shape)) return g.add("sum_to", [dy], { to: toShape(target.shape) }, g.gradName(id), node.origin);
  return reduceTo(g, dy, id, node);
}

/** A scalar constant in the backward pass (e.g. a mean's count). */
export function constantNode(g: AdjointBuilder, value: number, name: string, node: IrNode): number {
  return g.add("constant", [], { value }, name, node.origin);
}

function lossRoot(op: string): never {
  throw new Error(`bug: ${op} as loss`);
}

// ── binary ops ──────────────────────────────────────────────────────────────────

/**
 * add(a, b) = a + b. Autodiff also uses it to sum two adjoints of a value read in two places.
 * Adjoint: dy for each input, summed back to that input's shape when it was broadcast.
 */
export const add: OpDef = {
  name: "add",
  inPlace: true,
  doc: "a + b (broadcast)",
  shape: binaryShape("add"),
  adjoint(node, dOut, g) {
    if (dOut === undefined) return lossRoot("add");
    const [a, b] = node.inputs as [number, number];
    return [g.needsGrad(a) ? passTo(g, dOut, a, node) : undefined, g.needsGrad(b) ? passTo(g, dOut, b, node) : undefined];
  },
};

/** sub(a, b) = a − b. Adjoint: da = dy, db = −dy, each summed back to its input's shape. */
export const sub: OpDef = {
  name: "sub",
  inPlace: true,
  doc: "a − b (broadcast)",
  shape: binaryShape("sub"),
  adjoint(node, dOut, g) {
    if (dOut === undefined) return lossRoot("sub");
    const [a, b] = node.inputs as [number, number];
    const da = g.needsGrad(a) ? passTo(g, dOut, a, node) : undefined;
    // Summed first, then negated: the negation runs over the smaller shape.
    const db = g.needsGrad(b) ? g.add("neg", [reduceTo(g, dOut, b, node, `${g.gradName(b)}Sum`)], {}, g.gradName(b), node.origin) : undefined;
    return [da, db];
  },
};

/** mul(a, b) = a · b. Adjoint: da = dy·b, db = dy·a, each summed back to its input's shape. */
export const mul: OpDef = {
  name: "mul",
  inPlace: true,
  doc: "a · b (broadcast)",
  shape: binaryShape("mul"),
  adjoint(node, dOut, g) {
    if (dOut === undefined) return lossRoot("mul");
    const [a, b] = node.inputs as [number, number];
    const part = (of: number, other: number): number => {
      const full = g.add("mul", [dOut, other], {}, sameShape(g.node(of).shape, node.shape) ? g.gradName(of) : `${g.gradName(of)}Full`, node.origin);
      return reduceTo(g, full, of, node);
    };
    // mul(v, v): both adjoints are the same dy·v, built once (autodiff adds it to itself).
    if (a === b) {
      const both = g.needsGrad(a) ? part(a, a) : undefined;
      return [both, both];
    }
    return [g.needsGrad(a) ? part(a, b) : undefined, g.needsGrad(b) ? part(b, a) : undefined];
  },
};

/** div(a, b) = a / b. Adjoint: da = dy / b, db = −dy·a/b² = −(dy·y)/b from the saved output y. */
export const div: OpDef = {
  name: "div",
  inPlace: true,
  doc: "a / b (broadcast)",
  shape: binaryShape("div"),
  adjoint(node, dOut, g) {
    if (dOut === undefined) return lossRoot("div");
    const [a, b] = node.inputs as [number, number];
    let da: number | undefined;
    if (g.needsGrad(a)) {
      const full = g.add("div", [dOut, b], {}, sameShape(g.node(a).shape, node.shape) ? g.gradName(a) : `${g.gradName(a)}Full`, node.origin);
      da = reduceTo(g, full, a, node);
    }
    let db: number | undefined;
    if (g.needsGrad(b)) {
      const dyY = g.add("mul", [dOut, node.id], {}, `${g.gradName(b)}DyY`, node.origin);
      const q = g.add("div", [dyY, b], {}, `${g.gradName(b)}Q`, node.origin);
      db = g.add("neg", [reduceTo(g, q, b, node, `${g.gradName(b)}Sum`)], {}, g.gradName(b), node.origin);
    }
    return [da, db];
  },
};

// ── constant ────────────────────────────────────────────────────────────────────

/**
 * constant (attribute `value`): a scalar leaf of shape [1] (not [] — `codegen/module.ts` gives
 * shape [] to the loss), broadcast by the binary ops (the targets may paste its literal in).
 */
export const constant: OpDef = {
  name: "constant",
  doc: "a scalar constant, shape [1]",
  shape: (inputs, attrs) => {
    if (inputs.length !== 0) throw new Error("bug: constant takes no inputs");
    attrNum(attrs, "value");
    return [1];
  },
};

// ── unary ops ───────────────────────────────────────────────────────────────────

const same: OpDef["shape"] = (inputs) => inputs[0] ?? [];

/** nonzero(x) = 1 where x ≠ 0, else 0: a mask (of padded steps), constant to differentiation. */
export const nonzero: OpDef = {
  name: "nonzero",
  inPlace: true,
  doc: "1 where x ≠ 0, else 0 (a mask; no gradient)",
  shape: same,
  noGradient: true,
};

/** neg(x) = −x. Adjoint: −dy. */
export const neg: OpDef = {
  name: "neg",
  inPlace: true,
  doc: "−x",
  shape: same,
  adjoint(node, dOut, g) {
    if (dOut === undefined) return lossRoot("neg");
    const x = node.inputs[0] as number;
    return [g.add("neg", [dOut], {}, g.gradName(x), node.origin)];
  },
};

/** exp(x). Adjoint: dy·y from the saved output. */
export const exp: OpDef = {
  name: "exp",
  inPlace: true,
  doc: "eˣ",
  shape: same,
  adjoint(node, dOut, g) {
    if (dOut === undefined) return lossRoot("exp");
    const x = node.inputs[0] as number;
    return [g.add("mul", [dOut, node.id], {}, g.gradName(x), node.origin)];
  },
};

/** log(x), the natural logarithm. Adjoint: dy / x from the saved input. */
export const log: OpDef = {
  name: "log",
  inPlace: true,
  doc: "ln x",
  shape: same,
  adjoint(node, dOut, g) {
    if (dOut === undefined) return lossRoot("log");
    const x = node.inputs[0] as number;
    return [g.add("div", [dOut, x], {}, g.gradName(x), node.origin)];
  },
};

/** rsqrt(x) = 1/√x. Adjoint: −½·dy·y³, computed as −½·(dy·y)/x (y³ = y/x), from the saved input and output. */
export const rsqrt: OpDef = {
  name: "rsqrt",
  inPlace: true,
  doc: "1/√x",
  shape: same,
  adjoint(node, dOut, g) {
    if (dOut === undefined) return lossRoot("rsqrt");
    const x = node.inputs[0] as number;
    const dx = g.gradName(x);
    const dyY = g.add("mul", [dOut, node.id], {}, `${dx}DyY`, node.origin);
    const q = g.add("div", [dyY, x], {}, `${dx}Q`, node.origin);
    const half = constantNode(g, -0.5, `${dx}Half`, node);
    return [g.add("mul", [q, half], {}, dx, node.origin)];
  },
};
