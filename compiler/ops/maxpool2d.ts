/**
 * maxpool2d(x): the largest value of each window, per channel: [n, H, W, C] → [n, OH, OW, C].
 * The position of each maximum (within its sample) is kept in the `argmax` buffer, so the
 * adjoint `maxpool2d_grad` routes each output gradient to the one input it came from.
 */
import type { OpDef } from "./types.js";
import { shapeOfTo, toShape } from "./types.js";
import { geometryOf } from "./conv_geometry.js";

export const maxpool2d: OpDef = {
  name: "maxpool2d",
  doc: "window maximum per channel, with the argmax saved",
  shape: (inputs, attrs) => {
    const g = geometryOf(attrs);
    return [inputs[0]?.[0] ?? "n", g.oh, g.ow, g.c];
  },
  auxBuffers: ["argmax"],
  adjoint(node, dOut, g) {
    if (dOut === undefined) throw new Error("bug: maxpool2d as loss");
    const x = node.inputs[0] as number;
    return [g.add("maxpool2d_grad", [dOut, node.id], { ...node.attrs, to: toShape(g.node(x).shape) }, g.gradName(x), node.origin)];
  },
};

export const maxpool2dGrad: OpDef = {
  name: "maxpool2d_grad",
  doc: "dy routed to each window's argmax: [n, OH, OW, C] → [n, H, W, C]",
  shape: (_inputs, attrs) => shapeOfTo(attrs),
};
