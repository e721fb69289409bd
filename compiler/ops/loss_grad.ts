/** loss_grad(p, t): d(mean loss)/dp, elementwise, from the loss's own derivative template. */
import type { OpDef } from "./types.js";
import { attrStr, batchCount, perRow } from "./types.js";
import { meanDivisor } from "./loss.js";
import { lossDef } from "./losses.js";

export const lossGrad: OpDef = {
  name: "loss_grad",
  doc: "gradient of a mean loss with respect to the prediction",
  shape: (inputs) => inputs[0] ?? [],
  saves: [],
  emit(node, ctx) {
    const def = lossDef(attrStr(node.attrs, "loss"));
    const [p, y] = node.inputs as [number, number];
    const m = perRow(node);
    const delta = ctx.num((typeof node.attrs["delta"] === "number" ? node.attrs["delta"] : 1));
    return [
      `const scale = 1 / ${meanDivisor(def.mean, m)};`,
      `for (let i = 0; i < ${batchCount(m)}; i++) {`,
      `const p = ${ctx.ref(p)}[i], t = ${ctx.ref(y)}[i];`,
      `${ctx.ref(node.id)}[i] = (${def.grad("p", "t", delta)}) * scale;`,
      `}`,
    ].join("\n");
  },
};
