/**
 * maxpool2d(x): the largest value of each window, per channel: [n, H, W, C] → [n, OH, OW, C].
 * The position of each maximum (within its sample) is kept in the `argmax` buffer, so the
 * adjoint `maxpool2d_grad` routes each output gradient to the one input it came from.
 */
import type { OpDef } from "./types.js";
import { shapeOfTo, toShape } from "./types.js";
import { geometryOf, outputLoops, windowLoops } from "./conv-geometry.js";

export const maxpool2d: OpDef = {
  name: "maxpool2d",
  doc: "window maximum per channel, with the argmax saved",
  shape: (inputs, attrs) => {
    const g = geometryOf(attrs);
    return [inputs[0]?.[0] ?? "n", g.oh, g.ow, g.c];
  },
  saves: [],
  auxBuffers: ["argmax"],
  adjoint(node, dOut, g) {
    if (dOut === undefined) throw new Error("bug: maxpool2d as loss");
    const x = node.inputs[0] as number;
    return [g.add("maxpool2d_grad", [dOut, node.id], { ...node.attrs, to: toShape(g.node(x).shape) }, g.gradName(x), node.origin)];
  },
  emit(node, ctx) {
    const g = geometryOf(node.attrs);
    const x = ctx.ref(node.inputs[0] as number);
    const out = ctx.ref(node.id);
    const arg = ctx.aux(node.id, "argmax");
    const call = ctx.maxpoolKernel?.({ x, out, arg, ...g });
    if (call !== undefined) return call;
    // Per channel, the window's maximum and its position in locals; one store of each.
    const ch = g.c === 1 ? "" : " + ch";
    const body = [
      `let best = -Infinity;`,
      `let at = 0;`,
      windowLoops(g, () => `const v = ${x}[xs + p${ch}];\nif (v > best) {\nbest = v;\nat = p${ch};\n}`),
      `${out}[o${ch}] = best;`,
      `${arg}[o${ch}] = at;`,
    ].join("\n");
    return outputLoops(g, g.c, g.c === 1 ? body : `for (let ch = 0; ch < ${g.c}; ch++) {\n${body}\n}`);
  },
};

export const maxpool2dGrad: OpDef = {
  name: "maxpool2d_grad",
  doc: "dy routed to each window's argmax: [n, OH, OW, C] → [n, H, W, C]",
  shape: (_inputs, attrs) => shapeOfTo(attrs),
  saves: [],
  emit(node, ctx) {
    const g = geometryOf(node.attrs);
    const [dy, pool] = node.inputs as [number, number];
    const dx = ctx.ref(node.id);
    const arg = ctx.aux(pool, "argmax");
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
};
