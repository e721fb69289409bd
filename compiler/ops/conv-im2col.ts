/**
 * im2col(x): unfolds every window of an NHWC image batch into one row, so a convolution
 * becomes one matrix product (`conv2d`). x [n, H, W, C] → col [n, OH·OW, KH·KW·C]; the row of
 * output pixel (oy, ox) holds its window in (ky, kx, ch) order, the order of a filter's
 * weights, and zeros where the window hangs over the padding. No adjoint of its own: `conv2d`
 * reads x too and sends x's gradient straight onto the image (`conv2d_dx`).
 */
import type { OpDef } from "./types.js";
import { geometryOf, outputLoops, padded } from "./conv-geometry.js";

export const im2col: OpDef = {
  name: "im2col",
  doc: "every convolution window as one row: [n, H, W, C] → [n, OH·OW, KH·KW·C]",
  shape: (inputs, attrs) => {
    const g = geometryOf(attrs);
    return [inputs[0]?.[0] ?? "n", g.oh * g.ow, g.kh * g.kw * g.c];
  },
  saves: [],
  emit(node, ctx) {
    const g = geometryOf(node.attrs);
    const x = ctx.ref(node.inputs[0] as number);
    const col = ctx.ref(node.id);
    const call = ctx.im2colKernel?.({ x, out: col, ...g });
    if (call !== undefined) return call;
    const k = g.kh * g.kw * g.c;
    const pad = padded(g);
    const copy =
      g.c === 1
        ? `${col}[q] = ${x}[xs + iy * ${g.w} + ix];`
        : `const p = xs + (iy * ${g.w} + ix) * ${g.c};\nfor (let ch = 0; ch < ${g.c}; ch++) ${col}[q + ch] = ${x}[p + ch];`;
    const body = [
      `let q = o;`,
      `for (let ky = 0; ky < ${g.kh}; ky++) {`,
      `const iy = y0 + ky;`,
      ...(pad ? [`if (iy < 0 || iy >= ${g.h}) {`, `for (let j = 0; j < ${g.kw * g.c}; j++) ${col}[q + j] = 0;`, `q += ${g.kw * g.c};`, `continue;`, `}`] : []),
      `for (let kx = 0; kx < ${g.kw}; kx++) {`,
      `const ix = x0 + kx;`,
      ...(pad ? [`if (ix < 0 || ix >= ${g.w}) {`, `for (let ch = 0; ch < ${g.c}; ch++) ${col}[q + ch] = 0;`, `q += ${g.c};`, `continue;`, `}`] : []),
      copy,
      `q += ${g.c};`,
      `}`,
      `}`,
    ].join("\n");
    return outputLoops(g, k, body);
  },
};
