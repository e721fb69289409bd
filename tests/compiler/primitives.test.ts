/**
 * The primitive ops (`compiler/ops/{add,elementwise,reduce,layout,gather}.ts`), each built
 * into a small graph by hand (input x, parameters for the other operands, the ops under test,
 * mse against a label), differentiated by `autodiff`, generated in float64 and run:
 *
 *   - forward values against a plain reference written here (index arithmetic, no strides);
 *   - every parameter's gradient against central finite differences (rel. error < 1e-6),
 *     and no parameter's gradient identically zero (so a dropped adjoint cannot pass).
 *
 * Each case is written once, against `Net<V>`, and evaluated twice: as IR and as reference.
 */
import { describe, expect, it } from "vitest";
import { GraphBuilder, shapeSize, type Attrs, type Dim, type Graph, type IrShape } from "../../compiler/ir.js";
import { opDef } from "../../compiler/ops/registry.js";
import { broadcastShape } from "../../compiler/ops/elementwise.js";
import { autodiff } from "../../compiler/autodiff.js";
import { generate } from "../../compiler/codegen/module.js";
import { loadModule } from "../../compiler/load.js";
import type { CompiledModel } from "../../compiler/model-api.js";
import type { Program } from "../../compiler/program.js";
import { program, source } from "./programs.js";
import { typeCheckModules } from "../fuzz/typecheck.js";

// ── the reference: dense row-major tensors, every op by index arithmetic ──────────

interface Tensor {
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
const tensor = (shape: readonly number[], f: (i: number) => number): Tensor => ({ shape, data: Float64Array.from({ length: sizeOf(shape) }, (_, i) => f(i)) });

function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length).fill(0);
  for (let k = shape.length - 1; k >= 0; k--) {
    idx[k] = i % (shape[k] as number);
    i = Math.floor(i / (shape[k] as number));
  }
  return idx;
}

function ravel(idx: readonly number[], shape: readonly number[]): number {
  let i = 0;
  for (let k = 0; k < shape.length; k++) i = i * (shape[k] as number) + (idx[k] as number);
  return i;
}

/** Element of `t` at an index of a larger (right-aligned, broadcast) shape. */
function readBroadcast(t: Tensor, idx: readonly number[]): number {
  const off = idx.length - t.shape.length;
  return t.data[ravel(t.shape.map((d, k) => (d === 1 ? 0 : (idx[k + off] as number))), t.shape)] as number;
}

function numpyShape(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  return Array.from({ length: rank }, (_, k) => {
    const x = a[k - (rank - a.length)] ?? 1;
    const y = b[k - (rank - b.length)] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new Error(`reference: ${a} and ${b} do not broadcast`);
    return x === 1 ? y : x;
  });
}

const broadcastTo = (t: Tensor, shape: readonly number[]): Tensor => tensor(shape, (i) => readBroadcast(t, unravel(i, shape)));

function sumTo(t: Tensor, shape: readonly number[]): Tensor {
  const out = tensor(shape, () => 0);
  const off = t.shape.length - shape.length;
  for (let i = 0; i < t.data.length; i++) {
    const idx = unravel(i, t.shape).slice(off);
    out.data[ravel(idx.map((v, k) => (shape[k] === 1 ? 0 : v)), shape)] += t.data[i] as number;
  }
  return out;
}

