/**
 * Hand-written, shape-specialized multilayer perceptron: the probe of what nnc's generated code
 * can reach. Built from the kernel generator in `kernels.ts` (register-tiled or plain loops),
 * every size a literal, every buffer allocated once. ReLU or tanh hidden layers; softmax +
 * cross-entropy or sigmoid + binary cross-entropy on the output.
 */
import type { DenseInit } from "../data.js";
import { buildGatherKernel, buildKernel, type GatherKernel, type Kernel } from "./kernels.js";

export type Hidden = "relu" | "tanh";
export type Head = "softmax_ce" | "sigmoid_bce";
export type OptKind = "sgd" | "adam";

interface Layer {
  inputs: number;
  units: number;
  w: Float32Array;
  b: Float32Array;
  gw: Float32Array;
  gb: Float32Array;
  /** Output of the layer (after activation), maxBatch × units. */
  h: Float32Array;
  /** Gradient w.r.t. the layer's pre-activation, maxBatch × units. */
  d: Float32Array;
  fwd: Kernel;
  wgrad: Kernel;
  /** dX of this layer's input, masked by the previous layer's activation derivative. */
  igrad: Kernel | undefined;
  /** One-sample forward over the non-zero inputs only (`inferSparse`). */
  gather: GatherKernel;
}

const EPS = 1e-7;

export class ProbeMLP {
  private readonly layers: Layer[];
  private readonly params: Float32Array;
  private readonly grads: Float32Array;
  private m: Float32Array;
  private v: Float32Array;
  private t = 0;
  private opt: OptKind = "sgd";
  private readonly empty = new Float32Array(0);
  private scratch = 0;
  private gatherI = new Int32Array(0);
  private gatherV = new Float64Array(0);

  constructor(
    sizes: readonly number[],
    readonly hidden: Hidden,
    readonly head: Head,
    readonly maxBatch: number,
    /** Register tile; `[0, 0]` = plain loops. */
    tile: readonly [number, number],
    /** Column block for leftover rows (n % rows; n = 1 inference). */
    tailC = tile[1],
    /** Skip all-zero input blocks in the forward and weight-gradient products. */
    skipZero = false,
  ) {
    let total = 0;
    for (let l = 0; l + 1 < sizes.length; l++) total += sizes[l]! * sizes[l + 1]! + sizes[l + 1]!;
    this.params = new Float32Array(total);
    this.grads = new Float32Array(total);
    this.m = new Float32Array(total);
    this.v = new Float32Array(total);
    this.layers = [];
    let off = 0;
    const L = sizes.length - 1;
    for (let l = 0; l < L; l++) {
      const inputs = sizes[l]!, units = sizes[l + 1]!;
      const last = l === L - 1;
      const [tr, tc] = tile;
      const cap = (c: number, cols: number): number => Math.min(c, cols);
      const wsz = inputs * units;
      const layer: Layer = {
        inputs,
        units,
        w: this.params.subarray(off, off + wsz),
        gw: this.grads.subarray(off, off + wsz),
        b: this.params.subarray(off + wsz, off + wsz + units),
        gb: this.grads.subarray(off + wsz, off + wsz + units),
        h: new Float32Array(maxBatch * units),
        d: new Float32Array(maxBatch * units),
        fwd: buildKernel({
          kind: "NN", rows: "n", inner: inputs, cols: units, tileR: tr, tileC: cap(tc, units), tailC: cap(tailC, units), bias: true, skipZero,
          relu: !last && hidden === "relu", tanh: !last && hidden === "tanh",
        }),
        wgrad: buildKernel({ kind: "TN", rows: inputs, inner: "n", cols: units, tileR: tr, tileC: cap(tc, units), tailC: cap(tailC, units), skipZero }),
        gather: buildGatherKernel(inputs, units, last ? "none" : hidden),
        igrad:
          l === 0
            ? undefined
            : buildKernel({
                kind: "NT", rows: "n", inner: units, cols: inputs, tileR: tr, tileC: cap(tc, inputs), tailC: cap(tailC, inputs),
                maskRelu: hidden === "relu", maskTanh: hidden === "tanh",
              }),
      };
      off += wsz + units;
      this.layers.push(layer);
      this.scratch = Math.max(this.scratch, inputs);
    }
  }

