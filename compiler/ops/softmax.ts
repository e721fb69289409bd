/**
 * softmax over each row (max-subtracted, so exp never overflows). Adjoint: `softmax_grad`,
 * dz = p ⊙ (dp − Σ dp·p), from the saved output.
 */
import type { OpDef } from "./types.js";
import { perRow } from "./types.js";

export const softmax: OpDef = {
  name: "softmax",
  doc: "row-wise softmax",
  shape: (inputs) => inputs[0] ?? [],
  saves: ["out"],
  adjoint(node, dOut, g) {
    if (dOut === undefined) throw new Error("bug: softmax as loss");
    const z = node.inputs[0] as number;
    return [g.add("softmax_grad", [dOut, node.id], {}, g.gradName(z), node.origin)];
  },
  emit(node, ctx) {
    const m = perRow(node);
    const z = ctx.ref(node.inputs[0] as number);
    const p = ctx.ref(node.id);
    return [
      `for (let r = 0; r < n; r++) {`,
      `const o = r * ${m};`,
      `let max = ${z}[o];`,
      `for (let j = 1; j < ${m}; j++) if (${z}[o + j] > max) max = ${z}[o + j];`,
      `let sum = 0;`,
      `for (let j = 0; j < ${m}; j++) {`,
      `const e = Math.exp(${z}[o + j] - max);`,
      `${p}[o + j] = e;`,
      `sum += e;`,
      `}`,
      `for (let j = 0; j < ${m}; j++) ${p}[o + j] /= sum;`,
      `}`,
    ].join("\n");
  },
};