function reference(name: string, inputs: readonly Tensor[], attrs: Attrs, n: number): Tensor {
  const [a, b] = inputs as [Tensor, Tensor];
  const num = (k: string): number => attrs[k] as number;
  const to = (): number[] => String(attrs["to"]).split(",").map((d) => (d === "n" ? n : Number(d)));
  const binary = (f: (u: number, v: number) => number): Tensor => {
    const shape = numpyShape(a.shape, b.shape);
    return tensor(shape, (i) => f(readBroadcast(a, unravel(i, shape)), readBroadcast(b, unravel(i, shape))));
  };
  const map = (f: (u: number) => number): Tensor => tensor(a.shape, (i) => f(a.data[i] as number));
  switch (name) {
    case "add":
      return binary((u, v) => u + v);
    case "sub":
      return binary((u, v) => u - v);
    case "mul":
      return binary((u, v) => u * v);
    case "div":
      return binary((u, v) => u / v);
    case "neg":
      return map((u) => -u);
    case "exp":
      return map(Math.exp);
    case "log":
      return map(Math.log);
    case "rsqrt":
      return map((u) => 1 / Math.sqrt(u));
    case "sum":
    case "mean": {
      const shape = a.shape.map((d, k) => (k === num("axis") ? 1 : d));
      const s = sumTo(a, shape);
      return name === "sum" ? s : tensor(shape, (i) => (s.data[i] as number) / (a.shape[num("axis")] as number));
    }
    case "broadcast":
      return broadcastTo(a, to());
    case "sum_to":
      return sumTo(a, to());
    case "reshape":
      return { shape: to(), data: a.data };
    case "concat": {
      const axis = num("axis");
      const shape = a.shape.map((d, k) => (k === axis ? inputs.reduce((s, t) => s + (t.shape[axis] as number), 0) : d));
      return tensor(shape, (i) => {
        const idx = unravel(i, shape);
        for (const t of inputs) {
          if ((idx[axis] as number) < (t.shape[axis] as number)) return t.data[ravel(idx, t.shape)] as number;
          idx[axis] = (idx[axis] as number) - (t.shape[axis] as number);
        }
        throw new Error("reference: concat out of range");
      });
    }
    case "slice": {
      const shape = a.shape.map((d, k) => (k === num("axis") ? num("end") - num("start") : d));
      return tensor(shape, (i) => a.data[ravel(unravel(i, shape).map((v, k) => (k === num("axis") ? v + num("start") : v)), a.shape)] as number);
    }
    case "slice_grad": {
      const shape = to();
      return tensor(shape, (i) => {
        const idx = unravel(i, shape);
        const v = (idx[num("axis")] as number) - num("start");
        if (v < 0 || v >= num("end") - num("start")) return 0;
        idx[num("axis")] = v;
        return a.data[ravel(idx, a.shape)] as number;
      });
    }
    case "transpose": {
      const perm = String(attrs["perm"]).split(",").map(Number);
      const shape = perm.map((p) => a.shape[p] as number);
      return tensor(shape, (i) => {
        const idx = unravel(i, shape);
        const src = new Array<number>(shape.length);
        perm.forEach((p, k) => (src[p] = idx[k] as number));
        return a.data[ravel(src, a.shape)] as number;
      });
    }
    case "gather": {
      const [v, d] = a.shape as [number, number];
      return tensor([...b.shape, d], (i) => {
        const row = Math.round(b.data[Math.floor(i / d)] as number);
        return row >= 0 && row < v ? (a.data[row * d + (i % d)] as number) : 0;
      });
    }
    case "scatter_add": {
      const shape = to();
      const d = shape[1] as number;
      const out = tensor(shape, () => 0);
      for (let p = 0; p < b.data.length; p++) {
        const row = Math.round(b.data[p] as number);
        if (row >= 0 && row < (shape[0] as number)) for (let j = 0; j < d; j++) out.data[row * d + j] += a.data[p * d + j] as number;
      }
      return out;
    }
    case "bmm": {
      // out[i] = op(a[i])·op(b[i]) over the leading axes, by the definition of each entry.
      const r = a.shape.length;
      const at = (t: Tensor, i: number, row: number, col: number, tr: boolean): number => {
        const [p, q] = [t.shape[r - 2] as number, t.shape[r - 1] as number];
        return t.data[i * p * q + (tr ? col * q + row : row * q + col)] as number;
      };
      const ta = attrs["ta"] === 1;
      const tb = attrs["tb"] === 1;
      const rows = a.shape[ta ? r - 1 : r - 2] as number;
      const depth = a.shape[ta ? r - 2 : r - 1] as number;
      const cols = b.shape[tb ? r - 2 : r - 1] as number;
      const shape = [...a.shape.slice(0, r - 2), rows, cols];
      return tensor(shape, (i) => {
        const item = Math.floor(i / (rows * cols));
        const row = Math.floor(i / cols) % rows;
        let total = 0;
        for (let d = 0; d < depth; d++) total += at(a, item, row, d, ta) * at(b, item, d, i % cols, tb);
        return total;
      });
    }
    case "causal_mask": {
      const t = a.shape[a.shape.length - 1] as number;
      return tensor(a.shape, (i) => (i % t > Math.floor(i / t) % t ? (attrs["grad"] === 1 ? 0 : -Infinity) : (a.data[i] as number)));
    }
    case "softmax": {
      const m = a.shape[a.shape.length - 1] as number;
      return tensor(a.shape, (i) => {
        const o = i - (i % m);
        const row = Array.from(a.data.subarray(o, o + m));
        const max = Math.max(...row);
        return Math.exp((a.data[i] as number) - max) / row.reduce((s, z) => s + Math.exp(z - max), 0);
      });
    }
    default:
      throw new Error(`reference: no op ${name}`);
  }
}

// ── cases: written once against Net<V>, run as IR and as reference ───────────────

interface Net<V> {
  /** The input (shape of the case, with the batch dim). */
  readonly x: V;
  /** A parameter; values default to a deterministic spread in [-1, 1]. */
  param(shape: readonly number[], values?: (i: number) => number): V;
  op(name: string, inputs: readonly V[], attrs?: Attrs): V;
  c(value: number): V;
}

interface Case {
  readonly name: string;
  /** Shape of x, batch dim first. Default [n, 3, 4]. */
  readonly x?: IrShape;
  /** Values of x by flat index (default: a spread in [-1, 1]). */
  readonly xs?: (i: number) => number;
  /** Parameters left out of the "gradient is not identically zero" check. */
  readonly zeroGradOk?: boolean;
  build<V>(t: Net<V>): V;
}

