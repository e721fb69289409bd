/**
 * The ONNX lowering of the recurrent layers (`lstm`, `gru`: `ops/recurrent_scan.ts`): the loop
 * over the steps unrolled, one group of nodes per step in reading order (last to first with
 * `reverse`), as `codegen/ts/recurrent.ts` computes it. x·Wiᵀ + b of every step is made before
 * (`zx` [n, T, G], a product over all steps); a step reads its row (`Gather` on axis 1, kept as
 * [n, 1, ·]), adds the state before it times Whᵀ (`MatMul`; none at the first step, whose state
 * before is zero) and applies the cell, its gates sliced from the last axis in PyTorch's order
 * (LSTM i, f, g, o; GRU r, z, n, with b_hh inside r ⊙ (W_hn h + b_hn)). With `masked`, a step
 * whose mask is 0 keeps the state before it (`Where`; zero before the first step).
 *
 * Why unrolled and not ONNX's `LSTM`/`GRU`: they have no form of skipping a padded step in the
 * middle of a sequence (`sequence_lens` only cuts the end), and the unrolled nodes are the
 * same arithmetic as nnc's loop, so parity holds to rounding. The graph grows with the steps.
 *
 * `recurrent_scan` (the tape) has no ONNX value of its own: `recurrent_states`, which takes
 * the scan's inputs too, computes the states it reads. The backward ops are refused
 * (`lowering.ts`).
 */
import type { IrNode } from "../../ir.js";
import { recurrentDims } from "../../ops/recurrent_scan.js";
import type { OnnxContext, OnnxLowering } from "./context.js";
import { BOOL, int } from "./graph.js";

/** Every step's state [n, T, H] (positions in order), or the state after the last step read [n, H]. */
function states(node: IrNode, ctx: OnnxContext): string {
  const dims = recurrentDims(node.attrs);
  const { h, g } = dims;
  const [, zxId, whId, ...rest] = node.inputs as [number, number, number, ...number[]];
  const t = ctx.node(zxId).shape[1] as number;
  const lstm = dims.cell === "lstm";
  const zx = ctx.ref(zxId);
  const whT = ctx.weight(whId, [g, h], [1, 0]);
  const bh = lstm ? undefined : ctx.ref(rest[0] as number);
  const keep = dims.masked ? ctx.emit("Cast", [ctx.ref(rest[rest.length - 1] as number)], { to: int(BOOL) }, "keep") : undefined;
  // Gate k is columns [k·H, (k + 1)·H) of the last axis.
  const lastAxis = ctx.int64s([-1], "gateAxis");
  const bounds = Array.from({ length: g / h + 1 }, (_, k) => ctx.int64s([k * h], `col${k * h}`));
  const gate = (v: string, k: number, part: string): string => ctx.emit("Slice", [v, bounds[k] as string, bounds[k + 1] as string, lastAxis], {}, part);

  let hBefore: string | undefined;
  let cBefore: string | undefined;
  const byPosition: string[] = [];
  for (let s = 0; s < t; s++) {
    const pos = dims.reverse ? t - 1 - s : s;
    const p = `t${pos}`;
    const step = ctx.int64s([pos], p);
    const x = ctx.emit("Gather", [zx, step], { axis: int(1) }, `${p}_zx`);
    const recur = hBefore === undefined ? undefined : ctx.emit("MatMul", [hBefore, whT], {}, `${p}_hW`);
    let hNew: string;
    let cNew: string | undefined;
    if (lstm) {
      const z = recur === undefined ? x : ctx.emit("Add", [x, recur], {}, `${p}_z`);
      const i = ctx.emit("Sigmoid", [gate(z, 0, `${p}_iz`)], {}, `${p}_i`);
      const cand = ctx.emit("Tanh", [gate(z, 2, `${p}_gz`)], {}, `${p}_g`);
      const o = ctx.emit("Sigmoid", [gate(z, 3, `${p}_oz`)], {}, `${p}_o`);
      const ig = ctx.emit("Mul", [i, cand], {}, `${p}_ig`);
      if (cBefore === undefined) cNew = ig;
      else {
        const f = ctx.emit("Sigmoid", [gate(z, 1, `${p}_fz`)], {}, `${p}_f`);
        cNew = ctx.emit("Add", [ctx.emit("Mul", [f, cBefore], {}, `${p}_fc`), ig], {}, `${p}_c`);
      }
      hNew = ctx.emit("Mul", [o, ctx.emit("Tanh", [cNew], {}, `${p}_tc`)], {}, `${p}_h`);
    } else {
      // h·Whᵀ + b_hh (b_hh alone at the first step).
      const hz = recur === undefined ? (bh as string) : ctx.emit("Add", [recur, bh as string], {}, `${p}_hz`);
      const r = ctx.emit("Sigmoid", [ctx.emit("Add", [gate(x, 0, `${p}_xr`), gate(hz, 0, `${p}_hr`)], {}, `${p}_rz`)], {}, `${p}_r`);
      const z = ctx.emit("Sigmoid", [ctx.emit("Add", [gate(x, 1, `${p}_xz`), gate(hz, 1, `${p}_hzz`)], {}, `${p}_zz`)], {}, `${p}_zg`);
      const rn = ctx.emit("Mul", [r, gate(hz, 2, `${p}_hn`)], {}, `${p}_rhn`);
      const n = ctx.emit("Tanh", [ctx.emit("Add", [gate(x, 2, `${p}_xn`), rn], {}, `${p}_nz`)], {}, `${p}_n`);
      // n + z·(h before − n), as nnc computes it.
      hNew =
        hBefore === undefined
          ? ctx.emit("Sub", [n, ctx.emit("Mul", [z, n], {}, `${p}_zn`)], {}, `${p}_h`)
          : ctx.emit("Add", [n, ctx.emit("Mul", [z, ctx.emit("Sub", [hBefore, n], {}, `${p}_dh`)], {}, `${p}_zdh`)], {}, `${p}_h`);
    }
    if (keep !== undefined) {
      // A padded step keeps the state before it.
      const real = ctx.emit("Gather", [keep, step], { axis: int(1) }, `${p}_real`);
      hNew = ctx.emit("Where", [real, hNew, hBefore ?? ctx.scalar(0)], {}, `${p}_hm`);
      if (cNew !== undefined) cNew = ctx.emit("Where", [real, cNew, cBefore ?? ctx.scalar(0)], {}, `${p}_cm`);
    }
    hBefore = hNew;
    cBefore = cNew;
    byPosition[pos] = hNew;
  }
  if (node.attrs["last"] === 1) return ctx.emit("Squeeze", [hBefore as string, ctx.int64s([1], "stepAxis")]);
  return ctx.emit("Concat", byPosition, { axis: int(1) });
}

export const RECURRENT: Readonly<Record<string, OnnxLowering>> = {
  // Computed by the recurrent_states reading it (from the same inputs).
  recurrent_scan: () => undefined,
  recurrent_states: states,
};
