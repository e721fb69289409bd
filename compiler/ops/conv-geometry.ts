/**
 * Geometry shared by the convolution family (conv2d, the pools, im2col): sizes are
 * attributes of the node, so every emitted loop bound and offset is a literal. Layout is NHWC:
 * sample r, row y, column x, channel ch lives at `r·H·W·C + (y·W + x)·C + ch`.
 *
 * Padding follows TensorFlow: `valid` uses no padding (out = ⌊(in − k) / s⌋ + 1); `same` gives
 * out = ⌈in / s⌉ and pads max((out − 1)·s + k − in, 0) in total, the smaller half on top/left.
 */
import type { Attrs } from "../ir.js";
import { attrNum } from "./types.js";

export interface Geometry {
  /** Input height, width, channels. */
  readonly h: number;
  readonly w: number;
  readonly c: number;
  /** Window (kernel or pool) height and width. */
  readonly kh: number;
  readonly kw: number;
  /** Strides. */
  readonly sh: number;
  readonly sw: number;
  /** Padding above and left of the input. */
  readonly pt: number;
  readonly pl: number;
  /** Output height and width. */
  readonly oh: number;
  readonly ow: number;
}

/** Output size and leading padding along one axis. */
export function axis(size: number, window: number, stride: number, padding: "same" | "valid"): { out: number; pad: number } {
  if (padding === "valid") return { out: Math.floor((size - window) / stride) + 1, pad: 0 };
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + window - size, 0);
  return { out, pad: Math.floor(total / 2) };
}

export function geometry(
  input: readonly [number, number, number],
  window: readonly [number, number],
  stride: readonly [number, number],
  padding: "same" | "valid",
): Geometry {
  const [h, w, c] = input;
  const y = axis(h, window[0], stride[0], padding);
  const x = axis(w, window[1], stride[1], padding);
  return { h, w, c, kh: window[0], kw: window[1], sh: stride[0], sw: stride[1], pt: y.pad, pl: x.pad, oh: y.out, ow: x.out };
}

/** The geometry as node attributes (and back). */
export function geometryAttrs(g: Geometry): Record<string, number> {
  return { h: g.h, w: g.w, c: g.c, kh: g.kh, kw: g.kw, sh: g.sh, sw: g.sw, pt: g.pt, pl: g.pl, oh: g.oh, ow: g.ow };
}

export function geometryOf(attrs: Attrs): Geometry {
  const n = (k: string): number => attrNum(attrs, k);
  return { h: n("h"), w: n("w"), c: n("c"), kh: n("kh"), kw: n("kw"), sh: n("sh"), sw: n("sw"), pt: n("pt"), pl: n("pl"), oh: n("oh"), ow: n("ow") };
}

/** Whether some window reaches outside the input (then loops need bounds checks). */
export function padded(g: Geometry): boolean {
  return g.pt > 0 || g.pl > 0 || (g.oh - 1) * g.sh + g.kh > g.h + g.pt || (g.ow - 1) * g.sw + g.kw > g.w + g.pl;
}

/** `a * b` folded when both are literals, for offsets in emitted code. */
export function mul(a: string, b: number): string {
  if (b === 0 || a === "0") return "0";
  if (/^\d+$/.test(a)) return String(Number(a) * b);
  return b === 1 ? a : `${a} * ${b}`;
}

/**
 * The window loops of one output position: for every (ky, kx) inside the input, `body(p)` with
 * `p` the input offset (within the sample) of that pixel's first channel. Rows and columns
 * outside the input are skipped, with bounds checks emitted only when the geometry pads.
 */
export function windowLoops(g: Geometry, body: (p: string) => string): string {
  const pad = padded(g);
  const lines: string[] = [];
  lines.push(`for (let ky = 0; ky < ${g.kh}; ky++) {`);
  lines.push(`const iy = y0 + ky;`);
  if (pad) lines.push(`if (iy < 0 || iy >= ${g.h}) continue;`);
  lines.push(`for (let kx = 0; kx < ${g.kw}; kx++) {`);
  lines.push(`const ix = x0 + kx;`);
  if (pad) lines.push(`if (ix < 0 || ix >= ${g.w}) continue;`);
  lines.push(`const p = (iy * ${g.w} + ix) * ${g.c};`);
  lines.push(body("p"));
  lines.push(`}`, `}`);
  return lines.join("\n");
}

/**
 * Loops over every output position of every sample: `r`, `oy`, `ox`, with `y0`/`x0` the window's
 * top-left input pixel, `xs` the sample's input offset and `o` the position's output offset.
 */
export function outputLoops(g: Geometry, outChannels: number, body: string): string {
  const inSize = g.h * g.w * g.c;
  const outSize = g.oh * g.ow * outChannels;
  const y0 = g.pt > 0 ? `${mul("oy", g.sh)} - ${g.pt}` : mul("oy", g.sh);
  const x0 = g.pl > 0 ? `${mul("ox", g.sw)} - ${g.pl}` : mul("ox", g.sw);
  return [
    `for (let r = 0; r < n; r++) {`,
    `const xs = r * ${inSize};`,
    `for (let oy = 0; oy < ${g.oh}; oy++) {`,
    `const y0 = ${y0};`,
    `for (let ox = 0; ox < ${g.ow}; ox++) {`,
    `const x0 = ${x0};`,
    `const o = r * ${outSize} + (oy * ${g.ow} + ox) * ${outChannels};`,
    body,
    `}`,
    `}`,
    `}`,
  ].join("\n");
}
