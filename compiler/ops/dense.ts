/**
 * dense(x, w[, b]): the fused forward of a dense layer — act(x·wᵀ + b) in one product, the bias
 * and the activation applied to each sum before it is stored, so the pre-activation never goes
 * to memory (attributes `act`, `alpha`, `bias`). Made by `fuse.ts` only; its adjoint comes from
 * the unfused ops it replaces.
 */
import { elements, type OpDef } from "./types.js";

export const dense: OpDef = {
  name: "dense",
  doc: "act(x·wᵀ + b) in one pass",
  shape: (inputs) => [inputs[0]?.[0] ?? "n", inputs[1]?.[0] ?? 0],
  macs: ([x = [], w = []]) => elements(x) * (w[0] ?? 0),
};
