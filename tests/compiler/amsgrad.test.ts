/**
 * `amsgrad: true` for adam and adamw against a scalar reference written here from PyTorch
 * 1.13's `_single_tensor_adam`: v̂ = max(v̂, v), denominator √v̂ / √(1 − β₂ᵗ) + ε; over several
 * steps whose second moment falls (β₂ 0.5), so the kept maximum decides the step. Under
 * `--kernels wasm` the update runs in TypeScript and NN3016 says so.
 */
import { describe, expect, it } from "vitest";
import { randomLabels } from "../../cli/commands/gradcheck.js";
import { compileProgram } from "../../compiler/compile.js";
import { compileToModule } from "../../compiler/load.js";
import { compileNet, program, source } from "./programs.js";

interface Case {
  kind: "adam" | "adamw";
  amsgrad: boolean;
  beta1: number;
  beta2: number;
  eps: number;
  wd: number;
}

/** One step of PyTorch 1.13's Adam/AdamW on plain arrays (weight decay: L2 for adam, decoupled for adamw). */
function reference(c: Case) {
  let m: number[] = [];
  let v: number[] = [];
  let vmax: number[] = [];
  let t = 0;
  return (p: number[], grad: number[], lr: number): number[] => {
    t++;
    if (m.length === 0) [m, v, vmax] = [grad.map(() => 0), grad.map(() => 0), grad.map(() => 0)];
    return p.map((w, i) => {
      const g = c.kind === "adam" ? grad[i]! + c.wd * w : grad[i]!;
      const decayed = c.kind === "adamw" ? w * (1 - lr * c.wd) : w;
      m[i] = c.beta1 * m[i]! + (1 - c.beta1) * g;
      v[i] = c.beta2 * v[i]! + (1 - c.beta2) * g * g;
      const bc1 = 1 - c.beta1 ** t;
      const bc2 = 1 - c.beta2 ** t;
      vmax[i] = Math.max(vmax[i]!, v[i]!);
      const denom = Math.sqrt(c.amsgrad ? vmax[i]! : v[i]!) / Math.sqrt(bc2) + c.eps;
      return decayed - (lr / bc1) * (m[i]! / denom);
    });
  };
}

const optimizer = (c: Case): string => `${c.kind}(lr: 0.05, beta1: ${c.beta1}, beta2: ${c.beta2}, epsilon: ${c.eps}, weight_decay: ${c.wd}, amsgrad: ${c.amsgrad})`;

/** Trains `steps` steps with changing inputs (so gradients shrink and grow); returns the model's and the reference's weights per step. */
function run(c: Case) {
  const model = compileNet({ layers: ["dense 4, tanh", "dense 2, softmax"], loss: "cross_entropy", optimizer: optimizer(c) }).createModel();
  const n = 3;
  const step = reference(c);
  let p = Array.from(model.params);
  const lrs = [0.05, 0.1, 0.02, 0.07, 0.03, 0.06];
  const out: { model: number[]; ref: number[] }[] = [];
  lrs.forEach((lr, s) => {
    // Large inputs first, then small ones: the gradient and with it v fall, and v̂ stays.
    const x = new Float64Array(n * 3).map((_, i) => Math.cos(i * 1.7 + s) * (s < 2 ? 3 : 0.05));
    const y = randomLabels("cross_entropy", n, 2, () => (s * 0.37) % 1);
    model.lossAndGrad(x, y, n);
    const g = Array.from(model.grads);
    model.trainStep(x, y, n, lr);
    p = step(p, g, lr);
    out.push({ model: Array.from(model.params), ref: p });
  });
  return { out, model };
}

describe("amsgrad", () => {
  const cases: Case[] = [
    { kind: "adam", amsgrad: true, beta1: 0.9, beta2: 0.5, eps: 1e-7, wd: 0 },
    { kind: "adam", amsgrad: true, beta1: 0.8, beta2: 0.6, eps: 1e-6, wd: 0.02 },
    { kind: "adamw", amsgrad: true, beta1: 0.9, beta2: 0.5, eps: 1e-7, wd: 0.1 },
  ];
  for (const c of cases) {
    it(optimizer(c), () => {
      const { out, model } = run(c);
      for (const s of out) for (let i = 0; i < s.ref.length; i++) expect(s.model[i]).toBeCloseTo(s.ref[i]!, 12);
      expect(model.getState().optimizer.length).toBe(3 * model.params.length);
      // The maximum matters here: plain Adam on the same steps ends elsewhere.
      const plain = run({ ...c, amsgrad: false }).out.at(-1)!.model;
      expect(Math.max(...plain.map((x, i) => Math.abs(x - out.at(-1)!.model[i]!)))).toBeGreaterThan(1e-4);
    });
  }

  it("is off by default and keeps two moments", () => {
    const model = compileNet({ layers: ["dense 2, softmax"], loss: "cross_entropy", optimizer: "adam(lr: 0.01)" }).createModel();
    expect(model.getState().optimizer.length).toBe(2 * model.params.length);
  });

  it("runs in TypeScript under --kernels wasm, and NN3016 says so", () => {
    const spec = (o: string) => program(source({ layers: ["dense 4, relu", "dense 2, softmax"], loss: "cross_entropy", optimizer: o }));
    const notes = (o: string) => compileProgram(spec(o), { target: "js", kernels: "wasm" }).diagnostics.filter((d) => d.code === "NN3016");
    expect(notes("adam(lr: 0.01)")).toEqual([]);
    const [note] = notes("adamw(lr: 0.01, amsgrad: true)");
    expect(note?.message).toMatch(/^`adamw\(.*amsgrad.*\)` has no wasm kernel: its update runs in TypeScript$/);
    expect(note?.hint).toMatch(/does not cover these settings/);
    // and it trains the same under both kernel choices (float32; products sum in another order)
    const p = spec("adam(lr: 0.05, beta2: 0.5, amsgrad: true)");
    const js = compileToModule(p, { kernels: "js" }).value!.createModel();
    const wasm = compileToModule(p, { kernels: "wasm" }).value!.createModel();
    js.init(3);
    wasm.init(3);
    const x = new Float32Array(12).map((_, i) => Math.sin(i));
    const y = Float32Array.from(randomLabels("cross_entropy", 4, 2, () => 0.4));
    for (let s = 0; s < 5; s++) {
      js.trainStep(x, y, 4, 0.05);
      wasm.trainStep(x, y, 4, 0.05);
    }
    for (let i = 0; i < js.params.length; i++) expect(wasm.params[i]).toBeCloseTo(js.params[i]!, 4);
    expect(wasm.getState().optimizer.length).toBe(3 * wasm.params.length);
  });
});
