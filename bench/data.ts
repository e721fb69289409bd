/**
 * Data and initial weights shared by every system in the bench: Fashion-MNIST from Debian's
 * `dataset-fashion-mnist` (a small IDX reader of our own), a seeded two-arm spiral, and
 * seeded Glorot-uniform weights that every peer starts from.
 */
import { existsSync, readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { join } from "node:path";

export const FASHION_DIR = "/usr/share/datasets/fashion-mnist";

/** Samples as rows: x is n × features, y is n × classes (one-hot or 0/1), labels the class index. */
export interface Dataset {
  readonly n: number;
  readonly features: number;
  readonly classes: number;
  readonly x: Float32Array;
  readonly y: Float32Array;
  readonly labels: Uint8Array;
}

function readIdx(path: string): { dims: number[]; data: Uint8Array } {
  let buf = readFileSync(path);
  if (path.endsWith(".gz")) buf = gunzipSync(buf);
  const magic = buf.readUInt32BE(0);
  if (magic >>> 8 !== 0x08) throw new Error(`${path}: not an unsigned-byte IDX file`);
  const rank = magic & 0xff;
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(buf.readUInt32BE(4 + 4 * i));
  const start = 4 + 4 * rank;
  return { dims, data: new Uint8Array(buf.buffer, buf.byteOffset + start, buf.length - start) };
}

function idxDataset(images: string, labels: string, limit: number): Dataset {
  const im = readIdx(images);
  const lb = readIdx(labels);
  const n = Math.min(limit || im.dims[0]!, im.dims[0]!);
  const features = im.dims.slice(1).reduce((a, b) => a * b, 1);
  const x = new Float32Array(n * features);
  for (let i = 0; i < n * features; i++) x[i] = im.data[i]! / 255;
  const y = new Float32Array(n * 10);
  const lab = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    lab[i] = lb.data[i]!;
    y[i * 10 + lb.data[i]!] = 1;
  }
  return { n, features, classes: 10, x, y, labels: lab };
}

/** Fashion-MNIST train (first `trainLimit`) and test sets, or undefined when not installed. */
export function loadFashion(trainLimit: number): { train: Dataset; test: Dataset } | undefined {
  const f = (name: string): string => join(FASHION_DIR, name);
  if (!existsSync(f("train-images-idx3-ubyte.gz"))) return undefined;
  return {
    train: idxDataset(f("train-images-idx3-ubyte.gz"), f("train-labels-idx1-ubyte.gz"), trainLimit),
    test: idxDataset(f("t10k-images-idx3-ubyte.gz"), f("t10k-labels-idx1-ubyte.gz"), 0),
  };
}

/** mulberry32: a small seeded generator of uniform numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Two interleaved spiral arms in 2-D (`turns` turns each), labels 0/1, seeded noise, points in a
 * seeded random order.
 */
export function spiral(n: number, seed: number, noise = 0.1, turns = 1): Dataset {
  const rnd = mulberry32(seed);
  const gauss = (): number => {
    const u = 1 - rnd(), v = rnd();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  const x = new Float32Array(n * 2);
  const y = new Float32Array(n);
  const labels = new Uint8Array(n);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  for (let i = 0; i < n; i++) {
    const cls = order[i]! % 2;
    const r = Math.floor(order[i]! / 2) / (n / 2) + 0.05;
    const t = turns * r * 2 * Math.PI + cls * Math.PI;
    x[2 * i] = r * Math.sin(t) + noise * r * gauss();
    x[2 * i + 1] = r * Math.cos(t) + noise * r * gauss();
    y[i] = cls;
    labels[i] = cls;
  }
  return { n, features: 2, classes: 1, x, y, labels };
}

/** One dense layer's initial weights, stored [in][out] row-major, and its bias. */
export interface DenseInit {
  readonly inputs: number;
  readonly units: number;
  readonly w: Float32Array;
  readonly b: Float32Array;
}

/** Glorot-uniform weights and zero biases for the layer sizes `sizes` (input first). */
export function initWeights(sizes: readonly number[], seed: number): DenseInit[] {
  const rnd = mulberry32(seed);
  const layers: DenseInit[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const inputs = sizes[l]!, units = sizes[l + 1]!;
    const limit = Math.sqrt(6 / (inputs + units));
    const w = new Float32Array(inputs * units);
    for (let i = 0; i < w.length; i++) w[i] = (2 * rnd() - 1) * limit;
    layers.push({ inputs, units, w, b: new Float32Array(units) });
  }
  return layers;
}

/** Fraction of rows whose arg-max of `out` (n × classes) equals the label. */
export function accuracy(out: ArrayLike<number>, labels: Uint8Array, classes: number): number {
  let hit = 0;
  for (let i = 0; i < labels.length; i++) {
    if (classes === 1) {
      if ((out[i]! > 0.5 ? 1 : 0) === labels[i]) hit++;
      continue;
    }
    let best = 0;
    for (let c = 1; c < classes; c++) if (out[i * classes + c]! > out[i * classes + best]!) best = c;
    if (best === labels[i]) hit++;
  }
  return hit / labels.length;
}
