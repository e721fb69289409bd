/** sigmoid_bce_grad(p, t): (p − t) / (n·outputs), the fused sigmoid + BCE gradient. */
import type { OpDef } from "./types.js";
import { eachElement, perRow } from "./types.js";
import { meanDivisor } from "./loss.js";

export const sigmoidBceGrad: OpDef = {
  name: "sigmoid_bce_grad",
  doc: "(p − t) / (n·outputs)",
  shape: (inputs) => inputs[0] ?? [],
  saves: [],
  emit(node, ctx) {
    const [p, y] = node.inputs.map((i) => ctx.ref(i)) as [string, string];
    return `const scale = 1 / ${meanDivisor("all", perRow(node))};\n${eachElement(node, `${ctx.ref(node.id)}[i] = (${p}[i] - ${y}[i]) * scale;`)}`;
  },
};
