/**
 * The recurrent layers' per-step products and cells as wasm kernels (`wasm/recurrent.ts`,
 * `wasm/cells.ts`) against their TypeScript lowering: the same model compiled both ways, from
 * the same weights on the same batch, gives the same loss and gradients — LSTM and GRU,
 * forwards and backwards, the padding masked, units that are not a multiple of 4 (the cells'
 * one-at-a-time tail), the forward scan as one kernel from 2 steps on (per-step kernels for
 * 1), sizes that leave leftover rows, columns and depth in the products' blocks, and a batch
 * smaller than the largest — and the same losses and weights after a few training steps.
 */
import { describe, expect, it } from "vitest";
import { relative } from "./relative.js";
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

/** Ids with padding (0) inside and at the end, different per sample. */
const ids = (n: number, t: number): Float32Array => new Float32Array(n * t).map((_, i) => ((i * 7 + 3) % 13) % 11);
const onehot = (n: number): Float32Array => new Float32Array(n * 3).map((_, i) => (i % 3 === Math.floor(i / 3) % 3 ? 1 : 0));

describe("recurrent step and cell kernels (wasm)", () => {
  for (const [name, t, body] of [
    ["lstm, last state", 7, "  lstm 6"],
    ["lstm, last state, 4 units at a time in the cell kernel", 7, "  lstm 12"],
    ["lstm, bidirectional sequences, masked", 6, "  lstm 5, return_sequences: true, bidirectional: true, mask: true\n  globalavgpool1d"],
    ["gru, bidirectional, masked", 5, "  gru 7, bidirectional: true, mask: true"],
    ["lstm sequences into gru, wide", 4, "  lstm 36, return_sequences: true\n  gru 9"],
    ["lstm sequences, 4 units at a time, into an average", 5, "  lstm 8, return_sequences: true\n  globalavgpool1d"],
    ["gru, last state, 4 units at a time", 6, "  gru 8"],
    ["lstm, masked, 4 units at a time", 7, "  lstm 8, mask: true"],
    ["gru sequences, masked, fewer units than a chunk", 6, "  gru 3, return_sequences: true, mask: true\n  flatten"],
    ["lstm, 2 steps (the scan kernel's shortest), bidirectional, masked", 2, "  lstm 5, bidirectional: true, mask: true"],
    ["gru, 1 step (no scan kernel)", 1, "  gru 6"],
  ] as const) {
    for (const n of [5, 3]) {
      it(`${name}: agrees with the TypeScript lowering (batch ${n})`, () => {
        const src = source(t, body);
        const ts = compiled(src, "js");
        const wasm = compiled(src, "wasm");
        // Per layer and direction: the forward steps as one kernel (each step's product and
        // cell), back through time a product and a cell per step, and dWh from the tape.
        const layers = (body.match(/lstm|gru/g) ?? []).length * (body.includes("bidirectional") ? 2 : 1);
        const count = (re: RegExp): number => (wasm.code.match(re) ?? []).length;
        // (One step has no step after the first: no scan kernel, no products.)
        const scanned = t > 1 ? layers : 0;
        expect(count(/kernels\.\w+Scan\(n\);/g)).toBe(scanned);
        expect(count(/kernels\.\w+\(n, t\);/g)).toBe(layers);
        expect(count(/kernels\.\w+Cell\(n, t, p\);/g)).toBe(layers + layers - scanned);
        expect(count(/the state before the step \(read from \w+\), added to the zeros\n\s*kernels\.\w+\(n\);/g)).toBe(scanned);
        expect(count(/kernels\.\w+\(n, p\);\s*\/\/ the cell/g)).toBe(layers - scanned);
        expect(ts.code).not.toMatch(/kernels\./);
        wasm.model.params.set(ts.model.params);
        const x = ids(n, t);
        const y = onehot(n);
        const lossTs = ts.model.lossAndGrad(x, y, n);
        const lossWasm = wasm.model.lossAndGrad(x, y, n);
        expect(Math.abs(lossWasm - lossTs) / lossTs).toBeLessThan(1e-5);
        expect(relative(ts.model.grads, wasm.model.grads)).toBeLessThan(1e-4);
      });
    }
  }

  for (const [name, t, body] of [
    ["gru, bidirectional, masked, units not a multiple of 4", 6, "  gru 6, bidirectional: true, mask: true"],
    ["lstm sequences, masked, units not a multiple of 4, into a gru", 5, "  lstm 7, return_sequences: true, mask: true\n  gru 4"],
  ] as const) {
    it(`${name}: the same losses and weights after 4 training steps`, () => {
      const src = source(t, body);
      const ts = compiled(src, "js");
      const wasm = compiled(src, "wasm");
      wasm.model.params.set(ts.model.params);
      const initial = Float32Array.from(ts.model.params);
      for (let step = 0; step < 4; step++) {
        const n = step % 2 === 0 ? 5 : 4;
        const x = ids(n, t).map((v, i) => (v + step * (i % 3)) % 11);
        const lossTs = ts.model.trainStep(x, onehot(n), n, 1e-2);
        const lossWasm = wasm.model.trainStep(x, onehot(n), n, 1e-2);
        expect(Math.abs(lossWasm - lossTs) / lossTs).toBeLessThan(1e-5);
      }
      // The weights moved, and moved alike.
      expect(relative(initial, ts.model.params)).toBeGreaterThan(1e-3);
      expect(relative(ts.model.params, wasm.model.params)).toBeLessThan(1e-4);
    });
  }
});
