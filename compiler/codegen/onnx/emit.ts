/**
 * The forward graph → an ONNX graph (`graph.ts`), one IR node at a time through the lowering
 * table (`lowering.ts`). This file is the `OnnxContext` the table's entries use: each IR value's
 * ONNX names in both layouts (NHWC, nnc's; NCHW, ONNX's images), made on demand; the model's
 * inputs; the weights as initializers, named as nnc names them (`<layer>.<tensor>`, PyTorch's
 * style) and stored in the layout their ONNX op reads.
 *
 * Why the unfused graph: fusion exists to save memory passes in nnc's own loops (a product and
 * its epilogue in one pass); ONNX Runtime fuses for itself (Conv+BatchNormalization, Gemm+
 * activation), and the unfused ops map one to one onto ONNX's, so the file reads like the model.
 * Only the nodes the output depends on are lowered: the loss, the labels and the gradients are
 * not part of an inference model.
 */
import type { Diagnostic, Result } from "../../../grammar/diagnostics.js";
import { diag } from "../../../grammar/diagnostics.js";
import { FILE_START } from "../../../grammar/span.js";
import type { Graph, IrNode } from "../../ir.js";
import { nodeOf, shapeSize } from "../../ir.js";
import type { ModelInput } from "../../program.js";
import { BOOL, FLOAT, INT64, ints, OnnxGraph, type OnnxAttrs } from "./graph.js";
import type { OnnxContext } from "./context.js";
import { ONNX_LOWERINGS, ONNX_REFUSED } from "./lowering.js";

/** The parameter values: the module's flat array and where each tensor sits in it (a weights file's `layout` and `params`). */
export interface OnnxWeights {
  readonly layout: readonly { readonly name: string; readonly offset: number; readonly size: number }[];
  readonly params: ArrayLike<number>;
}

/** The name of the graph's one output. */
export const OUTPUT_NAME = "output";

/** Values a reader computes for itself or that are constants: lowered when first read, not in graph order. */
const ON_DEMAND = new Set(["param", "constant", "dropout_mask", "maxpool2d_argmax", "batchnorm_stats"]);

/** A layer's description on one line (user text: control characters become spaces). */
const oneLine = (s: string): string => s.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, " ");

/** `data` (row-major, shape `dims`) with its axes permuted: out axis k is axis perm[k]. */
function permute(data: ArrayLike<number>, dims: readonly number[], perm: readonly number[]): Float32Array {
  const out = new Float32Array(data.length);
  const outDims = perm.map((p) => dims[p] as number);
  const strides = dims.map((_, k) => dims.slice(k + 1).reduce((a, b) => a * b, 1));
  const index = outDims.map(() => 0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let k = 0; k < perm.length; k++) src += (index[k] as number) * (strides[perm[k] as number] as number);
    out[o] = data[src] as number;
    for (let k = perm.length - 1; k >= 0; k--) {
      index[k] = (index[k] as number) + 1;
      if ((index[k] as number) < (outDims[k] as number)) break;
      index[k] = 0;
    }
  }
  return out;
}

/**
 * Lowers the forward part of `graph` (from `lower`, unfused), whose packed input holds the
 * model's `inputs` side by side; NN3040 for a node whose op has no ONNX form.
 */
