/**
 * GFLOP/s of nnc's WebAssembly SIMD kernels on the W1 shapes (batch 64): the forward product
 * (dot loop, bias + ReLU), the weight gradient and the input gradient (axpy loops), each timed
 * alone in a loop, median of 7.
 *
 *   npm run build && node dist/bench/probes/wasm-kernels.js
 */
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
};
import { encodeModule } from "../../compiler/codegen/wasm/encode.js";
import { kernelFunction, type KernelSpec } from "../../compiler/codegen/wasm/products.js";
const n = 64;
const specs: [string, KernelSpec, number][] = [];
let at = 0;
const alloc = (k: number) => { const a = at; at += k * 4 + 64; return a; };
for (const [M, K] of [[128, 784], [64, 128], [10, 64]] as const) {
  const x = alloc(n * K), w = alloc(M * K), o = alloc(n * M), bias = alloc(M), dy = alloc(n * M), dx = alloc(n * K), dw = alloc(M * K), mask = alloc(n * K);
  specs.push([`fwd ${M}x${K}`, { name: `f${M}`, a: x, b: w, out: o, rows: "n", cols: M, depth: K, aR: K, aD: 1, bD: 1, bC: K, oR: M, oC: 1, bias, relu: true }, n * M * K * 2]);
  specs.push([`dW ${M}x${K}`, { name: `w${M}`, a: dy, b: x, out: dw, rows: M, cols: K, depth: "n", aR: 1, aD: M, bD: K, bC: 1, oR: K, oC: 1 }, n * M * K * 2]);
  specs.push([`dX ${M}x${K}`, { name: `x${M}`, a: dy, b: w, out: dx, rows: "n", cols: K, depth: M, aR: M, aD: 1, bD: K, bC: 1, oR: K, oC: 1, reluGradOf: mask }, n * M * K * 2]);
}
const bytes = encodeModule(Math.ceil(at / 65536) + 1, specs.map((s) => kernelFunction(s[1])));
console.log("module bytes", bytes.length);
const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
const mem = new Float32Array((inst.exports["memory"] as { buffer: ArrayBuffer }).buffer);
for (let i = 0; i < mem.length; i++) mem[i] = Math.random() - 0.5;
for (const [label, s, flops] of specs) {
  const f = inst.exports[s.name] as (n: number) => void;
  for (let i = 0; i < 20; i++) f(n);
  const times: number[] = [];
  for (let rep = 0; rep < 7; rep++) {
    const reps = Math.max(3, Math.round(2e8 / flops));
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) f(n);
    times.push((performance.now() - t0) / reps);
  }
  times.sort((a, b) => a - b);
  const ms = times[3]!;
  console.log(label.padEnd(14), (flops / ms / 1e6).toFixed(2), "GFLOP/s", ms.toFixed(3), "ms");
}
