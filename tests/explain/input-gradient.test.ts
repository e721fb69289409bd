/**
 * The explain module's gradients (`compile({ explain: true })`) against central finite
 * differences in float64: a class's score, its probability and the loss, with respect to the
 * input, for a dense, a conv and a graph (residual, two-input) model; the layers' gradients
 * likewise (through `gradientOf` of a perturbed layer is not possible, so they are checked by
 * the chain rule at the first layer); both kernel targets agree in float32.
 */
import { describe, expect, it } from "vitest";
import type { CompiledModel, ExplainMethods, Floats } from "../../compiler/model-api.js";
import { compileToModule } from "../../compiler/load.js";
import { compileProgram } from "../../compiler/compile.js";
import { program } from "../compiler/programs.js";
import { typeCheckModules } from "../fuzz/typecheck.js";

const DENSE = `model Dense {
  seed 4
  input 5
  dense 7, tanh
  dropout 0.3
  dense 6, gelu
  dense 3, softmax
}
loss cross_entropy
optimizer sgd(lr: 0.1)
train { batch 4 }
`;

const CONV = `model Conv {
  seed 2
  input [6, 6, 2]
  conv2d 3, 3, tanh, padding: same
  maxpool2d 2
  conv2d 4, 2, elu
  flatten
  dense 3, softmax
}
loss cross_entropy
optimizer sgd(lr: 0.1)
train { batch 3 }
`;

const GRAPH = `block residual(width) {
  x = input
  dense width, tanh
  dense width
  add   x
  activation sigmoid
}
model Graph {
  seed 5
  image = input [4, 4, 1]
  side  = input [3]
  image -> conv2d 2, 3, tanh, padding: same
  flatten
  a = dense 6, tanh
  side -> dense 6, tanh
  b = dense 6
  s = add a, b
  residual 6
  concat s, side
  dense 2, sigmoid
}
loss binary_cross_entropy
optimizer sgd(lr: 0.1)
train { batch 3 }
`;

const BATCHNORM = `model Norm {
  seed 6
  input [5, 5, 2]
  conv2d 3, 3, padding: same
  batchnorm
  activation tanh
  flatten
  dense 4
  batchnorm momentum: 0.5
  activation elu
  dense 3, softmax
}
loss cross_entropy
optimizer sgd(lr: 0.05)
train { batch 4 }
`;

const REGRESSION = `model Reg {
  seed 3
  input 4
  dense 6, relu
  dense 2
}
loss mse
optimizer sgd(lr: 0.1)
train { batch 4 }
`;

function explainModel(src: string, dtype: "float32" | "float64" = "float64", kernels: "js" | "wasm" = "js"): CompiledModel & { explain: ExplainMethods } {
  const r = compileToModule(program(src), { dtype, kernels, explain: true });
  if (r.value === undefined) throw new Error(r.diagnostics.map((d) => `${d.code} ${d.message}`).join("; "));
  const m = r.value.createModel();
  if (m.explain === undefined) throw new Error("no explain methods");
  return m as CompiledModel & { explain: ExplainMethods };
}

/** Deterministic inputs in [-1, 1]. */
function inputs(size: number, seed: number): Float64Array {
  const x = new Float64Array(size);
  let s = seed;
  for (let i = 0; i < size; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    x[i] = (s / 2147483648) * 2 - 1;
  }
  return x;
}

/** Central differences of f (a function of every sample's input at once) for each input value. */
function numeric(x: Float64Array, f: (x: Float64Array) => number, h = 1e-6): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const keep = x[i] as number;
    x[i] = keep + h;
    const up = f(x);
    x[i] = keep - h;
    const down = f(x);
    x[i] = keep;
    g[i] = (up - down) / (2 * h);
  }
  return g;
}

function worstError(a: Floats, b: Floats): number {
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs((a[i] as number) - (b[i] as number)) / Math.max(1e-3, Math.abs(a[i] as number) + Math.abs(b[i] as number)));
  return worst;
}

/** Score c of every sample summed (the gradient of a sum is each sample's own, samples being independent in inference). */
function scoreSum(m: CompiledModel & { explain: ExplainMethods }, n: number, target: Int32Array, of: "score" | "probability") {
  const K = m.meta.outputSize;
  return (x: Float64Array): number => {
    const p = m.forward(x, n);
    const z = m.explain.scores();
    let t = 0;
    for (let i = 0; i < n; i++) t += (of === "score" ? z : p)[i * K + (target[i] as number)] as number;
    return t;
  };
}

