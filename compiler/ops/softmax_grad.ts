/** softmax_grad(dp, p): dz = p ⊙ (dp − Σ_j dp_j·p_j), row by row. */
import type { OpDef } from "./types.js";
import { perRow } from "./types.js";

export const softmaxGrad: OpDef = {
  name: "softmax_grad",
  doc: "backward of the row-wise softmax",
  shape: (inputs) => inputs[0] ?? [],
  saves: [],
  emit(node, ctx) {
    const m = perRow(node);
    const [dp, p] = node.inputs.map((i) => ctx.ref(i)) as [string, string];
    const dz = ctx.ref(node.id);
    return [
      `for (let r = 0; r < n; r++) {`,
      `const o = r * ${m};`,
      `let dot = 0;`,
      `for (let j = 0; j < ${m}; j++) dot += ${dp}[o + j] * ${p}[o + j];`,
      `for (let j = 0; j < ${m}; j++) ${dz}[o + j] = ${p}[o + j] * (${dp}[o + j] - dot);`,
      `}`,
    ].join("\n");
  },
};
