/**
 * Attributions: how much each input value counts for a sample's target score, from a module
 * compiled with `explain: true` (`ExplainMethods` in `compiler/model-api.ts`). Browser-safe;
 * `nnc explain` (`cli/commands/explain.ts`) and the pictures (`explain-svg.ts`) use it.
 *
 *   saliency     |∂F/∂x| (Simonyan et al., 2014)
 *   gradxinput   x ⊙ ∂F/∂x
 *   ig           integrated gradients (Sundararajan et al., 2017): (x − x′) ⊙ ∫₀¹ ∂F/∂x(x′ + α(x − x′)) dα,
 *                by Gauss–Legendre or trapezoid steps; their sum should be F(x) − F(x′) (completeness)
 *   smoothgrad   the mean gradient over copies of x with seeded Gaussian noise (Smilkov et al., 2017)
 *   gradcam      ReLU(Σ_c α_c A_c) on a conv layer's values A, α_c the mean of ∂F/∂A_c (Selvaraju et al., 2017)
 *   occlusion    the fall of F when a patch (a feature, for flat inputs) is set to the baseline
 *
 * F is the target's score: the logit of a softmax or sigmoid output, else the output unit.
 * Every method works in chunks of the model's largest batch.
 */
import type { CompiledModel, ExplainMethods } from "../compiler/model-api.js";
import { argmax } from "./metrics.js";
import { Rng } from "./rng.js";

export const METHODS = ["saliency", "gradxinput", "ig", "smoothgrad", "gradcam", "occlusion"] as const;
export type Method = (typeof METHODS)[number];
export const BASELINES = ["zeros", "blurred", "mean"] as const;
export type BaselineKind = (typeof BASELINES)[number];

export type ExplainModel = CompiledModel & { readonly explain: ExplainMethods };

export interface ExplainSettings {
  readonly method: Method;
  /** ig: the path's steps (default 64) and rule; ig and occlusion: the baseline, one sample (default zeros). */
  readonly steps?: number;
  readonly quadrature?: "gauss" | "trapezoid";
  readonly baseline?: Float32Array;
  /** smoothgrad: noisy copies (default 25), noise as a fraction of the sample's range (default 0.15), seed. */
  readonly samples?: number;
  readonly noise?: number;
  readonly seed?: number;
  /** gradcam: the layer (default the last one with an image shape). */
  readonly layer?: string;
  /** occlusion on images: the patch's side (default an eighth of the height, at least 1). */
  readonly patch?: number;
}

export interface Attributions {
  /** n × size, row-major. */
  readonly values: Float32Array;
  /** One sample's shape: the input's, or Grad-CAM's layer [height, width]. */
  readonly shape: readonly number[];
  readonly targets: Int32Array;
  /** F(x) for each sample. */
  readonly scores: Float32Array;
  /** ig: per sample, Σ attributions − (F(x) − F(x′)), and F(x′). */
  readonly completeness?: { readonly delta: Float32Array; readonly baselineScores: Float32Array };
}

export function isExplainModel(m: CompiledModel): m is ExplainModel {
  return m.explain !== undefined;
}

/** Each sample's predicted class (the argmax; unit 0 for a single output). */
export function predictedTargets(model: CompiledModel, x: Float32Array, n: number): Int32Array {
  const K = model.meta.outputSize;
  const t = new Int32Array(n);
  eachChunk(model, n, (start, m) => {
    const p = model.forward(x.subarray(start * model.meta.inputSize, (start + m) * model.meta.inputSize), m);
    for (let i = 0; i < m; i++) t[start + i] = K === 1 ? 0 : argmax(p, i * K, K);
  });
  return t;
}

/** Nodes and weights of an m-point Gauss–Legendre rule on [0, 1] (Newton on the Legendre polynomial). */
export function gaussLegendre(m: number): { nodes: Float64Array; weights: Float64Array } {
  const nodes = new Float64Array(m);
  const weights = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let z = Math.cos((Math.PI * (i + 0.75)) / (m + 0.5));
    let dp = 1;
    for (let it = 0; it < 100; it++) {
      let p0 = 1;
      let p1 = z;
      for (let k = 2; k <= m; k++) [p0, p1] = [p1, ((2 * k - 1) * z * p1 - (k - 1) * p0) / k];
      dp = (m * (z * p1 - p0)) / (z * z - 1);
      const dz = p1 / dp;
      z -= dz;
      if (Math.abs(dz) < 1e-15) break;
    }
    nodes[i] = (1 - z) / 2;
    weights[i] = 1 / ((1 - z * z) * dp * dp);
  }
  return { nodes, weights };
}

