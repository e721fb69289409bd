/**
 * The geometry shared by the convolution family (conv2d and its adjoints, the pools) and how it
 * is computed and stored: sizes are attributes of the node, so every emitted loop bound and
 * offset is a literal (the loops themselves are the targets': `codegen/ts/conv.ts`). Layout is NHWC:
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

/**
 * Whether each window is one pixel, in order (a 1×1 kernel, stride 1, no padding): the image
 * [n, H, W, C] is then its own window rows [n·H·W, C], and a convolution needs no unfolding.
 */
export function pointwise(g: Geometry): boolean {
  return g.kh === 1 && g.kw === 1 && g.sh === 1 && g.sw === 1 && g.pt === 0 && g.pl === 0 && g.oh === g.h && g.ow === g.w;
}
