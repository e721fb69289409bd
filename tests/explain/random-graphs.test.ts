/**
 * The explain pass on random graph programs (`tests/compiler/random-dags.ts`: several inputs,
 * fan-out, residual adds, concats, image branches, blocks, repeat): the input gradient of a
 * class's score, and of the loss where the module has it, along a random direction against
 * central finite differences in float64.
 */
import { describe, expect, it } from "vitest";
import { checkSource } from "../../compiler/check.js";
import { compileToModule } from "../../compiler/load.js";
import type { CompiledModel, ExplainMethods } from "../../compiler/model-api.js";
import { generate, rng } from "../compiler/random-dags.js";

const COUNT = 32;
const H = 1e-6;

describe("input gradients of random graph programs agree with central differences (float64)", () => {
  for (let seed = 1; seed <= COUNT; seed++) {
    it(`program ${seed}`, () => {
      const g = generate(seed);
      const p = checkSource(g.source).value!;
      const r = compileToModule(p, { dtype: "float64", explain: true });
      expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
      const m = r.value!.createModel() as CompiledModel & { explain: ExplainMethods };
      const n = 3;
      const size = m.meta.inputSize;
      const K = m.meta.outputSize;
      const rand = rng(seed * 7919);
      const x = Float64Array.from({ length: n * size }, () => rand() * 2 - 1);
      const d = Float64Array.from({ length: n * size }, () => (rand() < 0.5 ? -1 : 1));
      const targets = Int32Array.from({ length: n }, (_, i) => i % K);
      const score = (xs: Float64Array): number => {
        m.forward(xs, n);
        const z = m.explain.scores();
        let t = 0;
        for (let i = 0; i < n; i++) t += z[i * K + targets[i]!]!;
        return t;
      };
      const along = (f: (xs: Float64Array) => number): number => (f(x.map((v, i) => v + H * d[i]!)) - f(x.map((v, i) => v - H * d[i]!))) / (2 * H);
      const dot = (a: ArrayLike<number>): number => Array.from(d).reduce((t, v, i) => t + v * a[i]!, 0);
      const analytic = dot(m.explain.inputGradient(x, n, targets));
      const numeric = along(score);
      expect(Math.abs(analytic - numeric) / Math.max(1e-3, Math.abs(analytic) + Math.abs(numeric)), g.source).toBeLessThan(1e-6);
      if (m.meta.explain?.lossGradient === true) {
        const y = Float64Array.from({ length: n * K }, (_, j) => (m.meta.loss === "mse" ? Math.sin(j) : j % K === (Math.floor(j / K) % K) ? 1 : 0));
        const a = dot(m.explain.lossGradient!(x, y, n));
        const b = along((xs) => m.loss(xs, y, n));
        expect(Math.abs(a - b) / Math.max(1e-3, Math.abs(a) + Math.abs(b)), g.source).toBeLessThan(1e-6);
      }
    });
  }
});
