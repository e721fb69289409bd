/**
 * matmul_nn(dy, w) = dy·w: the input gradient [n, K] of `matmul`. After fusion its epilogue
 * also applies the dropout mask and the activation derivative of the layer below
 * (attrs `act`, `alpha`, `mask`; extra inputs: the saved activation value, the dropout node).
 */
import type { OpDef } from "./types.js";
import { alphaOf, kernelActivationGrad } from "./types.js";
import { gemm } from "../codegen/gemm.js";
import { activationDef } from "./activations.js";

export const matmulNn: OpDef = {
  name: "matmul_nn",
  doc: "dy·w: [n, M] × [M, K] → [n, K], with an optional mask/activation-derivative epilogue",
  shape: (inputs) => [inputs[0]?.[0] ?? "n", inputs[1]?.[1] ?? 0],
  saves: [],
  emit(node, ctx) {
    const [dy, w] = node.inputs as [number, number];
    const [m, k] = ctx.node(w).shape as [number, number];
    const out = ctx.ref(node.id);
    let extra = 2;
    const act = typeof node.attrs["act"] === "string" ? activationDef(node.attrs["act"]) : undefined;
    const saved = act !== undefined ? ctx.ref(node.inputs[extra++] as number) : "";
    const mask = node.attrs["mask"] === true ? ctx.aux(node.inputs[extra++] as number, "mask") : "";
    const alpha = act !== undefined ? ctx.num(alphaOf(node.attrs)) : "";
    const product = { a: ctx.ref(dy), b: ctx.ref(w), rows: "n", cols: k, depth: m, aR: m, aD: 1, bD: k, bC: 1, oR: k, oC: 1 } as const;
    // The wasm kernels know the mask and the ReLU, tanh and sigmoid derivatives; others keep the TypeScript kernel.
    const epilogue = kernelActivationGrad(node.attrs["act"], saved);
    if (epilogue !== undefined) {
      const call = ctx.kernel?.({ ...product, out, ...(mask ? { mask } : {}), ...epilogue });
      if (call !== undefined) return call;
    }
    return gemm({
      ...product,
      store: (acc, o) => {
        const g = mask ? `${acc} * ${mask}[${o}]` : acc;
        return `${out}[${o}] = ${act !== undefined ? act.grad(g, `${saved}[${o}]`, alpha) : g};`;
      },
    });
  },
};