  /**
   * One sample through the network, skipping zero inputs of every layer (gathered once per
   * layer): the same outputs as `forward(x, 1)`.
   */
  inferSparse(x: Float32Array): Float32Array {
    if (this.gatherI.length < this.scratch) {
      this.gatherI = new Int32Array(this.scratch);
      this.gatherV = new Float64Array(this.scratch);
    }
    let input = x;
    for (const L of this.layers) {
      L.gather(input, L.w, L.h, L.b, this.gatherI, this.gatherV);
      input = L.h;
    }
    return this.head1(this.layers[this.layers.length - 1]!.h);
  }

  private head1(h: Float32Array): Float32Array {
    const k = this.layers[this.layers.length - 1]!.units;
    if (this.head === "softmax_ce") {
      let mx = h[0]!;
      for (let c = 1; c < k; c++) if (h[c]! > mx) mx = h[c]!;
      let s = 0;
      for (let c = 0; c < k; c++) s += h[c] = Math.exp(h[c]! - mx);
      for (let c = 0; c < k; c++) h[c] = h[c]! / s;
    } else for (let c = 0; c < k; c++) h[c] = 1 / (1 + Math.exp(-h[c]!));
    return h;
  }

  load(init: readonly DenseInit[]): void {
    init.forEach((d, l) => {
      this.layers[l]!.w.set(d.w);
      this.layers[l]!.b.set(d.b);
    });
    this.m.fill(0);
    this.v.fill(0);
    this.t = 0;
  }

  setOptimizer(kind: OptKind): void {
    this.opt = kind;
  }

  /** Output probabilities (n × classes), a view valid until the next call. */
  forward(x: Float32Array, n: number): Float32Array {
    let input = x;
    for (const L of this.layers) {
      L.fwd(input, L.w, L.h, L.b, n);
      input = L.h;
    }
    const out = this.layers[this.layers.length - 1]!;
    const k = out.units, h = out.h;
    if (this.head === "softmax_ce") {
      for (let i = 0; i < n; i++) {
        const o = i * k;
        let mx = h[o]!;
        for (let c = 1; c < k; c++) if (h[o + c]! > mx) mx = h[o + c]!;
        let s = 0;
        for (let c = 0; c < k; c++) {
          const e = Math.exp(h[o + c]! - mx);
          h[o + c] = e;
          s += e;
        }
        const inv = 1 / s;
        for (let c = 0; c < k; c++) h[o + c] = h[o + c]! * inv;
      }
    } else {
      for (let i = 0; i < n * k; i++) h[i] = 1 / (1 + Math.exp(-h[i]!));
    }
    return h;
  }

  /** One optimizer step on a batch; returns nothing (the loss is not needed by the bench). */
  trainStep(x: Float32Array, y: Float32Array, n: number, lr: number): void {
    const p = this.forward(x, n);
    const layers = this.layers;
    const top = layers[layers.length - 1]!;
    const inv = 1 / n;
    // softmax + CE and sigmoid + BCE share the fused gradient (p − y) / n
    for (let i = 0; i < n * top.units; i++) top.d[i] = (p[i]! - y[i]!) * inv;
    for (let l = layers.length - 1; l >= 0; l--) {
      const L = layers[l]!;
      const input = l === 0 ? x : layers[l - 1]!.h;
      L.wgrad(input, L.d, L.gw, this.empty, n);
      const gb = L.gb, d = L.d, u = L.units;
      for (let c = 0; c < u; c++) gb[c] = 0;
      for (let i = 0; i < n; i++) for (let c = 0; c < u; c++) gb[c] += d[i * u + c]!;
      if (L.igrad) {
        const prev = layers[l - 1]!;
        L.igrad(L.d, L.w, prev.d, this.empty, n, prev.h);
      }
    }
    const P = this.params, G = this.grads, len = P.length;
    if (this.opt === "sgd") {
      for (let i = 0; i < len; i++) P[i] = P[i]! - lr * G[i]!;
    } else {
      const t = ++this.t;
      const b1 = 0.9, b2 = 0.999;
      const c1 = 1 / (1 - Math.pow(b1, t)), c2 = 1 / (1 - Math.pow(b2, t));
      const M = this.m, V = this.v;
      for (let i = 0; i < len; i++) {
        const g = G[i]!;
        const m = b1 * M[i]! + (1 - b1) * g;
        const v = b2 * V[i]! + (1 - b2) * g * g;
        M[i] = m;
        V[i] = v;
        P[i] = P[i]! - (lr * m * c1) / (Math.sqrt(v * c2) + EPS);
      }
    }
  }
}
