/**
 * Each optimizer's update against a tiny reference written here (PyTorch's formulas; L2 decay
 * added to the gradient, AdamW's decay decoupled; clipping before both), over several steps
 * so the moments and Adam's bias correction are exercised.
 */
import { describe, expect, it } from "vitest";
import { randomLabels } from "../../cli/commands/gradcheck.js";
import { compileNet } from "./programs.js";

interface Opt {
  kind: "sgd" | "adam" | "adamw" | "rmsprop" | "adagrad" | "lion";
  momentum?: number;
  nesterov?: boolean;
  beta1?: number;
  beta2?: number;
  rho?: number;
  epsilon?: number;
  weightDecay?: number;
  clipNorm?: number;
  clipValue?: number;
}

function source(o: Opt): string {
  const args: string[] = ["lr: 0.05"];
  if (o.momentum !== undefined) args.push(`momentum: ${o.momentum}`);
  if (o.nesterov) args.push("nesterov: true");
  if (o.beta1 !== undefined) args.push(`beta1: ${o.beta1}`);
  if (o.beta2 !== undefined) args.push(`beta2: ${o.beta2}`);
  if (o.rho !== undefined) args.push(`rho: ${o.rho}`);
  if (o.epsilon !== undefined) args.push(`epsilon: ${o.epsilon}`);
  if (o.weightDecay !== undefined) args.push(`weight_decay: ${o.weightDecay}`);
  if (o.clipNorm !== undefined) args.push(`clip_norm: ${o.clipNorm}`);
  if (o.clipValue !== undefined) args.push(`clip_value: ${o.clipValue}`);
  return `${o.kind}(${args.join(", ")})`;
}

/** The reference: one step on plain arrays. */
function reference(o: Opt) {
  const eps = o.epsilon ?? (o.kind === "adagrad" ? 1e-10 : 1e-7);
  const wd = o.weightDecay ?? (o.kind === "adamw" ? 0.01 : 0);
  let m: number[] = [];
  let v: number[] = [];
  let t = 0;
  return (p: number[], grad: number[], lr: number): number[] => {
    t++;
    let g = [...grad];
    if (o.clipNorm) {
      const norm = Math.sqrt(g.reduce((a, x) => a + x * x, 0));
      if (norm > o.clipNorm) g = g.map((x) => (x * o.clipNorm!) / norm);
    }
    if (o.clipValue) g = g.map((x) => Math.min(o.clipValue!, Math.max(-o.clipValue!, x)));
    if (wd > 0 && o.kind !== "adamw" && o.kind !== "lion") g = g.map((x, i) => x + wd * p[i]!);
    if (m.length === 0) {
      m = g.map(() => 0);
      v = g.map(() => 0);
    }
    return p.map((w, i) => {
      const gi = g[i]!;
      switch (o.kind) {
        case "sgd": {
          const mu = o.momentum ?? 0;
          if (mu === 0) return w - lr * gi;
          m[i] = mu * m[i]! + gi;
          return w - lr * (o.nesterov ? gi + mu * m[i]! : m[i]!);
        }
        case "adam":
        case "adamw": {
          const b1 = o.beta1 ?? 0.9;
          const b2 = o.beta2 ?? 0.999;
          m[i] = b1 * m[i]! + (1 - b1) * gi;
          v[i] = b2 * v[i]! + (1 - b2) * gi * gi;
          const mhat = m[i]! / (1 - b1 ** t);
          const vhat = v[i]! / (1 - b2 ** t);
          const decayed = o.kind === "adamw" ? w * (1 - lr * wd) : w;
          return decayed - (lr * mhat) / (Math.sqrt(vhat) + eps);
        }
        case "rmsprop": {
          const rho = o.rho ?? 0.9;
          v[i] = rho * v[i]! + (1 - rho) * gi * gi;
          const mu = o.momentum ?? 0;
          if (mu === 0) return w - (lr * gi) / (Math.sqrt(v[i]!) + eps);
          m[i] = mu * m[i]! + gi / (Math.sqrt(v[i]!) + eps);
          return w - lr * m[i]!;
        }
        case "adagrad": {
          v[i] = v[i]! + gi * gi;
          return w - (lr * gi) / (Math.sqrt(v[i]!) + eps);
        }
        case "lion": {
          const b1 = o.beta1 ?? 0.9;
          const b2 = o.beta2 ?? 0.99;
          const c = b1 * m[i]! + (1 - b1) * gi;
          m[i] = b2 * m[i]! + (1 - b2) * gi;
          return w * (1 - lr * wd) - lr * Math.sign(c);
        }
      }
    });
  };
}

const CASES: Opt[] = [
  { kind: "sgd" },
  { kind: "sgd", momentum: 0.9 },
  { kind: "sgd", momentum: 0.8, nesterov: true, weightDecay: 0.01 },
  { kind: "adam" },
  { kind: "adam", beta1: 0.8, beta2: 0.99, epsilon: 1e-6, weightDecay: 0.02 },
  { kind: "adamw" },
  { kind: "adamw", weightDecay: 0.1, clipNorm: 0.5 },
  { kind: "rmsprop" },
  { kind: "rmsprop", rho: 0.8, momentum: 0.5 },
  { kind: "sgd", clipValue: 0.01 },
  { kind: "adam", clipNorm: 0.05, clipValue: 0.02 },
  { kind: "adagrad" },
  { kind: "adagrad", epsilon: 1e-6, weightDecay: 0.05, clipNorm: 0.3 },
  { kind: "lion" },
  { kind: "lion", beta1: 0.8, beta2: 0.95, weightDecay: 0.1 },
];

describe("optimizer updates match a reference implementation", () => {
  for (const o of CASES) {
    it(source(o), () => {
      const model = compileNet({ layers: ["dense 4, tanh", "dense 2, softmax"], loss: "cross_entropy", optimizer: source(o) }).createModel();
      const n = 3;
      const x = new Float64Array(n * 3).map((_, i) => Math.cos(i * 1.7));
      const y = randomLabels("cross_entropy", n, 2, () => 0.6);
      const step = reference(o);
      let p = Array.from(model.params);
      const lrs = [0.05, 0.1, 0.02, 0.07];
      for (const lr of lrs) {
        model.lossAndGrad(x, y, n);
        const g = Array.from(model.grads);
        model.trainStep(x, y, n, lr);
        p = step(p, g, lr);
        for (let i = 0; i < p.length; i++) expect(model.params[i]).toBeCloseTo(p[i]!, 12);
      }
      expect(model.getState().step).toBe(lrs.length);
    });
  }

  it("getState/setState resume bit for bit", () => {
    const spec = { layers: ["dense 5, relu", "dropout 0.3", "dense 2, softmax"], loss: "cross_entropy", optimizer: "adam(lr: 0.01)" };
    const a = compileNet(spec).createModel();
    const b = compileNet(spec).createModel();
    const n = 4;
    const x = new Float64Array(n * 3).map((_, i) => Math.sin(i));
    const y = randomLabels("cross_entropy", n, 2, () => 0.3);
    for (let i = 0; i < 3; i++) a.trainStep(x, y, n, 0.01);
    b.setState(a.getState());
    for (let i = 0; i < 3; i++) expect(a.trainStep(x, y, n, 0.01)).toBe(b.trainStep(x, y, n, 0.01));
    expect(Array.from(a.params)).toEqual(Array.from(b.params));
  });
});
