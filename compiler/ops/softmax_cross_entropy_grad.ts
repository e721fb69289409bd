/**
 * softmax_cross_entropy_grad(p, t): the logits' gradient of softmax + cross-entropy,
 * (p·Σt − t) / n — that is (p − t) / n for one-hot labels. Made by `fuse.ts`.
 */
import type { OpDef } from "./types.js";
import { perRow } from "./types.js";

export const softmaxCrossEntropyGrad: OpDef = {
  name: "softmax_cross_entropy_grad",
  doc: "(p − t) / n, the fused softmax + cross-entropy gradient",
  shape: (inputs) => inputs[0] ?? [],
  saves: [],
  emit(node, ctx) {
    const m = perRow(node);
    const [p, y] = node.inputs.map((i) => ctx.ref(i)) as [string, string];
    const dz = ctx.ref(node.id);
    return [
      `const scale = 1 / n;`,
      `for (let r = 0; r < n; r++) {`,
      `const o = r * ${m};`,
      `let sumT = 0;`,
      `for (let j = 0; j < ${m}; j++) sumT += ${y}[o + j];`,
      `for (let j = 0; j < ${m}; j++) ${dz}[o + j] = (${p}[o + j] * sumT - ${y}[o + j]) * scale;`,
      `}`,
    ].join("\n");
  },
};
