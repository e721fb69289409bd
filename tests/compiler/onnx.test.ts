/**
 * The ONNX target (`compiler/codegen/onnx/`):
 *
 * - every op of the registry is lowered or refused with a reason, never neither nor both;
 * - a small model of every layer kind and setting runs in ONNX Runtime within ATOL + RTOL·|nnc|
 *   (1e-5 each) of nnc's `predict` (the examples: `onnx-examples.test.ts`);
 * - an op with no ONNX form in the forward graph is NN3040 at its layer's line and column;
 * - names from the `.nn` file (inputs, layers, the model) are data in the file, whatever they hold;
 * - the file is what it says: opset 17, a dynamic batch, initializers named `<layer>.<tensor>`.
 */
import { describe, expect, it } from "vitest";
import onnx from "onnx-proto";
import * as ort from "onnxruntime-web";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { allOps, opDef } from "../../compiler/ops/registry.js";
import { ONNX_LOWERINGS, ONNX_REFUSED } from "../../compiler/codegen/onnx/lowering.js";
import { buildOnnxGraph } from "../../compiler/codegen/onnx/emit.js";
import { encodeOnnx, exportOnnx } from "../../compiler/codegen/onnx/model.js";
import { lower } from "../../compiler/lower.js";
import { GraphBuilder, shapeSize, type Graph } from "../../compiler/ir.js";
import type { Program } from "../../compiler/program.js";
import { program, source } from "./programs.js";
import { parity } from "./onnx-parity.js";

const ops = allOps().map((o) => o.name);

describe("the ONNX lowering table", () => {
  it("lowers or refuses every op of the registry", () => {
    const undecided = allOps().filter((o) => !ONNX_LOWERINGS.has(o.name) && !ONNX_REFUSED.has(o.name));
    expect(undecided.map((o) => `${o.name}: ${o.doc}`)).toEqual([]);
  });

  it("never both lowers and refuses an op, and names no op the registry lacks", () => {
    expect([...ONNX_LOWERINGS.keys()].filter((op) => ONNX_REFUSED.has(op))).toEqual([]);
    expect([...ONNX_LOWERINGS.keys(), ...ONNX_REFUSED.keys()].filter((op) => !ops.includes(op))).toEqual([]);
  });
});

/** A one-input model `Net` with these layers (`input` as given). */
const net = (input: string, layers: readonly string[], loss = "mse"): Program => program(source({ input, layers, loss }));

