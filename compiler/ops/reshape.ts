/** reshape (flatten): the same values under another shape; shares its input's buffer. */
import type { OpDef } from "./types.js";
import { attrStr } from "./types.js";

export const reshape: OpDef = {
  name: "reshape",
  doc: "same buffer, another shape",
  shape: (_inputs, attrs) =>
    attrStr(attrs, "to")
      .split(",")
      .map((d) => (d === "n" ? "n" : Number(d))),
  saves: [],
  alias: true,
  adjoint(node, dOut, g) {
    if (dOut === undefined) throw new Error("bug: reshape as loss");
    const x = node.inputs[0] as number;
    return [g.add("reshape", [dOut], { to: g.node(x).shape.join(",") }, g.gradName(x), node.origin)];
  },
  emit: () => "",
};
