/**
 * The IR: an immutable graph of typed values with static shapes.
 *
 * A node is one value computed by one op of the registry (`ops/`). Shapes are static except
 * the batch dimension, written `"n"` (1 ≤ n ≤ maxBatch, chosen per call). Nodes are listed in
 * topological order; `inputs` refer to earlier nodes by id. Passes never mutate a graph: they
 * build a new one with `GraphBuilder` (ids are re-numbered densely).
 *
 * A value holds numbers of the model's float type (float32 or float64, chosen at code
 * generation) unless its node says otherwise: `dtype: "i32"` marks integer values (a max pool's
 * positions), which are never differentiated.
 *
 * Every node belongs to a phase, which decides the generated function it lands in:
 *   forward   — depends on the input only (`forward`, `predict`)
 *   loss      — the scalar loss (needs the labels)
 *   backward  — gradients, appended by `autodiff.ts`
 *   explain   — with `explain: true` only: the gradient of the model's scores with respect to the
 *               input and to every layer's value (`autodiff.ts`, `codegen/api-explain.ts`)
 */
import type { Span } from "../grammar/span.js";

export type Dim = number | "n";
export type IrShape = readonly Dim[];
export type AttrValue = number | string | boolean;
export type Attrs = Readonly<Record<string, AttrValue>>;
export type Phase = "forward" | "loss" | "backward" | "explain";
/** An element type other than the model's float type. */
export type ElementKind = "i32";

/** Where a node came from in the `.nn` file (for comments and diagnostics). */
export interface Origin {
  /** A short description of the layer, e.g. `dense 128, relu`. Unsanitized: user text. */
  readonly text: string;
  readonly line: number;
  readonly span: Span;
}

export interface IrNode {
  readonly id: number;
  readonly op: string;
  readonly inputs: readonly number[];
  readonly shape: IrShape;
  readonly attrs: Attrs;
  /** The generated identifier of this value (`w1`, `h2`, `dz3`, …); see `codegen/names.ts`. */
  readonly name: string;
  readonly phase: Phase;
  readonly origin: Origin | undefined;
  /** Integer values; absent for the model's float type. */
  readonly dtype?: ElementKind;
}

/** A trainable tensor: its node, where it lives in the flat array, how it is initialized. */
export interface ParamInfo {
  readonly node: number;
  /** `<layer>.<tensor>` as the user sees it (unsanitized). */
  readonly name: string;
  readonly init: string;
  readonly fanIn: number;
  readonly fanOut: number;
  /** False for statistics the optimizer never updates (batchnorm running mean/var). Default true. */
  readonly trainable?: boolean;
  /** The layer's `l1:`/`l2:` on this tensor (its weights, never its bias): the loss gains l1·Σ|w| + l2·Σw². */
  readonly penalty?: Penalty;
}

/** Keras' `kernel_regularizer=L1L2(l1, l2)`: l1·Σ|w| + l2·Σw² added to the loss (no ½ on l2). */
export interface Penalty {
  readonly l1: number;
  readonly l2: number;
}

/** A layer of the `.nn` file and the node holding the value it hands on. */
export interface LayerValue {
  /** The layer's name (given, or generated such as `dense_2`). Unsanitized: user text. */
  readonly name: string;
  /** Its kind (`conv2d`, `dense`, …): a word of the vocabulary. */
  readonly kind: string;
  readonly node: number;
}

/** The explanation nodes (`explain: true`): what `codegen/api-explain.ts` exposes. */
export interface ExplainRoots {
  /** A leaf the caller fills: the adjoint of `scores` (one row per sample). */
  readonly seed: number;
  /** The value explained: the output's logits when it ends in softmax or sigmoid, else the output. */
  readonly scores: number;
  /** Σ seed·scores differentiated with respect to the input; undefined when no gradient reaches it (integer tokens). */
  readonly inputGrad: number | undefined;
  /** Every layer's value, and its adjoint in the explain phase (undefined when the scores do not depend on it). */
  readonly layers: readonly (LayerValue & { readonly grad: number | undefined })[];
}

export interface Graph {
  readonly nodes: readonly IrNode[];
  readonly params: readonly ParamInfo[];
  /** The model's prediction. */
  readonly output: number;
  /** The scalar loss. */
  readonly loss: number;
  /** Gradient node of each parameter node (filled by autodiff). */
  readonly grads: ReadonlyMap<number, number>;
  /** Each layer's value (filled by `lower`; autodiff hands it to `explain`). */
  readonly layers?: readonly LayerValue[];
  /** The explanation nodes, with `explain: true` only. */
  readonly explain?: ExplainRoots;
}

export function shapeSize(shape: IrShape): number {
  let s = 1;
  for (const d of shape) if (d !== "n") s *= d;
  return s;
}

