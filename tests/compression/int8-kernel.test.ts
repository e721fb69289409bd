/**
 * The int8 product kernel against a scalar reference: the integer sums are equal (checked with
 * scale 1 and no bias, where the float output is the sum itself), and with scales, biases and
 * relu the output equals the reference's float32 arithmetic bit for bit, over random shapes
 * whose rows, channels and lengths are not multiples of the kernel's blocks (2 rows, 4 channels,
 * 8 values).
 */
import { describe, expect, it } from "vitest";
import { encodeModule } from "../../compiler/codegen/wasm/encode.js";
import { int8ProductKernel, int8QuantizeKernel, int8UnfoldKernel, type Int8Product } from "../../compiler/codegen/wasm/int8.js";
import { geometry } from "../../compiler/ops/conv_geometry.js";
import { HELPERS } from "../../compiler/quantize/helpers.js";

/** The few WebAssembly declarations used here (the project's types have no DOM lib). */
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
};

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Case {
  n: number;
  k: number;
  m: number;
  relu: boolean;
  plain: boolean;
}

/** Runs the kernel on random operands; returns its output and the reference's. */
function run(c: Case, seed: number): { got: Float32Array; want: Float32Array; sums: number[] } {
  const r = rng(seed);
  const kp = Math.ceil(c.k / 8) * 8;
  const up = (x: number): number => Math.ceil(x / 16) * 16;
  const x = 0;
  const w = up(x + 2 * c.n * kp);
  const scale = up(w + 2 * c.m * kp);
  const bias = up(scale + 4 * c.m);
  const y = up(bias + 4 * c.m);
  const end = y + 4 * c.n * c.m;
  const p: Int8Product = { name: "product", x, w, scale, bias, y, k: kp, m: c.m, relu: c.relu };
  const pages = Math.ceil(end / 65536);
  const inst = new WebAssembly.Instance(new WebAssembly.Module(encodeModule(pages, [int8ProductKernel(p)])), {});
  const exports = inst.exports as unknown as { memory: { buffer: ArrayBuffer }; product(n: number): void };
  const heap = exports.memory.buffer;
  const xs = new Int16Array(heap, x, c.n * kp);
  const ws = new Int16Array(heap, w, c.m * kp);
  const sc = new Float32Array(heap, scale, c.m);
  const bs = new Float32Array(heap, bias, c.m);
  const int = (lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
  // Rows padded with zeros after k, as the quantized module lays them out; the extremes included.
  for (let i = 0; i < c.n; i++) for (let j = 0; j < c.k; j++) xs[i * kp + j] = r() < 0.05 ? 255 : r() < 0.05 ? -255 : int(-255, 255);
  for (let o = 0; o < c.m; o++) for (let j = 0; j < c.k; j++) ws[o * kp + j] = r() < 0.05 ? -127 : int(-127, 127);
  for (let o = 0; o < c.m; o++) {
    sc[o] = c.plain ? 1 : r() * 1e-3;
    bs[o] = c.plain ? 0 : r() * 2 - 1;
  }
  exports.product(c.n);
  const got = new Float32Array(heap, y, c.n * c.m).slice();
  const want = new Float32Array(c.n * c.m);
  const sums: number[] = [];
  for (let i = 0; i < c.n; i++)
    for (let o = 0; o < c.m; o++) {
      let s = 0;
      for (let j = 0; j < c.k; j++) s += (xs[i * kp + j] as number) * (ws[o * kp + j] as number);
      sums.push(s);
      let v = Math.fround(Math.fround(Math.fround(s) * (sc[o] as number)) + (bs[o] as number));
      if (c.relu) v = Math.max(v, 0);
      want[i * c.m + o] = v;
    }
  return { got, want, sums };
}

describe("the int8 product kernel", () => {
  it("sums exactly: with scale 1 and no bias its output is the integer sum", () => {
    const r = rng(1);
    for (let t = 0; t < 40; t++) {
      const c = { n: 1 + Math.floor(r() * 7), k: 1 + Math.floor(r() * 200), m: 1 + Math.floor(r() * 13), relu: false, plain: true };
      const { got, sums } = run(c, 100 + t);
      // |sum| ≤ 255·127·200 < 2^24: the float32 conversion is exact.
      expect(Array.from(got), JSON.stringify(c)).toEqual(sums);
    }
  });

  it("requantizes as the reference's float32 arithmetic, with and without relu", () => {
    const r = rng(2);
    const shapes: Case[] = [
      { n: 1, k: 1, m: 1, relu: false, plain: false },
      { n: 3, k: 17, m: 5, relu: true, plain: false },
      { n: 2, k: 784, m: 128, relu: true, plain: false },
      { n: 5, k: 144, m: 32, relu: false, plain: false },
    ];
    for (let t = 0; t < 30; t++) shapes.push({ n: 1 + Math.floor(r() * 9), k: 1 + Math.floor(r() * 300), m: 1 + Math.floor(r() * 21), relu: r() < 0.5, plain: false });
    for (const [i, c] of shapes.entries()) {
      const { got, want } = run(c, 500 + i);
      expect(got, JSON.stringify(c)).toEqual(want);
    }
  });

  it("takes n at run time: zero rows run nothing and do not trap", () => {
    const { got } = run({ n: 0, k: 9, m: 3, relu: false, plain: false }, 9);
    expect(got.length).toBe(0);
  });
});

/** The module's JavaScript helpers, as the quantized module carries them. */
const helper = <T,>(name: string): T => new Function(`${HELPERS[name]}\nreturn ${name};`)() as T;

function instance(fn: ReturnType<typeof int8QuantizeKernel>, bytes: number): { heap: ArrayBuffer; run(n: number): void } {
  const inst = new WebAssembly.Instance(new WebAssembly.Module(encodeModule(Math.ceil(bytes / 65536), [fn])), {});
  const e = inst.exports as unknown as { memory: { buffer: ArrayBuffer } } & Record<string, (n: number) => void>;
  return { heap: e.memory.buffer, run: (n) => e[fn.name]!(n) };
}

describe("the int8 quantize and unfold kernels", () => {
  it("quantize as the JavaScript helper: nearest with ties to even, clamped to [0, 255], minus the zero point", () => {
    const quantizeRows = helper<(src: Float32Array, rows: number, k: number, dst: Int16Array, kp: number, inv: number, zero: number) => void>("quantizeRows");
    const r = rng(3);
    for (const [n, k, scale, zero] of [[1, 8, 0.1, 0], [3, 24, 0.013, 17], [5, 784, 1 / 255, 0], [2, 16, 0.5, 255]] as const) {
      const inv = 1 / scale;
      const fn = int8QuantizeKernel({ name: "q", src: 0, dst: 4 * n * k, k, inv, zero });
      const { heap, run } = instance(fn, 6 * n * k);
      const x = new Float32Array(heap, 0, n * k);
      // Values on the ties (q + 0.5 steps), beyond both ends, and anywhere.
      for (let i = 0; i < x.length; i++) x[i] = i % 5 === 0 ? (Math.floor(r() * 40) - 20 + 0.5) * scale : (r() * 400 - 150) * scale;
      run(n);
      const want = new Int16Array(n * k);
      quantizeRows(x, n, k, want, k, Math.fround(inv), zero);
      expect(new Int16Array(heap, 4 * n * k, n * k), JSON.stringify({ n, k, scale, zero })).toEqual(want);
    }
  });

  it("unfold windows as the JavaScript helper: same and valid padding, strides, channels in and out of eights", () => {
    const unfold = helper<(...a: unknown[]) => void>("unfold");
    const r = rng(4);
    const cases = [
      { hw: [8, 8], c: 1, k: [3, 3], s: [1, 1], pad: "same" },
      { hw: [7, 5], c: 3, k: [3, 2], s: [2, 1], pad: "same" },
      { hw: [6, 6], c: 16, k: [3, 3], s: [1, 1], pad: "valid" },
      { hw: [5, 7], c: 10, k: [2, 3], s: [1, 2], pad: "same" },
    ] as const;
    for (const t of cases) {
      const g = geometry([t.hw[0], t.hw[1], t.c], t.k, t.s, t.pad);
      const n = 3;
      const kp = Math.ceil((g.kh * g.kw * g.c) / 8) * 8;
      const imageValues = n * g.h * g.w * g.c;
      const rowsAt = Math.ceil((2 * imageValues) / 16) * 16;
      const rowValues = n * g.oh * g.ow * kp;
      const { heap, run } = instance(int8UnfoldKernel({ ...g, name: "u", image: 0, rows: rowsAt, kp }), rowsAt + 2 * rowValues);
      const image = new Int16Array(heap, 0, imageValues);
      for (let i = 0; i < image.length; i++) image[i] = Math.floor(r() * 511) - 255;
      // Stale values in the rows, as a shared scratch holds: every one must be overwritten.
      new Int16Array(heap, rowsAt, rowValues).fill(99);
      run(n);
      const want = new Int16Array(rowValues);
      unfold(image, n, g.h, g.w, g.c, g.kh, g.kw, g.sh, g.sw, g.pt, g.pl, g.oh, g.ow, want, kp);
      expect(new Int16Array(heap, rowsAt, rowValues), JSON.stringify(t)).toEqual(want);
    }
  });
});
