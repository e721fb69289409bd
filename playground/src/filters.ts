/**
 * The Filters view: every filter of the first convolution as a small image, one tile per
 * filter (and per input channel), on a diverging scale: blue negative, white zero, orange
 * positive, all tiles sharing one scale (±max |w|) so their strengths compare.
 */
import type { Filters } from "./protocol.js";

const GAP = 8;
const MAX_COLS = 8;
const NEG = [29, 78, 216]; // blue
const POS = [234, 88, 12]; // orange

/** Colour of v in [-1, 1]: white at 0. */
function diverging(v: number): [number, number, number] {
  const t = Math.min(1, Math.abs(v));
  const c = v < 0 ? NEG : POS;
  return [255 + (c[0]! - 255) * t, 255 + (c[1]! - 255) * t, 255 + (c[2]! - 255) * t];
}

/** Draws the filters and returns the scale used (max |w|). */
export function drawFilters(canvas: HTMLCanvasElement, f: Filters): number {
  const [count = 0, kh = 1, kw = 1, channels = 1] = f.shape;
  const w = f.weights;
  let scale = 0;
  for (let i = 0; i < w.length; i++) scale = Math.max(scale, Math.abs(w[i]!));
  const cell = Math.max(4, Math.min(20, Math.floor(64 / Math.max(kh, kw))));
  const tileW = kw * cell, tileH = kh * cell;
  const cols = Math.min(MAX_COLS, count);
  const rows = Math.ceil(count / Math.max(1, cols)) * channels;
  const width = cols * tileW + (cols - 1) * GAP + 2;
  const height = rows * (tileH + GAP) - GAP + 2;
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
    canvas.style.width = `${width}px`;
    canvas.style.height = `${height}px`;
  }
  const g = canvas.getContext("2d")!;
  g.clearRect(0, 0, width, height);
  for (let k = 0; k < count; k++) {
    for (let ch = 0; ch < channels; ch++) {
      const col = k % cols;
      const row = Math.floor(k / cols) * channels + ch;
      const x0 = 1 + col * (tileW + GAP), y0 = 1 + row * (tileH + GAP);
      for (let ky = 0; ky < kh; ky++) {
        for (let kx = 0; kx < kw; kx++) {
          const v = w[k * kh * kw * channels + (ky * kw + kx) * channels + ch]!;
          const [r, gg, b] = diverging(scale > 0 ? v / scale : 0);
          g.fillStyle = `rgb(${r | 0},${gg | 0},${b | 0})`;
          g.fillRect(x0 + kx * cell, y0 + ky * cell, cell, cell);
        }
      }
      g.strokeStyle = "#cbd5e1";
      g.lineWidth = 1;
      g.strokeRect(x0 - 0.5, y0 - 0.5, tileW + 1, tileH + 1);
    }
  }
  return scale;
}
