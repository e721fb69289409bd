/**
 * Stage 3: fusion. Each rule rewrites a pattern of the differentiated graph into one op that
 * the code generator emits as a single loop nest; a pass returns a new graph (unreachable
 * nodes dropped). Rules, in order:
 *
 *   1. loss:      cross_entropy(softmax(z)) → softmax_cross_entropy(z) (log-sum-exp), and its
 *                 backward loss_grad → softmax_grad chain → softmax_cross_entropy_grad = (p − y)/n;
 *                 binary_cross_entropy(sigmoid(z)) likewise → sigmoid_bce / sigmoid_bce_grad.
 *   2. forward:   act(bias_add(matmul(x, w), b)) → dense(x, w, b): bias and activation in the
 *                 matmul's epilogue (when the pre-activation is read nowhere else).
 *   3. backward:  activation_grad(mul(matmul_nn(dy, w), mask), h), mask a dropout_mask →
 *                 matmul_nn(dy, w, h, mask) with an epilogue that applies the dropout mask and
 *                 the activation's derivative (or the mask alone, without an activation).
 *
 * The optimizer update is not IR: the code generator emits it as one fused pass over the
 * flat parameter array (clipping, decay, moments and update in the same loop).
 */
import type { Result } from "../grammar/diagnostics.js";
import type { Attrs, Graph, IrNode } from "./ir.js";
import { GraphBuilder, nodeOf, useCounts } from "./ir.js";
import { isElementwiseActivation } from "./ops/registry.js";
import { sameShape } from "./ops/elementwise.js";

interface Replacement {
  readonly op: string;
  /** Ids in the old graph. */
  readonly inputs: readonly number[];
  readonly attrs: Attrs;
}

/** Rebuilds `graph` with some nodes replaced in place, dropping what is no longer reachable. */
export function rewrite(graph: Graph, replace: ReadonlyMap<number, Replacement>): Graph {
  const inputsOf = (n: IrNode): readonly number[] => replace.get(n.id)?.inputs ?? n.inputs;
  const live = graph.nodes.map(() => false);
  const roots = [graph.output, graph.loss, ...graph.grads.values(), ...explainRoots(graph)];
  const stack = [...roots];
  while (stack.length > 0) {
    const id = stack.pop() as number;
    if (live[id]) continue;
    live[id] = true;
    for (const i of inputsOf(nodeOf(graph, id))) stack.push(i);
  }
  // Parameters stay even when unused, so the layout does not change.
  for (const p of graph.params) live[p.node] = true;

  const g = new GraphBuilder();
  const map = new Map<number, number>();
  const mapped = (i: number): number => {
    const m = map.get(i);
    if (m === undefined) throw new Error(`bug: fusion refers to a dropped node ${i}`);
    return m;
  };
  for (const n of graph.nodes) {
    if (!live[n.id]) continue;
    const r = replace.get(n.id);
    map.set(
      n.id,
      g.add({
        op: r?.op ?? n.op,
        inputs: inputsOf(n).map(mapped),
        shape: n.shape,
        attrs: r?.attrs ?? n.attrs,
        name: n.name,
        phase: n.phase,
        origin: n.origin,
        dtype: n.dtype,
      }),
    );
  }
  for (const p of graph.params) g.addParam({ ...p, node: mapped(p.node) });
  const grads = new Map<number, number>();
  for (const [p, d] of graph.grads) grads.set(mapped(p), mapped(d));
  const e = graph.explain;
  const opt = (i: number | undefined): number | undefined => (i === undefined ? undefined : mapped(i));
  const explain = e !== undefined ? { seed: mapped(e.seed), scores: mapped(e.scores), inputGrad: opt(e.inputGrad), layers: e.layers.map((l) => ({ ...l, node: mapped(l.node), grad: opt(l.grad) })) } : undefined;
  return g.finish(mapped(graph.output), mapped(graph.loss), grads, explain !== undefined ? { explain } : {});
}

/** The explain pass's values (`explain.ts`): the module reads them after the call, so fusion keeps them. */
function explainRoots(graph: Graph): number[] {
  const e = graph.explain;
  if (e === undefined) return [];
  const ids = [e.seed, e.scores, ...(e.inputGrad !== undefined ? [e.inputGrad] : [])];
  for (const l of e.layers) ids.push(l.node, ...(l.grad !== undefined ? [l.grad] : []));
  return ids;
}

/** Readers of each node, counting the graph's roots (output, loss, gradients, explained values). */
function uses(graph: Graph): number[] {
  const u = useCounts(graph);
  for (const d of graph.grads.values()) u[d] = (u[d] ?? 0) + 1;
  for (const d of explainRoots(graph)) u[d] = (u[d] ?? 0) + 1;
  return u;
}

function consumers(graph: Graph): IrNode[][] {
  const c: IrNode[][] = graph.nodes.map(() => []);
  for (const n of graph.nodes) for (const i of n.inputs) c[i]?.push(n);
  return c;
}

