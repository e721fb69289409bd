/**
 * conv2d(x, w[, b]): a 2-D convolution of the NHWC image x [n, H, W, C] with the filters
 * w [F, KH, KW, C] (one filter per row, K = KH·KW·C contiguous values), giving
 * [n, OH, OW, F] — with the bias and the activation (when its derivative reads the output;
 * attributes `bias`, `act`, `alpha`) applied to each sum before it is stored, so the
 * pre-activation never goes to memory. Geometry attributes: `conv_geometry.ts`.
 *
 * The op says what is computed, not how: both targets compute it as a matrix product over the
 * windows, each sample's windows unfolded into rows (im2col) in scratch memory that lives for
 * this op alone (`codegen/ts/conv.ts`, `codegen/wasm/conv.ts`); a 1×1, stride-1, unpadded
 * kernel reads the image as its rows. The unfolded rows are never an IR value.
 *
 * Adjoint: dz = act′ ⊙ dy (`activation_grad`), then, over the output gradient dz [n, OH, OW, F]:
 *
 *   conv2d_dx(dz, w)     each dz value times its filter, added onto the window it came from
 *                        → dx [n, H, W, C] (a transposed convolution; overlaps sum)
 *   conv2d_dw(dz, x)     Σ over batch and pixels of dz ⊗ the pixel's window of x → [F, KH, KW, C]
 *                        (the targets unfold x's windows again, one sample at a time)
 *   conv2d_db(dz)        Σ dz over batch and pixels → [F]
 */
import type { OpDef } from "./types.js";
import { attrNum, shapeOfTo, toShape } from "./types.js";
import type { Attrs } from "../ir.js";

/** Every output pixel's filters times its window: n·OH·OW·F·KH·KW·C, forwards and in either gradient. */
function convMacs(_inputs: readonly (readonly number[])[], attrs: Attrs): number {
  const g = geometryOf(attrs);
  return g.oh * g.ow * attrNum(attrs, "f") * g.kh * g.kw * g.c;
}
import { geometryOf } from "./conv_geometry.js";

export const conv2d: OpDef = {
  name: "conv2d",
  doc: "act(Σ window · filter + b) over every output pixel: [n, H, W, C] ⊛ [F, KH, KW, C] → [n, OH, OW, F]",
  shape: (inputs, attrs) => {
    const g = geometryOf(attrs);
    return [inputs[0]?.[0] ?? "n", g.oh, g.ow, attrNum(attrs, "f")];
  },
  macs: convMacs,
  adjoint(node, dOut, g) {
    if (dOut === undefined) throw new Error("bug: conv2d as loss");
    const [x, w, b] = node.inputs as [number, number, number | undefined];
    const actName = node.attrs["act"];
    let dz = dOut;
    if (typeof actName === "string" && actName !== "linear") {
      const alpha = node.attrs["alpha"];
      dz = g.add("activation_grad", [dOut, node.id], { act: actName, ...(typeof alpha === "number" ? { alpha } : {}) }, `dz_${node.name}`, node.origin);
    }
    // The backward ops need the geometry and the filter count, not the epilogue.
    const { act: _act, alpha: _alpha, bias: _bias, ...attrs } = node.attrs;
    const dx = g.needsGrad(x) ? g.add("conv2d_dx", [dz, w], { ...attrs, to: toShape(g.node(x).shape) }, g.gradName(x), node.origin) : undefined;
    const dw = g.needsGrad(w) ? g.add("conv2d_dw", [dz, x], attrs, g.gradName(w), node.origin) : undefined;
    const db = b !== undefined && g.needsGrad(b) ? g.add("conv2d_db", [dz], attrs, g.gradName(b), node.origin) : undefined;
    return [dx, dw, db];
  },
};

export const conv2dDx: OpDef = {
  name: "conv2d_dx",
  doc: "transposed convolution of dz with w: [n, OH, OW, F] → [n, H, W, C]",
  shape: (_inputs, attrs) => shapeOfTo(attrs),
  macs: convMacs,
};

export const conv2dDw: OpDef = {
  name: "conv2d_dw",
  doc: "Σ dz ⊗ window of x over batch and pixels: [n, OH, OW, F], [n, H, W, C] → [F, KH, KW, C]",
  shape: (_inputs, attrs) => {
    const g = geometryOf(attrs);
    return [attrNum(attrs, "f"), g.kh, g.kw, g.c];
  },
  macs: convMacs,
};

export const conv2dDb: OpDef = {
  name: "conv2d_db",
  doc: "Σ dz over batch and pixels: [n, OH, OW, F] → [F]",
  shape: (_inputs, attrs) => [attrNum(attrs, "f")],
};
