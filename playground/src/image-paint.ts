/**
 * The pixels of a test image and of its attribution map, as RGBA written into a caller's buffer
 * (one image pixel per RGBA pixel; the canvas scales it up). The colours are those of
 * `nnc explain --svg` (`runtime/explain-svg.ts`): the image as dark ink on white; the map over a
 * faded copy, red where it raises the class's score, blue where it lowers it, its opacity
 * |value| over the map's largest. DOM-free, allocation-free.
 */
import type { ImageShape } from "./images.js";

const POSITIVE = [230, 25, 75] as const;
const NEGATIVE = [42, 111, 219] as const;

/** The smallest and largest of `size` values from `offset`. */
function range(pixels: Float32Array, offset: number, size: number): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < size; i++) {
    const v = pixels[offset + i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/** Pixel p's grey level in [0, 1] (channels averaged), the image's range [lo, hi] stretched to [0, 1]. */
function ink(pixels: Float32Array, offset: number, p: number, c: number, lo: number, hi: number): number {
  let t = 0;
  for (let ch = 0; ch < c; ch++) t += pixels[offset + p * c + ch]!;
  return hi > lo ? (t / c - lo) / (hi - lo) : 0;
}

/** The image at `offset` of `pixels`, dark ink on white, into `out` (h·w·4). */
export function paintImage(out: Uint8ClampedArray, pixels: Float32Array, offset: number, shape: ImageShape): void {
  const [h, w, c] = shape;
  const [lo, hi] = range(pixels, offset, h * w * c);
  for (let p = 0; p < h * w; p++) {
    const v = 255 * (1 - ink(pixels, offset, p, c, lo, hi));
    out[4 * p] = out[4 * p + 1] = out[4 * p + 2] = v;
    out[4 * p + 3] = 255;
  }
}

/**
 * The map (mh × mw, drawn over the image nearest-cell; Grad-CAM's may be coarser than the image)
 * over a faded copy of the image, into `out` (h·w·4). Returns the map's largest |value|.
 */
export function paintOverlay(out: Uint8ClampedArray, pixels: Float32Array, shape: ImageShape, map: Float32Array, mh: number, mw: number): number {
  const [h, w, c] = shape;
  const [lo, hi] = range(pixels, 0, h * w * c);
  let peak = 0;
  for (let i = 0; i < mh * mw; i++) peak = Math.max(peak, Math.abs(map[i]!));
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      const base = 255 - 150 * ink(pixels, 0, p, c, lo, hi);
      const v = map[Math.floor((y * mh) / h) * mw + Math.floor((x * mw) / w)]!;
      const a = peak > 0 ? (0.8 * Math.abs(v)) / peak : 0;
      const col = v < 0 ? NEGATIVE : POSITIVE;
      out[4 * p] = base + (col[0] - base) * a;
      out[4 * p + 1] = base + (col[1] - base) * a;
      out[4 * p + 2] = base + (col[2] - base) * a;
      out[4 * p + 3] = 255;
    }
  return peak;
}
