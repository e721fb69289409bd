/** add(a, b): sums two adjoints of a value read in two places. */
import type { OpDef } from "./types.js";
import { eachElement } from "./types.js";

export const add: OpDef = {
  name: "add",
  doc: "a + b",
  shape: (inputs) => inputs[0] ?? [],
  saves: [],
  emit(node, ctx) {
    const [a, b] = node.inputs as [number, number];
    return eachElement(node, `${ctx.ref(node.id)}[i] = ${ctx.ref(a)}[i] + ${ctx.ref(b)}[i];`);
  },
};
