/** reshape (flatten) with attribute `to`: the same values under another shape; shares its input's buffer. */
import type { OpDef } from "./types.js";
import { shapeOfTo, toShape } from "./types.js";

export const reshape: OpDef = {
  name: "reshape",
  doc: "same buffer, another shape",
  shape: (_inputs, attrs) => shapeOfTo(attrs),
  alias: true,
  adjoint(node, dOut, g) {
    if (dOut === undefined) throw new Error("bug: reshape as loss");
    const x = node.inputs[0] as number;
    return [g.add("reshape", [dOut], { to: toShape(g.node(x).shape) }, g.gradName(x), node.origin)];
  },
};
