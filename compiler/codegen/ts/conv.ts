/**
 * TypeScript lowerings of the convolution family: conv2d (a tiled product over the window
 * rows, `gemm`), its backward ops conv2d_dx/dw/db, and the max and average pools with their
 * backward ops; and the loop nests they share (`outputLoops`, `windowLoops`). Layout is NHWC
 * (`ops/conv_geometry.ts`).
 *
 * conv2d unfolds the windows itself (im2col), one sample at a time, into scratch memory of its
 * own (`EmitContext.scratch`: [OH·OW, K], live in the node's step alone) and runs the tiled
 * product over that sample's rows; a pointwise kernel (1×1, stride 1, no padding) reads the
 * image as its rows. One sample's rows stay in the cache while the product reads them, and the
 * unfolded batch is never stored.
 *
 * conv2d_dx and conv2d_dw read the image's windows in place, as outer products that skip zeros
 * of dz: behind a ReLU and a 2×2 max pool, three quarters or more of dz are exactly 0 (the pool
 * routes each gradient to one pixel of four), so skipping them beats the register-tiled
 * product, which cannot — and unfolding x again for dw would cost a copy per window value for
 * the quarter of them that is used (measured: as fast on fashion-cnn, faster on digits-cnn).
 * dw's accumulator [F, K] stays in the L1 cache. (The wasm kernels unfold for dw: their SIMD
 * product wins there.)
 */
import type { IrNode } from "../../ir.js";
import type { Geometry } from "../../ops/conv_geometry.js";
import { geometryOf, padded, pointwise } from "../../ops/conv_geometry.js";
import { attrNum } from "../../ops/types.js";
import { poolComputesArgmax } from "../../ops/registry.js";
import { gemm, SAMPLE } from "../gemm.js";
import type { EmitContext, TsLowering } from "./context.js";
import { productOf } from "./products.js";

/** `a * b` folded when both are literals, for offsets in emitted code. */
function mul(a: string, b: number): string {
  if (b === 0 || a === "0") return "0";
  if (/^\d+$/.test(a)) return String(Number(a) * b);
  return b === 1 ? a : `${a} * ${b}`;
}

/**
 * The window loops of one output position: for every (ky, kx) inside the input, `body(p)` with
 * `p` the input offset (within the sample) of that pixel's first channel. Rows and columns
 * outside the input are skipped, with bounds checks emitted only when the geometry pads.
 */