const CASES: readonly { readonly name: string; readonly program: () => Program }[] = [
  { name: "dense with every activation", program: () => net("5", ["dense 6, relu", "dense 6, leaky_relu(0.2)", "dense 6, elu(0.7)", "dense 6, gelu", "dense 6, tanh", "dense 6, bias: false", "dense 2, sigmoid"], "binary_cross_entropy") },
  { name: "conv2d valid, stride 1", program: () => net("[7, 6, 2]", ["conv2d 3, 3, relu", "flatten", "dense 4, softmax"], "cross_entropy") },
  { name: "conv2d same with even kernels and strides (asymmetric padding)", program: () => net("[7, 9, 2]", ["conv2d 3, [2, 4], stride: [2, 3], padding: same", "conv2d 2, 3, elu, stride: 2, padding: same", "flatten", "dense 3"]) },
  { name: "conv2d on a one-channel image [h, w], 1×1 and gelu", program: () => net("[6, 5]", ["conv2d 2, 1, gelu", "conv2d 3, 1, sigmoid, bias: false", "flatten", "dense 2"]) },
  { name: "max and average pools, valid and same", program: () => net("[8, 6, 3]", ["maxpool2d 2", "avgpool2d 2, padding: same", "maxpool2d [3, 2], stride: 1, padding: same", "avgpool2d 3, stride: 2, padding: same", "flatten", "dense 2"]) },
  { name: "a same pool over an odd image (padding below and right only)", program: () => net("[7, 7, 1]", ["conv2d 2, 3, padding: same", "maxpool2d 2, padding: same", "avgpool2d 2, padding: same", "flatten", "dense 2"]) },
  { name: "batchnorm after a conv, on a flat value, on a sequence", program: () => net("[6, 6, 2]", ["conv2d 4, 3, padding: same, bias: false", "batchnorm epsilon: 0.01", "activation relu", "flatten", "dense 5", "batchnorm", "dense 2"]) },
  { name: "batchnorm on a one-channel image [h, w] and on a sequence", program: () => net("[5, 4]", ["batchnorm", "lstm 3, return_sequences: true", "batchnorm momentum: 0.9", "flatten", "dense 2"]) },
  { name: "dropout, layernorm and an activation layer", program: () => net("8", ["dense 8, relu", "dropout 0.5", "layernorm", "activation elu(0.3)", "dense 3, softmax"], "cross_entropy") },
  { name: "add and concat of named values", program: () => net("6", ["a = dense 5, relu", "b = dense 5, tanh", "add a, b", "c = dense 3", "concat a, c", "dense 2"]) },
  { name: "several named inputs, flat and an image", program: () => program(["model Net {", "  seed 3", "  flat = input 4", "  image = input [4, 4]", "  flat -> dense 3, relu", "  f = dense 3", "  image -> conv2d 2, 3", "  flatten", "  g = dense 3", "  concat f, g", "  dense 2, softmax", "}", "loss cross_entropy", "optimizer sgd(lr: 0.1)", "train { batch 4 }", ""].join("\n")) },
  { name: "embedding, conv1d and the global pools", program: () => net("9", ["embedding 12, 4", "conv1d 5, 3, relu, padding: same", "s = conv1d 4, 2, stride: 2, padding: same", "a = globalmaxpool1d", "s -> globalavgpool1d", "concat a", "dense 2, softmax"], "cross_entropy") },
  { name: "embedding with mask_zero, a masked bidirectional lstm, a gru over every step", program: () => net("7", ["embedding 10, 4, mask_zero: true", "lstm 5, mask: true, bidirectional: true, return_sequences: true", "gru 3", "dense 2"]) },
  { name: "a masked bidirectional gru over every step, a bidirectional lstm's last states", program: () => net("6", ["embedding 10, 3, mask_zero: true", "gru 4, mask: true, bidirectional: true, return_sequences: true", "lstm 3, bidirectional: true", "dense 2"]) },
  { name: "a one-step sequence [1, features]: a gru over every step, a bidirectional lstm", program: () => net("[1, 3]", ["gru 2, return_sequences: true", "lstm 3, bidirectional: true", "dense 1"]) },
  { name: "attention with positions, masked and causal", program: () => net("6", ["embedding 10, 8, mask_zero: true", "positional", "attention 2, mask: true", "attention 4, causal: true", "dense 8, gelu", "globalavgpool1d", "dense 3, softmax"], "cross_entropy") },
  { name: "dense on a sequence from the input [steps, features]", program: () => net("[5, 3]", ["lstm 4, return_sequences: true", "dense 6, relu", "dense 2", "flatten", "dense 1"]) },
];

describe("ONNX parity on a model of every layer kind", () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const p = await parity(c.program(), 4);
      expect(p.outputDims[0]).toBe(4);
      expect(p.outside, `max |Δ| ${p.maxAbs}`).toBe(0);
    });
  }

  it("runs any batch size (the batch dimension is dynamic)", async () => {
    for (const n of [1, 9]) {
      const p = await parity(net("[6, 6, 1]", ["conv2d 2, 3, relu, padding: same", "maxpool2d 2", "flatten", "dense 3, softmax"], "cross_entropy"), n);
      expect(p.outputDims).toEqual([n, 3]);
      expect(p.outside).toBe(0);
    }
  });
});

/**
 * The primitives no layer uses in a forward graph yet (neg, exp, log, div, broadcast, sum_to),
 * in a graph built by hand, against a reference written out in the test:
 * out[r, i, j] = Σ_j′ d[r, i, j′] + Σ_i′ d[r, i′, j] with d = log(exp(−x) + 1) / p[i].
 */
