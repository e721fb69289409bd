/**
 * The backward ops of `conv2d`, over the output gradient dz [n, OH, OW, F]:
 *
 *   conv2d_dx(dz, w)     each dz value times its filter, added onto the window it came from
 *                        → dx [n, H, W, C] (a transposed convolution; overlaps sum)
 *   conv2d_dw(dz, col)   dzᵀ·col → [F, KH, KW, C], summed over batch and pixels
 *   conv2d_db(dz)        Σ dz over batch and pixels → [F]
 *
 * dx and dw are written as outer products that skip zeros of dz: behind a ReLU and a 2×2 max
 * pool, three quarters or more of dz are exactly 0 (the pool routes each gradient to one
 * pixel of four), so skipping them beats the register-tiled product, which cannot. dw's
 * accumulator [F, K] stays in the L1 cache while col streams through once.
 */
import type { OpDef } from "./types.js";
import { attrNum, shapeOfTo } from "./types.js";
import { overRows } from "./conv2d.js";
import { geometryOf, outputLoops, windowLoops } from "./conv-geometry.js";

export const conv2dDx: OpDef = {
  name: "conv2d_dx",
  doc: "transposed convolution of dz with w: [n, OH, OW, F] → [n, H, W, C]",
  shape: (_inputs, attrs) => shapeOfTo(attrs),
  saves: [],
  emit(node, ctx) {
    const g = geometryOf(node.attrs);
    const f = attrNum(node.attrs, "f");
    const k = g.kh * g.kw * g.c;
    const [dzId, wId] = node.inputs as [number, number];
    const dz = ctx.ref(dzId);
    const w = ctx.ref(wId);
    const dx = ctx.ref(node.id);
    const call = ctx.convDxKernel?.({ ...g, dz, weights: w, dx, f });
    if (call !== undefined) return call;
    const add =
      g.c === 1
        ? `${dx}[xs + p] += a * ${w}[wf + ky * ${g.kw} + kx];`
        : `const q = wf + (ky * ${g.kw} + kx) * ${g.c};\nfor (let ch = 0; ch < ${g.c}; ch++) ${dx}[xs + p + ch] += a * ${w}[q + ch];`;
    const body = [`for (let j = 0; j < ${f}; j++) {`, `const a = ${dz}[o + j];`, `if (a === 0) continue;`, `const wf = j * ${k};`, windowLoops(g, () => add), `}`].join("\n");
    return [`for (let i = 0; i < n * ${g.h * g.w * g.c}; i++) ${dx}[i] = 0;`, outputLoops(g, f, body)].join("\n");
  },
};

export const conv2dDw: OpDef = {
  name: "conv2d_dw",
  doc: "dzᵀ·col: [n, OH·OW, F]ᵀ × [n, OH·OW, K] → [F, KH, KW, C]",
  shape: (_inputs, attrs) => {
    const g = geometryOf(attrs);
    return [attrNum(attrs, "f"), g.kh, g.kw, g.c];
  },
  saves: [],
  emit(node, ctx) {
    const g = geometryOf(node.attrs);
    const f = attrNum(node.attrs, "f");
    const k = g.kh * g.kw * g.c;
    const [dzId, colId] = node.inputs as [number, number];
    const dz = ctx.ref(dzId);
    const col = ctx.ref(colId);
    const dw = ctx.ref(node.id);
    // dw = dzᵀ·col, the batch's window rows as the reduction: a wasm kernel when one fits.
    const call = ctx.kernel?.({ a: dz, b: col, out: dw, rows: f, cols: k, depth: "n", aR: 1, aD: f, bD: k, bC: 1, oR: k, oC: 1, rowsPerSample: g.oh * g.ow });
    if (call !== undefined) return overRows(g.oh * g.ow, call);
    return [
      `for (let i = 0; i < ${f * k}; i++) ${dw}[i] = 0;`,
      `for (let r = 0; r < n * ${g.oh * g.ow}; r++) {`,
      `const zr = r * ${f};`,
      `const cr = r * ${k};`,
      `for (let j = 0; j < ${f}; j++) {`,
      `const a = ${dz}[zr + j];`,
      `if (a === 0) continue;`,
      `const wf = j * ${k};`,
      `for (let i = 0; i < ${k}; i++) ${dw}[wf + i] += a * ${col}[cr + i];`,
      `}`,
      `}`,
    ].join("\n");
  },
};

export const conv2dDb: OpDef = {
  name: "conv2d_db",
  doc: "Σ dz over batch and pixels: [n, OH, OW, F] → [F]",
  shape: (_inputs, attrs) => [attrNum(attrs, "f")],
  saves: [],
  emit(node, ctx) {
    const g = geometryOf(node.attrs);
    const f = attrNum(node.attrs, "f");
    const out = ctx.ref(node.id);
    const dz = ctx.ref(node.inputs[0] as number);
    return [
      `for (let j = 0; j < ${f}; j++) ${out}[j] = 0;`,
      `for (let i = 0; i < n * ${g.oh * g.ow * f}; i += ${f}) {`,
      `for (let j = 0; j < ${f}; j++) ${out}[j] += ${dz}[i + j];`,
      `}`,
    ].join("\n");
  },
};