function windowLoops(g: Geometry, body: (p: string) => string): string {
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
function outputLoops(g: Geometry, outChannels: number, body: string): string {
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

/**
 * Sample `SAMPLE`'s windows of the image x unfolded into `col` [OH·OW, K] (im2col): row
 * (oy, ox) holds its window in (ky, kx, ch) order — the order of a filter's weights — with
 * zeros where the window hangs over the padding.
 */
function unfold(g: Geometry, x: string, col: string): string {
  const k = g.kh * g.kw * g.c;
  const pad = padded(g);
  const y0 = g.pt > 0 ? `${mul("oy", g.sh)} - ${g.pt}` : mul("oy", g.sh);
  const x0 = g.pl > 0 ? `${mul("ox", g.sw)} - ${g.pl}` : mul("ox", g.sw);
  const copy =
    g.c === 1
      ? `${col}[q] = ${x}[xs + iy * ${g.w} + ix];`
      : `const p = xs + (iy * ${g.w} + ix) * ${g.c};\nfor (let ch = 0; ch < ${g.c}; ch++) ${col}[q + ch] = ${x}[p + ch];`;
  return [
    `const xs = ${SAMPLE} * ${g.h * g.w * g.c};`,
    `for (let oy = 0; oy < ${g.oh}; oy++) {`,
    `const y0 = ${y0};`,
    `for (let ox = 0; ox < ${g.ow}; ox++) {`,
    `const x0 = ${x0};`,
    `let q = (oy * ${g.ow} + ox) * ${k};`,
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
    `}`,
    `}`,
  ].join("\n");
}

/** `for (let sample = 0; sample < n; sample++) { … }` around per-sample blocks of code. */
function eachSample(...blocks: string[]): string {
  return `for (let ${SAMPLE} = 0; ${SAMPLE} < n; ${SAMPLE}++) {\n${blocks.map((b) => `{\n${b}\n}`).join("\n")}\n}`;
}

/** `const inv = 1 / (pixels of the window inside the input);` (an average pool's divisor, TensorFlow's at the border) */
function inverseCount(g: Geometry, num: (x: number) => string): string {
  if (!padded(g)) return `const inv = ${num(1 / (g.kh * g.kw))};`;
  return [
    `const rowsIn = Math.min(y0 + ${g.kh}, ${g.h}) - Math.max(y0, 0);`,
    `const colsIn = Math.min(x0 + ${g.kw}, ${g.w}) - Math.max(x0, 0);`,
    `const inv = 1 / (rowsIn * colsIn);`,
  ].join("\n");
}

/**
 * A max pool's pass over the windows of x: each maximum and its position (first maximum wins,
 * NaN never does) kept in locals, then stored — the value into `out` when given, the position
 * (within the sample) into `arg`.
 */
function maxPass(node: IrNode, xId: number, out: string | undefined, arg: string, ctx: EmitContext): string {
  const g = geometryOf(node.attrs);
  const x = ctx.ref(xId);
  const ch = g.c === 1 ? "" : " + ch";
  const body = [
    `let best = -Infinity;`,
    `let at = 0;`,
    windowLoops(g, () => `const v = ${x}[xs + p${ch}];\nif (v > best) {\nbest = v;\nat = p${ch};\n}`),
    ...(out !== undefined ? [`${out}[o${ch}] = best;`] : []),
    `${arg}[o${ch}] = at;`,
  ].join("\n");
  return outputLoops(g, g.c, g.c === 1 ? body : `for (let ch = 0; ch < ${g.c}; ch++) {\n${body}\n}`);
}

export const CONV: Readonly<Record<string, TsLowering>> = {
  // The bias and activation in the tile's epilogue: the pre-activation never goes to memory.
  conv2d(node, ctx) {
    const g = geometryOf(node.attrs);
    const p = productOf(node, ctx);
    if (pointwise(g)) return gemm(p, { num: ctx.num });
    return eachSample(unfold(g, ctx.ref(node.inputs[0] as number), p.a), gemm(p, { num: ctx.num }));
  },

  // Each dz value times its filter, added onto the window it came from (overlaps sum).
  conv2d_dx(node, ctx) {
    const g = geometryOf(node.attrs);
    const f = attrNum(node.attrs, "f");
    const k = g.kh * g.kw * g.c;
    const [dzId, wId] = node.inputs as [number, number];
    const dz = ctx.ref(dzId);
    const w = ctx.ref(wId);
    const dx = ctx.ref(node.id);
    const add =
      g.c === 1
        ? `${dx}[xs + p] += a * ${w}[wf + ky * ${g.kw} + kx];`
        : `const q = wf + (ky * ${g.kw} + kx) * ${g.c};\nfor (let ch = 0; ch < ${g.c}; ch++) ${dx}[xs + p + ch] += a * ${w}[q + ch];`;
    const body = [`for (let j = 0; j < ${f}; j++) {`, `const a = ${dz}[o + j];`, `if (a === 0) continue;`, `const wf = j * ${k};`, windowLoops(g, () => add), `}`].join("\n");
    return [`for (let i = 0; i < n * ${g.h * g.w * g.c}; i++) ${dx}[i] = 0;`, outputLoops(g, f, body)].join("\n");
  },

  // Each dz value times its window of x, added onto its filter's gradient (skipping zeros of
  // dz); pointwise: dzᵀ·x as outer products over the pixels.
  conv2d_dw(node, ctx) {
    const g = geometryOf(node.attrs);
    const f = attrNum(node.attrs, "f");
    const k = g.kh * g.kw * g.c;
    const [dzId, xId] = node.inputs as [number, number];
    const dz = ctx.ref(dzId);
    const x = ctx.ref(xId);
    const dw = ctx.ref(node.id);
    const zero = `for (let i = 0; i < ${f * k}; i++) ${dw}[i] = 0;`;
    if (pointwise(g)) {
      const outer = [
        `for (let r = 0; r < n * ${g.oh * g.ow}; r++) {`,
        `const zr = r * ${f};`,
        `const xr = r * ${k};`,
        `for (let j = 0; j < ${f}; j++) {`,
        `const a = ${dz}[zr + j];`,
        `if (a === 0) continue;`,
        `const wf = j * ${k};`,
        `for (let i = 0; i < ${k}; i++) ${dw}[wf + i] += a * ${x}[xr + i];`,
        `}`,
        `}`,
      ];
      return [zero, ...outer].join("\n");
    }
    const add =
      g.c === 1
        ? `${dw}[wf + ky * ${g.kw} + kx] += a * ${x}[xs + p];`
        : `const q = wf + (ky * ${g.kw} + kx) * ${g.c};\nfor (let ch = 0; ch < ${g.c}; ch++) ${dw}[q + ch] += a * ${x}[xs + p + ch];`;
    const body = [`for (let j = 0; j < ${f}; j++) {`, `const a = ${dz}[o + j];`, `if (a === 0) continue;`, `const wf = j * ${k};`, windowLoops(g, () => add), `}`].join("\n");
    return [zero, outputLoops(g, f, body)].join("\n");
  },

  conv2d_db(node, ctx) {
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

  // Computed with the values when the pool computes both (`poolComputesArgmax`); else alone.
  maxpool2d_argmax(node, ctx) {
    if (ctx.readers(node.id).some((r) => r.op === "maxpool2d" && poolComputesArgmax(r, ctx.node))) return "";
    return maxPass(node, node.inputs[0] as number, undefined, ctx.ref(node.id), ctx);
  },

  // Per channel, the window's maximum and its position in locals; one store of each. From
  // positions computed elsewhere: x read at them.
  maxpool2d(node, ctx) {
    const [xId, argmax] = node.inputs as [number, number];
    if (poolComputesArgmax(node, ctx.node)) return maxPass(node, xId, ctx.ref(node.id), ctx.ref(argmax), ctx);
    const g = geometryOf(node.attrs);
    const inSize = g.h * g.w * g.c;
    const outSize = g.oh * g.ow * g.c;
    const [x, out, arg] = [ctx.ref(xId), ctx.ref(node.id), ctx.ref(argmax)];
    return [`for (let r = 0; r < n; r++) {`, `const xs = r * ${inSize};`, `const os = r * ${outSize};`, `for (let j = 0; j < ${outSize}; j++) ${out}[os + j] = ${x}[xs + ${arg}[os + j]];`, `}`].join("\n");
  },

  // Each output gradient to the one input its maximum came from.
  maxpool2d_grad(node, ctx) {
    const g = geometryOf(node.attrs);
    const [dy, argmax] = node.inputs as [number, number];
    const dx = ctx.ref(node.id);
    const arg = ctx.ref(argmax);
    const inSize = g.h * g.w * g.c;
    const outSize = g.oh * g.ow * g.c;
    return [
      `for (let i = 0; i < n * ${inSize}; i++) ${dx}[i] = 0;`,
      `for (let r = 0; r < n; r++) {`,
      `const xs = r * ${inSize};`,
      `const os = r * ${outSize};`,
      `for (let j = 0; j < ${outSize}; j++) ${dx}[xs + ${arg}[os + j]] += ${ctx.ref(dy)}[os + j];`,
      `}`,
    ].join("\n");
  },

  avgpool2d(node, ctx) {
    const g = geometryOf(node.attrs);
    const x = ctx.ref(node.inputs[0] as number);
    const out = ctx.ref(node.id);
    const body = [
      `for (let ch = 0; ch < ${g.c}; ch++) ${out}[o + ch] = 0;`,
      windowLoops(g, () => `for (let ch = 0; ch < ${g.c}; ch++) ${out}[o + ch] += ${x}[xs + p + ch];`),
      inverseCount(g, ctx.num),
      `for (let ch = 0; ch < ${g.c}; ch++) ${out}[o + ch] *= inv;`,
    ].join("\n");
    return outputLoops(g, g.c, body);
  },

  avgpool2d_grad(node, ctx) {
    const g = geometryOf(node.attrs);
    const dy = ctx.ref(node.inputs[0] as number);
    const dx = ctx.ref(node.id);
    const body = [inverseCount(g, ctx.num), windowLoops(g, () => `for (let ch = 0; ch < ${g.c}; ch++) ${dx}[xs + p + ch] += ${dy}[o + ch] * inv;`)].join("\n");
    return [`for (let i = 0; i < n * ${g.h * g.w * g.c}; i++) ${dx}[i] = 0;`, outputLoops(g, g.c, body)].join("\n");
  },
};
