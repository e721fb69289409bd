/**
 * A convolution's gradients over dz's non-zero values alone (`sparse.ts`). The weight gradient
 * (`sparseDwFunction`): against the
 * TypeScript kernel's loop (`ts/conv.ts` conv2d_dw: zeros skipped, each term added to dw in
 * the order of the samples and positions, the product in float64 and each sum rounded to
 * float32 by its store), and bit for bit against the same loop in float32 arithmetic (the
 * kernel's: Math.fround after each product and sum). Windows with padding and strides, window
 * rows of whole blocks, leftover vectors and leftover values (K % 4), dz mostly zeros (−0
 * among them) or with no zero at all; memory outside dw and the scratch keeps its canaries.
 * The input gradient (`sparseDxFunction`): bit for bit against the dense float32 loop (every
 * filter summed from 0 in order — a zero term adds nothing — then each row added back onto its
 * window, col2im's order), and within rounding of the float64 sum. Both read or write the
 * windows through `im2col.ts`: windows inside the image copied without checks, those over the
 * padding checked pixel by pixel, windows larger than the image.
 */
import { describe, expect, it } from "vitest";
import { encodeModule } from "../../compiler/codegen/wasm/encode.js";
import { sparseDwFunction, sparseDxFunction } from "../../compiler/codegen/wasm/sparse.js";
import type { Geometry } from "../../compiler/ops/conv_geometry.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { compileProgram } from "../../compiler/compile.js";
import { program } from "./programs.js";

/** The few WebAssembly declarations used here (the project's types have no DOM lib). */
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
};

function geometry(h: number, w: number, c: number, k: number, stride: number, pad: number): Geometry {
  return { h, w, c, kh: k, kw: k, sh: stride, sw: stride, pt: pad, pl: pad, oh: Math.floor((h + 2 * pad - k) / stride) + 1, ow: Math.floor((w + 2 * pad - k) / stride) + 1 };
}

/** The window value of position p at (ky, kx, ch) of sample r, 0 over the padding. */
function windowValue(g: Geometry, x: Float32Array, r: number, p: number, col: number): number {
  const [oy, ox] = [Math.floor(p / g.ow), p % g.ow];
  const ch = col % g.c;
  const kx = Math.floor(col / g.c) % g.kw;
  const ky = Math.floor(col / (g.c * g.kw));
  const [iy, ix] = [oy * g.sh - g.pt + ky, ox * g.sw - g.pl + kx];
  if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) return 0;
  return x[((r * g.h + iy) * g.w + ix) * g.c + ch] as number;
}