/** The trapezoid rule with m intervals on [0, 1]: m + 1 nodes. */
export function trapezoid(m: number): { nodes: Float64Array; weights: Float64Array } {
  const nodes = Float64Array.from({ length: m + 1 }, (_, k) => k / m);
  const weights = Float64Array.from({ length: m + 1 }, (_, k) => (k === 0 || k === m ? 0.5 : 1) / m);
  return { nodes, weights };
}

/** A Gaussian blur of each channel of an image sample [h, w, c] (or [h, w]); flat inputs are returned as they are. */
export function blurred(x: Float32Array, shape: readonly number[], sigma = 2): Float32Array {
  if (shape.length < 2) return x.slice();
  const [h, w] = shape as [number, number];
  const c = shape[2] ?? 1;
  const r = Math.ceil(3 * sigma);
  const k = Float64Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const pass = (src: Float32Array, horizontal: boolean): Float32Array => {
    const out = new Float32Array(src.length);
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx < w; xx++)
        for (let ch = 0; ch < c; ch++) {
          let s = 0;
          let t = 0;
          for (let d = -r; d <= r; d++) {
            const yy = horizontal ? y : y + d;
            const xq = horizontal ? xx + d : xx;
            if (yy < 0 || yy >= h || xq < 0 || xq >= w) continue;
            s += (k[d + r] as number) * (src[(yy * w + xq) * c + ch] as number);
            t += k[d + r] as number;
          }
          out[(y * w + xx) * c + ch] = s / t;
        }
    return out;
  };
  return pass(pass(x, true), false);
}

/** Each sample's baseline: `base` (one sample) for every one, or per sample when it holds n of them. */
function baselineOf(base: Float32Array | undefined, size: number, i: number): Float32Array | undefined {
  if (base === undefined) return undefined;
  return base.length === size ? base : base.subarray(i * size, (i + 1) * size);
}

/** Where windows of side p start along a side of `len`, `stride` apart, the last one flush with the end. */
function starts(len: number, p: number, stride: number): number[] {
  const out: number[] = [];
  for (let a = 0; a + p <= len; a += stride) out.push(a);
  if (out.at(-1) !== len - p) out.push(len - p);
  return out;
}

function eachChunk(model: CompiledModel, n: number, f: (start: number, m: number) => void): void {
  const bs = Math.max(1, model.meta.maxBatch);
  for (let start = 0; start < n; start += bs) f(start, Math.min(bs, n - start));
}

/** The gradient of each row's target score, rows × inputSize, in chunks; `scores` receives F per row. */
function gradients(model: ExplainModel, x: Float32Array, rows: number, targets: Int32Array, scores?: Float32Array): Float32Array {
  const size = model.meta.inputSize;
  const K = model.meta.outputSize;
  const out = new Float32Array(rows * size);
  eachChunk(model, rows, (start, m) => {
    const g = model.explain.inputGradient(x.subarray(start * size, (start + m) * size), m, targets.subarray(start, start + m));
    out.set(g.subarray(0, m * size), start * size);
    if (scores !== undefined) {
      const z = model.explain.scores();
      for (let i = 0; i < m; i++) scores[start + i] = z[i * K + (targets[start + i] as number)] as number;
    }
  });
  return out;
}

/** F(x) of each row for its target. */
export function targetScores(model: ExplainModel, x: Float32Array, rows: number, targets: Int32Array): Float32Array {
  const size = model.meta.inputSize;
  const K = model.meta.outputSize;
  const out = new Float32Array(rows);
  eachChunk(model, rows, (start, m) => {
    model.forward(x.subarray(start * size, (start + m) * size), m);
    const z = model.explain.scores();
    for (let i = 0; i < m; i++) out[start + i] = z[i * K + (targets[start + i] as number)] as number;
  });
  return out;
}

/** The layers Grad-CAM can use: those with an image shape [h, w, c]. */
export function imageLayers(model: ExplainModel): string[] {
  return (model.meta.explain?.layers ?? []).filter((l) => l.shape.length === 3 && l.gradient).map((l) => l.name);
}

/** Grad-CAM's usual layer: the last conv2d (else the last image layer). */
export function lastConvLayer(model: ExplainModel): string | undefined {
  const images = imageLayers(model);
  const convs = (model.meta.explain?.layers ?? []).filter((l) => l.kind === "conv2d" && images.includes(l.name));
  return convs.at(-1)?.name ?? images.at(-1);
}

