/**
 * The recurrent layers' forward pass against a plain reference written here from PyTorch's
 * equations (`torch.nn.LSTM`/`GRU`, gates i, f, g, o and r, z, n; the GRU's b_hh inside
 * r ⊙ (W_hn·h + b_hn)), with Keras' masking (a step whose input is all zeros keeps the state)
 * and the reverse direction's state after reading every step: the compiled model's predictions
 * equal it to float64 rounding, for samples of different lengths.
 */
import { describe, expect, it } from "vitest";
import { checkSource } from "../../compiler/check.js";
import { compileToModule } from "../../compiler/load.js";

const T = 6;
const E = 3;
const H = 4;
const ids = [3, 7, 0, 2, 0, 0, 5, 1, 9, 4, 8, 6, 0, 0, 0, 0, 0, 0, 0, 2, 0, 3, 0, 9];

function compiled(layer: string) {
  const r = checkSource(`model S {\n  seed 4\n  input ${T}\n  embedding 10, ${E}, mask_zero: true\n  ${layer}\n}\nloss mse\n`);
  if (r.value === undefined) throw new Error(JSON.stringify(r.diagnostics));
  const built = compileToModule(r.value, { maxBatch: 4, dtype: "float64", kernels: "js" });
  if (built.value === undefined) throw new Error(JSON.stringify(built.diagnostics));
  const mod = built.value;
  const m = mod.createModel();
  m.init(7);
  // The biases start at zero: give them values, so their paths are compared too.
  for (const e of mod.layout.filter((l) => l.name.includes("bias"))) for (let k = 0; k < e.size; k++) m.params[e.offset + k] = 0.3 * Math.sin(k + e.offset);
  const param = (suffix: string): Float64Array => {
    const e = mod.layout.find((l) => l.name.endsWith(suffix));
    if (e === undefined) throw new Error(`no ${suffix}`);
    return m.params.subarray(e.offset, e.offset + e.size) as Float64Array;
  };
  return { predict: (x: Float64Array, n: number) => Array.from(m.predict(x, n)), param };
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
/** Row `row` of w [rows, cols] times v. */
const dot = (w: Float64Array, row: number, v: readonly number[]): number => v.reduce((s, x, k) => s + (w[row * v.length + k] as number) * x, 0);

type Cell = (x: readonly number[], h: number[], c: number[]) => void;

/** The state after reading the steps of every sample (in `order`), skipping the all-zero ones. */
function reference(table: Float64Array, cell: Cell, order: readonly number[]): number[][] {
  return [0, 1, 2, 3].map((b) => {
    const h = new Array<number>(H).fill(0);
    const c = new Array<number>(H).fill(0);
    for (const t of order) {
      const id = ids[b * T + t] as number;
      const x = Array.from({ length: E }, (_, k) => (id === 0 ? 0 : (table[id * E + k] as number)));
      if (x.every((v) => v === 0)) continue;
      cell(x, h, c);
    }
    return h;
  });
}

const lstmCell =
  (wi: Float64Array, wh: Float64Array, bias: Float64Array): Cell =>
  (x, h, c) => {
    const z = (g: number, j: number): number => dot(wi, g * H + j, x) + dot(wh, g * H + j, h) + (bias[g * H + j] as number);
    const zs = Array.from({ length: H }, (_, j) => [sigmoid(z(0, j)), sigmoid(z(1, j)), Math.tanh(z(2, j)), sigmoid(z(3, j))] as const);
    zs.forEach(([i, f, g, o], j) => {
      c[j] = f * (c[j] as number) + i * g;
      h[j] = o * Math.tanh(c[j] as number);
    });
  };

const gruCell =
  (wi: Float64Array, wh: Float64Array, bi: Float64Array, bh: Float64Array): Cell =>
  (x, h) => {
    const zx = (g: number, j: number): number => dot(wi, g * H + j, x) + (bi[g * H + j] as number);
    const zh = (g: number, j: number): number => dot(wh, g * H + j, h) + (bh[g * H + j] as number);
    const next = Array.from({ length: H }, (_, j) => {
      const r = sigmoid(zx(0, j) + zh(0, j));
      const z = sigmoid(zx(1, j) + zh(1, j));
      const n = Math.tanh(zx(2, j) + r * zh(2, j));
      return (1 - z) * n + z * (h[j] as number);
    });
    next.forEach((v, j) => (h[j] = v));
  };

const forwards = Array.from({ length: T }, (_, t) => t);
const backwards = [...forwards].reverse();

describe("recurrent layers against a reference written from PyTorch's equations (float64)", () => {
  const x = new Float64Array(ids);

  it("lstm, masked: the last state of each sample", () => {
    const m = compiled(`lstm ${H}, mask: true`);
    const want = reference(m.param("embedding_1.weight"), lstmCell(m.param(".weight_ih"), m.param(".weight_hh"), m.param(".bias")), forwards);
    const got = m.predict(x, 4);
    want.flat().forEach((v, i) => expect(got[i]).toBeCloseTo(v, 12));
    expect(want[0]!.some((v) => v !== 0) && want[2]!.every((v) => v === 0)).toBe(true);
  });

  it("gru, masked, bidirectional: the forward state, then the backward one", () => {
    const m = compiled(`gru ${H}, mask: true, bidirectional: true`);
    const table = m.param("embedding_1.weight");
    const fwd = reference(table, gruCell(m.param(".weight_ih"), m.param(".weight_hh"), m.param(".bias_ih"), m.param(".bias_hh")), forwards);
    const bwd = reference(table, gruCell(m.param(".reverse_weight_ih"), m.param(".reverse_weight_hh"), m.param(".reverse_bias_ih"), m.param(".reverse_bias_hh")), backwards);
    const got = m.predict(x, 4);
    for (let b = 0; b < 4; b++) [...fwd[b]!, ...bwd[b]!].forEach((v, j) => expect(got[b * 2 * H + j]).toBeCloseTo(v, 12));
  });
});
