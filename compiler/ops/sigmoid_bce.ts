/**
 * sigmoid_bce(z, t): binary cross-entropy of sigmoid(z) from the logits,
 * max(z, 0) − z·t + log(1 + e^−|z|), exact for any z. Made by `fuse.ts`.
 */
import type { OpDef } from "./types.js";
import { batchCount, perRow } from "./types.js";
import { meanDivisor } from "./loss.js";

export const sigmoidBce: OpDef = {
  name: "sigmoid_bce",
  doc: "mean binary cross-entropy of sigmoid(z), from the logits",
  shape: () => [],
  saves: [],
  emit(node, ctx) {
    const [zi, yi] = node.inputs as [number, number];
    const m = perRow(ctx.node(zi));
    return [
      `let total = 0;`,
      `for (let i = 0; i < ${batchCount(m)}; i++) {`,
      `const z = ${ctx.ref(zi)}[i];`,
      `total += (z > 0 ? z : 0) - z * ${ctx.ref(yi)}[i] + Math.log1p(Math.exp(-Math.abs(z)));`,
      `}`,
      `${ctx.lossVar} = total / ${meanDivisor("all", m)};`,
    ].join("\n");
  },
};
