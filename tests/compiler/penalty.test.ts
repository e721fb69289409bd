/**
 * `l1:`/`l2:` on a layer's weights (Keras' `kernel_regularizer`): the objective the module
 * reports and differentiates is the loss plus l1·Σ|w| + l2·Σw² over the penalized weights. Its
 * gradient against central finite differences in float64; the value against the formula
 * computed here from the weights; the biases untouched; the wasm module step for step like the
 * TypeScript one; training with l2 ends with smaller weights; a negative penalty is refused.
 */
import { describe, expect, it } from "vitest";
import { gradcheck } from "../../cli/commands/gradcheck.js";
import { checkSource } from "../../compiler/check.js";
import type { CompiledModel } from "../../compiler/model-api.js";
import { compileNet, type NetSpec } from "./programs.js";

function expectGood(spec: NetSpec): void {
  const result = gradcheck(compileNet(spec), { seed: 5, perTensor: 24 });
  expect(result.worst, JSON.stringify(result.tensors)).toBeLessThan(1e-6);
  expect(result.tensors.filter((t) => t.name.endsWith(".weight")).every((t) => t.checked > 0)).toBe(true);
}

/** Σ|w| and Σw² of the tensors whose names end with `.weight`. */
function norms(m: CompiledModel, which: (name: string) => boolean): { l1: number; l2: number } {
  let l1 = 0;
  let l2 = 0;
  for (const e of m.layout) {
    if (!which(e.name)) continue;
    for (let i = e.offset; i < e.offset + e.size; i++) {
      l1 += Math.abs(m.params[i]!);
      l2 += m.params[i]! * m.params[i]!;
    }
  }
  return { l1, l2 };
}

const dense = (penalty: string): NetSpec => ({ input: "5", layers: [`dense 6, tanh${penalty}`, `dense 3, softmax${penalty}`], loss: "cross_entropy" });
const conv = (penalty: string): NetSpec => ({ input: "[6, 5, 2]", layers: [`conv2d 3, 3, tanh, padding: same${penalty}`, "flatten", `dense 2${penalty}`], loss: "mse", batch: 3 });

describe("the gradient of loss + penalty agrees with finite differences (float64, rel. error < 1e-6)", () => {
  // Glorot-drawn weights lie far from 0 against the step 1e-5, so |w| has no kink in reach.
  for (const [name, spec] of [
    ["dense, l2", dense(", l2: 0.05")],
    ["dense, l1", dense(", l1: 0.02")],
    ["dense, l1 and l2", dense(", l1: 0.02, l2: 0.05")],
    ["conv2d, l2", conv(", l2: 0.05")],
    ["conv2d, l1", conv(", l1: 0.03")],
    ["conv2d, l1 and l2, then dense", conv(", l1: 0.01, l2: 0.2")],
  ] as const) {
    it(name, () => expectGood(spec));
  }
  it("conv1d, embedding, lstm and gru carry it too", () => {
    expectGood({ input: "[4, 3]", layers: ["conv1d 4, 2, tanh, l2: 0.1", "lstm 3, l1: 0.01", "dense 2, l2: 0.1"], loss: "mse", batch: 2 });
    expectGood({ input: "[4, 3]", layers: ["gru 3, return_sequences: true, l2: 0.1", "attention 1, l1: 0.01, l2: 0.1", "flatten", "dense 1"], loss: "mse", batch: 2 });
  });
});