describe("the primitives no layer uses yet", () => {
  it("run in ONNX Runtime as their definitions say", async () => {
    const b = new GraphBuilder();
    const add = (op: string, inputs: number[], name: string, attrs = {}): number =>
      b.add({ op, inputs, shape: opDef(op).shape(inputs.map((i) => b.node(i).shape), attrs), attrs, name, phase: "forward" });
    const x = b.add({ op: "input", inputs: [], shape: ["n", 3, 4], name: "x", phase: "forward" });
    const p = b.add({ op: "param", inputs: [], shape: [3, 1], name: "p", phase: "forward" });
    b.addParam({ node: p, name: "prim.p", init: "ones", fanIn: 1, fanOut: 1 });
    const softplus = add("log", [add("add", [add("exp", [add("neg", [x], "a")], "b"), add("constant", [], "one", { value: 1 })], "c")], "sp");
    const d = add("div", [softplus, add("broadcast", [p], "pb", { to: "n,3,4" })], "d");
    const out = add("add", [add("sum_to", [d], "rows", { to: "n,3,1" }), add("sum_to", [d], "cols", { to: "n,1,4" })], "out");
    const graph = b.finish(out, out);
    const built = buildOnnxGraph(graph, [{ name: "x", shape: [3, 4] }], { layout: [{ name: "prim.p", offset: 0, size: 3 }], params: [0.5, 1, 2] });
    const bytes = encodeOnnx(built.value!, "primitives");
    const n = 2;
    const xs = Float32Array.from({ length: n * 12 }, (_, k) => Math.sin(k) * 3);
    const session = await ort.InferenceSession.create(bytes);
    const got = (await session.run({ x: new ort.Tensor("float32", xs, [n, 3, 4]) }))["output"]!.data as Float32Array;
    await session.release();
    const dOf = (r: number, i: number, j: number): number => Math.log(Math.exp(-xs[r * 12 + i * 4 + j]!) + 1) / [0.5, 1, 2][i]!;
    const sum = (k: number, f: (t: number) => number): number => Array.from({ length: k }, (_, t) => f(t)).reduce((a, v) => a + v, 0);
    const expected = Array.from({ length: n * 12 }, (_, k) => {
      const [r, i, j] = [Math.floor(k / 12), Math.floor(k / 4) % 3, k % 4];
      return sum(4, (t) => dOf(r, i, t)) + sum(3, (t) => dOf(r, t, j));
    });
    expect(got.length).toBe(expected.length);
    for (let k = 0; k < got.length; k++) expect(Math.abs(got[k]! - expected[k]!)).toBeLessThanOrEqual(1e-5 + 1e-5 * Math.abs(expected[k]!));
  });
});

/** The forward graph of `p` with its output node's op renamed (an op with no ONNX form, for the refusal). */
function withOutputOp(p: Program, op: string): Graph {
  const g = lower(p, { maxBatch: 1, dtype: "float32" }).value as Graph;
  return { ...g, nodes: g.nodes.map((n) => (n.id === g.output ? { ...n, op } : n)) };
}

describe("refused ops", () => {
  const text = source({ input: "4", layers: ["dense 3, relu", "dense 2"], loss: "mse" });
  const p = program(text);

  it("names the op, the layer and its reason, at the layer's line and column", () => {
    const r = buildOnnxGraph(withOutputOp(p, "sum_rows"), p.model.inputs, { layout: [], params: [] });
    expect(r.value).toBeUndefined();
    expect(r.diagnostics).toHaveLength(1);
    const d = r.diagnostics[0]!;
    expect(d.code).toBe("NN3040");
    expect(d.message).toContain("`sum_rows`");
    expect(d.message).toContain("dense 2, linear (line 5)");
    expect(d.message).toContain("gradient");
    expect(d.span.line).toBe(5);
    expect(d.span.column).toBe(3);
    expect(text.split("\n")[4]).toBe("  dense 2");
    expect(d.hint).toBeTruthy();
  });

  it("reports an op no table knows as such, not with a stack trace", () => {
    const r = buildOnnxGraph(withOutputOp(p, "made_up"), p.model.inputs, { layout: [], params: [] });
    expect(r.diagnostics.map((d) => d.code)).toEqual(["NN3040"]);
    expect(r.diagnostics[0]!.message).toContain("no entry in the ONNX lowering table");
  });
});

const { onnx: O } = onnx;

