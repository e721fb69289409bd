/**
 * Built-in data sets, so a fresh clone trains with no download. Every generator is seeded and
 * returns class indices (width 1) or, for `sine`, one regression target.
 */
import type { GeneratorSource } from "../compiler/program.js";
import type { Dataset } from "./dataset.js";
import { Rng } from "./rng.js";

export interface GeneratorOptions {
  readonly size: number;
  readonly noise: number;
  readonly seed: number;
  readonly classes: number;
}

/** 2-D points at the four corners of the unit square; label = x XOR y. Sample i is corner i mod 4. */
export function xor(o: GeneratorOptions): Dataset {
  const rng = new Rng(o.seed);
  return build(o.size, 2, (i, x) => {
    const a = i & 1;
    const b = (i >> 1) & 1;
    x[0] = a + o.noise * rng.normal();
    x[1] = b + o.noise * rng.normal();
    return a ^ b;
  });
}

/** Two concentric circles (radius 1: class 0, radius 0.5: class 1). */
export function circles(o: GeneratorOptions): Dataset {
  const rng = new Rng(o.seed);
  return build(o.size, 2, (i, x) => {
    const c = i % 2;
    const t = rng.uniform(0, 2 * Math.PI);
    const r = c === 0 ? 1 : 0.5;
    x[0] = r * Math.cos(t) + o.noise * rng.normal();
    x[1] = r * Math.sin(t) + o.noise * rng.normal();
    return c;
  });
}

/** `classes` interleaved spiral arms, radius 0..1, each arm turning through 4 radians. */
export function spiral(o: GeneratorOptions): Dataset {
  const rng = new Rng(o.seed);
  const k = Math.max(1, o.classes);
  const perClass = Math.ceil(o.size / k);
  return build(o.size, 2, (i, x) => {
    const c = i % k;
    const j = Math.floor(i / k);
    const r = perClass > 1 ? j / (perClass - 1) : 0;
    const t = (c * 2 * Math.PI) / k + 4 * r;
    x[0] = r * Math.sin(t) + o.noise * rng.normal();
    x[1] = r * Math.cos(t) + o.noise * rng.normal();
    return c;
  });
}

/** Two interleaving half circles (scikit-learn's `make_moons`). */
export function moons(o: GeneratorOptions): Dataset {
  const rng = new Rng(o.seed);
  return build(o.size, 2, (i, x) => {
    const c = i % 2;
    const t = rng.uniform(0, Math.PI);
    x[0] = (c === 0 ? Math.cos(t) : 1 - Math.cos(t)) + o.noise * rng.normal();
    x[1] = (c === 0 ? Math.sin(t) : 0.5 - Math.sin(t)) + o.noise * rng.normal();
    return c;
  });
}

/** `classes` round blobs whose centres sit on a circle of radius 3; `noise` is their spread. */
export function gaussian(o: GeneratorOptions): Dataset {
  const rng = new Rng(o.seed);
  const k = Math.max(1, o.classes);
  return build(o.size, 2, (i, x) => {
    const c = i % k;
    const a = (2 * Math.PI * c) / k;
    x[0] = 3 * Math.cos(a) + o.noise * rng.normal();
    x[1] = 3 * Math.sin(a) + o.noise * rng.normal();
    return c;
  });
}

/** Regression: x uniform in [-π, π], target sin(x) plus noise. */
export function sine(o: GeneratorOptions): Dataset {
  const rng = new Rng(o.seed);
  return build(o.size, 1, (_i, x) => {
    x[0] = rng.uniform(-Math.PI, Math.PI);
    return Math.sin(x[0]) + o.noise * rng.normal();
  });
}

export const GENERATORS = { xor, circles, spiral, moons, gaussian, sine } as const;

export function generate(src: GeneratorSource): Dataset {
  return GENERATORS[src.generator]({
    size: src.size,
    noise: src.noise,
    seed: src.seed,
    classes: src.classes,
  });
}

function build(n: number, features: number, sample: (i: number, x: Float32Array) => number): Dataset {
  const x = new Float32Array(n * features);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) y[i] = sample(i, x.subarray(i * features, (i + 1) * features));
  return { n, features, x, labelWidth: 1, y };
}
