/**
 * The recurrent matrix's gradient kernel (`wasm/dwh.ts`) against the TypeScript lowering's
 * arithmetic (`ts/recurrent.ts`'s `dwh`: the state before each step copied into its row, zero
 * before the first, then one sum over the n·T rows in order, added to the zeros), rounded to
 * float32 at each operation as a Float32Array loop rounds: on random dz and tapes, LSTM and GRU
 * layouts (dz's h·Whᵀ part after x·Wiᵀ's), forwards and reading backwards, units that leave a
 * single-value tail (h % 4) and gates that leave a short block of rows (g % 4), and samples
 * summed into one result. The kernel skips the first step's exact zeros and sums sample by
 * sample, carrying the partial sums in dWh: equal to the last bit.
 */
import { describe, expect, it } from "vitest";
import { encodeModule } from "../../compiler/codegen/wasm/encode.js";
import { dwhFunction, type DwhSpec } from "../../compiler/codegen/wasm/dwh.js";
import { recurrentDims } from "../../compiler/ops/recurrent_scan.js";

declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
};

interface Case {
  readonly cell: "lstm" | "gru";
  readonly units: number;
  readonly steps: number;
  readonly n: number;
  readonly reverse: boolean;
}

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296 - 0.5;
  };
}

/** dWh from the kernel and from the TypeScript lowering's loops (float32 at each step). */
function both(c: Case): { kernel: Float32Array; typescript: Float32Array } {
  const dims = recurrentDims({ cell: c.cell, units: c.units, ...(c.reverse ? { reverse: 1 } : {}) });
  const { h, g, s: S, d: D, dh: at } = dims;
  const T = c.steps;
  const rnd = random(c.units * 31 + T);
  const dz = Float32Array.from({ length: c.n * T * D }, rnd);
  const tape = Float32Array.from({ length: c.n * T * S }, rnd);
  // TypeScript: before[k] = the tape's state of row k ∓ 1 (0 at the first step); out += Σ_k dz·before.
  const before = new Float32Array(c.n * T * h);
  const firstAt = c.reverse ? T - 1 : 0;
  for (let k = 0; k < c.n * T; k++) {
    if (k % T !== firstAt) for (let j = 0; j < h; j++) before[k * h + j] = tape[(k + (c.reverse ? 1 : -1)) * S + j] as number;
  }
  const typescript = new Float32Array(g * h);
  for (let r = 0; r < g; r++) {
    for (let col = 0; col < h; col++) {
      let sum = 0;
      for (let k = 0; k < c.n * T; k++) sum = Math.fround(sum + Math.fround((dz[k * D + at + r] as number) * (before[k * h + col] as number)));
      typescript[r * h + col] = Math.fround((typescript[r * h + col] as number) + sum);
    }
  }
  const dzAt = 64;
  const tapeAt = dzAt + 4 * dz.length + 16;
  const outAt = tapeAt + 4 * tape.length + 16;
  const spec: DwhSpec = { name: "dwh", dz: dzAt, tape: tapeAt, out: outAt, steps: T, h, g, s: S, d: D, at, reverse: c.reverse };
  const inst = new WebAssembly.Instance(new WebAssembly.Module(encodeModule(Math.ceil((outAt + 4 * g * h) / 65536) + 1, [dwhFunction(spec)])), {});
  const mem = new Float32Array((inst.exports["memory"] as { buffer: ArrayBuffer }).buffer);
  mem.set(dz, dzAt / 4);
  mem.set(tape, tapeAt / 4);
  // The rows of the first step are never read: NaN there would show.
  for (let b = 0; b < c.n; b++) mem.fill(Number.NaN, tapeAt / 4 + (b * T + (c.reverse ? 0 : T - 1)) * S, tapeAt / 4 + (b * T + (c.reverse ? 0 : T - 1)) * S + h);
  (inst.exports["dwh"] as (n: number) => void)(c.n);
  return { kernel: mem.slice(outAt / 4, outAt / 4 + g * h), typescript };
}

describe("the recurrent matrix's gradient kernel (wasm)", () => {
  for (const c of [
    { cell: "lstm", units: 8, steps: 5, n: 3, reverse: false },
    { cell: "lstm", units: 6, steps: 4, n: 2, reverse: true },
    { cell: "lstm", units: 3, steps: 2, n: 1, reverse: false },
    { cell: "gru", units: 5, steps: 6, n: 3, reverse: false },
    { cell: "gru", units: 9, steps: 3, n: 2, reverse: true },
  ] as const) {
    it(`${c.cell} ${c.units} units, ${c.steps} steps${c.reverse ? " read backwards" : ""}, ${c.n} samples: the TypeScript sums to the bit`, () => {
      const { kernel, typescript } = both(c);
      expect(typescript.some((v) => v !== 0)).toBe(true);
      expect(Array.from(kernel)).toEqual(Array.from(typescript));
    });
  }

  it("fewer than 2 steps is a bug, not a kernel", () => {
    const dims = recurrentDims({ cell: "lstm", units: 4 });
    expect(() => dwhFunction({ name: "dwh", dz: 0, tape: 0, out: 0, steps: 1, h: 4, g: dims.g, s: dims.s, d: dims.d, at: 0, reverse: false })).toThrow(/fewer than 2 steps/);
  });
});
