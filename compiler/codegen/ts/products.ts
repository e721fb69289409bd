/**
 * The matrix products as one typed request each (`productOf`: operands, shape and strides,
 * epilogue as data, built once from the node and used by every target), and their TypeScript
 * lowerings: matmul, dense, matmul_nn, matmul_tn, rendered by the tiled `gemm`. conv2d and
 * conv2d_dw are products too (`conv.ts` lowers them).
 *
 * Strides are chosen so the inner loop reads both operands with constant offsets:
 *
 *   product              rows × cols, reduced over     A                  B
 *   x·wᵀ (forward)       n × units, over inputs        x rows             w rows (contiguous)
 *   dy·w (input grad)    n × inputs, over units        dy rows            adjacent values of a w row
 *   dyᵀ·x (weight grad)  units × inputs, over batch    4 values of dy     values of x, per sample
 */
import type { IrNode } from "../../ir.js";
import { alphaOf, attrNum } from "../../ops/types.js";
import { geometryOf } from "../../ops/conv_geometry.js";
import { gemm, type EpilogueActivation, type Product } from "../gemm.js";
import type { EmitContext, TsLowering } from "./context.js";

/** The activation an op applies in its epilogue (`act` attribute), none for "linear". */
function activationOf(node: IrNode): EpilogueActivation | undefined {
  const kind = node.attrs["act"];
  return typeof kind === "string" && kind !== "linear" ? { kind, alpha: alphaOf(node.attrs) } : undefined;
}

/** The forward x·wᵀ of matmul and dense: x [n, K], w [M, K]. */
function forwardShape(node: IrNode, ctx: EmitContext) {
  const [x, w] = node.inputs as [number, number];
  const [m, k] = ctx.node(w).shape as [number, number];
  return { a: ctx.ref(x), b: ctx.ref(w), out: ctx.ref(node.id), rows: "n", cols: m, depth: k, aR: k, aD: 1, bD: 1, bC: k, oR: m, oC: 1 } as const;
}

/** The product a node computes: matmul, dense, matmul_nn, matmul_tn, conv2d, conv2d_dw. */
export function productOf(node: IrNode, ctx: EmitContext): Product {
  switch (node.op) {
    case "matmul":
      return { ...forwardShape(node, ctx), epilogue: { kind: "forward" } };
    case "dense": {
      // dense(x, w[, b]) with attributes `bias` and `act`.
      const bias = node.attrs["bias"] === true ? ctx.ref(node.inputs[2] as number) : undefined;
      const act = activationOf(node);
      return { ...forwardShape(node, ctx), epilogue: { kind: "forward", ...(bias !== undefined ? { bias } : {}), ...(act !== undefined ? { act } : {}) } };
    }
    case "matmul_nn": {
      // matmul_nn(dy, w[, saved][, dropout node]): dy [n, M]·w [M, K], times the mask and act′(saved).
      const [dy, w] = node.inputs as [number, number];
      const [m, k] = ctx.node(w).shape as [number, number];
      let extra = 2;
      const act = activationOf(node);
      const actGrad = act !== undefined ? { ...act, saved: ctx.ref(node.inputs[extra++] as number) } : undefined;
      const mask = node.attrs["mask"] === true ? ctx.aux(node.inputs[extra++] as number, "mask") : undefined;
      return {
        a: ctx.ref(dy),
        b: ctx.ref(w),
        out: ctx.ref(node.id),
        rows: "n",
        cols: k,
        depth: m,
        aR: m,
        aD: 1,
        bD: k,
        bC: 1,
        oR: k,
        oC: 1,
        epilogue: { kind: "gradient", ...(mask !== undefined ? { mask } : {}), ...(actGrad !== undefined ? { actGrad } : {}) },
      };
    }
    case "matmul_tn": {
      // matmul_tn(dy, x) = dyᵀ·x [M, K], summed over the batch.
      const [dy, x] = node.inputs as [number, number];
      const [m, k] = node.shape as [number, number];
      return { a: ctx.ref(dy), b: ctx.ref(x), out: ctx.ref(node.id), rows: m, cols: k, depth: "n", aR: 1, aD: m, bD: k, bC: 1, oR: k, oC: 1, epilogue: { kind: "forward" } };
    }
    case "conv2d": {
      // conv2d(col, x, w[, b]): the window rows col [n·OH·OW, K] times wᵀ, w [F, K].
      const g = geometryOf(node.attrs);
      const f = attrNum(node.attrs, "f");
      const k = g.kh * g.kw * g.c;
      const [col, , w, b] = node.inputs as [number, number, number, number | undefined];
      const act = activationOf(node);
      return {
        a: ctx.ref(col),
        b: ctx.ref(w),
        out: ctx.ref(node.id),
        rows: "n",
        rowsPerSample: g.oh * g.ow,
        cols: f,
        depth: k,
        aR: k,
        aD: 1,
        bD: 1,
        bC: k,
        oR: f,
        oC: 1,
        epilogue: { kind: "forward", ...(b !== undefined ? { bias: ctx.ref(b) } : {}), ...(act !== undefined ? { act } : {}) },
      };
    }
    case "conv2d_dw": {
      // conv2d_dw(dz, col) = dzᵀ·col [F, K], the batch's window rows as the reduction.
      const g = geometryOf(node.attrs);
      const f = attrNum(node.attrs, "f");
      const k = g.kh * g.kw * g.c;
      const [dz, col] = node.inputs as [number, number];
      return { a: ctx.ref(dz), b: ctx.ref(col), out: ctx.ref(node.id), rows: f, cols: k, depth: "n", rowsPerSample: g.oh * g.ow, aR: 1, aD: f, bD: k, bC: 1, oR: k, oC: 1, epilogue: { kind: "forward" } };
    }
    default:
      throw new Error(`bug: ${node.op} is not a matrix product`);
  }
}

/** Inputs worth gathering: the model's input (images are mostly background) and ReLU outputs. */
function likelySparse(ctx: EmitContext, id: number): boolean {
  let n = ctx.node(id);
  while (n.op === "reshape") n = ctx.node(n.inputs[0] as number);
  return n.op === "input" || n.op === "relu" || (n.op === "dense" && n.attrs["act"] === "relu");
}

/** Reductions shorter than this gain nothing from gathering. */
const GATHER_MIN_DEPTH = 64;

/** A forward product x·wᵀ, whose single rows gather their non-zero inputs when x is likely sparse. */
const forward: TsLowering = (node, ctx) => {
  const p = productOf(node, ctx);
  const sparse = typeof p.depth === "number" && p.depth >= GATHER_MIN_DEPTH && likelySparse(ctx, node.inputs[0] as number);
  return gemm(p, { num: ctx.num, ...(sparse ? { gather: ctx.gather(p.depth as number) } : {}) });
};

/** Any other product, as it is. */
const plain: TsLowering = (node, ctx) => gemm(productOf(node, ctx), { num: ctx.num });

export const PRODUCTS: Readonly<Record<string, TsLowering>> = {
  matmul: forward,
  dense: forward,
  matmul_nn: plain,
  matmul_tn: plain,
};