function check(g: Geometry, f: number, n: number, zeros: number, seed: number): void {
  let s = seed >>> 0;
  const rnd = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296 - 0.5;
  };
  const P = g.oh * g.ow;
  const K = g.kh * g.kw * g.c;
  const align = (b: number): number => Math.ceil(b / 16) * 16;
  const xAt = 64;
  const colAt = align(xAt + 4 * n * g.h * g.w * g.c + 32);
  const dzAt = align(colAt + 4 * P * K + 32);
  const dwAt = align(dzAt + 4 * n * P * f + 32);
  const listAt = align(dwAt + 4 * f * K + 32);
  const end = listAt + 4 * 2 * P + 64;
  const fn = sparseDwFunction({ name: "k", windows: { ...g, x: xAt, col: colAt }, dz: dzAt, w: dwAt, list: listAt, f });
  const inst = new WebAssembly.Instance(new WebAssembly.Module(encodeModule(Math.ceil(end / 65536) + 1, [fn])), {});
  const mem = new Float32Array((inst.exports["memory"] as { buffer: ArrayBuffer }).buffer);
  mem.fill(77);
  const x = new Float32Array(n * g.h * g.w * g.c).map(rnd);
  const dz = new Float32Array(n * P * f).map(() => (rnd() + 0.5 < zeros ? (rnd() < 0 ? -0 : 0) : rnd()));
  mem.set(x, xAt / 4);
  mem.set(dz, dzAt / 4);
  (inst.exports["k"] as (n: number) => void)(n);
  const ts = new Float32Array(f * K); // the TypeScript loop: float64 product, float32 store
  const f32 = new Float32Array(f * K); // the same in float32 arithmetic
  for (let r = 0; r < n; r++) {
    for (let p = 0; p < P; p++) {
      for (let j = 0; j < f; j++) {
        const a = dz[(r * P + p) * f + j] as number;
        if (a === 0) continue;
        for (let c = 0; c < K; c++) {
          const v = windowValue(g, x, r, p, c);
          ts[j * K + c] += a * v;
          f32[j * K + c] = Math.fround((f32[j * K + c] as number) + Math.fround(a * v));
        }
      }
    }
  }
  const got = mem.slice(dwAt / 4, dwAt / 4 + f * K);
  for (let i = 0; i < got.length; i++) {
    if (!Object.is(got[i], f32[i])) throw new Error(`dw[${i}]: wasm ${got[i]}, float32 loop ${f32[i]}`);
    expect(Math.abs((got[i] as number) - (ts[i] as number))).toBeLessThanOrEqual(1e-6 * n * P);
  }
  // Nothing written outside dw, the window rows and the list.
  mem.fill(77, dwAt / 4, dwAt / 4 + f * K);
  mem.fill(77, colAt / 4, colAt / 4 + P * K);
  mem.fill(77, listAt / 4, listAt / 4 + 2 * P);
  mem.set(new Float32Array(x.length).fill(77), xAt / 4);
  mem.set(new Float32Array(dz.length).fill(77), dzAt / 4);
  expect(mem.subarray(0, end / 4 + 16).findIndex((v) => v !== 77), "a value written outside dw and the scratch").toBe(-1);
}

describe("wasm weight gradient over dz's non-zero values", () => {
  const cases: [string, Geometry, number][] = [
    ["fashion-cnn's second convolution's shape (K = 144: whole blocks of 8 vectors, and 4)", geometry(6, 6, 16, 3, 1, 1), 4],
    ["K = 72 (two blocks and 2 vectors), stride 2, 5 filters", geometry(7, 6, 8, 3, 2, 1), 5],
    ["K = 75 (leftover values: 3 channels), no padding", geometry(7, 7, 3, 5, 1, 0), 3],
    ["a window taller than the image (2 rows, 3×3 same: every window checked)", geometry(2, 5, 8, 3, 1, 1), 3],
  ];
  for (const [name, g, f] of cases) {
    it(`${name}: the float32 loop's bits, within rounding of the TypeScript loop`, () => {
      for (const n of [1, 2, 3]) {
        check(g, f, n, 0.8, 5 * n);
        check(g, f, n, 0, 13 * n); // no zeros: every value listed
        check(g, f, n, 1.1, 17 * n); // all zeros: empty lists, dw stays 0
      }
    });
  }
});