export function isBatched(shape: IrShape): boolean {
  return shape[0] === "n";
}

export function showShape(shape: IrShape): string {
  return `[${shape.join(",")}]`;
}

export interface NodeSpec {
  readonly op: string;
  readonly inputs: readonly number[];
  readonly shape: IrShape;
  readonly attrs?: Attrs;
  readonly name: string;
  readonly phase: Phase;
  readonly origin?: Origin | undefined;
  readonly dtype?: ElementKind | undefined;
}

/** Builds a graph by appending nodes; `finish` freezes it. */
export class GraphBuilder {
  private readonly nodes: IrNode[] = [];
  private readonly params: ParamInfo[] = [];

  add(spec: NodeSpec): number {
    for (const i of spec.inputs) {
      if (i < 0 || i >= this.nodes.length) throw new Error(`bug: ${spec.op} refers to node ${i} before it exists`);
    }
    const node: IrNode = Object.freeze({
      id: this.nodes.length,
      op: spec.op,
      inputs: Object.freeze([...spec.inputs]),
      shape: Object.freeze([...spec.shape]),
      attrs: Object.freeze({ ...(spec.attrs ?? {}) }),
      name: spec.name,
      phase: spec.phase,
      origin: spec.origin,
      ...(spec.dtype !== undefined ? { dtype: spec.dtype } : {}),
    });
    this.nodes.push(node);
    return node.id;
  }

  addParam(info: ParamInfo): void {
    this.params.push(Object.freeze({ ...info }));
  }

  node(id: number): IrNode {
    const n = this.nodes[id];
    if (n === undefined) throw new Error(`bug: no node ${id}`);
    return n;
  }

  get size(): number {
    return this.nodes.length;
  }

  finish(output: number, loss: number, grads: ReadonlyMap<number, number> = new Map(), extra: { layers?: readonly LayerValue[]; explain?: ExplainRoots } = {}): Graph {
    return Object.freeze({
      nodes: Object.freeze([...this.nodes]),
      params: Object.freeze([...this.params]),
      output,
      loss,
      grads: new Map(grads),
      ...(extra.layers !== undefined ? { layers: Object.freeze([...extra.layers]) } : {}),
      ...(extra.explain !== undefined ? { explain: extra.explain } : {}),
    });
  }
}

export function nodeOf(graph: Graph, id: number): IrNode {
  const n = graph.nodes[id];
  if (n === undefined) throw new Error(`bug: no node ${id}`);
  return n;
}

/** How many nodes read each node (the output and loss count as readers). */
export function useCounts(graph: Graph): number[] {
  const uses = graph.nodes.map(() => 0);
  for (const n of graph.nodes) for (const i of n.inputs) uses[i] = (uses[i] ?? 0) + 1;
  uses[graph.output] = (uses[graph.output] ?? 0) + 1;
  uses[graph.loss] = (uses[graph.loss] ?? 0) + 1;
  return uses;
}

function showAttr(v: AttrValue): string {
  return typeof v === "string" ? JSON.stringify(v) : String(v);
}

/**
 * Stable, readable text of a graph (`nnc compile --emit ir|fused`, golden tests):
 *
 *     %h1 : [n,128] = dense %x, %w1, %b1  act="relu"   ; dense 128, relu (line 4)
 *     %argmax2 : [n,14,14,16] i32 = maxpool2d_argmax %h1  …   (an integer value: its type follows the shape)
 */
export function printGraph(graph: Graph, title: string): string {
  const lines: string[] = [`; ${title}`];
  let phase: Phase | undefined;
  const ref = (i: number): string => `%${nodeOf(graph, i).name}`;
  for (const n of graph.nodes) {
    if (n.phase !== phase) {
      phase = n.phase;
      lines.push(`${phase}:`);
    }
    const attrs = Object.keys(n.attrs)
      .sort()
      .map((k) => `${k}=${showAttr(n.attrs[k] as AttrValue)}`);
    const args = n.inputs.map(ref).join(", ");
    let text = `  %${n.name} : ${showShape(n.shape)}${n.dtype !== undefined ? ` ${n.dtype}` : ""} = ${n.op}${args ? " " + args : ""}`;
    if (attrs.length > 0) text += "  " + attrs.join(" ");
    if (n.origin !== undefined) text += `   ; ${oneLine(n.origin.text)} (line ${n.origin.line})`;
    lines.push(text);
  }
  const grads = [...graph.grads.entries()].map(([p, g]) => `${ref(p)} -> ${ref(g)}`);
  lines.push(`output ${ref(graph.output)}`, `loss ${ref(graph.loss)}`);
  if (grads.length > 0) lines.push(`grads ${grads.join(", ")}`);
  return lines.join("\n") + "\n";
}

/** Layer descriptions are user text: keep them on one line in dumps. */
function oneLine(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, " ");
}
