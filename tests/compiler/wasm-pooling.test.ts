/**
 * The WebAssembly max-pooling gradient (`maxpoolGradFunction`) against the TypeScript
 * lowering's loops, bit for bit: dx zeroed, each dy added at its argmax position
 * (`ts/conv.ts` maxpool2d_grad), then, when fused, ReLU's gradient `h > 0 ? dx : 0`. Windows
 * that tile the input, disjoint windows that leave rows and columns uncovered or skip some
 * (stride past the window), and overlapping windows (the one-value-at-a-time scatter); dy with
 * −0, zeros and ties in x; memory outside dx must keep its canaries.
 */
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { encodeModule } from "../../compiler/codegen/wasm/encode.js";
import { disjointWindows, maxpoolGradFunction } from "../../compiler/codegen/wasm/pooling.js";
import type { Geometry } from "../../compiler/ops/conv_geometry.js";
import { compileProgram } from "../../compiler/compile.js";
import { compileToModule } from "../../compiler/load.js";
import { program, source } from "./programs.js";
import { relative } from "./relative.js";

/** The few WebAssembly declarations used here (the project's types have no DOM lib). */
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
};

function geometry(h: number, w: number, c: number, k: number, s: number): Geometry {
  return { h, w, c, kh: k, kw: k, sh: s, sw: s, pt: 0, pl: 0, oh: Math.floor((h - k) / s) + 1, ow: Math.floor((w - k) / s) + 1 };
}

/** Each window's first maximum (`>`, as both pooling lowerings) and its position within the sample, per channel. */
function argmax(g: Geometry, x: Float32Array, n: number): Int32Array {
  const out = new Int32Array(n * g.oh * g.ow * g.c);
  for (let r = 0; r < n; r++) {
    for (let oy = 0; oy < g.oh; oy++) {
      for (let ox = 0; ox < g.ow; ox++) {
        for (let ch = 0; ch < g.c; ch++) {
          let best = -Infinity;
          let at = 0;
          for (let ky = 0; ky < g.kh; ky++) {
            for (let kx = 0; kx < g.kw; kx++) {
              const p = ((oy * g.sh + ky) * g.w + ox * g.sw + kx) * g.c + ch;
              const v = x[r * g.h * g.w * g.c + p] as number;
              if (v > best) [best, at] = [v, p];
            }
          }
          out[((r * g.oh + oy) * g.ow + ox) * g.c + ch] = at;
        }
      }
    }
  }
  return out;
}

function check(g: Geometry, n: number, relu: boolean, seed: number): void {
  let s = seed >>> 0;
  const rnd = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296 - 0.5;
  };
  const inSize = g.h * g.w * g.c;
  const outSize = g.oh * g.ow * g.c;
  // Layout: canaries between and around dy, arg, h and dx (byte addresses, 16-aligned).
  const dyAt = 64;
  const argAt = dyAt + 4 * n * outSize + 32;
  const hAt = argAt + 4 * n * outSize + 32;
  const dxAt = hAt + 4 * n * inSize + 32;
  const end = dxAt + 4 * n * inSize + 64;
  const bytes = encodeModule(Math.ceil(end / 65536) + 1, [maxpoolGradFunction({ ...g, name: "k", dy: dyAt, arg: argAt, dx: dxAt, ...(relu ? { reluGradOf: hAt } : {}) })]);
  const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
  const buffer = (inst.exports["memory"] as { buffer: ArrayBuffer }).buffer;
  const mem = new Float32Array(buffer);
  mem.fill(77);
  // x (the pool's input, also the saved ReLU output h): quarter steps, so windows tie; zeros and negatives.
  const x = new Float32Array(n * inSize).map(() => Math.round(rnd() * 8) / 4);
  const dy = new Float32Array(n * outSize).map(() => (rnd() < 0.2 ? -0 : rnd() < 0.1 ? 0 : rnd()));
  const arg = argmax(g, x, n);
  mem.set(dy, dyAt / 4);
  new Int32Array(buffer).set(arg, argAt / 4);
  mem.set(x, hAt / 4);
  (inst.exports["k"] as (n: number) => void)(n);
  // The TypeScript lowering's loops, in float32 storage.
  const want = new Float32Array(n * inSize);
  for (let r = 0; r < n; r++) for (let j = 0; j < outSize; j++) want[r * inSize + (arg[r * outSize + j] as number)] += dy[r * outSize + j] as number;
  if (relu) for (let i = 0; i < want.length; i++) want[i] = (x[i] as number) > 0 ? (want[i] as number) : 0;
  const got = mem.subarray(dxAt / 4, dxAt / 4 + n * inSize);
  for (let i = 0; i < want.length; i++) if (!Object.is(got[i], want[i])) throw new Error(`dx[${i}]: wasm ${Object.is(got[i], -0) ? "-0" : got[i]}, TypeScript ${Object.is(want[i], -0) ? "-0" : want[i]}`);
  // Nothing else written.
  mem.set(want.fill(77), dxAt / 4);
  mem.set(new Float32Array(n * outSize).fill(77), dyAt / 4);
  mem.set(new Float32Array(n * outSize).fill(77), argAt / 4);
  mem.set(new Float32Array(n * inSize).fill(77), hAt / 4);
  const stray = mem.subarray(0, end / 4 + 16).findIndex((v) => v !== 77);
  expect(stray, "a value written outside dx").toBe(-1);
}

