/**
 * The matrix products as one typed request each (`productOf`: operands, shape and strides,
 * epilogue as data, built once from the node and used by every target), and their TypeScript
 * lowerings: matmul, dense, matmul_nn, matmul_tn, rendered by the tiled `gemm`. conv2d and
 * conv2d_dw are products too, over one sample's unfolded windows at a time (`conv.ts` lowers
 * conv2d with it; the wasm target's `conv.ts` both); so is bmm, one product per index of its
 * leading axes (attention's q·kᵀ and p·v).
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
import { geometryOf, pointwise } from "../../ops/conv_geometry.js";
import { bmmDims, causalSkip } from "../../ops/bmm.js";
import { gemm, SAMPLE, type EpilogueActivation, type Product } from "../gemm.js";
import { gatherScratch, type EmitContext, type TsLowering } from "./context.js";
import { batchCount } from "./loops.js";

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

/** The product a node computes: matmul, dense, matmul_nn, matmul_tn, conv2d, conv2d_dw, bmm (one of its batch). */
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
      // matmul_nn(dy, w[, saved][, dropout mask]): dy [n, M]·w [M, K], times the mask and act′(saved).
      const [dy, w] = node.inputs as [number, number];
      const [m, k] = ctx.node(w).shape as [number, number];
      let extra = 2;
      const act = activationOf(node);
      const actGrad = act !== undefined ? { ...act, saved: ctx.ref(node.inputs[extra++] as number) } : undefined;
      const mask = node.attrs["mask"] === true ? ctx.ref(node.inputs[extra++] as number) : undefined;
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
      // conv2d(x, w[, b]): each sample's windows as rows, [OH·OW, K], times wᵀ, w [F, K] —
      // unfolded into scratch one sample at a time, or the image itself when pointwise.
      const g = geometryOf(node.attrs);
      const f = attrNum(node.attrs, "f");
      const k = g.kh * g.kw * g.c;
      const positions = g.oh * g.ow;
      const [x, w, b] = node.inputs as [number, number, number | undefined];
      const act = activationOf(node);
      const rows = pointwise(g) ? { a: ctx.ref(x), rows: "n" as const, rowsPerSample: positions } : { a: windowsOf(node, ctx), rows: positions, sample: { out: positions * f } };
      return {
        ...rows,
        b: ctx.ref(w),
        out: ctx.ref(node.id),
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
      // conv2d_dw(dz, x) = Σ dzᵀ·windows [F, K]: over one sample's windows at a time (added
      // up), or over the batch's pixels at once when pointwise. (The wasm kernels' form: the
      // TypeScript lowering reads the windows in place, `conv.ts`.)
      const g = geometryOf(node.attrs);
      const f = attrNum(node.attrs, "f");
      const k = g.kh * g.kw * g.c;
      const positions = g.oh * g.ow;
      const [dz, x] = node.inputs as [number, number];
      const depth = pointwise(g) ? { b: ctx.ref(x), depth: "n" as const, rowsPerSample: positions } : { b: windowsOf(node, ctx), depth: positions, sample: { a: positions * f }, accumulate: true };
      return { ...depth, a: ctx.ref(dz), out: ctx.ref(node.id), rows: f, cols: k, aR: 1, aD: f, bD: k, bC: 1, oR: k, oC: 1, epilogue: { kind: "forward" } };
    }
    case "bmm": {
      // bmm(a, b): one product per index of the leading axes (SAMPLE), op(a) [rows, depth]
      // times op(b) [depth, cols], each operand read in place, transposed or not.
      const [a, b] = node.inputs as [number, number];
      const d = bmmDims(ctx.node(a).shape, ctx.node(b).shape, node.attrs);
      const aStrides = d.ta ? { aR: 1, aD: d.rows } : { aR: d.depth, aD: 1 };
      const bStrides = d.tb ? { bD: 1, bC: d.depth } : { bD: d.cols, bC: 1 };
      const causal = causalSkip(node, ctx);
      return {
        a: ctx.ref(a),
        b: ctx.ref(b),
        out: ctx.ref(node.id),
        rows: d.rows,
        cols: d.cols,
        depth: d.depth,
        ...aStrides,
        ...bStrides,
        oR: d.cols,
        oC: 1,
        sample: { a: d.rows * d.depth, b: d.depth * d.cols, out: d.rows * d.cols },
        ...(causal !== undefined ? { causal } : {}),
        epilogue: { kind: "forward" },
      };
    }
    default:
      throw new Error(`bug: ${node.op} is not a matrix product`);
  }
}

/** The scratch that one sample's windows are unfolded into ([OH·OW, K]) for a conv2d or conv2d_dw node. */
export function windowsOf(node: IrNode, ctx: EmitContext): string {
  const g = geometryOf(node.attrs);
  return ctx.scratch("windows", g.oh * g.ow * g.kh * g.kw * g.c, `one sample's ${g.kh}×${g.kw} windows as rows, for ${node.name}`);
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
  return gemm(p, { num: ctx.num, ...(sparse ? { gather: gatherScratch(ctx, p.depth as number) } : {}) });
};

/** Any other product, as it is. */
const plain: TsLowering = (node, ctx) => gemm(productOf(node, ctx), { num: ctx.num });

/** A batch of products: one per index of the leading axes, in a loop over them. */
const batched: TsLowering = (node, ctx) => {
  let per = 1;
  for (const d of node.shape.slice(1, -2)) per *= d as number;
  return `for (let ${SAMPLE} = 0; ${SAMPLE} < ${batchCount(per)}; ${SAMPLE}++) {\n${gemm(productOf(node, ctx), { num: ctx.num })}\n}`;
};

export const PRODUCTS: Readonly<Record<string, TsLowering>> = {
  matmul: forward,
  dense: forward,
  matmul_nn: plain,
  matmul_tn: plain,
  bmm: batched,
};
