/**
 * Causal attention's products that skip a triangle (`ops/bmm.ts`: `CausalSkip`) against the
 * same kernels computing everything: on random inputs, with sequence lengths and head widths
 * that leave leftover rows, columns and depth in the kernels' blocks, several heads per call.
 * The skipped terms are exact zeros, so the sums are equal to the last bit (`out`: on and
 * below the diagonal; above it 0 or the full sum, finite either way). Then which of a
 * compiled model's products skip: all six of a causal attention, none of a plain one.
 */
import { describe, expect, it } from "vitest";
import { encodeModule } from "../../compiler/codegen/wasm/encode.js";
import { bmmFunction } from "../../compiler/codegen/wasm/conv.js";
import type { KernelSpec } from "../../compiler/codegen/wasm/products.js";
import type { CausalSkip } from "../../compiler/ops/bmm.js";
import { checkSource } from "../../compiler/check.js";
import { compileProgram } from "../../compiler/compile.js";

declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
};

/** The product of each attention kind: q·kᵀ (out), P·v (lower), Pᵀ·dO (upper), over `heads` [T, T] and [T, dk] pairs. */
function products(skip: CausalSkip, t: number, dk: number, heads: number, seed: number): { full: Float32Array; skipped: Float32Array } {
  let s = seed >>> 0;
  const rnd = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296 - 0.5;
  };
  // A: q [T, dk] (out) or P [T, T] zero above its diagonal; B: k [T, dk] read as kᵀ, or v / dO [T, dk].
  const aSize = skip === "out" ? t * dk : t * t;
  const bSize = t * dk;
  const outSize = skip === "out" ? t * t : t * dk;
  const aAt = 64;
  const bAt = aAt + 4 * heads * aSize + 16;
  const outAt = bAt + 4 * heads * bSize + 16;
  const shape =
    skip === "out"
      ? { rows: t, cols: t, depth: dk, aR: dk, aD: 1, bD: 1, bC: dk, oR: t, oC: 1 }
      : skip === "lower"
        ? { rows: t, cols: dk, depth: t, aR: t, aD: 1, bD: dk, bC: 1, oR: dk, oC: 1 }
        : { rows: t, cols: dk, depth: t, aR: 1, aD: t, bD: dk, bC: 1, oR: dk, oC: 1 };
  const spec: KernelSpec = { name: "k", a: aAt, b: bAt, out: outAt, ...shape, sample: { a: aSize, b: bSize, out: outSize } };
  const run = (causal: CausalSkip | undefined): Float32Array => {
    const f = bmmFunction("k", causal !== undefined ? { ...spec, causal } : spec);
    const inst = new WebAssembly.Instance(new WebAssembly.Module(encodeModule(Math.ceil((outAt + 4 * heads * outSize) / 65536) + 1, [f])), {});
    const mem = new Float32Array((inst.exports["memory"] as { buffer: ArrayBuffer }).buffer);
    s = seed >>> 0;
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < aSize; i++) {
        const [r, c] = [Math.floor(i / t), i % t];
        mem[aAt / 4 + h * aSize + i] = skip === "out" || c <= r ? rnd() : 0;
      }
    }
    for (let i = 0; i < heads * bSize; i++) mem[bAt / 4 + i] = rnd();
    mem.fill(Number.NaN, outAt / 4, outAt / 4 + heads * outSize);
    (inst.exports["k"] as (n: number) => void)(heads);
    return mem.slice(outAt / 4, outAt / 4 + heads * outSize);
  };
  return { full: run(undefined), skipped: run(skip) };
}

describe("causal attention products", () => {
  const sizes: [number, number][] = [
    [1, 1],
    [5, 3],
    [7, 6],
    [9, 16],
    [13, 5],
    [17, 12],
    [64, 16],
  ];
  for (const skip of ["out", "lower", "upper"] as const) {
    it(`${skip}: the same sums as the full product, odd sizes, 3 heads`, () => {
      for (const [t, dk] of sizes) {
        const { full, skipped } = products(skip, t, dk, 3, t * 31 + dk);
        expect(full.every(Number.isFinite)).toBe(true);
        let differ = 0;
        let computed = 0;
        for (let i = 0; i < full.length; i++) {
          const [r, c] = [Math.floor(i / t) % t, i % t];
          const want = full[i] as number;
          const got = skipped[i] as number;
          if (skip === "out" && c > r) {
            // Above the diagonal: written, 0 or the full sum.
            if (got !== 0 && got !== want) differ++;
            if (got === want) computed++;
          } else if (got !== want) differ++;
        }
        expect(differ, `T ${t}, dk ${dk}`).toBe(0);
        // The skip skips: most of the triangle above the diagonal is 0, not computed.
        if (skip === "out" && t >= 13) expect(computed).toBeLessThan((3 * t * (t - 1)) / 4);
      }
    });
  }

  const model = (causal: boolean): string => `
model Att {
  seed       3
  input      9
  embedding  11, 12
  positional
  attention  3, causal: ${causal}
  globalavgpool1d
  dense      3, softmax
}

loss      cross_entropy
optimizer adam(lr: 1e-3)

train {
  batch 5
}
`;
  const kernelDocs = (src: string): string[] => {
    const checked = checkSource(src);
    if (!checked.value) throw new Error(JSON.stringify(checked.diagnostics));
    const r = compileProgram(checked.value, { target: "js", kernels: "wasm", maxBatch: 5 });
    if (!r.value) throw new Error(JSON.stringify(r.diagnostics));
    return r.value.code.split("\n").filter((l) => /^\/\/ +\w+\(n·3\): for each sample and head/.test(l));
  };

  it("a causal attention's six products skip a triangle: q·kᵀ and dO·vᵀ their output's, the others their operand's", () => {
    const docs = kernelDocs(model(true));
    expect(docs).toHaveLength(6);
    expect(docs.filter((l) => l.includes("causal: 0 past the diagonal's column blocks"))).toHaveLength(2);
    expect(docs.filter((l) => / causal: \w+ 0 above the diagonal/.test(l))).toHaveLength(2);
    expect(docs.filter((l) => / causal: \w+ᵀ 0 below the diagonal/.test(l))).toHaveLength(2);
  });

  it("a plain attention's products skip nothing", () => {
    const docs = kernelDocs(model(false));
    expect(docs).toHaveLength(6);
    expect(docs.filter((l) => l.includes("causal"))).toHaveLength(0);
  });
});
