/**
 * im2col(x): each output pixel's window as one row, [n, H, W, C] → [n, OH·OW, KH·KW·C]: row
 * (oy, ox) holds its window in (ky, kx, ch) order, the order of a filter's weights, and zeros
 * where the window hangs over the padding. No adjoint of its own: `conv2d` reads x too and
 * sends x's gradient straight onto the image (`conv2d_dx`).
 */
import type { OpDef } from "./types.js";
import { geometryOf } from "./conv_geometry.js";

export const im2col: OpDef = {
  name: "im2col",
  doc: "every convolution window as one row: [n, H, W, C] → [n, OH·OW, KH·KW·C]",
  shape: (inputs, attrs) => {
    const g = geometryOf(attrs);
    return [inputs[0]?.[0] ?? "n", g.oh * g.ow, g.kh * g.kw * g.c];
  },
};