/** `p` exported with zero weights, decoded back. */
function exported(p: Program): { bytes: Uint8Array; model: onnx.onnx.ModelProto; graph: onnx.onnx.GraphProto } {
  const g = lower(p, { maxBatch: 1, dtype: "float32" }).value!;
  let offset = 0;
  const layout = g.params.map((q) => {
    const size = shapeSize(g.nodes[q.node]!.shape);
    offset += size;
    return { name: q.name, offset: offset - size, size };
  });
  const r = exportOnnx(p, { layout, params: new Float32Array(offset) }, { classes: ["a\"b", "</script>"] });
  if (r.value === undefined) throw new Error(r.diagnostics.map((d) => d.message).join("; "));
  const model = O.ModelProto.decode(r.value.bytes);
  return { bytes: r.value.bytes, model, graph: model.graph as onnx.onnx.GraphProto };
}

describe("the file", () => {
  it("is opset 17, IR 8, with a dynamic batch and initializers named <layer>.<tensor>", () => {
    const { model, graph } = exported(net("[4, 4, 1]", ["conv2d 2, 3, relu", "flatten", "dense 3, softmax"], "cross_entropy"));
    expect(Number(model.irVersion)).toBe(8);
    expect(model.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([["", 17]]);
    const dims = graph.input[0]!.type!.tensorType!.shape!.dim!;
    expect(dims.map((d) => d.dimParam || Number(d.dimValue))).toEqual(["batch", 4, 4, 1]);
    expect(graph.output.map((o) => o.name)).toEqual(["output"]);
    const names = graph.initializer.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(["conv2d_1.weight", "conv2d_1.bias", "dense_1.weight", "dense_1.bias"]));
    // Conv's filters in ONNX's (and PyTorch's) layout [F, C, KH, KW].
    expect(graph.initializer.find((t) => t.name === "conv2d_1.weight")!.dims!.map(Number)).toEqual([2, 1, 3, 3]);
    expect(graph.node.map((n) => n.opType)).toEqual(expect.arrayContaining(["Conv", "Relu", "Gemm", "Softmax"]));
    expect(JSON.parse(model.metadataProps.find((m) => m.key === "classes")!.value!)).toEqual(["a\"b", "</script>"]);
  });

  it("keeps hostile names as data: inputs, layers and the model named with quotes, newlines and markup", async () => {
    const p = program(source({ input: "3", layers: ["dense 4, relu", "dense 2"], loss: "mse" }));
    const evil = ['in"put\'\n', "</script><script>alert(1)</script>", "a\\b\u2028c"];
    const hostile: Program = {
      ...p,
      model: {
        ...p.model,
        name: evil[1]!,
        inputs: p.model.inputs.map((i) => ({ ...i, name: evil[0] })),
        nodes: p.model.nodes.map((n, k) => ({ ...n, layer: { ...n.layer, name: `${evil[2]}${k}` } })),
      },
    };
    const { bytes, graph } = exported(hostile);
    expect(graph.name).toBe(evil[1]);
    expect(graph.input.map((i) => i.name)).toEqual([evil[0]]);
    expect(graph.initializer.map((t) => t.name)).toEqual(expect.arrayContaining([`${evil[2]}0.weight`, `${evil[2]}1.bias`]));
    const session = await ort.InferenceSession.create(bytes);
    expect(session.inputNames).toEqual([evil[0]]);
    const out = await session.run({ [evil[0]!]: new ort.Tensor("float32", new Float32Array(6), [2, 3]) });
    expect(Array.from(out["output"]!.data as Float32Array)).toEqual([0, 0, 0, 0]);
    await session.release();
  });

  it("passes onnx.checker with shape inference (Debian's python3-onnx) for a model of every layer kind, where it is installed", (ctx) => {
    let hasOnnx = true;
    try {
      execFileSync("/usr/bin/python3", ["-c", "import onnx"], { stdio: "ignore" });
    } catch {
      hasOnnx = false;
    }
    if (!hasOnnx) {
      console.log("skipped: python3-onnx is not installed (apt-get install python3-onnx)");
      ctx.skip();
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), "nnc-onnx-"));
    const files = CASES.map((c, k) => {
      const file = join(dir, `case-${k}.onnx`);
      writeFileSync(file, exported(c.program()).bytes);
      return file;
    });
    const check = "import onnx, sys\nfor f in sys.argv[1:]:\n    onnx.checker.check_model(onnx.load(f), full_check=True)\nprint(len(sys.argv) - 1)";
    expect(execFileSync("/usr/bin/python3", ["-c", check, ...files], { encoding: "utf8" }).trim()).toBe(String(CASES.length));
  });
});