/** Rule 1: a probability output and its cross-entropy, computed together from the logits. */
function fuseLoss(graph: Graph): Graph {
  const loss = nodeOf(graph, graph.loss);
  const [pId, yId] = loss.inputs as [number, number];
  const p = nodeOf(graph, pId);
  const pair =
    loss.op === "cross_entropy" && p.op === "softmax"
      ? { fwd: "softmax_cross_entropy", bwd: "softmax_cross_entropy_grad", chain: "softmax_grad" }
      : loss.op === "binary_cross_entropy" && p.op === "sigmoid"
        ? { fwd: "sigmoid_bce", bwd: "sigmoid_bce_grad", chain: "activation_grad" }
        : undefined;
  if (pair === undefined) return graph;
  const replace = new Map<number, Replacement>();
  replace.set(loss.id, { op: pair.fwd, inputs: [p.inputs[0] as number, yId], attrs: loss.attrs });
  const byNode = consumers(graph);
  for (const lg of byNode[pId] ?? []) {
    if (lg.op !== "loss_grad" || lg.inputs[1] !== yId) continue;
    for (const chain of byNode[lg.id] ?? []) {
      if (chain.op === pair.chain && chain.inputs[0] === lg.id && chain.inputs[1] === pId) {
        replace.set(chain.id, { op: pair.bwd, inputs: [pId, yId], attrs: loss.attrs });
      }
    }
  }
  return rewrite(graph, replace);
}

/** Rule 2: matmul (+ bias) (+ elementwise activation) → dense. */
function fuseDense(graph: Graph): Graph {
  const u = uses(graph);
  const replace = new Map<number, Replacement>();
  const node = (i: number): IrNode => nodeOf(graph, i);
  /** The matmul (+ bias) chain ending at `v`, if `v` is read only by whoever fuses it. */
  const chain = (v: IrNode): { inputs: number[]; bias: boolean } | undefined => {
    if (v.op === "matmul" && u[v.id] === 1) return { inputs: [...v.inputs], bias: false };
    if (v.op === "bias_add") {
      const mm = node(v.inputs[0] as number);
      if (mm.op === "matmul" && u[mm.id] === 1) return { inputs: [...mm.inputs, v.inputs[1] as number], bias: true };
    }
    return undefined;
  };
  const fusedBias = new Set<number>();
  for (const a of graph.nodes) {
    if (!isElementwiseActivation(a.op)) continue;
    const v = node(a.inputs[0] as number);
    if (u[v.id] !== 1) continue;
    const c = chain(v);
    if (c === undefined) continue;
    replace.set(a.id, { op: "dense", inputs: c.inputs, attrs: { ...a.attrs, act: a.op, bias: c.bias } });
    if (v.op === "bias_add") fusedBias.add(v.id);
  }
  for (const v of graph.nodes) {
    if (v.op !== "bias_add" || fusedBias.has(v.id)) continue;
    const c = chain(v);
    if (c !== undefined) replace.set(v.id, { op: "dense", inputs: c.inputs, attrs: { act: "linear", bias: true } });
  }
  return rewrite(graph, replace);
}

/** `mul(v, mask)` or `mul(mask, v)` with a dropout mask of the same shape: the other operand and the mask. */
function maskedValue(n: IrNode, node: (i: number) => IrNode): { value: number; mask: number } | undefined {
  if (n.op !== "mul") return undefined;
  const [a, b] = n.inputs as [number, number];
  for (const [value, mask] of [
    [a, b],
    [b, a],
  ] as const) {
    if (node(mask).op === "dropout_mask" && sameShape(node(mask).shape, n.shape) && sameShape(node(value).shape, n.shape)) return { value, mask };
  }
  return undefined;
}

/** Rule 3: the dropout mask and activation derivative in the input-gradient matmul's epilogue. */
function fuseBackward(graph: Graph): Graph {
  const u = uses(graph);
  const replace = new Map<number, Replacement>();
  const node = (i: number): IrNode => nodeOf(graph, i);
  const plainMatmulNn = (n: IrNode): boolean => n.op === "matmul_nn" && n.inputs.length === 2 && u[n.id] === 1;
  const fusedMask = new Set<number>();
  for (const ag of graph.nodes) {
    if (ag.op !== "activation_grad") continue;
    let g = node(ag.inputs[0] as number);
    let mask: number | undefined;
    const masked = u[g.id] === 1 ? maskedValue(g, node) : undefined;
    if (masked !== undefined) {
      mask = masked.mask;
      fusedMask.add(g.id);
      g = node(masked.value);
    }
    if (!plainMatmulNn(g)) {
      if (mask !== undefined) fusedMask.delete(ag.inputs[0] as number);
      continue;
    }
    const inputs = [...g.inputs, ag.inputs[1] as number];
    if (mask !== undefined) inputs.push(mask);
    replace.set(ag.id, {
      op: "matmul_nn",
      inputs,
      attrs: { ...ag.attrs, ...(mask !== undefined ? { mask: true } : {}) },
    });
  }
  for (const m of graph.nodes) {
    if (m.phase !== "backward" || fusedMask.has(m.id)) continue;
    const masked = maskedValue(m, node);
    if (masked === undefined) continue;
    const g = node(masked.value);
    if (plainMatmulNn(g)) replace.set(m.id, { op: "matmul_nn", inputs: [...g.inputs, masked.mask], attrs: { mask: true } });
  }
  return rewrite(graph, replace);
}

export function fuse(graph: Graph): Result<Graph> {
  return { value: fuseBackward(fuseDense(fuseLoss(graph))), diagnostics: [] };
}
