/**
 * softmax_cross_entropy(z, t): cross-entropy of softmax(z) computed from the logits with
 * log-sum-exp, −Σ t·(z − max − log Σ e^(z − max)), exact for any logits. Made by `fuse.ts`.
 */
import type { OpDef } from "./types.js";
import { perRow } from "./types.js";

export const softmaxCrossEntropy: OpDef = {
  name: "softmax_cross_entropy",
  doc: "mean cross-entropy of softmax(z), by log-sum-exp",
  shape: () => [],
  saves: [],
  emit(node, ctx) {
    const [zi, yi] = node.inputs as [number, number];
    const m = perRow(ctx.node(zi));
    const z = ctx.ref(zi);
    const y = ctx.ref(yi);
    return [
      `let total = 0;`,
      `for (let r = 0; r < n; r++) {`,
      `const o = r * ${m};`,
      `let max = ${z}[o];`,
      `for (let j = 1; j < ${m}; j++) if (${z}[o + j] > max) max = ${z}[o + j];`,
      `let sum = 0;`,
      `for (let j = 0; j < ${m}; j++) sum += Math.exp(${z}[o + j] - max);`,
      `const lse = max + Math.log(sum);`,
      `for (let j = 0; j < ${m}; j++) total += ${y}[o + j] * (lse - ${z}[o + j]);`,
      `}`,
      `${ctx.lossVar} = total / n;`,
    ].join("\n");
  },
};