export function buildOnnxGraph(graph: Graph, modelInputs: readonly Pick<ModelInput, "name" | "shape">[], weights: OnnxWeights): Result<OnnxGraph | undefined> {
  // ── what the output depends on ──
  const needed = new Set<number>([graph.output]);
  for (let i = graph.output; i >= 0; i--) if (needed.has(i)) for (const j of nodeOf(graph, i).inputs) needed.add(j);
  const order = graph.nodes.filter((n) => needed.has(n.id));
  const diagnostics: Diagnostic[] = [];
  for (const n of order) {
    if (ONNX_LOWERINGS.has(n.op)) continue;
    const why = ONNX_REFUSED.get(n.op) ?? "has no entry in the ONNX lowering table";
    const where = n.origin !== undefined ? `${oneLine(n.origin.text)} (line ${n.origin.line})` : "the model";
    diagnostics.push(diag("onnxOpRefused", n.origin?.span ?? FILE_START, [n.op, where, why], { hint: "export the model without this layer, or run it with the TypeScript module (`nnc compile`)" }));
  }
  if (diagnostics.length > 0) return { value: undefined, diagnostics };

  const g = new OnnxGraph();
  // ── the inputs: one graph input per input of the model, with a dynamic batch ──
  const inputNode = graph.nodes.find((n) => n.op === "input") as IrNode;
  const inputs = modelInputs.map((inp) => g.input(inp.name ?? "input", ["batch", ...inp.shape]));
  const sliceStarts: number[] = [];
  modelInputs.reduce((offset, inp) => (sliceStarts.push(offset), offset + shapeSize(inp.shape)), 0);
  const flatInputs = new Map<number, string>();

  // ── each IR value's ONNX names ──
  const values = new Map<number, { nhwc?: string; nchw?: string }>();
  let current: IrNode = inputNode;
  const docOf = (n: IrNode): string => (n.origin !== undefined ? `${oneLine(n.origin.text)} (line ${n.origin.line})` : "");
  const make = (opType: string, ins: readonly string[], attrs: OnnxAttrs, name: string, of: IrNode): string => g.node(opType, ins, attrs, name, docOf(of));
  const paramName = new Map(graph.params.map((p) => [p.node, p.name]));
  const layout = new Map(weights.layout.map((e) => [e.name, e]));
  const weightCache = new Map<string, string>();
  const scalars = new Map<number, string>();

  const lowerNode = (n: IrNode): void => {
    const lowering = ONNX_LOWERINGS.get(n.op);
    if (lowering === undefined) throw new Error(`bug: op ${n.op} reached the ONNX walker`);
    const outer = current;
    current = n;
    const v = lowering(n, ctx);
    current = outer;
    values.set(n.id, v === undefined ? {} : typeof v === "string" ? { nhwc: v } : { nchw: v.nchw });
  };
  const valueOf = (id: number): { nhwc?: string; nchw?: string } => {
    if (!values.has(id)) lowerNode(nodeOf(graph, id));
    return values.get(id) as { nhwc?: string; nchw?: string };
  };

  const ctx: OnnxContext = {
    node: (id) => nodeOf(graph, id),
    ref(id) {
      const v = valueOf(id);
      if (v.nhwc !== undefined) return v.nhwc;
      const n = nodeOf(graph, id);
      if (v.nchw === undefined) throw new Error(`bug: ${n.op} ${n.name} has no ONNX value of its own`);
      v.nhwc = n.shape.length === 3 ? make("Squeeze", [v.nchw, ctx.int64s([1], "channel")], {}, n.name, n) : make("Transpose", [v.nchw], { perm: ints([0, 2, 3, 1]) }, n.name, n);
      return v.nhwc;
    },
    nchw(id) {
      const v = valueOf(id);
      if (v.nchw !== undefined) return v.nchw;
      const n = nodeOf(graph, id);
      const x = ctx.ref(id);
      if (n.shape.length === 3) v.nchw = make("Unsqueeze", [x, ctx.int64s([1], "channel")], {}, `${n.name}_nchw`, n);
      else if (n.shape.length === 4) v.nchw = make("Transpose", [x], { perm: ints([0, 3, 1, 2]) }, `${n.name}_nchw`, n);
      else throw new Error(`bug: ${n.name} of rank ${n.shape.length} is not an image`);
      return v.nchw;
    },
    nchwOnly(id) {
      const v = valueOf(id);
      return v.nhwc === undefined ? v.nchw : undefined;
    },
    emit: (opType, ins, attrs = {}, part) => make(opType, ins, attrs, part === undefined ? current.name : `${current.name}_${part}`, current),
    int64s: (vals, part) => g.constant(`${current.name}_${part}`, INT64, [vals.length], vals),
    bools: (dims, vals, part) => g.constant(`${current.name}_${part}`, BOOL, dims, vals),
    scalar(value) {
      const known = scalars.get(value);
      if (known !== undefined) return known;
      const name = g.constant(`scalar_${value}`, FLOAT, [1], [value]);
      scalars.set(value, name);
      return name;
    },
    weight(id, from, perm) {
      let source = nodeOf(graph, id);
      while (source.op === "reshape") source = nodeOf(graph, source.inputs[0] as number);
      const name = paramName.get(source.id);
      if (name === undefined) {
        // Not a parameter: the same view made by nodes.
        const shaped = ctx.emit("Reshape", [ctx.ref(id), ctx.int64s(from, "shape")], {}, "view");
        return perm.every((p, k) => p === k) ? shaped : ctx.emit("Transpose", [shaped], { perm: ints(perm) }, "permuted");
      }
      const key = `${source.id}|${from.join(",")}|${perm.join(",")}`;
      const known = weightCache.get(key);
      if (known !== undefined) return known;
      const entry = layout.get(name);
      if (entry === undefined || entry.size !== from.reduce((a, b) => a * b, 1)) throw new Error(`bug: the weights have no tensor ${name} of ${from.join("×")} values`);
      const data = Array.prototype.slice.call(weights.params, entry.offset, entry.offset + entry.size) as number[];
      const made = g.constant(name, FLOAT, perm.map((p) => from[p] as number), permute(data, from, perm));
      weightCache.set(key, made);
      return made;
    },
    modelInput(id) {
      const n = nodeOf(graph, id);
      if (n.op === "input" && inputs.length === 1) return inputs[0];
      if (n.op !== "slice" || n.inputs[0] !== inputNode.id || inputs.length === 1) return undefined;
      const k = sliceStarts.indexOf(n.attrs["start"] as number);
      const shape = modelInputs[k]?.shape;
      if (k < 0 || shape === undefined) throw new Error(`bug: a slice of the packed input at ${String(n.attrs["start"])} is no named input`);
      if (shape.length === 1) return inputs[k];
      // The packed layout reads an image input as one row: flattened, as nnc does, then reshaped back by the next node.
      let flat = flatInputs.get(k);
      if (flat === undefined) {
        flat = make("Reshape", [inputs[k] as string, g.constant(`${n.name}_shape`, INT64, [2], [0, shapeSize(shape)])], {}, n.name, n);
        flatInputs.set(k, flat);
      }
      return flat;
    },
  };

  // Constants and values their readers compute are lowered when (and as) a reader asks for them.
  for (const n of order) if (!ON_DEMAND.has(n.op) && !(n.op === "reshape" && !n.shape.includes("n"))) valueOf(n.id);
  const out = nodeOf(graph, graph.output);
  g.output(OUTPUT_NAME, ctx.ref(out.id), ["batch", ...(out.shape.slice(1) as number[])]);
  g.prune();
  return { value: g, diagnostics };
}
