/**
 * maxpool2d(x): the largest value of each window, per channel: [n, H, W, C] → [n, OH, OW, C].
 * The position of each maximum (within its sample) is kept in the `argmax` buffer, so the
 * adjoint `maxpool2d_grad` routes each output gradient to the one input it came from.
 */
import type { OpDef } from "./types.js";
import { attrStr } from "./types.js";
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
    return [g.add("maxpool2d_grad", [dOut, node.id], { ...node.attrs, to: g.node(x).shape.join(",") }, g.gradName(x), node.origin)];
  },
  emit(node, ctx) {
    const g = geometryOf(node.attrs);
    const x = ctx.ref(node.inputs[0] as number);
    const out = ctx.ref(node.id);
    const arg = ctx.aux(node.id, "argmax");
    const step =
      g.c === 1
        ? `const v = ${x}[xs + p];\nif (v > ${out}[o]) {\n${out}[o] = v;\n${arg}[o] = p;\n}`
        : `for (let ch = 0; ch < ${g.c}; ch++) {\nconst v = ${x}[xs + p + ch];\nif (v > ${out}[o + ch]) {\n${out}[o + ch] = v;\n${arg}[o + ch] = p + ch;\n}\n}`;
    const start =
      g.c === 1 ? `${out}[o] = -Infinity;\n${arg}[o] = 0;` : `for (let ch = 0; ch < ${g.c}; ch++) {\n${out}[o + ch] = -Infinity;\n${arg}[o + ch] = 0;\n}`;
    return outputLoops(g, g.c, `${start}\n${windowLoops(g, () => step)}`);
  },
};

export const maxpool2dGrad: OpDef = {
  name: "maxpool2d_grad",
  doc: "dy routed to each window's argmax: [n, OH, OW, C] → [n, H, W, C]",
  shape: (_inputs, attrs) =>
    attrStr(attrs, "to")
      .split(",")
      .map((d) => (d === "n" ? "n" : Number(d))),
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