/** Attributions of n samples of x (n × inputSize) for their targets. */
export function attribute(model: ExplainModel, x: Float32Array, n: number, targets: Int32Array, s: ExplainSettings): Attributions {
  const size = model.meta.inputSize;
  const shape = model.meta.inputShape;
  switch (s.method) {
    case "saliency":
    case "gradxinput": {
      const scores = new Float32Array(n);
      const g = gradients(model, x, n, targets, scores);
      for (let i = 0; i < g.length; i++) g[i] = s.method === "saliency" ? Math.abs(g[i] as number) : (g[i] as number) * (x[i] as number);
      return { values: g, shape, targets, scores };
    }
    case "ig":
      return integratedGradients(model, x, n, targets, s);
    case "smoothgrad": {
      const copies = s.samples ?? 25;
      const rng = new Rng(s.seed ?? 1);
      const values = new Float32Array(n * size);
      const noisy = new Float32Array(copies * size);
      const t = new Int32Array(copies);
      for (let i = 0; i < n; i++) {
        const xi = x.subarray(i * size, (i + 1) * size);
        let lo = Infinity;
        let hi = -Infinity;
        for (const v of xi) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
        const sigma = (s.noise ?? 0.15) * (hi > lo ? hi - lo : 1);
        for (let k = 0; k < copies; k++) for (let j = 0; j < size; j++) noisy[k * size + j] = (xi[j] as number) + sigma * rng.normal();
        t.fill(targets[i] as number);
        const g = gradients(model, noisy, copies, t);
        for (let k = 0; k < copies; k++) for (let j = 0; j < size; j++) values[i * size + j]! += (g[k * size + j] as number) / copies;
      }
      return { values, shape, targets, scores: targetScores(model, x, n, targets) };
    }
    case "gradcam":
      return gradCam(model, x, n, targets, s.layer ?? lastConvLayer(model) ?? "");
    case "occlusion":
      return occlusion(model, x, n, targets, s);
  }
}

function integratedGradients(model: ExplainModel, x: Float32Array, n: number, targets: Int32Array, s: ExplainSettings): Attributions {
  const size = model.meta.inputSize;
  const steps = s.steps ?? 64;
  const rule = (s.quadrature ?? "gauss") === "gauss" ? gaussLegendre(steps) : trapezoid(steps);
  const m = rule.nodes.length;
  const values = new Float32Array(n * size);
  const delta = new Float32Array(n);
  const baselineScores = new Float32Array(n);
  const path = new Float32Array(m * size);
  const t = new Int32Array(m);
  const zero = new Float32Array(size);
  const scores = targetScores(model, x, n, targets);
  for (let i = 0; i < n; i++) {
    const xi = x.subarray(i * size, (i + 1) * size);
    const b = baselineOf(s.baseline, size, i) ?? zero;
    for (let k = 0; k < m; k++) {
      const a = rule.nodes[k] as number;
      for (let j = 0; j < size; j++) path[k * size + j] = (b[j] as number) + a * ((xi[j] as number) - (b[j] as number));
    }
    t.fill(targets[i] as number);
    const g = gradients(model, path, m, t);
    let sum = 0;
    for (let j = 0; j < size; j++) {
      let avg = 0;
      for (let k = 0; k < m; k++) avg += (rule.weights[k] as number) * (g[k * size + j] as number);
      const v = ((xi[j] as number) - (b[j] as number)) * avg;
      values[i * size + j] = v;
      sum += v;
    }
    baselineScores[i] = targetScores(model, b, 1, targets.subarray(i, i + 1))[0] as number;
    delta[i] = sum - ((scores[i] as number) - (baselineScores[i] as number));
  }
  return { values, shape: model.meta.inputShape, targets, scores, completeness: { delta, baselineScores } };
}

/** Grad-CAM on an image layer: n × h × w, non-negative. */
function gradCam(model: ExplainModel, x: Float32Array, n: number, targets: Int32Array, layer: string): Attributions {
  const entry = model.meta.explain?.layers.find((l) => l.name === layer);
  if (entry === undefined || entry.shape.length !== 3) throw new RangeError(`no image layer named ${layer}`);
  const [h, w, c] = entry.shape as [number, number, number];
  const size = model.meta.inputSize;
  const K = model.meta.outputSize;
  const values = new Float32Array(n * h * w);
  const scores = new Float32Array(n);
  const alpha = new Float64Array(c);
  eachChunk(model, n, (start, m) => {
    model.explain.inputGradient(x.subarray(start * size, (start + m) * size), m, targets.subarray(start, start + m));
    const a = model.explain.activations(layer);
    const da = model.explain.activationGradient(layer);
    const z = model.explain.scores();
    for (let i = 0; i < m; i++) {
      scores[start + i] = z[i * K + (targets[start + i] as number)] as number;
      const base = i * h * w * c;
      alpha.fill(0);
      for (let p = 0; p < h * w; p++) for (let ch = 0; ch < c; ch++) alpha[ch]! += (da[base + p * c + ch] as number) / (h * w);
      for (let p = 0; p < h * w; p++) {
        let v = 0;
        for (let ch = 0; ch < c; ch++) v += (alpha[ch] as number) * (a[base + p * c + ch] as number);
        values[(start + i) * h * w + p] = Math.max(0, v);
      }
    }
  });
  return { values, shape: [h, w], targets, scores };
}

