/**
 * Test images to pick and explain (issue 17), in the training worker: for a classifier whose
 * input is an image — [h, w] or [h, w, c], or a flat row of k² numeric columns (the digits MLPs'
 * 64 pixels) — a strip of a few test images per class, and for the picked one its prediction,
 * its probabilities and its attribution maps (saliency, gradient × input and, where the model
 * has a conv layer, Grad-CAM), computed by `runtime/explain.ts` as `nnc explain` computes them.
 * Pure (no DOM, no messages): `train.worker.ts` posts the results, `page/images.ts` draws them.
 */
import { attribute, lastConvLayer, predictedTargets, type ExplainModel } from "../../runtime/explain.js";
import type { Task } from "../../runtime/metrics.js";

/** Test images shown per class. */
export const PER_CLASS = 3;
/** A flat input is drawn as a k × k image from this many values (more than the attribution table's 32) … */
const MIN_FLAT_IMAGE = 36;
/** … up to this many (64 × 64): past it the strip would weigh on the page. */
export const MAX_IMAGE_VALUES = 4096;

/** One image's [height, width, channels]. */
export type ImageShape = readonly [number, number, number];

/** A few test images per class, to pick from. */
export interface ImageStrip {
  readonly shape: ImageShape;
  /** Their rows in the test split, and their true classes. */
  readonly indices: readonly number[];
  readonly labels: readonly number[];
  /** Their values in the model's (preprocessed) units, one image after another (h·w·c each). */
  readonly pixels: Float32Array;
  /** A name per class (the data's labels, or `class k`). */
  readonly classNames: readonly string[];
  /** The layer Grad-CAM uses, when the model has a conv layer. */
  readonly gradcamLayer: string | undefined;
}

/** The picked test image, explained for its predicted class. */
export interface ImagePick {
  readonly index: number;
  readonly label: number;
  readonly predicted: number;
  /** Each class's probability, as the model's forward pass gives it. */
  readonly probs: Float32Array;
  readonly shape: ImageShape;
  readonly pixels: Float32Array;
  /** Per pixel (h·w): max over channels of |∂F/∂x|, and Σ over channels of x · ∂F/∂x. */
  readonly saliency: Float32Array;
  readonly gradxinput: Float32Array;
  /** Grad-CAM on the last conv layer: its [height, width] map, never negative. */
  readonly gradcam: { readonly layer: string; readonly height: number; readonly width: number; readonly values: Float32Array } | undefined;
  /** Epochs finished when it was computed, and the time it took (ms). */
  readonly epoch: number;
  readonly millis: number;
}

/**
 * The shape to draw an input as, or undefined for inputs that are not images: a classifier with
 * one input of shape [h, w] or [h, w, c ≤ 4], or a flat input of k² values (36 to 4096) read
 * from numeric columns only (no categorical one).
 */
export function imageShapeOf(inputShape: readonly number[], oneInput: boolean, categorical: boolean): ImageShape | undefined {
  if (!oneInput) return undefined;
  const size = inputShape.reduce((a, b) => a * b, 1);
  if (size > MAX_IMAGE_VALUES) return undefined;
  const [h = 0, w = 0, c = 1] = inputShape;
  if (inputShape.length === 2 || (inputShape.length === 3 && c <= 4)) return [h, w, c];
  const k = Math.round(Math.sqrt(size));
  if (inputShape.length === 1 && !categorical && size >= MIN_FLAT_IMAGE && k * k === size) return [k, k, 1];
  return undefined;
}

/** The class of row i of one-hot (or 0/1) targets `width` wide. */
export function classOf(y: Float32Array, i: number, width: number): number {
  if (width === 1) return y[i]! > 0.5 ? 1 : 0;
  let best = 0;
  for (let j = 1; j < width; j++) if (y[i * width + j]! > y[i * width + best]!) best = j;
  return best;
}

/** The first `perClass` rows of each class, class by class (rows in the split's order). */
export function stripRows(y: Float32Array, n: number, width: number, classes: number, perClass = PER_CLASS): number[] {
  const byClass = Array.from({ length: classes }, (): number[] => []);
  for (let i = 0; i < n; i++) {
    const k = classOf(y, i, width);
    if (k < classes && byClass[k]!.length < perClass) byClass[k]!.push(i);
  }
  return byClass.flat();
}

/** The strip for a test split (x: n × size, y: n × width one-hot). */
export function imageStrip(
  model: ExplainModel,
  test: { readonly x: Float32Array; readonly y: Float32Array; readonly n: number },
  shape: ImageShape,
  task: Task,
  classNames: readonly string[] | undefined,
): ImageStrip {
  const size = model.meta.inputSize;
  const classes = task.kind === "binary" ? 2 : task.kind === "multiclass" ? task.classes : 0;
  const width = model.meta.outputSize;
  const indices = stripRows(test.y, test.n, width, classes);
  const pixels = new Float32Array(indices.length * size);
  indices.forEach((row, k) => pixels.set(test.x.subarray(row * size, (row + 1) * size), k * size));
  return {
    shape,
    indices,
    labels: indices.map((i) => classOf(test.y, i, width)),
    pixels,
    classNames: Array.from({ length: classes }, (_, k) => classNames?.[k] ?? `class ${k}`),
    gradcamLayer: lastConvLayer(model),
  };
}

/** The classes' probabilities of one sample from the forward pass's output (a binary logit output through the sigmoid). */
function probabilities(out: ArrayLike<number>, task: Task): Float32Array {
  if (task.kind !== "binary") return Float32Array.from({ length: task.kind === "multiclass" ? task.classes : out.length }, (_, k) => out[k]!);
  const p = task.threshold === 0 ? 1 / (1 + Math.exp(-out[0]!)) : out[0]!;
  return Float32Array.of(1 - p, p);
}

/** Test row `index` (`x`, one image in model units, true class `label`) explained for its predicted class. */
export function imagePick(model: ExplainModel, x: Float32Array, index: number, label: number, shape: ImageShape, task: Task, epoch: number): ImagePick {
  const t0 = performance.now();
  const [h, w, c] = shape;
  const probs = probabilities(model.forward(x, 1), task);
  const targets = predictedTargets(model, x, 1);
  const g = attribute(model, x, 1, targets, { method: "saliency" }).values;
  const gx = attribute(model, x, 1, targets, { method: "gradxinput" }).values;
  const saliency = new Float32Array(h * w);
  const gradxinput = new Float32Array(h * w);
  for (let p = 0; p < h * w; p++)
    for (let ch = 0; ch < c; ch++) {
      saliency[p] = Math.max(saliency[p]!, g[p * c + ch]!);
      gradxinput[p]! += gx[p * c + ch]!;
    }
  const layer = lastConvLayer(model);
  let gradcam: ImagePick["gradcam"];
  if (layer !== undefined) {
    const cam = attribute(model, x, 1, targets, { method: "gradcam", layer });
    gradcam = { layer, height: cam.shape[0]!, width: cam.shape[1]!, values: cam.values };
  }
  return { index, label, predicted: targets[0]!, probs, shape, pixels: x.slice(), saliency, gradxinput, gradcam, epoch, millis: performance.now() - t0 };
}

/** The arrays of a pick, for the transfer list. */
export function pickBuffers(p: ImagePick): ArrayBuffer[] {
  const arrays = [p.probs, p.pixels, p.saliency, p.gradxinput, ...(p.gradcam ? [p.gradcam.values] : [])];
  return arrays.map((a) => a.buffer as ArrayBuffer);
}