describe("the penalty's value and gradient are Keras' formula, on the weights only", () => {
  it("loss(l1, l2) − loss(none) = l1·Σ|w| + l2·Σw², and the gradients differ by l1·sign(w) + 2·l2·w", () => {
    const plain = compileNet(dense("")).createModel();
    const pen = compileNet(dense(", l1: 0.02, l2: 0.05")).createModel();
    plain.init(7);
    pen.init(7);
    expect(Array.from(pen.params)).toEqual(Array.from(plain.params));
    const n = 4;
    const x = Float64Array.from({ length: n * 5 }, (_, i) => Math.sin(1.3 * i));
    const y = Float64Array.from({ length: n * 3 }, (_, i) => (i % 3 === Math.floor(i / 3) % 3 ? 1 : 0));
    const a = plain.lossAndGrad(x, y, n);
    const b = pen.lossAndGrad(x, y, n);
    const w = norms(pen, (name) => name.endsWith(".weight"));
    expect(b - a).toBeCloseTo(0.02 * w.l1 + 0.05 * w.l2, 12);
    for (const e of pen.layout) {
      for (let i = e.offset; i < e.offset + e.size; i++) {
        const p = pen.params[i]!;
        const extra = e.name.endsWith(".weight") ? 0.02 * Math.sign(p) + 0.1 * p : 0;
        expect(pen.grads[i]! - plain.grads[i]!, `${e.name}[${i - e.offset}]`).toBeCloseTo(extra, 12);
      }
    }
    // `loss` (evaluation) reports it too, as Keras' evaluate does.
    expect(pen.loss(x, y, n) - plain.loss(x, y, n)).toBeCloseTo(0.02 * w.l1 + 0.05 * w.l2, 12);
  });

  it("the wasm module trains step for step like the TypeScript one (float32)", () => {
    const spec = { ...conv(", l1: 0.001, l2: 0.01"), optimizer: "adam(lr: 0.01)" };
    const ts = compileNet(spec, { dtype: "float32" }).createModel();
    const wasm = compileNet(spec, { dtype: "float32", kernels: "wasm" }).createModel();
    const n = 3;
    const x = new Float32Array(n * 60).map((_, i) => Math.sin(i * 0.7));
    const y = new Float32Array(n * 2).map((_, i) => Math.cos(i));
    for (let step = 0; step < 5; step++) expect(wasm.trainStep(x, y, n, 0.01)).toBeCloseTo(ts.trainStep(x, y, n, 0.01), 5);
    for (let i = 0; i < ts.params.length; i++) expect(wasm.params[i]).toBeCloseTo(ts.params[i]!, 4);
  });
});

describe("training with l2", () => {
  it("ends with a visibly smaller weight norm than without, from the same start on the same batches", () => {
    const spec = (p: string): NetSpec => ({ input: "8", layers: [`dense 16, relu${p}`, `dense 3, softmax${p}`], loss: "cross_entropy", optimizer: "adam(lr: 0.01)", batch: 16 });
    const run = (p: string): { norm: number; loss: number } => {
      const m = compileNet(spec(p)).createModel();
      m.init(3);
      const n = 16;
      let loss = 0;
      for (let step = 0; step < 300; step++) {
        const x = Float64Array.from({ length: n * 8 }, (_, i) => Math.sin(0.37 * i + step));
        const y = new Float64Array(n * 3);
        for (let r = 0; r < n; r++) y[r * 3 + (x[r * 8]! > 0.3 ? 0 : x[r * 8 + 1]! > 0 ? 1 : 2)] = 1;
        loss = m.trainStep(x, y, n, 0.01);
      }
      return { norm: Math.sqrt(norms(m, (name) => name.endsWith(".weight")).l2), loss };
    };
    const none = run("");
    const l2 = run(", l2: 0.01");
    console.log(`weight norm after 300 steps: ${none.norm.toFixed(3)} without, ${l2.norm.toFixed(3)} with l2: 0.01`);
    expect(l2.norm).toBeLessThan(0.75 * none.norm);
  });
});

describe("the arguments", () => {
  it("a negative penalty is NN2019 at its value, with the range", () => {
    const r = checkSource("model M {\n  input 3\n  dense 2, l2: -0.1\n}\nloss mse\n");
    expect(r.diagnostics.map((d) => `${d.code} ${d.span.line}:${d.span.column}`)).toEqual(["NN2019 3:16"]);
    expect(r.diagnostics[0]?.message).toContain("≥ 0");
  });
  it("layers without weights do not take it", () => {
    const r = checkSource("model M {\n  input 3\n  dropout 0.5, l2: 0.1\n  dense 2\n}\nloss mse\n");
    expect(r.value).toBeUndefined();
    expect(r.diagnostics[0]?.span.line).toBe(3);
  });
});
