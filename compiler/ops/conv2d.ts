/**
 * conv2d(col, x, w[, b]): a convolution as one tiled matrix product over the windows that
 * `im2col` unfolded from the image x — col [n, OH·OW, K] times wᵀ, w [F, KH, KW, C] (one
 * filter per row, K = KH·KW·C contiguous values), giving [n, OH, OW, F] in NHWC. The bias is
 * loaded per block of filters and the activation (when its derivative reads the output)
 * applied in the tile's epilogue, so the pre-activation never goes to memory.
 *
 * Adjoint: dz = act′ ⊙ dy (`activation_grad`), then dx straight onto the image
 * (`conv2d_dx`, so the window rows' gradient is never stored and `im2col` needs no adjoint),
 * dw = dzᵀ·col (`conv2d_dw`), db = Σ dz over batch and pixels (`conv2d_db`).
 */
import type { OpDef } from "./types.js";
import { alphaOf, attrNum, kernelActivation, toShape } from "./types.js";
import { gemm } from "../codegen/gemm.js";
import { activationDef } from "./activations.js";
import { geometryOf } from "./conv-geometry.js";

/** `body` with the batch count `n` replaced by the number of rows `n · rows` of a 3-D value. */
export function overRows(rows: number, body: string): string {
  if (rows === 1) return body;
  return `const rows = n * ${rows};\n{\nconst n = rows;\n${body}\n}`;
}

export const conv2d: OpDef = {
  name: "conv2d",
  doc: "act(col·wᵀ + b) over every output pixel: [n, OH·OW, K] × [F, K] → [n, OH, OW, F]",
  shape: (inputs, attrs) => {
    const g = geometryOf(attrs);
    return [inputs[0]?.[0] ?? "n", g.oh, g.ow, attrNum(attrs, "f")];
  },
  saves: [0, 2, "out"],
  adjoint(node, dOut, g) {
    if (dOut === undefined) throw new Error("bug: conv2d as loss");
    const [col, x, w, b] = node.inputs as [number, number, number, number | undefined];
    const actName = node.attrs["act"];
    let dz = dOut;
    if (typeof actName === "string" && actName !== "linear") {
      const alpha = node.attrs["alpha"];
      dz = g.add("activation_grad", [dOut, node.id], { act: actName, ...(typeof alpha === "number" ? { alpha } : {}) }, `dz_${node.name}`, node.origin);
    }
    // The backward ops need the geometry and the filter count, not the epilogue.
    const { act: _act, alpha: _alpha, bias: _bias, ...attrs } = node.attrs;
    const dx = g.needsGrad(x) ? g.add("conv2d_dx", [dz, w], { ...attrs, to: toShape(g.node(x).shape) }, g.gradName(x), node.origin) : undefined;
    const dw = g.needsGrad(w) ? g.add("conv2d_dw", [dz, col], attrs, g.gradName(w), node.origin) : undefined;
    const db = b !== undefined && g.needsGrad(b) ? g.add("conv2d_db", [dz], attrs, g.gradName(b), node.origin) : undefined;
    return [undefined, dx, dw, db];
  },
  emit(node, ctx) {
    const g = geometryOf(node.attrs);
    const f = attrNum(node.attrs, "f");
    const k = g.kh * g.kw * g.c;
    const [col, , w, b] = node.inputs as [number, number, number, number | undefined];
    const out = ctx.ref(node.id);
    const bias = b !== undefined ? ctx.ref(b) : undefined;
    const actName = node.attrs["act"];
    const act = typeof actName === "string" && actName !== "linear" ? activationDef(actName) : undefined;
    const alpha = act !== undefined ? ctx.num(alphaOf(node.attrs)) : "";
    const product = { a: ctx.ref(col), b: ctx.ref(w), rows: "n", cols: f, depth: k, aR: k, aD: 1, bD: 1, bC: k, oR: f, oC: 1 } as const;
    // Inside `overRows`, `n` counts window rows: the wasm kernel gets that count.
    const epilogue = kernelActivation(actName);
    if (epilogue !== undefined) {
      const call = ctx.kernel?.({ ...product, out, ...(bias !== undefined ? { bias } : {}), ...epilogue, rowsPerSample: g.oh * g.ow });
      if (call !== undefined) return overRows(g.oh * g.ow, call);
    }
    const code = gemm({
      ...product,
      ...(bias !== undefined ? { colSetup: (ci: number, c: string) => `const q${ci} = ${bias}[${c}];` } : {}),
      store: (acc, o, ci) => {
        const v = bias !== undefined ? `${acc} + q${ci}` : acc;
        if (act === undefined) return `${out}[${o}] = ${v};`;
        return `{\nconst v = ${v};\n${out}[${o}] = ${act.fwd("v", alpha)};\n}`;
      },
    });
    return overRows(g.oh * g.ow, code);
  },
};
