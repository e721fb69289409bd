/**
 * The explain pass (`compile({ explain: true })`): reverse-mode differentiation of the model's
 * scores with respect to its input, appended to the graph in phase `explain` after the
 * training backward pass (`autodiff.ts`), which it leaves as it was.
 *
 * The scores are the output's logits when the output ends in softmax or sigmoid (a class's
 * score), else the output itself. A leaf `seed` (one row per sample, filled by the module's
 * methods: `codegen/api-explain.ts`) is their adjoint, so the pass computes
 * d(Σ seed·scores)/dx: with a one-hot seed, the gradient of one class's score; with
 * p_c·(e_c − p), of its probability; with the loss's gradient at the logits, of the loss.
 * Only values that depend on the input are differentiated (no parameter gradient), and the
 * model is explained at inference: a dropout layer passes its adjoint through unchanged, and
 * batchnorm (the running statistics, constants then) is γ·invstd·dy (`batchnorm_dx` with
 * dγ = dβ = 0; its own adjoint rule differentiates the batch statistics).
 * Every layer's adjoint is kept (`ExplainRoots.layers`), for Grad-CAM.
 */
import type { ExplainRoots, Graph, GraphBuilder, IrNode, Phase } from "./ir.js";
import { nodeOf } from "./ir.js";
import { hasNoGradient, opDef } from "./ops/registry.js";
import type { AdjointBuilder } from "./ops/types.js";
import { gradName } from "./codegen/names.js";

/** What the explain pass borrows from `autodiff`: the graph being built, a node adder per phase, unique names. */
export interface Differentiation {
  readonly g: GraphBuilder;
  builder(phase: Phase, needs: readonly boolean[]): AdjointBuilder;
  unique(name: string): string;
}

export function explainPass(graph: Graph, d: Differentiation): ExplainRoots {
  const output = nodeOf(graph, graph.output);
  const scores = output.op === "softmax" || output.op === "sigmoid" ? (output.inputs[0] as number) : output.id;

  // Which values depend on the input (parameters are constants here).
  const needs = graph.nodes.map(() => false);
  for (const n of graph.nodes) needs[n.id] = n.op === "input" || (n.op !== "param" && !hasNoGradient(n.op) && n.inputs.some((i) => needs[i]));

  const builder = d.builder("explain", needs);
  const seed = d.g.add({ op: "label", inputs: [], shape: nodeOf(graph, scores).shape, name: d.unique("scoreSeed"), phase: "explain", origin: undefined });
  const contributions = new Map<number, number[]>();
  const contribute = (id: number, adj: number): void => {
    const list = contributions.get(id);
    if (list === undefined) contributions.set(id, [adj]);
    else list.push(adj);
  };
  const adjointOf = (node: IrNode): number | undefined => {
    const list = contributions.get(node.id);
    if (list === undefined) return undefined;
    let acc = list[0] as number;
    for (let i = 1; i < list.length; i++) acc = builder.add("add", [acc, list[i] as number], {}, gradName(node.name), node.origin);
    return acc;
  };

  contribute(scores, seed);
  let inputGrad: number | undefined;
  const layerGrads = new Map<number, number>();
  for (let id = scores; id >= 0; id--) {
    const node = nodeOf(graph, id);
    if (!needs[id]) continue;
    const dOut = adjointOf(node);
    if (dOut === undefined) continue;
    layerGrads.set(id, dOut);
    if (node.op === "input") {
      inputGrad = dOut;
      continue;
    }
    // Dropout at inference is the identity: its adjoint passes through (the mask is not drawn).
    const dropped = dropoutValue(graph, node);
    if (dropped !== undefined) {
      contribute(dropped, dOut);
      continue;
    }
    if (node.op === "batchnorm") {
      const [x, stats, gamma] = node.inputs as [number, number, number];
      if (!needs[x]) continue;
      const attrs = { c: node.attrs["c"] as number, p: node.attrs["p"] as number };
      const zero = builder.add("mul", [gamma, builder.add("constant", [], { value: 0 }, `${node.name}Zero`, node.origin)], {}, `${node.name}NoStats`, node.origin);
      contribute(x, builder.add("batchnorm_dx", [dOut, x, stats, gamma, zero, zero], attrs, gradName(nodeOf(graph, x).name), node.origin));
      continue;
    }
    const rule = opDef(node.op).adjoint;
    if (rule === undefined) throw new Error(`bug: op ${node.op} has no adjoint rule`);
    rule(node, dOut, builder).forEach((adj, i) => {
      const input = node.inputs[i] as number;
      if (adj !== undefined && needs[input]) contribute(input, adj);
    });
  }
  const layers = (graph.layers ?? []).map((l) => ({ ...l, grad: layerGrads.get(l.node) }));
  return { seed, scores, inputGrad, layers };
}

/** `mul(v, mask)` of a dropout layer: `v`. */
function dropoutValue(graph: Graph, n: IrNode): number | undefined {
  if (n.op !== "mul") return undefined;
  const [a, b] = n.inputs as [number, number];
  if (nodeOf(graph, b).op === "dropout_mask") return a;
  if (nodeOf(graph, a).op === "dropout_mask") return b;
  return undefined;
}