const spread = (seed: number) => (i: number): number => Math.sin(12.9898 * (i + 1) + 78.233 * seed) * 0.9;
const positive = (seed: number) => (i: number): number => 0.6 + 0.5 * Math.abs(Math.sin(3.7 * (i + 1) + seed));

/** The reference run of a case at batch size n; params in creation order. */
function runReference(c: Case, n: number, x: Float64Array, fills: ((i: number) => number)[]): Tensor {
  const shape = (c.x ?? ["n", 3, 4]).map((d) => (d === "n" ? n : d));
  let k = 0;
  const net: Net<Tensor> = {
    x: { shape, data: x },
    param: (s, values) => {
      const f = values ?? spread(k + 1);
      fills.push(f);
      k++;
      return tensor(s, f);
    },
    op: (name, inputs, attrs = {}) => reference(name, inputs, attrs, n),
    c: (value) => tensor([1], () => value),
  };
  return c.build(net);
}

interface Built {
  readonly model: CompiledModel;
  readonly params: number;
  readonly grads: number;
  readonly code: string;
}

let baseProgram: Program | undefined;
function minimalProgram(): Program {
  baseProgram ??= program(source({ layers: ["dense 1"], loss: "mse" }));
  return baseProgram;
}

const MAX_BATCH = 5;

/** The case as IR → autodiff, with the program `generate` needs. */
function buildGraph(c: Case): { graph: Graph; prog: Program; params: number } {
  const g = new GraphBuilder();
  const xShape = c.x ?? ["n", 3, 4];
  const x = g.add({ op: "input", inputs: [], shape: xShape, name: "x", phase: "forward" });
  let names = 0;
  const paramNames: string[] = [];
  const net: Net<number> = {
    x,
    param: (shape) => {
      const name = `p${paramNames.length}`;
      const id = g.add({ op: "param", inputs: [], shape, attrs: { init: "zeros", tensor: name }, name, phase: "forward" });
      g.addParam({ node: id, name, init: "zeros", fanIn: 1, fanOut: 1 });
      paramNames.push(name);
      return id;
    },
    op: (name, inputs, attrs = {}) => {
      const shape = opDef(name).shape(
        inputs.map((i) => g.node(i).shape),
        attrs,
      );
      return g.add({ op: name, inputs, shape, attrs, name: `v${++names}`, phase: "forward" });
    },
    c: (value) => g.add({ op: "constant", inputs: [], shape: opDef("constant").shape([], { value }), attrs: { value }, name: `v${++names}`, phase: "forward" }),
  };
  const out = c.build(net);
  const outShape = g.node(out).shape;
  if (outShape[0] !== "n") throw new Error(`case ${c.name}: the output ${outShape} must be batched (mse reads rows)`);
  const y = g.add({ op: "label", inputs: [], shape: outShape, name: "y", phase: "loss" });
  const loss = g.add({ op: "mse", inputs: [out, y], shape: [], name: "loss", phase: "loss" });
  const graph = autodiff(g.finish(out, loss)).value;
  const base = minimalProgram();
  const prog = { ...base, model: { ...base.model, input: xShape.slice(1) as number[] } } as Program;
  return { graph, prog, params: paramNames.length };
}

/** The case as float64 JavaScript, loaded: a model whose parameters the caller fills. */
function buildModel(c: Case): Built {
  const { graph, prog, params } = buildGraph(c);
  const code = generate(graph, prog, { target: "js", dtype: "float64", maxBatch: MAX_BATCH }).code;
  return { model: loadModule(code).createModel(), params, grads: graph.grads.size, code };
}

function inputFor(c: Case, n: number): Float64Array {
  const per = shapeSize((c.x ?? ["n", 3, 4]).slice(1));
  return Float64Array.from({ length: n * per }, (_, i) => (c.xs ?? spread(0))(i));
}

/** Worst relative error |a − f| / max(|a|, |f|, 1e-3) per parameter tensor, and its largest |gradient|. */
function gradErrors(model: CompiledModel, x: Float64Array, y: Float64Array, n: number): { name: string; worst: number; largest: number }[] {
  model.lossAndGrad(x, y, n);
  const analytic = Float64Array.from(model.grads);
  const h = 1e-5;
  const p = model.params;
  return model.layout.map((entry) => {
    let worst = 0;
    let largest = 0;
    for (let i = entry.offset; i < entry.offset + entry.size; i++) {
      const saved = p[i] as number;
      p[i] = saved + h;
      const plus = model.loss(x, y, n);
      p[i] = saved - h;
      const minus = model.loss(x, y, n);
      p[i] = saved;
      const numeric = (plus - minus) / (2 * h);
      const a = analytic[i] as number;
      worst = Math.max(worst, Math.abs(a - numeric) / Math.max(Math.abs(a), Math.abs(numeric), 1e-3));
      largest = Math.max(largest, Math.abs(a));
    }
    return { name: entry.name, worst, largest };
  });
}