const GEOMETRIES: Record<string, Geometry> = {
  "tiling 2×2 (fashion-cnn's pools)": geometry(6, 4, 8, 2, 2),
  "tiling 3×3, 4 channels": geometry(6, 9, 4, 3, 3),
  "disjoint, last row and column uncovered": geometry(5, 7, 4, 2, 2),
  "disjoint, stride past the window": geometry(8, 8, 4, 2, 3),
  "overlapping, stride 1": geometry(5, 6, 4, 2, 1),
  "overlapping 3×3, stride 2": geometry(7, 7, 8, 3, 2),
};

describe("wasm max-pooling gradient", () => {
  for (const [name, g] of Object.entries(GEOMETRIES)) {
    it(`${name}: the TypeScript loops' bits${disjointWindows(g) ? ", with and without ReLU's gradient" : ""}`, () => {
      for (const n of [1, 2, 3]) {
        check(g, n, false, 7 * n);
        if (disjointWindows(g)) check(g, n, true, 11 * n);
      }
    });
  }
});

describe("max pools' gradients in a module", () => {
  // 10×10 → conv 3 (valid) → 8×8, pool 2 with stride 3 → 3×3: rows and columns 2 and 5 in no window.
  const net = source({ input: "[10, 10, 4]", layers: ["conv2d 8, 3, relu", "maxpool2d 2, stride: 3", "conv2d 8, 1, relu", "flatten", "dense 3, softmax"], loss: "cross_entropy", batch: 5, optimizer: "adam(lr: 0.01)" });
  const fashion = readFileSync(join(import.meta.dirname, "..", "..", "examples", "fashion-cnn.nn"), "utf8");

  it("run as kernels that apply the ReLU gradient after them; that op's kernel is empty when placed over its input", () => {
    const p = program(fashion);
    const code = compileProgram(p, { target: "js", kernels: "wasm" }).value!.code;
    expect(code).toMatch(/dh1 = maxpool2d_grad\(dh2, argmax2\).*\n\s*\{\n\s*kernels\.dh1\(n\);/);
    expect(code).toMatch(/dh1\(n\): 2×2 max pooling's gradient of dh2 through the positions in argmax2, zero where h1 ≤ 0/);
    const wat = compileProgram(p, { target: "js", kernels: "wasm", emit: ["wat"] }).value!.wat;
    expect(wat).toMatch(/\(func \$dz_h1 \(export "dz_h1"\) \(param \$n i32\)\n\s*\)/);
  });

  it("the same gradients as the TypeScript kernels (rows and columns in no window, n = 1, 3, 5)", () => {
    const p = program(net);
    const js = compileToModule(p, { kernels: "js" }).value!.createModel();
    const wasm = compileToModule(p, { kernels: "wasm" }).value!.createModel();
    expect(compileProgram(p, { target: "js", kernels: "wasm" }).value!.code).toMatch(/= maxpool2d_grad\(.*\n\s*\{\n\s*kernels\.\w+\(n\);/);
    for (const n of [1, 3, 5]) {
      let s = n;
      const rnd = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296) * 2 - 1;
      const x = new Float32Array(n * 400).map(rnd);
      const y = new Float32Array(n * 3);
      for (let i = 0; i < n; i++) y[i * 3 + (i % 3)] = 1;
      wasm.setState(js.getState());
      js.lossAndGrad(x, y, n);
      wasm.lossAndGrad(x, y, n);
      for (const e of js.layout) expect(relative(js.grads.subarray(e.offset, e.offset + e.size), wasm.grads.subarray(e.offset, e.offset + e.size)), `${e.name} at n = ${n}`).toBeLessThan(1e-5);
    }
  });
});
