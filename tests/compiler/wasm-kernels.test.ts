/**
 * The WebAssembly SIMD kernels against a plain float64 matrix product: every loop shape
 * (dot, axpy), batch counts that leave every kind of leftover row, column counts that leave
 * every leftover block, and each epilogue. Also the binary writer's LEB128 against known bytes.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { encodeModule, sleb, uleb } from "../../compiler/codegen/wasm/encode.js";
import { kernelForm, kernelFunction, type KernelSpec } from "../../compiler/codegen/wasm/products.js";

/** The few WebAssembly declarations used here (the project's types have no DOM lib). */
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
  validate(bytes: Uint8Array): boolean;
};

interface Case {
  rows: number | "n";
  cols: number;
  depth: number | "n";
  n: number;
  layout: "xwT" | "dyW" | "dyTx";
  bias: boolean;
  relu: boolean;
  mask: boolean;
  reluGrad: boolean;
  /** xwT only: the kernel transposes w into scratch memory first and runs the axpy loop. */
  transpose?: boolean;
  act?: "tanh";
  actGrad?: "tanh" | "sigmoid";
}

/** Lays out A, B, out and the extras in one memory; returns the spec and the float64 reference. */
function run(c: Case, seed: number): { got: Float32Array; want: Float64Array } {
  const n = c.n;
  const R = c.rows === "n" ? n : c.rows;
  const D = c.depth === "n" ? n : c.depth;
  const C = c.cols;
  let s = seed >>> 0;
  const rnd = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296 - 0.5;
  };
  // Strides of the three products of a dense layer (see compiler/ops/matmul*.ts).
  const st =
    c.layout === "xwT"
      ? { aR: D, aD: 1, bD: 1, bC: D, oR: C, oC: 1, aSize: R * D, bSize: C * D }
      : c.layout === "dyW"
        ? { aR: D, aD: 1, bD: C, bC: 1, oR: C, oC: 1, aSize: R * D, bSize: D * C }
        : { aR: 1, aD: R, bD: C, bC: 1, oR: C, oC: 1, aSize: D * R, bSize: D * C };
  const sizes = [st.aSize, st.bSize, R * C, C, R * C, R * C, st.bSize];
  const offs: number[] = [];
  let at = 64;
  for (const z of sizes) {
    offs.push(at);
    at += Math.ceil((z * 4) / 16) * 16 + 16;
  }
  const [aAt, bAt, oAt, biasAt, maskAt, savedAt, scratchAt] = offs as [number, number, number, number, number, number, number];
  const spec: KernelSpec = {
    name: "k",
    a: aAt,
    b: bAt,
    out: oAt,
    rows: c.rows,
    cols: C,
    depth: c.depth,
    ...st,
    ...(c.bias ? { bias: biasAt } : {}),
    ...(c.relu ? { relu: true } : {}),
    ...(c.mask ? { mask: maskAt } : {}),
    ...(c.reluGrad ? { reluGradOf: savedAt } : {}),
    ...(c.transpose === true ? { b: scratchAt, bD: C, bC: 1, transposeB: { from: bAt } } : {}),
    ...(c.act !== undefined ? { act: c.act } : {}),
    ...(c.actGrad !== undefined ? { actGradOf: { act: c.actGrad, saved: savedAt } } : {}),
  };
  expect(["dot", "axpy"]).toContain(kernelForm(spec));
  const bytes = encodeModule(Math.ceil(at / 65536) + 1, [kernelFunction(spec)]);
  const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
  const mem = new Float32Array((inst.exports["memory"] as { buffer: ArrayBuffer }).buffer);
  const fill = (addr: number, size: number, f: () => number): void => {
    for (let i = 0; i < size; i++) mem[addr / 4 + i] = f();
  };
  fill(aAt, st.aSize, rnd);
  fill(bAt, st.bSize, rnd);
  fill(oAt, R * C, () => 99);
  fill(biasAt, C, rnd);
  fill(maskAt, R * C, () => (rnd() > 0 ? 2 : 0));
  fill(savedAt, R * C, () => (c.actGrad === "tanh" ? rnd() * 2 : c.actGrad === "sigmoid" ? rnd() + 0.5 : rnd() > 0 ? 1 : 0));
  (inst.exports["k"] as (n: number) => void)(n);
  const want = new Float64Array(R * C);
  for (let r = 0; r < R; r++) {
    for (let col = 0; col < C; col++) {
      let v = 0;
      for (let d = 0; d < D; d++) v += (mem[aAt / 4 + r * st.aR + d * st.aD] as number) * (mem[bAt / 4 + d * st.bD + col * st.bC] as number);
      const o = r * st.oR + col * st.oC;
      if (c.bias) v += mem[biasAt / 4 + col] as number;
      if (c.relu) v = v > 0 ? v : 0;
      if (c.mask) v *= mem[maskAt / 4 + o] as number;
      if (c.reluGrad) v = (mem[savedAt / 4 + o] as number) > 0 ? v : 0;
      const y = mem[savedAt / 4 + o] as number;
      if (c.actGrad === "tanh") v *= 1 - y * y;
      if (c.actGrad === "sigmoid") v *= y * (1 - y);
      if (c.act === "tanh") v = Math.tanh(v);
      want[o] = v;
    }
  }
  return { got: mem.slice(oAt / 4, oAt / 4 + R * C), want };
}

