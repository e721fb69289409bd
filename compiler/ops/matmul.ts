/**
 * matmul(x, w): x [n, K] times wᵀ, w stored [M, K] (one row per output unit, so a product reads
 * a row of x and a row of w, both contiguous), and the two products of its adjoint:
 *
 *   matmul_nn(dy, w) = dy·w     the input gradient [n, K]. After fusion it also applies the
 *                               dropout mask and the activation derivative of the layer below
 *                               (attributes `act`, `alpha`, `mask`; extra inputs: the saved
 *                               activation value, then the dropout node)
 *   matmul_tn(dy, x) = dyᵀ·x    the weight gradient [M, K], summed over the batch
 */
import { elements, type OpDef } from "./types.js";

/** n·M·K: the [n, M] side (x·wᵀ's output, or dy) times the other factor's K. */
const productMacs = (rows: readonly number[], k: number | undefined): number => elements(rows) * (k ?? 0);

export const matmul: OpDef = {
  name: "matmul",
  doc: "x·wᵀ: [n, K] × [M, K] → [n, M]",
  shape: (inputs) => [inputs[0]?.[0] ?? "n", inputs[1]?.[0] ?? 0],
  macs: ([x = [], w = []]) => productMacs(x, w[0]),
  adjoint(node, dOut, g) {
    if (dOut === undefined) throw new Error("bug: matmul as loss");
    const [x, w] = node.inputs as [number, number];
    const dx = g.needsGrad(x) ? g.add("matmul_nn", [dOut, w], {}, g.gradName(x), node.origin) : undefined;
    const dw = g.needsGrad(w) ? g.add("matmul_tn", [dOut, x], {}, g.gradName(w), node.origin) : undefined;
    return [dx, dw];
  },
};

export const matmulNn: OpDef = {
  name: "matmul_nn",
  doc: "dy·w: [n, M] × [M, K] → [n, K], optionally times a dropout mask and an activation's derivative",
  shape: (inputs) => [inputs[0]?.[0] ?? "n", inputs[1]?.[1] ?? 0],
  macs: ([dy = [], w = []]) => productMacs(dy, w[1]),
};

export const matmulTn: OpDef = {
  name: "matmul_tn",
  doc: "dyᵀ·x: [n, M]ᵀ × [n, K] → [M, K]",
  shape: (inputs) => [inputs[0]?.[1] ?? 0, inputs[1]?.[1] ?? 0],
  macs: ([dy = [], x = []]) => productMacs(dy, x[1]),
};