function runCase(c: Case): void {
  const built = buildModel(c);
  const { model } = built;
  expect(built.grads, "every parameter gets a gradient node").toBe(built.params);
  for (const n of [3, 1, MAX_BATCH]) {
    const x = inputFor(c, n);
    const fills: ((i: number) => number)[] = [];
    const want = runReference(c, n, x, fills);
    model.layout.forEach((entry, k) => {
      for (let i = 0; i < entry.size; i++) model.params[entry.offset + i] = (fills[k] as (i: number) => number)(i);
    });
    const got = model.predict(x, n);
    expect(got.length, "output size").toBe(want.data.length);
    for (let i = 0; i < got.length; i++) {
      const w = want.data[i] as number;
      if (Math.abs((got[i] as number) - w) > 1e-12 * Math.max(1, Math.abs(w))) {
        throw new Error(`${c.name}, n=${n}: output[${i}] = ${got[i]}, reference ${w}`);
      }
    }
    if (n !== 3) continue;
    const y = Float64Array.from({ length: got.length }, (_, i) => spread(99)(i));
    for (const t of gradErrors(model, x, y, n)) {
      expect(t.worst, `${c.name}: gradient of ${t.name}`).toBeLessThan(1e-6);
      if (c.zeroGradOk !== true) expect(t.largest, `${c.name}: gradient of ${t.name} is identically zero`).toBeGreaterThan(1e-9);
    }
  }
}

// ── the cases ───────────────────────────────────────────────────────────────────

/** x + p, a batched [n, 3, 4] value that depends on a parameter (so its adjoint is checked). */
const h = <V>(t: Net<V>): V => t.op("add", [t.x, t.param([3, 4])]);
/** A strictly positive [n, 3, 4] value: exp(0.5 · (x + p)). */
const hPos = <V>(t: Net<V>): V => t.op("exp", [t.op("mul", [h(t), t.c(0.5)])]);

const BINARY = ["add", "sub", "mul", "div"] as const;

function binaryCases(op: (typeof BINARY)[number]): Case[] {
  // The divisor must stay away from zero.
  const den = <V>(t: Net<V>, v: V): V => (op === "div" ? t.op("exp", [v]) : v);
  const p = <V>(t: Net<V>, shape: number[]): V => t.param(shape, op === "div" ? positive(shape.length) : undefined);
  return [
    { name: `${op} [n,3,4] with [4]`, build: (t) => t.op(op, [h(t), p(t, [4])]) },
    { name: `${op} [n,3,4] with [1]`, build: (t) => t.op(op, [h(t), p(t, [1])]) },
    { name: `${op} [n,3,4] with [n,1,4]`, build: (t) => t.op(op, [h(t), den(t, t.op("sum", [t.op("mul", [t.x, t.param([1, 4])])], { axis: 1 }))]) },
    { name: `${op} [n,3,4] with [n,3,4]`, build: (t) => t.op(op, [h(t), den(t, t.op("mul", [t.x, t.param([3, 4])]))]) },
    { name: `${op} [n,3,4] with [1,3,1]`, build: (t) => t.op(op, [h(t), p(t, [1, 3, 1])]) },
    { name: `${op} [3,1] with [n,3,4] (broadcast operand first)`, build: (t) => t.op(op, [t.param([3, 1]), op === "div" ? hPos(t) : h(t)]) },
    { name: `${op} [4] with [3,1] (both broadcast), then onto [n,3,4]`, build: (t) => t.op("mul", [h(t), t.op(op, [t.param([4]), p(t, [3, 1])])]) },
    // x ⊕ x: autodiff sums the two adjoints of x (for sub and div the result would be constant).
    ...(op === "add" || op === "mul"
      ? [
          {
            name: `${op} of a value with itself`,
            build: <V>(t: Net<V>): V => {
              const v = h(t);
              return t.op(op, [v, v]);
            },
          },
        ]
      : []),
  ];
}

