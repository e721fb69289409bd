/**
 * The network diagram's data, made in the language worker from the checked program (the graph:
 * inputs, layers, the values each takes, the block uses they came from) and the compiled IR
 * (each layer's output shape and parameter count).
 */
import { shapeSize, type Graph, type IrNode, type Origin } from "../../../compiler/ir.js";
import { layerDef } from "../../../compiler/layers/index.js";
import type { Layer, Program } from "../../../compiler/program.js";
import type { Span } from "../../../grammar/span.js";
import type { Diagram, DiagramGroup, DiagramNode } from "../protocol.js";

const INPUT_COLOR = "#38bdf8";

/** The text of a block use without its target and sources: `r = residual 32` → `residual 32`. */
export function useText(source: string, span: Span): string {
  const text = source
    .slice(span.start, span.end)
    .replace(/\s+/g, " ")
    .replace(/^[A-Za-z_][A-Za-z0-9_]*\s*=(?!=)\s*/, "")
    .replace(/^[A-Za-z_][A-Za-z0-9_]*(?:\s*,\s*[A-Za-z_][A-Za-z0-9_]*)*\s*->\s*/, "")
    .trim();
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

/**
 * The forward IR nodes of each layer, in the order of `layers`. Every layer lowers with an
 * `Origin` of its own (one object, kept by autodiff and fusion), so the nodes of the uses of one
 * block, which share a source span, still tell apart; a layer left without nodes (an identity)
 * gets none.
 */
function nodesByLayer(layers: readonly Layer[], graph: Graph, inputSpans: ReadonlySet<number>): (readonly IrNode[])[] {
  const byOrigin = new Map<Origin, IrNode[]>();
  for (const n of graph.nodes) {
    if (n.phase !== "forward" || n.origin === undefined) continue;
    if (inputSpans.has(n.origin.span.start)) continue; // the slices that cut a named input out of x
    const list = byOrigin.get(n.origin);
    if (list) list.push(n);
    else byOrigin.set(n.origin, [n]);
  }
  const origins = [...byOrigin.keys()];
  let c = 0;
  return layers.map((layer) => {
    const o = origins[c];
    if (o !== undefined && o.span.start === layer.span.start && o.span.end === layer.span.end && o.text === layerDef(layer.kind).describe(layer)) {
      c++;
      return byOrigin.get(o) ?? [];
    }
    return [];
  });
}

export function buildDiagram(program: Program, graph: Graph, source: string): Diagram {
  const model = program.model;
  const nodes: DiagramNode[] = model.inputs.map((inp, i) => ({
    id: i,
    label: inp.name ?? "input",
    name: inp.name ?? "input",
    kind: "input",
    color: INPUT_COLOR,
    connects: "local",
    merge: false,
    inputs: [],
    shape: inp.shape,
    params: 0,
    line: inp.span.line,
    groups: [],
  }));
  const paramsOf = new Map<string, number>();
  for (const p of graph.params) {
    const layer = p.name.slice(0, Math.max(0, p.name.lastIndexOf(".")));
    paramsOf.set(layer, (paramsOf.get(layer) ?? 0) + shapeSize(graph.nodes[p.node]!.shape));
  }
  const irNodes = nodesByLayer(model.layers, graph, new Set(model.inputs.map((i) => i.span.start)));
  const groups = new Map<string, { block: string; label: string; parent: string | undefined; line: number; params: number }>();
  model.nodes.forEach((gn, k) => {
    const layer = gn.layer;
    const def = layerDef(layer.kind);
    const mine = irNodes[k] ?? [];
    const last = mine[mine.length - 1];
    const id = model.inputs.length + k;
    // A layer without nodes of its own passes its value on: its input's shape.
    const shape = last ? last.shape.filter((d): d is number => d !== "n") : (nodes[gn.inputs[0] ?? -1]?.shape ?? []);
    const params = paramsOf.get(layer.name) ?? 0;
    // The first via.length parts of the name are the block uses (`outer_1.inner_2.dense_1`).
    const parts = layer.name.split(".");
    const keys: string[] = [];
    gn.via.forEach((span, d) => {
      const key = parts.slice(0, d + 1).join(".");
      keys.push(key);
      const g = groups.get(key);
      if (g) g.params += params;
      else {
        const text = useText(source, span);
        groups.set(key, { block: /^[A-Za-z_][A-Za-z0-9_]*/.exec(text)?.[0] ?? text, label: `${parts[d]}: ${text}`, parent: d > 0 ? keys[d - 1] : undefined, line: span.line, params });
      }
    });
    nodes.push({
      id,
      label: last?.origin?.text ?? def.describe(layer),
      name: layer.name,
      kind: layer.kind,
      color: def.diagram.color,
      connects: def.diagram.connects,
      merge: def.merge === true,
      inputs: gn.inputs,
      shape,
      params,
      line: layer.span.line,
      groups: keys,
    });
  });
  const out: DiagramGroup[] = [...groups].map(([key, g]) => ({ key, ...g }));
  return { nodes, groups: out, output: model.output };
}
