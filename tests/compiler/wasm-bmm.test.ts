/**
 * Attention's batched products (`bmm`) as wasm kernels against their TypeScript lowering: the
 * same model compiled both ways, from the same weights on the same batch, gives the same loss
 * and gradients — the forward's two products (q·kᵀ, weights·v) and the backward's four
 * transposition cases, with sequence lengths and head widths that leave leftover rows,
 * columns and depth in the kernels' blocks.
 */
import { describe, expect, it } from "vitest";
import { checkSource } from "../../compiler/check.js";
import { compileProgram } from "../../compiler/compile.js";
import { loadModule } from "../../compiler/load.js";

const source = (t: number, d: number, heads: [number, number]): string => `
model Att {
  seed       3
  input      ${t}
  embedding  11, ${d}
  positional
  attention  ${heads[0]}, causal: true
  layernorm
  attention  ${heads[1]}
  globalavgpool1d
  dense      3, softmax
}

loss      cross_entropy
optimizer adam(lr: 1e-3)

train {
  batch 5
}
`;

function compiled(src: string, kernels: "js" | "wasm"): { code: string; model: ReturnType<ReturnType<typeof loadModule>["createModel"]> } {
  const checked = checkSource(src);
  if (!checked.value) throw new Error(JSON.stringify(checked.diagnostics));
  const r = compileProgram(checked.value, { target: "js", kernels, maxBatch: 5 });
  if (!r.value) throw new Error(JSON.stringify(r.diagnostics));
  return { code: r.value.code, model: loadModule(r.value.code).createModel() };
}

describe("bmm wasm kernel", () => {
  for (const [t, d, heads] of [
    [7, 12, [3, 2]],
    [8, 16, [4, 1]],
    [5, 6, [2, 3]],
  ] as [number, number, [number, number]][]) {
    it(`agrees with the TypeScript lowering: T ${t}, D ${d}, heads ${heads.join(" and ")}`, () => {
      const src = source(t, d, heads);
      const ts = compiled(src, "js");
      const wasm = compiled(src, "wasm");
      // The wasm module calls a kernel for every bmm: 2 forward and 4 backward per attention.
      const calls = wasm.code.match(/= bmm\(.*\n\s*\{\n\s*kernels\.\w+\(n \* \d+\);/g) ?? [];
      expect(calls.length).toBe(12);
      expect(ts.code).not.toMatch(/kernels\./);
      wasm.model.params.set(ts.model.params);
      const n = 5;
      const x = new Float32Array(n * t).map((_, i) => (i * 7 + 3) % 11);
      const y = new Float32Array(n * 3).map((_, i) => (i % 3 === Math.floor(i / 3) % 3 ? 1 : 0));
      const lossTs = ts.model.lossAndGrad(x, y, n);
      const lossWasm = wasm.model.lossAndGrad(x, y, n);
      expect(Math.abs(lossWasm - lossTs) / lossTs).toBeLessThan(1e-5);
      let scale = 0;
      let worst = 0;
      for (let i = 0; i < ts.model.grads.length; i++) {
        const g = ts.model.grads[i] as number;
        scale = Math.max(scale, Math.abs(g));
        worst = Math.max(worst, Math.abs(g - (wasm.model.grads[i] as number)));
      }
      expect(scale).toBeGreaterThan(0);
      expect(worst / scale).toBeLessThan(1e-4);
    });
  }
});
