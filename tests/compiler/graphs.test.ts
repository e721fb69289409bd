/**
 * Graph models through the compiler: the wasm kernels agree with the TypeScript ones across
 * merges and fan-out (a residual CNN whose block is used twice, a model with two inputs), and
 * block uses name their parameters after the use. (A convolution before a batchnorm has no bias:
 * its gradient would be zero up to rounding, which Adam turns into full-size steps of either sign,
 * so the two targets' biases would drift apart without either being wrong.)
 */
import { describe, expect, it } from "vitest";
import { checkSource } from "../../compiler/check.js";
import { compileToModule } from "../../compiler/load.js";
import type { Program } from "../../compiler/program.js";

function program(source: string): Program {
  const r = checkSource(source);
  const errors = r.diagnostics.filter((d) => d.severity === "error");
  if (r.value === undefined || errors.length > 0) throw new Error(errors.map((d) => `${d.span.line}:${d.span.column} ${d.message}`).join("\n"));
  return r.value;
}

const RESIDUAL_CNN = `
block residual(width) {
  x = input
  conv2d     width, 3, padding: same, bias: false
  batchnorm
  activation relu
  conv2d     width, 3, padding: same
  add        x
  activation relu
}
model R {
  seed 3
  input [6, 6, 2]
  conv2d 4, 3, relu, padding: same
  repeat 2 {
    residual 4
  }
  maxpool2d 2
  flatten
  dropout 0.25
  dense 3, softmax
}
loss cross_entropy
`;

const TWO_INPUTS = `
model T {
  seed 5
  image = input [5, 5, 1]
  side  = input [3]
  image -> conv2d 3, 3, relu
  flatten
  a = dense 6, relu
  side -> dense 6, tanh
  b = dense 6
  s = add a, b
  concat s, side
  dense 2, softmax
}
loss cross_entropy
optimizer sgd(lr: 0.05, momentum: 0.9)
`;

function run(p: Program, kernels: "js" | "wasm") {
  const built = compileToModule(p, { maxBatch: 8, dtype: "float32", kernels });
  if (built.value === undefined) throw new Error(built.diagnostics.map((d) => d.message).join("\n"));
  const m = built.value.createModel();
  const n = 8;
  const x = new Float32Array(n * m.meta.inputSize).map((_, i) => Math.sin(i * 0.37));
  const y = new Float32Array(n * m.meta.outputSize).map((_, i) => (i % m.meta.outputSize === Math.floor(i / m.meta.outputSize) % m.meta.outputSize ? 1 : 0));
  const losses = [0, 1, 2, 3].map(() => m.trainStep(x, y, n, 0.05));
  return { m, losses, out: Array.from(m.predict(x, n)), params: Array.from(m.params) };
}

describe("graphs through the compiler", () => {
  for (const [name, source] of [["a residual CNN (a block used twice, fan-out into add)", RESIDUAL_CNN], ["two inputs (slices of x, add and concat of branches)", TWO_INPUTS]] as const) {
    it(`${name}: the wasm kernels train as the TypeScript ones`, () => {
      const p = program(source);
      const js = run(p, "js");
      const wasm = run(p, "wasm");
      for (let i = 0; i < js.losses.length; i++) expect(wasm.losses[i]).toBeCloseTo(js.losses[i]!, 4);
      let worst = 0;
      for (let i = 0; i < js.params.length; i++) worst = Math.max(worst, Math.abs(js.params[i]! - wasm.params[i]!));
      expect(worst).toBeLessThan(1e-4);
      expect(js.losses[3]).toBeLessThan(js.losses[0]!);
    });
  }

  it("names a block's parameters after its use, as PyTorch names nested modules", () => {
    const p = program(RESIDUAL_CNN);
    const built = compileToModule(p, { maxBatch: 4, dtype: "float32", kernels: "js" });
    const names = built.value!.layout.map((e) => e.name);
    expect(names.filter((n) => n.startsWith("residual_"))).toEqual([
      "residual_1.conv2d_1.weight",
      "residual_1.batchnorm_1.gamma",
      "residual_1.batchnorm_1.beta",
      "residual_1.batchnorm_1.running_mean",
      "residual_1.batchnorm_1.running_var",
      "residual_1.conv2d_2.weight",
      "residual_1.conv2d_2.bias",
      "residual_2.conv2d_1.weight",
      "residual_2.batchnorm_1.gamma",
      "residual_2.batchnorm_1.beta",
      "residual_2.batchnorm_1.running_mean",
      "residual_2.batchnorm_1.running_var",
      "residual_2.conv2d_2.weight",
      "residual_2.conv2d_2.bias",
    ]);
  });

  it("concat puts its values in the order named, along the last axis; add sums them", () => {
    const run = (body: string, inputs: Record<string, Float32Array>) => {
      const p = program(`model M {\n  a = input 2\n  b = input 3\n${body}\n}\nloss mse\n`);
      return Array.from(compileToModule(p, { maxBatch: 2, dtype: "float32", kernels: "wasm" }).value!.createModel().predict(inputs, 2));
    };
    const a = new Float32Array([1, 2, 3, 4]);
    const b = new Float32Array([10, 20, 30, 40, 50, 60]);
    expect(run("  concat b, a", { a, b })).toEqual([10, 20, 30, 1, 2, 40, 50, 60, 3, 4]);
    expect(run("  concat a, b", { a, b })).toEqual([1, 2, 10, 20, 30, 3, 4, 40, 50, 60]);
    const c = new Float32Array([0.5, 0.25, 1, 2, 4, 8]);
    expect(run("  b -> add b", { a, b: c })).toEqual([1, 0.5, 2, 4, 8, 16]);
  });

  it("gives a two-input module meta.inputs and takes its inputs by name", () => {
    const p = program(TWO_INPUTS);
    const built = compileToModule(p, { maxBatch: 4, dtype: "float32", kernels: "wasm" });
    const m = built.value!.createModel();
    expect(m.meta.inputs).toEqual([
      { name: "image", shape: [5, 5, 1], offset: 0, size: 25 },
      { name: "side", shape: [3], offset: 25, size: 3 },
    ]);
    const image = new Float32Array(2 * 25).map((_, i) => Math.cos(i));
    const side = new Float32Array([0.5, -1, 2, 1, 0, -0.5]);
    const packed = new Float32Array(2 * 28);
    for (let i = 0; i < 2; i++) {
      packed.set(image.subarray(i * 25, i * 25 + 25), i * 28);
      packed.set(side.subarray(i * 3, i * 3 + 3), i * 28 + 25);
    }
    expect(Array.from(m.predict({ image, side }, 2))).toEqual(Array.from(m.predict(packed, 2)));
  });
});