function expectClose(got: Float32Array, want: Float64Array, depth: number): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const tol = 1e-6 * Math.sqrt(depth) * 4 + 1e-6;
    if (!(Math.abs((got[i] as number) - (want[i] as number)) <= tol)) {
      throw new Error(`element ${i}: wasm ${got[i]}, float64 ${want[i]}`);
    }
  }
}

describe("wasm binary writer", () => {
  it("encodes LEB128 like the specification's examples", () => {
    expect(uleb(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(uleb(0)).toEqual([0]);
    expect(sleb(-123456)).toEqual([0xc0, 0xbb, 0x78]);
    expect(sleb(-1)).toEqual([0x7f]);
    expect(sleb(64)).toEqual([0xc0, 0x00]);
  });

  it("writes modules the engine validates", () => {
    const spec: KernelSpec = { name: "fwd", a: 0, b: 4096, out: 8192, rows: "n", cols: 10, depth: 64, aR: 64, aD: 1, bD: 1, bC: 64, oR: 10, oC: 1, bias: 9000, relu: true };
    expect(WebAssembly.validate(encodeModule(1, [kernelFunction(spec)]))).toBe(true);
  });
});

describe("wasm SIMD kernels write nothing but their output", () => {
  it("every loop shape, buffers packed tight and unaligned, memory full of canaries", () => {
    let runs = 0;
    for (const layout of ["xwT", "dyW", "dyTx"] as const) {
      for (const n of [1, 2, 3, 5, 9]) {
        for (const C of [1, 3, 4, 5, 8, 13]) {
          for (const D0 of [1, 3, 4, 7, 13]) {
            const R = layout === "dyTx" ? D0 : n;
            const D = layout === "dyTx" ? n : D0;
            const st = layout === "xwT" ? { aR: D, aD: 1, bD: 1, bC: D, oR: C, oC: 1 } : layout === "dyW" ? { aR: D, aD: 1, bD: C, bC: 1, oR: C, oC: 1 } : { aR: 1, aD: R, bD: C, bC: 1, oR: C, oC: 1 };
            // a | b | out | bias | mask | saved, from byte 12: nothing 16-byte aligned
            const a = 12, b = a + 4 * R * D, out = b + 4 * D * C, bias = out + 4 * R * C, mask = bias + 4 * C, saved = mask + 4 * R * C, end = saved + 4 * R * C;
            const spec: KernelSpec = {
              name: "k",
              a,
              b,
              out,
              rows: layout === "dyTx" ? R : "n",
              cols: C,
              depth: layout === "dyTx" ? "n" : D,
              ...st,
              ...(layout === "xwT" ? { bias, relu: true } : { mask, reluGradOf: saved }),
            };
            const inst = new WebAssembly.Instance(new WebAssembly.Module(encodeModule(1, [kernelFunction(spec)])), {});
            const mem = new Float32Array((inst.exports["memory"] as { buffer: ArrayBuffer }).buffer);
            for (let i = 0; i < mem.length; i++) mem[i] = (i % 7) * 0.25 - 0.5;
            const before = mem.slice(0, end / 4 + 64);
            (inst.exports["k"] as (n: number) => void)(n);
            runs++;
            for (let i = 0; i < before.length; i++) {
              if (i >= out / 4 && i < out / 4 + R * C) continue;
              if (mem[i] !== before[i]) throw new Error(`${layout} n=${n} C=${C} D=${D}: element ${i} changed, outside the output ${out / 4}..${out / 4 + R * C}`);
            }
          }
        }
      }
    }
    expect(runs).toBe(450);
  });
});

describe("wasm SIMD kernels = float64 matrix product", () => {
  it("forward x·wᵀ (dot form) with bias and ReLU, every leftover row and column", () => {
    for (const n of [1, 2, 3, 5, 8]) {
      for (const cols of [1, 3, 4, 5, 10, 13]) {
        const { got, want } = run({ rows: "n", cols, depth: 12, n, layout: "xwT", bias: true, relu: true, mask: false, reluGrad: false }, n * 31 + cols);
        expectClose(got, want, 12);
      }
    }
  });

  it("dot form with a depth that is not a multiple of 4 (vector steps, then single terms)", () => {
    for (const depth of [1, 2, 3, 5, 9, 14]) {
      for (const n of [1, 3]) {
        const { got, want } = run({ rows: "n", cols: 6, depth, n, layout: "xwT", bias: true, relu: false, mask: false, reluGrad: false }, depth * 17 + n);
        expectClose(got, want, depth);
      }
    }
  });

  it("short reductions: w transposed into scratch memory, then the axpy loop with bias and ReLU", () => {
    for (const depth of [1, 2, 9, 16]) {
      for (const cols of [4, 6, 16, 19]) {
        for (const n of [1, 5]) {
          const { got, want } = run({ rows: "n", cols, depth, n, layout: "xwT", bias: true, relu: true, mask: false, reluGrad: false, transpose: true }, depth * 101 + cols * 7 + n);
          expectClose(got, want, depth);
        }
      }
    }
  });

  it("tanh epilogue (forward, both loops), tanh and sigmoid derivatives (axpy)", () => {
    for (const [depth, transpose] of [[24, false], [40, false], [7, true]] as const) {
      for (const cols of [3, 8, 13]) {
        const { got, want } = run({ rows: "n", cols, depth, n: 5, layout: "xwT", bias: true, relu: false, mask: false, reluGrad: false, act: "tanh", ...(transpose ? { transpose } : {}) }, depth + cols);
        expectClose(got, want, depth);
      }
    }
    for (const act of ["tanh", "sigmoid"] as const) {
      for (const cols of [4, 7, 16]) {
        const { got, want } = run({ rows: "n", cols, depth: 9, n: 6, layout: "dyW", bias: false, relu: false, mask: true, reluGrad: false, actGrad: act }, cols);
        expectClose(got, want, 9);
      }
    }
  });

  it("the rational tanh is within 8 float32 ulp of Math.tanh (tiny inputs exact), ±1 past the clamp, NaN kept", () => {
    // One kernel over 1 × 4096 outputs with an identity weight: out = tanh(x).
    const N = 4096;
    const spec: KernelSpec = { name: "k", a: 0, b: 4 * N, out: 8 * N, rows: 1, cols: N, depth: 1, aR: N, aD: 1, bD: N, bC: 1, oR: N, oC: 1, act: "tanh" };
    // axpy form: out[c] = a[0] · b[c]; a[0] = 1, b = the inputs.
    const inst = new WebAssembly.Instance(new WebAssembly.Module(encodeModule(1, [kernelFunction({ ...spec, aR: 1, aD: 1, bD: N })])), {});
    const mem = new Float32Array((inst.exports["memory"] as { buffer: ArrayBuffer }).buffer);
    mem[0] = 1;
    // NaN, ±30, tiny and subnormal values, then a sweep of [-12, 12] and of [-0.01, 0.01].
    const special = [NaN, 30, -30, 1e-30, -1e-40, 3e-4, -5e-4, 0];
    const xs = Array.from({ length: N }, (_, i) => (i < special.length ? (special[i] as number) : i < 3072 ? ((i - 1536) / 1536) * 12 : ((i - 3584) / 512) * 0.01));
    xs.forEach((x, i) => (mem[N + i] = x));
    (inst.exports["k"] as (n: number) => void)(1);
    expect(Number.isNaN(mem[2 * N])).toBe(true);
    expect([mem[2 * N + 1], mem[2 * N + 2]]).toEqual([1, -1]);
    expect([mem[2 * N + 3], mem[2 * N + 4]]).toEqual([Math.fround(1e-30), Math.fround(-1e-40)]); // tiny: x itself
    let worst = 0;
    for (let i = 3; i < N; i++) {
      const x = Math.fround(xs[i] as number);
      const want = Math.fround(Math.tanh(x));
      // One float32 ulp at |want|: 2^(exponent − 23), at least the smallest subnormal.
      const ulp = want === 0 ? 2 ** -149 : Math.max(2 ** (Math.floor(Math.log2(Math.abs(want))) - 23), 2 ** -149);
      worst = Math.max(worst, Math.abs((mem[2 * N + i] as number) - want) / ulp);
    }
    expect(worst).toBeLessThanOrEqual(8);
  });

  it("axpy form with a column count that is not a multiple of 4 (vectors, then single columns)", () => {
    for (const cols of [1, 2, 3, 6, 9, 13]) {
      for (const n of [1, 4, 7]) {
        const a = run({ rows: "n", cols, depth: 6, n, layout: "dyW", bias: false, relu: false, mask: true, reluGrad: true }, cols * 5 + n);
        expectClose(a.got, a.want, 6);
        const b = run({ rows: 5, cols, depth: "n", n, layout: "dyTx", bias: false, relu: false, mask: false, reluGrad: false }, cols * 3 + n);
        expectClose(b.got, b.want, n);
      }
    }
  });

  it("input gradient dy·w (axpy form) with mask and ReLU derivative", () => {
    for (const n of [1, 3, 4, 6, 9]) {
      for (const cols of [4, 8, 12, 20, 36]) {
        const { got, want } = run({ rows: "n", cols, depth: 5, n, layout: "dyW", bias: false, relu: false, mask: true, reluGrad: true }, n * 7 + cols);
        expectClose(got, want, 5);
      }
    }
  });

  it("weight gradient dyᵀ·x (axpy form, reducing over the batch)", () => {
    for (const n of [1, 2, 7, 16]) {
      for (const rows of [1, 3, 4, 9]) {
        const { got, want } = run({ rows, cols: 24, depth: "n", n, layout: "dyTx", bias: false, relu: false, mask: false, reluGrad: false }, n * 13 + rows);
        expectClose(got, want, n);
      }
    }
  });

  it("random shapes and epilogues", () => {
    fc.assert(
      fc.property(
        fc.record({
          n: fc.integer({ min: 1, max: 11 }),
          r: fc.integer({ min: 1, max: 9 }),
          c4: fc.integer({ min: 1, max: 12 }),
          d4: fc.integer({ min: 1, max: 10 }),
          layout: fc.constantFrom("xwT" as const, "dyW" as const, "dyTx" as const),
          flags: fc.integer({ min: 0, max: 15 }),
          seed: fc.integer({ min: 0, max: 1e9 }),
        }),
        ({ n, r, c4, d4, layout, flags, seed }) => {
          const dot = layout === "xwT";
          const c: Case = {
            rows: layout === "dyTx" ? r : "n",
            // Any column count and depth: the vector loops and their leftover lanes.
            cols: dot ? c4 + (flags & 3) : c4 * 4 - (seed % 4),
            depth: layout === "dyTx" ? "n" : d4 * 4 - (seed % 3),
            n,
            layout,
            bias: dot && (flags & 1) === 1,
            relu: (flags & 2) === 2,
            mask: !dot && (flags & 4) === 4,
            reluGrad: (flags & 8) === 8,
          };
          const { got, want } = run(c, seed);
          expectClose(got, want, typeof c.depth === "number" ? c.depth : n);
        },
      ),
      { numRuns: 150 },
    );
  });
});