function checkDx(g: Geometry, f: number, n: number, zeros: number, seed: number): void {
  let s = seed >>> 0;
  const rnd = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296 - 0.5;
  };
  const P = g.oh * g.ow;
  const K = g.kh * g.kw * g.c;
  const inSize = g.h * g.w * g.c;
  const align = (b: number): number => Math.ceil(b / 16) * 16;
  const dxAt = 64;
  const colAt = align(dxAt + 4 * n * inSize + 32);
  const dzAt = align(colAt + 4 * P * K + 32);
  const wAt = align(dzAt + 4 * n * P * f + 32);
  const listAt = align(wAt + 4 * f * K + 32);
  const end = listAt + 4 * 2 * f + 64;
  const fn = sparseDxFunction({ name: "k", windows: { ...g, x: dxAt, col: colAt }, dz: dzAt, w: wAt, list: listAt, f });
  const inst = new WebAssembly.Instance(new WebAssembly.Module(encodeModule(Math.ceil(end / 65536) + 1, [fn])), {});
  const mem = new Float32Array((inst.exports["memory"] as { buffer: ArrayBuffer }).buffer);
  mem.fill(77);
  const w = new Float32Array(f * K).map(rnd);
  const dz = new Float32Array(n * P * f).map(() => (rnd() + 0.5 < zeros ? (rnd() < 0 ? -0 : 0) : rnd()));
  mem.set(w, wAt / 4);
  mem.set(dz, dzAt / 4);
  (inst.exports["k"] as (n: number) => void)(n);
  const f32 = new Float32Array(n * inSize);
  const f64 = new Float64Array(n * inSize);
  for (let r = 0; r < n; r++) {
    for (let p = 0; p < P; p++) {
      const [oy, ox] = [Math.floor(p / g.ow), p % g.ow];
      for (let ky = 0; ky < g.kh; ky++) {
        for (let kx = 0; kx < g.kw; kx++) {
          const [iy, ix] = [oy * g.sh - g.pt + ky, ox * g.sw - g.pl + kx];
          if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
          for (let ch = 0; ch < g.c; ch++) {
            const col = (ky * g.kw + kx) * g.c + ch;
            let v = 0;
            let exact = 0;
            for (let j = 0; j < f; j++) {
              const a = dz[(r * P + p) * f + j] as number;
              v = Math.fround(v + Math.fround(a * (w[j * K + col] as number)));
              exact += a * (w[j * K + col] as number);
            }
            const at = ((r * g.h + iy) * g.w + ix) * g.c + ch;
            f32[at] = Math.fround((f32[at] as number) + v);
            f64[at] = (f64[at] as number) + exact;
          }
        }
      }
    }
  }
  const got = mem.slice(dxAt / 4, dxAt / 4 + n * inSize);
  for (let i = 0; i < got.length; i++) {
    if (!Object.is(got[i], f32[i])) throw new Error(`dx[${i}]: wasm ${got[i]}, float32 loop ${f32[i]}`);
    expect(Math.abs((got[i] as number) - (f64[i] as number))).toBeLessThanOrEqual(1e-6 * f * g.kh * g.kw);
  }
  mem.fill(77, dxAt / 4, dxAt / 4 + n * inSize);
  mem.fill(77, colAt / 4, colAt / 4 + P * K);
  mem.fill(77, listAt / 4, listAt / 4 + 2 * f);
  mem.set(new Float32Array(w.length).fill(77), wAt / 4);
  mem.set(new Float32Array(dz.length).fill(77), dzAt / 4);
  expect(mem.subarray(0, end / 4 + 16).findIndex((v) => v !== 77), "a value written outside dx and the scratch").toBe(-1);
}

describe("wasm input gradient over dz's non-zero values", () => {
  const cases: [string, Geometry, number][] = [
    ["fashion-cnn's second convolution's shape (32 filters, K = 144)", geometry(6, 6, 16, 3, 1, 1), 32],
    ["K = 72, stride 2 (windows overlap and skip), 5 filters", geometry(7, 6, 8, 3, 2, 1), 5],
    ["K = 75 (leftover values: 3 channels), no padding", geometry(7, 7, 3, 5, 1, 0), 3],
    ["a window taller than the image (2 rows, 3×3 same: every window checked)", geometry(2, 5, 8, 3, 1, 1), 3],
  ];
  for (const [name, g, f] of cases) {
    it(`${name}: the dense float32 loop's bits, within rounding of the float64 sum`, () => {
      for (const n of [1, 2, 3]) {
        checkDx(g, f, n, 0.8, 5 * n);
        checkDx(g, f, n, 0, 13 * n);
        checkDx(g, f, n, 1.1, 17 * n);
      }
    });
  }
});

describe("which gradients take them", () => {
  it("fashion-cnn: the second convolution's, dw and dx (dz behind ReLU and a 2×2 pool, K = 144), not the first's (K = 9)", () => {
    const code = compileProgram(program(readFileSync(join(import.meta.dirname, "..", "..", "examples", "fashion-cnn.nn"), "utf8")), { target: "js", kernels: "wasm" }).value!.code;
    expect(code).toMatch(/\/\/ {3}dw3\(n\): .*sums over the non-zero values of dz_h3/);
    expect(code).toMatch(/\/\/ {3}dw1\(n\): .*axpy loop/);
    expect(code).not.toMatch(/dw1\(n\): .*non-zero/);
    expect(code).toMatch(/\/\/ {3}dh2\(n\): per sample, 196×144 sums over the non-zero values of dz_h3 times their rows of w3/);
  });
});