/** Occlusion: the fall of F when a patch of an image (or one feature of a flat input) takes the baseline's values. */
function occlusion(model: ExplainModel, x: Float32Array, n: number, targets: Int32Array, s: ExplainSettings): Attributions {
  const size = model.meta.inputSize;
  const shape = model.meta.inputShape;
  const image = shape.length >= 2;
  const [h, w] = image ? (shape as [number, number]) : [1, size];
  const c = image ? size / (h * w) : 1;
  const p = image ? Math.min(h, w, Math.max(1, s.patch ?? Math.round(h / 8))) : 1;
  // Patches: every p × p window at stride max(1, p/2) (images), or each feature alone.
  const stride = image ? Math.max(1, Math.floor(p / 2)) : 1;
  const patches: [number, number][] = [];
  for (const y of starts(h, p, stride)) for (const xx of starts(w, p, stride)) patches.push([y, xx]);
  const values = new Float32Array(n * size);
  const cover = new Float32Array(size);
  const zero = new Float32Array(size);
  const scores = targetScores(model, x, n, targets);
  const copies = new Float32Array(patches.length * size);
  const t = new Int32Array(patches.length);
  for (let i = 0; i < n; i++) {
    const xi = x.subarray(i * size, (i + 1) * size);
    const b = baselineOf(s.baseline, size, i) ?? zero;
    patches.forEach(([y0, x0], k) => {
      const row = copies.subarray(k * size, (k + 1) * size);
      row.set(xi);
      for (let y = y0; y < Math.min(h, y0 + p); y++) for (let xx = x0; xx < Math.min(w, x0 + p); xx++) for (let ch = 0; ch < c; ch++) row[(y * w + xx) * c + ch] = b[(y * w + xx) * c + ch] as number;
    });
    t.fill(targets[i] as number);
    const f = targetScores(model, copies, patches.length, t);
    cover.fill(0);
    patches.forEach(([y0, x0], k) => {
      const drop = (scores[i] as number) - (f[k] as number);
      for (let y = y0; y < Math.min(h, y0 + p); y++)
        for (let xx = x0; xx < Math.min(w, x0 + p); xx++)
          for (let ch = 0; ch < c; ch++) {
            values[i * size + (y * w + xx) * c + ch]! += drop;
            cover[(y * w + xx) * c + ch]! += 1;
          }
    });
    for (let j = 0; j < size; j++) if ((cover[j] as number) > 0) values[i * size + j]! /= cover[j] as number;
  }
  return { values, shape, targets, scores };
}

/** Mean |attribution| per value over the samples. */
export function meanAbsolute(a: Attributions): Float32Array {
  const size = a.shape.reduce((p, d) => p * d, 1);
  const n = a.values.length / size;
  const out = new Float32Array(size);
  for (let i = 0; i < n; i++) for (let j = 0; j < size; j++) out[j]! += Math.abs(a.values[i * size + j] as number) / n;
  return out;
}

/** The per-feature mean of x (n × size): the training mean baseline. */
export function featureMean(x: Float32Array, n: number, size: number): Float32Array {
  const out = new Float32Array(size);
  for (let i = 0; i < n; i++) for (let j = 0; j < size; j++) out[j]! += (x[i * size + j] as number) / n;
  return out;
}

/**
 * Permutation importance (Breiman, 2001): per feature, how much the mean loss over the samples
 * rises when that feature's column is shuffled (seeded), averaged over `repeats` shuffles. A
 * model-agnostic check of the gradient methods.
 */
export function permutationImportance(model: CompiledModel, x: Float32Array, y: Float32Array, n: number, repeats = 5, seed = 1): Float32Array {
  const size = model.meta.inputSize;
  const K = model.meta.outputSize;
  const lossOf = (xs: Float32Array): number => {
    let total = 0;
    eachChunk(model, n, (start, m) => {
      total += model.loss(xs.subarray(start * size, (start + m) * size), y.subarray(start * K, (start + m) * K), m) * m;
    });
    return total / n;
  };
  const base = lossOf(x);
  const rng = new Rng(seed);
  const out = new Float32Array(size);
  const xs = x.slice(0, n * size);
  const order = new Uint32Array(n);
  for (let j = 0; j < size; j++) {
    for (let r = 0; r < repeats; r++) {
      for (let i = 0; i < n; i++) order[i] = i;
      rng.shuffle(order);
      for (let i = 0; i < n; i++) xs[i * size + j] = x[(order[i] as number) * size + j] as number;
      out[j]! += (lossOf(xs) - base) / repeats;
    }
    for (let i = 0; i < n; i++) xs[i * size + j] = x[i * size + j] as number;
  }
  return out;
}