const CASES: Record<string, Case[]> = {
  add: binaryCases("add"),
  sub: binaryCases("sub"),
  mul: binaryCases("mul"),
  div: binaryCases("div"),
  "add: two parameters of the same shape (each gradient needs its own buffer)": [
    { name: "add(p, q) onto x", build: (t) => t.op("mul", [t.x, t.op("add", [t.param([3, 4]), t.param([3, 4])])]) },
    { name: "add(add(p, q), r)", build: (t) => t.op("mul", [t.x, t.op("add", [t.op("add", [t.param([3, 4]), t.param([3, 4])]), t.param([3, 4])])]) },
    { name: "sub(p, q)", build: (t) => t.op("mul", [t.x, t.op("sub", [t.param([3, 4]), t.param([3, 4])])]) },
  ],
  constant: [
    { name: "x + 1e-5", build: (t) => t.op("add", [h(t), t.c(1e-5)]) },
    { name: "2.5 · x", build: (t) => t.op("mul", [t.c(2.5), h(t)]) },
    { name: "3 − x", build: (t) => t.op("sub", [t.c(3), h(t)]) },
    { name: "1 / x", build: (t) => t.op("div", [t.c(1), hPos(t)]) },
    { name: "x / −4", build: (t) => t.op("div", [h(t), t.c(-4)]) },
  ],
  unary: [
    { name: "neg", build: (t) => t.op("neg", [h(t)]) },
    { name: "exp", build: (t) => t.op("exp", [h(t)]) },
    { name: "log", xs: positive(0), build: (t) => t.op("log", [t.op("mul", [t.x, t.param([3, 4], positive(2))])]) },
    { name: "rsqrt", xs: positive(0), build: (t) => t.op("rsqrt", [t.op("mul", [t.x, t.param([3, 4], positive(2))])]) },
    { name: "log of a parameter, broadcast", build: (t) => t.op("mul", [h(t), t.op("log", [t.param([4], positive(1))])]) },
  ],
  reductions: [
    { name: "sum over the batch axis 0", build: (t) => t.op("mul", [h(t), t.op("sum", [t.op("mul", [t.x, t.param([3, 4])])], { axis: 0 })]) },
    { name: "sum over axis 1", build: (t) => t.op("sum", [t.op("mul", [h(t), h(t)])], { axis: 1 }) },
    { name: "sum over axis 2", build: (t) => t.op("sum", [t.op("mul", [h(t), h(t)])], { axis: 2 }) },
    { name: "sum over axis 0 of a parameter", build: (t) => t.op("mul", [h(t), t.op("sum", [t.param([2, 4])], { axis: 0 })]) },
    { name: "mean over axis 1", build: (t) => t.op("mean", [t.op("mul", [h(t), h(t)])], { axis: 1 }) },
    { name: "mean over axis 2", build: (t) => t.op("mul", [h(t), t.op("mean", [h(t)], { axis: 2 })]) },
    { name: "mean over axis 0 of a parameter", build: (t) => t.op("mul", [h(t), t.op("mean", [t.param([5, 4])], { axis: 0 })]) },
    { name: "broadcast [3,1] to [n,3,4]", build: (t) => t.op("mul", [h(t), t.op("broadcast", [t.param([3, 1])], { to: "n,3,4" })]) },
    { name: "broadcast [n,1,4] to [n,3,4]", build: (t) => t.op("broadcast", [t.op("sum", [h(t)], { axis: 1 })], { to: "n,3,4" }) },
    { name: "sum_to [1,4]", build: (t) => t.op("mul", [h(t), t.op("sum_to", [t.op("mul", [h(t), h(t)])], { to: "1,4" })]) },
    { name: "sum_to [4]", build: (t) => t.op("mul", [h(t), t.op("sum_to", [t.op("mul", [h(t), h(t)])], { to: "4" })]) },
    { name: "sum_to [n,3,1]", build: (t) => t.op("sum_to", [t.op("mul", [h(t), h(t)])], { to: "n,3,1" }) },
    { name: "sum_to the same shape (a copy)", build: (t) => t.op("sum_to", [h(t)], { to: "n,3,4" }) },
  ],
  layout: [
    {
      name: "concat of 3 along axis 2 ([n,3,4], [n,3,1], [n,3,2])",
      build: (t) => t.op("concat", [h(t), t.op("sum", [h(t)], { axis: 2 }), t.op("slice", [t.op("mul", [t.x, t.param([3, 4])])], { axis: 2, start: 1, end: 3 })], { axis: 2 }),
    },
    {
      name: "concat of 3 along axis 1 ([n,3,4], [n,1,4], [n,2,4])",
      build: (t) => t.op("concat", [h(t), t.op("sum", [h(t)], { axis: 1 }), t.op("broadcast", [t.param([2, 4])], { to: "n,2,4" })], { axis: 1 }),
    },
    {
      name: "concat of 3 parameters along axis 0 (one row: no row loop)",
      build: (t) => t.op("add", [t.op("sum", [h(t)], { axis: 1 }), t.op("concat", [t.param([2, 4]), t.param([1, 4]), t.param([3, 4])], { axis: 0 })]),
    },
    { name: "slice: the first row of axis 1", build: (t) => t.op("slice", [t.op("mul", [h(t), h(t)])], { axis: 1, start: 0, end: 1 }) },
    { name: "slice: the last row of axis 1", build: (t) => t.op("slice", [t.op("mul", [h(t), h(t)])], { axis: 1, start: 2, end: 3 }) },
    { name: "slice: the last column of axis 2", build: (t) => t.op("slice", [t.op("mul", [h(t), h(t)])], { axis: 2, start: 3, end: 4 }) },
    { name: "slice: the middle of axis 2", build: (t) => t.op("slice", [t.op("mul", [h(t), h(t)])], { axis: 2, start: 1, end: 3 }) },
    { name: "slice: all of axis 2", build: (t) => t.op("slice", [h(t)], { axis: 2, start: 0, end: 4 }) },
    { name: "slice of a parameter along axis 0", build: (t) => t.op("mul", [h(t), t.op("slice", [t.param([5, 4])], { axis: 0, start: 2, end: 5 })]) },
    { name: "slice_grad: placed in the middle of axis 1", build: (t) => t.op("slice_grad", [h(t)], { axis: 1, start: 1, end: 4, to: "n,5,4" }) },
    { name: "slice_grad: at the start of axis 2", build: (t) => t.op("slice_grad", [h(t)], { axis: 2, start: 0, end: 4, to: "n,3,6" }) },
    { name: "slice_grad: at the end of axis 2", build: (t) => t.op("slice_grad", [h(t)], { axis: 2, start: 2, end: 6, to: "n,3,6" }) },
    { name: "transpose 0,2,1 (3-D, batched)", build: (t) => t.op("transpose", [t.op("mul", [h(t), h(t)])], { perm: "0,2,1" }) },
    { name: "transpose 1,0 of a parameter", build: (t) => t.op("add", [t.op("transpose", [h(t)], { perm: "0,2,1" }), t.op("transpose", [t.param([3, 4])], { perm: "1,0" })]) },
    { name: "transpose 1,2,0 of a 3-D parameter", build: (t) => t.op("mul", [h(t), t.op("sum", [t.op("transpose", [t.param([4, 2, 3])], { perm: "1,2,0" })], { axis: 0 })]) },
    { name: "transpose 0,3,1,2 (4-D)", x: ["n", 2, 3, 4], build: (t) => t.op("transpose", [t.op("add", [t.x, t.param([2, 3, 4])])], { perm: "0,3,1,2" }) },
    { name: "transpose 0,1,3,2 (4-D, two axes merged)", x: ["n", 2, 3, 4], build: (t) => t.op("transpose", [t.op("mul", [t.x, t.param([2, 3, 4])])], { perm: "0,1,3,2" }) },
  ],
  gather: [
    {
      // Row 6 and −1 are outside the table: zero rows, no gradient.
      name: "gather with repeated and out-of-range indices",
      x: ["n", 5],
      xs: (i) => [2, 0, 2, 5, 6, 1, 1, -1, 3, 2, 4, 0, 5, 5, 2, 3, 1, 0, 2, 4, 3, 3, 1, 0, 5][i % 25] as number,
      build: (t) => t.op("mul", [t.op("gather", [t.param([6, 3]), t.x]), t.param([5, 3])]),
    },
    {
      name: "scatter_add forward (and its adjoint, a gather)",
      x: ["n", 5],
      xs: (i) => [1, 3, 1, 0, 7, 2, 2, 2, 0, 1][i % 10] as number,
      build: (t) => {
        const rows = t.op("gather", [t.param([4, 3]), t.x]);
        const scattered = t.op("scatter_add", [t.op("mul", [rows, t.param([5, 3])]), t.x], { to: "4,3" });
        return t.op("mul", [rows, t.op("sum", [scattered], { axis: 0 })]);
      },
    },
  ],
  attention: [
    // Each flag pair, a [n, 2, 3, 4] (or its transpose [n, 2, 4, 3], so op(a) is always [3, 4]) times a b [n, 2, 4, 5] (or [n, 2, 5, 4]).
    ...[
      [0, 0, [2, 4, 5]],
      [0, 1, [2, 5, 4]],
      [1, 0, [2, 4, 5]],
      [1, 1, [2, 5, 4]],
    ].map(([ta, tb, other]) => ({
      name: `bmm, ta ${ta as number}, tb ${tb as number}: [n,2,3,4] with [n,${(other as number[]).join(",")}]`,
      x: ["n", 2, 3, 4] as IrShape,
      build: <V>(t: Net<V>): V => {
        const aIn = t.op("mul", [t.x, t.param([2, 3, 4])]);
        const a = ta === 1 ? t.op("transpose", [aIn], { perm: "0,1,3,2" }) : aIn;
        const b = t.op("broadcast", [t.param(other as number[])], { to: `n,${(other as number[]).join(",")}` });
        return t.op("bmm", [a, t.op("mul", [b, t.op("sum", [t.op("sum", [aIn], { axis: 3 })], { axis: 2 })])], { ta: ta as number, tb: tb as number });
      },
    })),
    {
      name: "softmax over the last axis of [n,2,3,4]",
      x: ["n", 2, 3, 4],
      build: (t) => t.op("mul", [t.op("softmax", [t.op("mul", [t.x, t.param([2, 3, 4])])]), t.param([4])]),
    },
    {
      name: "causal mask, then softmax (each step sees itself and those before)",
      x: ["n", 2, 3, 3],
      build: (t) => t.op("mul", [t.op("softmax", [t.op("causal_mask", [t.op("add", [t.x, t.param([2, 3, 3])])])]), t.param([3])]),
    },
    {
      name: "self-attention of one head from bmm: softmax(q·kᵀ)·v",
      build: (t) => {
        const q = h(t);
        const k = t.op("mul", [t.x, t.param([3, 4])]);
        const v = t.op("add", [t.x, t.param([4])]);
        const p = t.op("softmax", [t.op("causal_mask", [t.op("bmm", [q, k], { ta: 0, tb: 1 })])]);
        return t.op("bmm", [p, v], { ta: 0, tb: 0 });
      },
    },
  ],
  compositions: [
    {
      name: "layernorm over the last axis: mean → sub → mul → mean → add const → rsqrt → mul, γ and β",
      build: (t) => {
        const v = h(t);
        const mu = t.op("mean", [v], { axis: 2 });
        const d = t.op("sub", [v, mu]);
        const variance = t.op("mean", [t.op("mul", [d, d])], { axis: 2 });
        const inv = t.op("rsqrt", [t.op("add", [variance, t.c(1e-5)])]);
        return t.op("add", [t.op("mul", [t.op("mul", [d, inv]), t.param([4], positive(3))]), t.param([4])]);
      },
    },
    {
      name: "softmax over axis 2 from exp, sum and div",
      build: (t) => {
        const e = t.op("exp", [h(t)]);
        return t.op("div", [e, t.op("sum", [e], { axis: 2 })]);
      },
    },
    {
      name: "attention: scores q·kᵀ, softmax, weighted sum of v (reshape, broadcast, sum)",
      build: (t) => {
        const q = h(t);
        const k = t.op("mul", [t.x, t.param([3, 4])]);
        const v = t.op("add", [t.x, t.param([4])]);
        const scores = t.op("sum", [t.op("mul", [t.op("reshape", [q], { to: "n,3,1,4" }), t.op("reshape", [k], { to: "n,1,3,4" })])], { axis: 3 }); // [n,3,3,1]
        const e = t.op("exp", [t.op("mul", [scores, t.c(0.5)])]);
        const p = t.op("div", [e, t.op("sum", [e], { axis: 2 })]);
        return t.op("sum", [t.op("mul", [p, t.op("reshape", [v], { to: "n,1,3,4" })])], { axis: 2 }); // [n,3,1,4]
      },
    },
  ],
};