describe("input gradients equal central differences (float64)", () => {
  for (const [name, src, n] of [
    ["dense (dropout is the identity at inference)", DENSE, 4],
    ["conv (same padding, max pool, flatten)", CONV, 3],
    ["graph (two inputs, residual add)", GRAPH, 3],
  ] as const) {
    for (const of of ["score", "probability"] as const) {
      it(`${name}: ${of} of a class per sample`, () => {
        const m = explainModel(src);
        const x = inputs(n * m.meta.inputSize, 7);
        const target = Int32Array.from({ length: n }, (_, i) => i % m.meta.outputSize);
        const analytic = m.explain.inputGradient(x, n, target, of).slice();
        const fd = numeric(x, scoreSum(m, n, target, of));
        expect(analytic.length).toBe(n * m.meta.inputSize);
        expect(worstError(analytic, fd)).toBeLessThan(1e-6);
        expect(Math.max(...Array.from(analytic, Math.abs))).toBeGreaterThan(1e-4);
        if (of === "score") {
          const seed = new Float64Array(n * m.meta.outputSize);
          target.forEach((c, i) => (seed[i * m.meta.outputSize + c] = 1));
          expect(Array.from(m.explain.gradientOf(x, n, seed))).toEqual(Array.from(analytic));
        }
      });
    }
  }

  for (const [name, src, n] of [
    ["softmax + cross_entropy", DENSE, 4],
    ["sigmoid + binary_cross_entropy, two inputs", GRAPH, 3],
    ["linear + mse", REGRESSION, 4],
  ] as const) {
    it(`the loss: ${name}`, () => {
      const m = explainModel(src);
      const K = m.meta.outputSize;
      const x = inputs(n * m.meta.inputSize, 11);
      const y = new Float64Array(n * K);
      for (let i = 0; i < n; i++) {
        if (m.meta.loss === "mse") for (let j = 0; j < K; j++) y[i * K + j] = Math.sin(i + j);
        else if (m.meta.loss === "cross_entropy") y[i * K + (i % K)] = 1;
        else for (let j = 0; j < K; j++) y[i * K + j] = (i + j) % 2;
      }
      expect(m.meta.explain?.lossGradient).toBe(true);
      const analytic = (m.explain.lossGradient as NonNullable<ExplainMethods["lossGradient"]>)(x, y, n).slice();
      const fd = numeric(x, (xs) => m.loss(xs, y, n));
      expect(worstError(analytic, fd)).toBeLessThan(1e-6);
    });
  }

  it("batchnorm at inference (running statistics moved by a few training steps): score and loss", () => {
    const m = explainModel(BATCHNORM);
    const n = 4;
    const x = inputs(n * m.meta.inputSize, 17);
    const y = new Float64Array(n * 3);
    for (let i = 0; i < n; i++) y[i * 3 + (i % 3)] = 1;
    for (let s = 0; s < 5; s++) m.trainStep(inputs(n * m.meta.inputSize, 100 + s).map((v) => 2 * v + 0.5), y, n, 0.05);
    const mean = m.layout.find((e) => e.name.endsWith("running_mean"))!;
    expect(Math.abs(m.params[mean.offset]!)).toBeGreaterThan(1e-3);
    const target = new Int32Array([0, 1, 2, 1]);
    const analytic = m.explain.inputGradient(x, n, target).slice();
    expect(worstError(analytic, numeric(x, scoreSum(m, n, target, "score")))).toBeLessThan(1e-6);
    const loss = m.explain.lossGradient!(x, y, n).slice();
    expect(worstError(loss, numeric(x, (xs) => m.loss(xs, y, n)))).toBeLessThan(1e-6);
  });

  it("a layer's gradient agrees with the input gradient by the chain rule (dense tanh: dx = W · (dh ⊙ (1 − h²)))", () => {
    const m = explainModel(DENSE);
    const n = 2;
    const x = inputs(n * 5, 3);
    const gx = m.explain.inputGradient(x, n, new Int32Array([1, 2])).slice();
    expect(m.meta.explain?.layers.map((l) => l.name)).toEqual(["dense_1", "dropout_1", "dense_2", "dense_3"]);
    const h = m.explain.activations("dense_1");
    const dh = m.explain.activationGradient("dense_1");
    const w = m.layout.find((e) => e.name === "dense_1.weight")!;
    expect(w.shape).toEqual([7, 5]); // [out, in], as PyTorch
    const chain = new Float64Array(n * 5);
    for (let i = 0; i < n; i++)
      for (let k = 0; k < 5; k++)
        for (let j = 0; j < 7; j++) chain[i * 5 + k]! += (m.params[w.offset + j * 5 + k] as number) * (dh[i * 7 + j] as number) * (1 - (h[i * 7 + j] as number) ** 2);
    expect(worstError(chain, gx)).toBeLessThan(1e-12);
    expect(() => m.explain.activations("nope")).toThrow(RangeError);
  });
});

