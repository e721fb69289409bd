/**
 * dense(x, w[, b]): the fused forward of a dense layer — matmul, bias and activation in one
 * tiled loop; the bias is loaded per column block and the activation applied in the tile's
 * epilogue, so the pre-activation never goes to memory. Made by `fuse.ts` only; its adjoint
 * comes from the unfused ops it replaces.
 */
import type { OpDef } from "./types.js";
import { alphaOf, kernelActivation } from "./types.js";
import { forwardGemm } from "./matmul.js";
import { activationDef } from "./activations.js";

export const dense: OpDef = {
  name: "dense",
  doc: "act(x·wᵀ + b) in one pass",
  shape: (inputs) => [inputs[0]?.[0] ?? "n", inputs[1]?.[0] ?? 0],
  saves: [],
  emit(node, ctx) {
    const out = ctx.ref(node.id);
    const bias = node.attrs["bias"] === true ? ctx.ref(node.inputs[2] as number) : undefined;
    const actName = node.attrs["act"];
    const act = typeof actName === "string" && actName !== "linear" ? activationDef(actName) : undefined;
    const alpha = act !== undefined ? ctx.num(alphaOf(node.attrs)) : "";
    const setup = bias !== undefined ? (ci: number, c: string) => `const q${ci} = ${bias}[${c}];` : undefined;
    // The wasm kernels know ReLU, tanh and sigmoid; other activations keep the TypeScript kernel.
    const epilogue = kernelActivation(actName);
    const wasm = epilogue !== undefined ? { ...(bias !== undefined ? { bias } : {}), ...epilogue } : undefined;
    return forwardGemm(node, ctx, setup, (acc, o, ci) => {
      const v = bias !== undefined ? `${acc} + q${ci}` : acc;
      if (act === undefined) return `${out}[${o}] = ${v};`;
      // Inline the value when the activation reads it once (tanh, sigmoid); else name it.
      const shape = act.fwd("\u0000", alpha);
      if (/^[\w.]+\(\u0000\)$/.test(shape)) return `${out}[${o}] = ${act.fwd(v, alpha)};`;
      if (shape.split("\u0000").length === 2) return `${out}[${o}] = ${act.fwd(`(${v})`, alpha)};`;
      return `{\nconst v = ${v};\n${out}[${o}] = ${act.fwd("v", alpha)};\n}`;
    }, wasm);
  },
};