describe("primitive ops: forward against a reference, gradients against finite differences (float64)", () => {
  for (const [family, cases] of Object.entries(CASES)) {
    describe(family, () => {
      for (const c of cases) it(c.name, () => runCase(c));
    });
  }
});

describe("primitive ops: shape rules", () => {
  const shapeOf = (op: string, inputs: IrShape[], attrs: Attrs = {}): IrShape => opDef(op).shape(inputs, attrs);

  it("broadcast right-aligned, NumPy style; n only against n, 1 or nothing", () => {
    expect(broadcastShape([["n", 3, 4], [4]], "add")).toEqual(["n", 3, 4]);
    expect(broadcastShape([["n", 3, 4], ["n", 1, 4]], "add")).toEqual(["n", 3, 4]);
    expect(broadcastShape([[3, 1], [1, 4]], "add")).toEqual([3, 4]);
    expect(broadcastShape([[1, 3, 4], ["n", 1, 1]], "add")).toEqual(["n", 3, 4]);
    expect(() => broadcastShape([["n", 3], [2, 3]], "add")).toThrow(/do not broadcast/);
    expect(() => broadcastShape([["n", 4], [3, 1, 4]], "add")).toThrow(/batch dim/);
    expect(() => broadcastShape([[3, 4], [4, 4]], "mul")).toThrow(/do not broadcast/);
  });

  it("each op's output shape", () => {
    const dims = (s: string): Dim[] => s.split(",").map((d) => (d === "n" ? "n" : Number(d)));
    expect(shapeOf("sub", [["n", 3, 4], [1]])).toEqual(dims("n,3,4"));
    expect(shapeOf("constant", [], { value: 2 })).toEqual([1]);
    expect(shapeOf("sum", [["n", 3, 4]], { axis: 0 })).toEqual([1, 3, 4]);
    expect(shapeOf("mean", [["n", 3, 4]], { axis: 2 })).toEqual(dims("n,3,1"));
    expect(shapeOf("sum_to", [["n", 3, 4]], { to: "4" })).toEqual([4]);
    expect(shapeOf("broadcast", [[3, 1]], { to: "n,3,4" })).toEqual(dims("n,3,4"));
    expect(shapeOf("concat", [["n", 3, 4], ["n", 3, 1], ["n", 3, 2]], { axis: 2 })).toEqual(dims("n,3,7"));
    expect(shapeOf("slice", [["n", 3, 4]], { axis: 2, start: 1, end: 3 })).toEqual(dims("n,3,2"));
    expect(shapeOf("slice_grad", [["n", 3, 2]], { axis: 2, start: 1, end: 3, to: "n,3,4" })).toEqual(dims("n,3,4"));
    expect(shapeOf("transpose", [["n", 3, 4]], { perm: "0,2,1" })).toEqual(dims("n,4,3"));
    expect(shapeOf("gather", [[6, 3], ["n", 5]])).toEqual(dims("n,5,3"));
    expect(shapeOf("scatter_add", [["n", 5, 3], ["n", 5]], { to: "6,3" })).toEqual([6, 3]);
  });

  it("rejects what the ops do not do", () => {
    expect(() => shapeOf("mean", [["n", 3]], { axis: 0 })).toThrow(/batch axis/);
    expect(() => shapeOf("sum", [["n", 3]], { axis: 2 })).toThrow(/not an axis/);
    expect(() => shapeOf("concat", [["n", 3], ["n", 3]], { axis: 0 })).toThrow(/batch axis/);
    expect(() => shapeOf("concat", [["n", 3, 4], ["n", 2, 3]], { axis: 2 })).toThrow(/differ/);
    expect(() => shapeOf("slice", [["n", 3]], { axis: 1, start: 2, end: 4 })).toThrow(/range/);
    expect(() => shapeOf("slice", [["n", 3]], { axis: 1, start: 2, end: 2 })).toThrow(/range/);
    expect(() => shapeOf("transpose", [["n", 3, 4]], { perm: "1,0,2" })).toThrow(/batch axis/);
    expect(() => shapeOf("transpose", [["n", 3, 4]], { perm: "0,1" })).toThrow(/permutation/);
    expect(() => shapeOf("sum_to", [["n", 3, 4]], { to: "3" })).toThrow(/broadcast/);
    expect(() => shapeOf("broadcast", [[2, 4]], { to: "n,3,4" })).toThrow(/broadcast/);
    expect(() => shapeOf("gather", [["n", 3], ["n", 5]])).toThrow(/matrix/);
  });
});