describe("kept values", () => {
  for (const kernels of ["js", "wasm"] as const) {
    for (const [name, src, n] of [
      ["conv", CONV, 3],
      ["graph", GRAPH, 3],
    ] as const) {
      it(`${name} (${kernels}): the explain pass overwrites no layer's values, and repeated calls hand out the same views`, () => {
        const m = explainModel(src, "float32", kernels);
        const x = Float32Array.from(inputs(n * m.meta.inputSize, 13));
        m.forward(x, n);
        const layers = m.meta.explain?.layers ?? [];
        expect(layers.length).toBeGreaterThan(3);
        const before = layers.map((l) => m.explain.activations(l.name).slice());
        const scores = m.explain.scores().slice();
        const g1 = m.explain.inputGradient(x, n, 0);
        const grads = layers.filter((l) => l.gradient).map((l) => m.explain.activationGradient(l.name).slice());
        layers.forEach((l, k) => expect(Array.from(m.explain.activations(l.name)), l.name).toEqual(Array.from(before[k]!)));
        expect(Array.from(m.explain.scores())).toEqual(Array.from(scores));
        // Reading them again changes nothing either, and each call at this batch size returns the same view (nothing allocated).
        layers.filter((l) => l.gradient).forEach((l, k) => expect(Array.from(m.explain.activationGradient(l.name))).toEqual(Array.from(grads[k]!)));
        const first = g1.slice();
        const g2 = m.explain.inputGradient(x, n, 0);
        expect(g2).toBe(g1);
        expect(Array.from(g2)).toEqual(Array.from(first));
        expect(m.explain.activations(layers[0]!.name)).toBe(m.explain.activations(layers[0]!.name));
        expect(g1.length).toBe(n * m.meta.inputSize);
      });
    }
  }
});

describe("explain is opt-in", () => {
  it("a module compiled without it is unchanged and has no explain methods", () => {
    const p = program(DENSE);
    const plain = compileProgram(p, { target: "ts" }).value?.code as string;
    const explained = compileProgram(p, { target: "ts", explain: true }).value?.code as string;
    expect(plain).not.toContain("explain");
    expect(explained).toContain("inputGradient(");
    expect(compileToModule(p).value?.createModel().explain).toBeUndefined();
  });

  it("explain modules type-check against the contract: named inputs, batchnorm, dropout, both kernel targets", () => {
    const modules = new Map<string, string>();
    for (const [name, src] of [
      ["graph", GRAPH],
      ["norm", BATCHNORM],
      ["dense", DENSE],
      ["reg", REGRESSION],
    ] as const) {
      for (const kernels of ["js", "wasm"] as const) modules.set(`${name}_${kernels}`, compileProgram(program(src), { target: "ts", explain: true, kernels }).value!.code);
    }
    expect(typeCheckModules(modules)).toEqual([]);
  });

  it("training is the same with and without it (same losses, same weights)", () => {
    const plain = compileToModule(program(DENSE), { dtype: "float64" }).value!.createModel();
    const explained = explainModel(DENSE);
    const x = inputs(4 * 5, 5);
    const y = new Float64Array(12);
    for (let i = 0; i < 4; i++) y[i * 3 + (i % 3)] = 1;
    for (let s = 0; s < 3; s++) expect(explained.trainStep(x, y, 4, 0.1)).toBe(plain.trainStep(x, y, 4, 0.1));
    expect(Array.from(explained.params)).toEqual(Array.from(plain.params));
  });
});

describe("both kernel targets (float32)", () => {
  for (const [name, src, n] of [
    ["conv", CONV, 3],
    ["graph", GRAPH, 3],
  ] as const) {
    it(`${name}: wasm kernels give the TypeScript kernels' gradients and activations`, () => {
      const js = explainModel(src, "float32", "js");
      const wasm = explainModel(src, "float32", "wasm");
      const x = Float32Array.from(inputs(n * js.meta.inputSize, 9));
      const a = js.explain.inputGradient(x, n, 1).slice();
      const b = wasm.explain.inputGradient(x, n, 1).slice();
      expect(worstError(a, b)).toBeLessThan(1e-4);
      for (const l of js.meta.explain?.layers ?? []) {
        expect(worstError(js.explain.activations(l.name), wasm.explain.activations(l.name))).toBeLessThan(1e-4);
        if (l.gradient) expect(worstError(js.explain.activationGradient(l.name), wasm.explain.activationGradient(l.name))).toBeLessThan(1e-3);
      }
    });
  }
});
