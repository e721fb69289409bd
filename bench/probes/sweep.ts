/**
 * Sweep of matmul kernels (plain loops and register tiles of several sizes) over the products
 * one W1 training step needs (784-128-64-10, batch 64), for both weight layouts.
 * Prints GFLOP/s per kernel. Run: `npm run build && node dist/bench/probes/sweep.js`.
 */
import { buildKernel, type Kind, type KernelSpec } from "./kernels.js";

interface Product {
  label: string;
  kind: Kind;
  rows: number | "n";
  cols: number;
  inner: number | "n";
}

const N = 64;
const val = (x: number | "n"): number => (x === "n" ? N : x);

const products: Product[] = [
  // W stored [in][out] (Keras/TF layout)
  { label: "fwd1 X·W  64x784 · 784x128", kind: "NN", rows: "n", inner: 784, cols: 128 },
  { label: "fwd2 X·W  64x128 · 128x64", kind: "NN", rows: "n", inner: 128, cols: 64 },
  { label: "fwd3 X·W  64x64 · 64x10", kind: "NN", rows: "n", inner: 64, cols: 10 },
  { label: "dW1 Xᵀ·dY 784x64 · 64x128", kind: "TN", rows: 784, inner: "n", cols: 128 },
  { label: "dW2 Xᵀ·dY 128x64 · 64x64", kind: "TN", rows: 128, inner: "n", cols: 64 },
  { label: "dW3 Xᵀ·dY 64x64 · 64x10", kind: "TN", rows: 64, inner: "n", cols: 10 },
  { label: "dX2 dY·Wᵀ 64x64 · 64x128", kind: "NT", rows: "n", inner: 64, cols: 128 },
  { label: "dX3 dY·Wᵀ 64x10 · 10x64", kind: "NT", rows: "n", inner: 10, cols: 64 },
  // W stored [out][in] (PyTorch layout)
  { label: "fwd1' X·Wᵀ 64x784 · (128x784)ᵀ", kind: "NT", rows: "n", inner: 784, cols: 128 },
  { label: "fwd2' X·Wᵀ 64x128 · (64x128)ᵀ", kind: "NT", rows: "n", inner: 128, cols: 64 },
  { label: "dW1' dYᵀ·X 128x64 · 64x784", kind: "TN", rows: 128, inner: "n", cols: 784 },
  { label: "dW2' dYᵀ·X 64x64 · 64x128", kind: "TN", rows: 64, inner: "n", cols: 128 },
  { label: "dX2' dY·W 64x64 · 64x128", kind: "NN", rows: "n", inner: 64, cols: 128 },
];

const tiles: [number, number][] = [
  [0, 0],
  [1, 4],
  [1, 8],
  [2, 4],
  [2, 8],
  [4, 1],
  [4, 2],
  [4, 4],
  [4, 8],
  [8, 4],
  [2, 2],
  [3, 4],
  [4, 3],
  [1, 16],
  [8, 2],
];

function rand(size: number, seed: number): Float32Array {
  const a = new Float32Array(size);
  let s = seed >>> 0;
  for (let i = 0; i < size; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    a[i] = s / 4294967296 - 0.5;
  }
  return a;
}

function reference(p: Product, A: Float32Array, B: Float32Array): Float64Array {
  const R = val(p.rows), C = p.cols, T = val(p.inner);
  const out = new Float64Array(R * C);
  for (let r = 0; r < R; r++)
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let t = 0; t < T; t++) {
        const a = p.kind === "TN" ? A[t * R + r]! : A[r * T + t]!;
        const b = p.kind === "NT" ? B[c * T + t]! : B[t * C + c]!;
        s += a * b;
      }
      out[r * C + c] = s;
    }
  return out;
}

function timeIt(fn: () => void, minMs: number): number {
  for (let i = 0; i < 20; i++) fn();
  const samples: number[] = [];
  for (let rep = 0; rep < 5; rep++) {
    let iters = 0;
    const t0 = performance.now();
    let t1 = t0;
    while (t1 - t0 < minMs) {
      fn();
      iters++;
      t1 = performance.now();
    }
    samples.push((t1 - t0) / iters);
  }
  samples.sort((a, b) => a - b);
  return samples[2]!;
}

const only = process.argv[2];
for (const p of products) {
  if (only && !p.label.startsWith(only)) continue;
  const R = val(p.rows), C = p.cols, T = val(p.inner);
  const A = rand(R * T, 1), B = rand(T * C, 2), Cm = new Float32Array(R * C), bias = new Float32Array(C);
  const ref = reference(p, A, B);
  const flops = 2 * R * C * T;
  const row: string[] = [];
  for (const [tr, tc] of tiles) {
    if (tc > C) continue;
    const spec: KernelSpec = { kind: p.kind, rows: p.rows, cols: p.cols, inner: p.inner, tileR: tr, tileC: tc };
    const k = buildKernel(spec);
    k(A, B, Cm, bias, N);
    let err = 0;
    for (let i = 0; i < ref.length; i++) err = Math.max(err, Math.abs(Cm[i]! - ref[i]!));
    if (err > 1e-3) throw new Error(`${p.label} ${tr}x${tc}: wrong result, max err ${err}`);
    const ms = timeIt(() => k(A, B, Cm, bias, N), 60);
    row.push(`${tr ? `${tr}x${tc}` : "plain"} ${(flops / ms / 1e6).toFixed(2)}`);
  }
  console.log(`${p.label.padEnd(34)} ${row.join(" | ")}`);
}
