/**
 * Stage 2: reverse-mode automatic differentiation on the IR. Starting from the loss (seed 1),
 * nodes are visited in reverse order; each op's adjoint rule (`ops/<op>.ts`) appends the
 * backward nodes that compute the adjoints of its inputs. A value read in several places gets
 * the sum of its adjoints (`add`). Only values that depend on a parameter are differentiated.
 * The result is a new graph: the forward nodes unchanged, the backward nodes appended, and
 * `grads` mapping every parameter to the node holding its gradient.
 *
 * With `explain: true` a second pass (phase `explain`, `explain.ts`) differentiates the model's
 * scores with respect to the input instead; the training pass is the same either way.
 */
import type { Result } from "../grammar/diagnostics.js";
import type { Attrs, ExplainRoots, Graph, IrNode, Origin, Phase } from "./ir.js";
import { GraphBuilder, nodeOf } from "./ir.js";
import { hasNoGradient, opDef } from "./ops/registry.js";
import type { AdjointBuilder } from "./ops/types.js";
import { gradName } from "./codegen/names.js";
import { explainPass } from "./explain.js";

export interface AutodiffOptions {
  /** Also differentiate the scores with respect to the input and every layer (phase `explain`). */
  readonly explain?: boolean;
}

export function autodiff(graph: Graph, options: AutodiffOptions = {}): Result<Graph> {
  const g = new GraphBuilder();
  for (const n of graph.nodes) {
    g.add({ op: n.op, inputs: n.inputs, shape: n.shape, attrs: n.attrs, name: n.name, phase: n.phase, origin: n.origin, dtype: n.dtype });
  }
  for (const p of graph.params) g.addParam(p);

  // Which values depend on a parameter (and so need an adjoint); a dropout mask or integer
  // positions do not, whatever they read (`OpDef.noGradient`).
  const frozen = new Set(graph.params.filter((p) => p.trainable === false).map((p) => p.node));
  const needs = graph.nodes.map(() => false);
  for (const n of graph.nodes) needs[n.id] = n.op === "param" ? !frozen.has(n.id) : !hasNoGradient(n.op) && n.inputs.some((i) => needs[i]);

  const taken = new Set(graph.nodes.map((n) => n.name));
  const unique = (name: string): string => {
    let s = name;
    for (let k = 2; taken.has(s); k++) s = `${name}_${k}`;
    taken.add(s);
    return s;
  };

  const builderOf = (phase: Phase, marks: readonly boolean[]): AdjointBuilder => ({
    add(op: string, inputs: readonly number[], attrs: Attrs, name: string, origin?: Origin): number {
      const shape = opDef(op).shape(
        inputs.map((i) => g.node(i).shape),
        attrs,
      );
      return g.add({ op, inputs, shape, attrs, name: unique(name), phase, origin, dtype: opDef(op).dtype });
    },
    node: (id) => g.node(id),
    needsGrad: (id) => marks[id] === true,
    gradName: (id) => gradName(g.node(id).name),
  });
  const builder = builderOf("backward", needs);

  // Adjoint contributions per node, summed when a value has more than one reader.
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
    for (let i = 1; i < list.length; i++) {
      acc = builder.add("add", [acc, list[i] as number], {}, gradName(node.name), node.origin);
    }
    return acc;
  };

  const grads = new Map<number, number>();
  const lossNode = nodeOf(graph, graph.loss);
  const seed = opDef(lossNode.op).adjoint?.(lossNode, undefined, builder) ?? [];
  seed.forEach((adj, i) => {
    if (adj !== undefined && needs[lossNode.inputs[i] as number]) contribute(lossNode.inputs[i] as number, adj);
  });
  for (let id = graph.loss - 1; id >= 0; id--) {
    const node = nodeOf(graph, id);
    if (!needs[id]) continue;
    const dOut = adjointOf(node);
    if (dOut === undefined) continue;
    if (node.op === "param") {
      grads.set(id, dOut);
      continue;
    }
    const rule = opDef(node.op).adjoint;
    if (rule === undefined) throw new Error(`bug: op ${node.op} has no adjoint rule`);
    rule(node, dOut, builder).forEach((adj, i) => {
      const input = node.inputs[i] as number;
      if (adj !== undefined && needs[input]) contribute(input, adj);
    });
  }
  const explain: ExplainRoots | undefined = options.explain === true ? explainPass(graph, { g, builder: builderOf, unique }) : undefined;
  return { value: g.finish(graph.output, graph.loss, grads, explain !== undefined ? { explain } : {}), diagnostics: [] };
}
