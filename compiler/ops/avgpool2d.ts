/**
 * avgpool2d(x): the mean of each window, per channel: [n, H, W, C] → [n, OH, OW, C]. With
 * `same` padding a window at the border averages only the pixels inside the input (as
 * TensorFlow does). Adjoint: `avgpool2d_grad` spreads each gradient evenly over its window.
 */
import type { OpDef } from "./types.js";
import { shapeOfTo, toShape } from "./types.js";
import type { Geometry } from "./conv-geometry.js";
import { geometryOf, outputLoops, padded, windowLoops } from "./conv-geometry.js";

/** `const inv = 1 / (pixels of the window inside the input);` */
function inverseCount(g: Geometry, num: (x: number) => string): string {
  if (!padded(g)) return `const inv = ${num(1 / (g.kh * g.kw))};`;
  return [
    `const rowsIn = Math.min(y0 + ${g.kh}, ${g.h}) - Math.max(y0, 0);`,
    `const colsIn = Math.min(x0 + ${g.kw}, ${g.w}) - Math.max(x0, 0);`,
    `const inv = 1 / (rowsIn * colsIn);`,
  ].join("\n");
}

export const avgpool2d: OpDef = {
  name: "avgpool2d",
  doc: "window mean per channel",
  shape: (inputs, attrs) => {
    const g = geometryOf(attrs);
    return [inputs[0]?.[0] ?? "n", g.oh, g.ow, g.c];
  },
  saves: [],
  adjoint(node, dOut, g) {
    if (dOut === undefined) throw new Error("bug: avgpool2d as loss");
    const x = node.inputs[0] as number;
    return [g.add("avgpool2d_grad", [dOut], { ...node.attrs, to: toShape(g.node(x).shape) }, g.gradName(x), node.origin)];
  },
  emit(node, ctx) {
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
};

export const avgpool2dGrad: OpDef = {
  name: "avgpool2d_grad",
  doc: "dy spread evenly over each window: [n, OH, OW, C] → [n, H, W, C]",
  shape: (_inputs, attrs) => shapeOfTo(attrs),
  saves: [],
  emit(node, ctx) {
    const g = geometryOf(node.attrs);
    const dy = ctx.ref(node.inputs[0] as number);
    const dx = ctx.ref(node.id);
    const body = [inverseCount(g, ctx.num), windowLoops(g, () => `for (let ch = 0; ch < ${g.c}; ch++) ${dx}[xs + p + ch] += ${dy}[o + ch] * inv;`)].join("\n");
    return [`for (let i = 0; i < n * ${g.h * g.w * g.c}; i++) ${dx}[i] = 0;`, outputLoops(g, g.c, body)].join("\n");
  },
};