describe("primitive ops: generated code", () => {
  it("plain loops with literal sizes: a broadcast add reads the bias at stride 0, no allocation in run or backward", () => {
    const { code } = buildModel({ name: "bias", build: (t) => t.op("add", [h(t), t.param([4])]) });
    // The forward add of [n,3,4] and [4]: two loops, the bias indexed by the inner one only.
    expect(code).toMatch(/for \(let i0 = 0; i0 < n \* 3; i0\+\+\) \{\s*for \(let i1 = 0; i1 < 4; i1\+\+\) \{\s*v2\[i0 \* 4 \+ i1\] = v1\[i0 \* 4 \+ i1\] \+ p1\[i1\];/);
    const steps = code.slice(code.indexOf("function run("), code.indexOf("function init("));
    expect(steps).not.toMatch(/new (Float32Array|Float64Array|Array)\b|\.slice\(|\[\]/);
  });

  it("every case's TypeScript module type-checks under strict and noUnused*, float32 and float64", () => {
    const modules = new Map<string, string>();
    for (const cases of Object.values(CASES)) {
      for (const c of cases) {
        const { graph, prog } = buildGraph(c);
        const dtype = modules.size % 2 === 0 ? "float64" : "float32";
        modules.set(`case${modules.size}`, generate(graph, prog, { target: "ts", dtype, maxBatch: MAX_BATCH, kernels: "js" }).code);
      }
    }
    expect(typeCheckModules(modules)).toEqual([]);
  });

  it("float32, with the WebAssembly kernels' memory layout, gives the float64 numbers", () => {
    for (const c of [...(CASES["compositions"] ?? []), ...(CASES["gather"] ?? [])]) {
      const { graph, prog } = buildGraph(c);
      const f64 = loadModule(generate(graph, prog, { target: "js", dtype: "float64", maxBatch: MAX_BATCH }).code).createModel();
      const f32 = loadModule(generate(graph, prog, { target: "js", dtype: "float32", maxBatch: MAX_BATCH, kernels: "wasm" }).code).createModel();
      const fills: ((i: number) => number)[] = [];
      const x = inputFor(c, 3);
      runReference(c, 3, x, fills);
      for (const m of [f64, f32]) m.layout.forEach((e, k) => m.params.set(Float64Array.from({ length: e.size }, (_, i) => (fills[k] as (i: number) => number)(i)), e.offset));
      const want = f64.predict(x, 3);
      const got = f32.predict(Float32Array.from(x), 3);
      for (let i = 0; i < want.length; i++) expect(got[i], `${c.name}: output[${i}]`).toBeCloseTo(want[i] as number, 4);
    }
  });

  it("a constant operand is pasted in as its literal", () => {
    const { code } = buildModel({ name: "eps", build: (t) => t.op("add", [h(t), t.c(1e-5)]) });
    expect(code).toContain("v3[i] = v1[i] + 0.00001;");
  });

  it("gather zeroes rows for indices outside the table instead of reading past it", () => {
    const c: Case = { name: "oob", x: ["n", 2], build: (t) => t.op("gather", [t.param([3, 2], (i) => i + 1), t.x]) };
    const { model } = buildModel(c);
    model.params.set([1, 2, 3, 4, 5, 6]);
    expect(Array.from(model.predict(new Float64Array([2, -1, 3, Number.NaN, 1e9, 0.6]), 3))).toEqual([5, 6, 0, 0, 0, 0, 0, 0, 0, 0, 3, 4]);
  });
});
