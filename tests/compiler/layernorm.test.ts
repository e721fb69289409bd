/**
 * `layernorm`, the layer written from primitives: its gradients against central finite
 * differences in float64 (flat values, image channels, after dropout, fused and unfused), its
 * forward values against the formula, and the wasm-kernel module against the TypeScript one.
 */
import { describe, expect, it } from "vitest";
import { gradcheck } from "../../cli/commands/gradcheck.js";
import { checkSource } from "../../compiler/check.js";
import { compileNet, type NetSpec } from "./programs.js";

function expectGood(spec: NetSpec, fuse = true): void {
  const result = gradcheck(compileNet(spec, { fuse }), { seed: 3, perTensor: 16 });
  expect(result.worst, JSON.stringify(result.tensors)).toBeLessThan(1e-6);
  expect(result.tensors.some((t) => t.name.endsWith(".gamma") && t.checked > 0)).toBe(true);
}

describe("layernorm gradients agree with finite differences (float64, rel. error < 1e-6)", () => {
  it("over the features of a dense layer, fused and unfused", () => {
    const spec = { input: "5", layers: ["dense 6, bias: false", "layernorm", "activation tanh", "dense 3, softmax"], loss: "cross_entropy" };
    expectGood(spec);
    expectGood(spec, false);
  });
  it("over the channels of each pixel of an image, then pooling", () => {
    expectGood({ input: "[6, 4, 2]", layers: ["conv2d 3, 2, padding: same", "layernorm epsilon: 0.001", "maxpool2d 2", "flatten", "dense 2"], loss: "mse", batch: 3 });
  });
  it("straight on the input, with dropout after it, and a sigmoid head", () => {
    expectGood({ input: "7", layers: ["layernorm", "dropout 0.25", "dense 4, gelu", "layernorm", "dense 1, sigmoid"], loss: "binary_cross_entropy", batch: 5 });
  });
});

describe("layernorm forward", () => {
  it("normalizes each sample to mean 0 and variance 1 (biased), then γ·x̂ + β", () => {
    const model = compileNet({ input: "4", layers: ["layernorm epsilon: 0.01"], loss: "mse" }).createModel();
    const gamma = [1.5, -0.5, 2, 1];
    const beta = [0.1, 0.2, -0.3, 0];
    for (const e of model.layout) {
      if (e.name.endsWith(".gamma")) model.params.set(gamma, e.offset);
      if (e.name.endsWith(".beta")) model.params.set(beta, e.offset);
    }
    const x = [1, 2, 3, 10, -4, 0.5, 0.5, 8];
    const out = model.predict(Float64Array.from(x), 2);
    for (let r = 0; r < 2; r++) {
      const row = x.slice(4 * r, 4 * r + 4);
      const mean = row.reduce((a, v) => a + v, 0) / 4;
      const variance = row.reduce((a, v) => a + (v - mean) ** 2, 0) / 4;
      row.forEach((v, j) => expect(out[4 * r + j]).toBeCloseTo(((v - mean) / Math.sqrt(variance + 0.01)) * gamma[j]! + beta[j]!, 12));
    }
  });

  it("documents its arguments from its schema: ε must be > 0", () => {
    const r = checkSource("model M {\n  input 3\n  layernorm epsilon: 0\n}\nloss mse\n");
    expect(r.diagnostics.map((d) => `${d.code} ${d.span.line}:${d.span.column} ${d.message}`)).toEqual(["NN2019 3:22 `epsilon` must be a small number > 0, but is 0"]);
  });
});

describe("layernorm with wasm kernels", () => {
  it("trains step for step like the TypeScript module (float32)", () => {
    const spec = { input: "8", layers: ["dense 12, relu", "layernorm", "dense 3, softmax"], loss: "cross_entropy", optimizer: "adam(lr: 0.01)", batch: 6 };
    const ts = compileNet(spec, { dtype: "float32" }).createModel();
    const wasm = compileNet(spec, { dtype: "float32", kernels: "wasm" }).createModel();
    const n = 6;
    const x = new Float32Array(n * 8).map((_, i) => Math.sin(i * 0.7));
    const y = new Float32Array(n * 3).map((_, i) => (i % 3 === (Math.floor(i / 3) % 3) ? 1 : 0));
    for (let step = 0; step < 5; step++) expect(wasm.trainStep(x, y, n, 0.01)).toBeCloseTo(ts.trainStep(x, y, n, 0.01), 5);
    for (let i = 0; i < ts.params.length; i++) expect(wasm.params[i]).toBeCloseTo(ts.params[i]!, 4);
  });
});
