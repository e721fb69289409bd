/**
 * The recurrent layers' per-step products as wasm kernels (`wasm/recurrent.ts`) against their
 * TypeScript lowering: the same model compiled both ways, from the same weights on the same
 * batch, gives the same loss and gradients — LSTM and GRU, forwards and backwards, the padding
 * masked, sizes that leave leftover rows, columns and depth in the kernels' blocks, and a batch
 * smaller than the largest.
 */
import { describe, expect, it } from "vitest";
import { checkSource } from "../../compiler/check.js";
import { compileProgram } from "../../compiler/compile.js";
import { loadModule } from "../../compiler/load.js";

const source = (t: number, body: string): string => `
model Rnn {
  seed       3
  input      ${t}
  embedding  11, 5, mask_zero: true
${body}
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

describe("recurrent step kernels (wasm)", () => {
  for (const [name, t, body] of [
    ["lstm, last state", 7, "  lstm 6"],
    ["lstm, last state, 4 units at a time in the cell kernel", 7, "  lstm 12"],
    ["lstm, bidirectional sequences, masked", 6, "  lstm 5, return_sequences: true, bidirectional: true, mask: true\n  globalavgpool1d"],
    ["gru, bidirectional, masked", 5, "  gru 7, bidirectional: true, mask: true"],
    ["lstm sequences into gru, wide", 4, "  lstm 36, return_sequences: true\n  gru 9"],
    ["lstm sequences, 4 units at a time, into an average", 5, "  lstm 8, return_sequences: true\n  globalavgpool1d"],
  ] as const) {
    for (const n of [5, 3]) {
      it(`${name}: agrees with the TypeScript lowering (batch ${n})`, () => {
        const src = source(t, body);
        const ts = compiled(src, "js");
        const wasm = compiled(src, "wasm");
        // Every recurrent product is a kernel called with the step: forward, back through time and dWh per direction.
        const layers = (body.match(/lstm|gru/g) ?? []).length * (body.includes("bidirectional") ? 2 : 1);
        expect((wasm.code.match(/kernels\.\w+\(n( \* \d+)?, (t|p|0)\);/g) ?? []).length).toBe(3 * layers);
        expect(ts.code).not.toMatch(/kernels\./);
        // An LSTM without padding and with a multiple of 4 units runs its cell as a kernel too.
        const cells = /lstm (8|12|36)\b/.test(body) ? 2 : 0;
        expect((wasm.code.match(/kernels\.\w+Cell\(n, t, p\);/g) ?? []).length).toBe(cells);
        wasm.model.params.set(ts.model.params);
        // Ids with padding (0) inside and at the end, different per sample.
        const x = new Float32Array(n * t).map((_, i) => ((i * 7 + 3) % 13) % 11);
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
  }
});
