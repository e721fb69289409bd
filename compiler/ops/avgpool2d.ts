/**
 * avgpool2d(x): the mean of each window, per channel: [n, H, W, C] → [n, OH, OW, C]. With
 * `same` padding a window at the border averages only the pixels inside the input (as
 * TensorFlow does). Adjoint: `avgpool2d_grad` spreads each gradient evenly over its window.
 */
import type { OpDef } from "./types.js";
import { shapeOfTo, toShape } from "./types.js";
import { geometryOf } from "./conv_geometry.js";

export const avgpool2d: OpDef = {
  name: "avgpool2d",
  doc: "window mean per channel",
  shape: (inputs, attrs) => {
    const g = geometryOf(attrs);
    return [inputs[0]?.[0] ?? "n", g.oh, g.ow, g.c];
  },
  adjoint(node, dOut, g) {
    if (dOut === undefined) throw new Error("bug: avgpool2d as loss");
    const x = node.inputs[0] as number;
    return [g.add("avgpool2d_grad", [dOut], { ...node.attrs, to: toShape(g.node(x).shape) }, g.gradName(x), node.origin)];
  },
};

export const avgpool2dGrad: OpDef = {
  name: "avgpool2d_grad",
  doc: "dy spread evenly over each window: [n, OH, OW, C] → [n, H, W, C]",
  shape: (_inputs, attrs) => shapeOfTo(attrs),
};
