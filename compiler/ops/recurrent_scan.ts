/**
 * A recurrent layer's steps as one op (`lstm`, `gru`; `layers/recurrent.ts`), in the pattern of
 * batchnorm: one op computes, a second hands on the value and carries the adjoint.
 *
 *   recurrent_scan(zx, wh, [bh], [mask]) → tape [n, T, S]: the loop over the T steps (backwards
 *     with `reverse: 1`). zx [n, T, G] is x·Wiᵀ + b of every step (one product over all steps,
 *     made before); each step adds h·Whᵀ of the state before it and applies the cell. A row of
 *     the tape keeps what the backward pass needs:
 *       lstm (S = 6H): h, c, i, f, g, o (the gates after their sigmoid/tanh)
 *       gru  (S = 7H): h, r, z, n, then h·Whᵀ + b_hh (3H; its n part sits inside r ⊙ …)
 *     With `masked: 1` (the last input, [n, T, 1], 1 for a real step) a step with mask 0 keeps
 *     the state before it (zero before the first step).
 *   recurrent_states(tape, zx, wh, [bh], [mask]) → h of every step [n, T, H], or with `last: 1`
 *     the state after the last step read [n, H] (step T − 1, or step 0 with `reverse`). Its
 *     adjoint is the backward pass through time:
 *   recurrent_scan_grad(dh, tape, wh, [mask]) → dz [n, T, D]: the gradient of each step's
 *     pre-activations, in one loop over the steps in reverse (the state's gradient carried by
 *     dz·Wh). lstm (D = 4H): the gradient of zx and of h·Whᵀ alike; gru (D = 6H): that of zx
 *     (3H), then that of h·Whᵀ + b_hh (3H; they differ in n's part, r ⊙ …).
 *   recurrent_dwh(dz, tape) → dWh [G, H] = Σ over steps of dz_hᵀ · h before the step.
 *
 * zx's gradient is dz (or its first 3H), b_hh's the sum of the last 3H over samples and steps.
 * Attributes: `cell` ("lstm" | "gru"), `units` H, `reverse`, `masked` (0 | 1), `last`.
 */
import type { Attrs, IrShape } from "../ir.js";
import type { OpDef } from "./types.js";
import { attrNum, attrStr, toShape } from "./types.js";

/** The sizes of a recurrent op, from its attributes. */
export interface RecurrentDims {
  readonly cell: "lstm" | "gru";
  readonly h: number;
  /** Gates × H: the width of zx and the rows of Wh. */
  readonly g: number;
  /** Width of a tape row. */
  readonly s: number;
  /** Width of a row of dz, and where its h·Whᵀ part starts. */
  readonly d: number;
  readonly dh: number;
  readonly reverse: boolean;
  readonly masked: boolean;
}

export function recurrentDims(attrs: Attrs): RecurrentDims {
  const cell = attrStr(attrs, "cell");
  if (cell !== "lstm" && cell !== "gru") throw new Error(`bug: recurrent cell ${cell}`);
  const h = attrNum(attrs, "units");
  const lstm = cell === "lstm";
  return { cell, h, g: (lstm ? 4 : 3) * h, s: (lstm ? 6 : 7) * h, d: (lstm ? 4 : 6) * h, dh: lstm ? 0 : 3 * h, reverse: attrs["reverse"] === 1, masked: attrs["masked"] === 1 };
}

/** The attributes of every op of one layer direction (without `last`). */
function scanAttrs(attrs: Attrs): Attrs {
  return { cell: attrStr(attrs, "cell"), units: attrNum(attrs, "units"), reverse: attrNum(attrs, "reverse"), masked: attrNum(attrs, "masked") };
}

function steps(zx: IrShape | undefined): number {
  return (zx?.[1] ?? 0) as number;
}

/** T·G·H per sample: every step's h·Whᵀ (the scan), dz·Wh (its gradient) or dzᵀ·h (dWh); the cell's own work is small beside it. */
function scanMacs(stepsOf: IrShape | undefined, attrs: Attrs): number {
  const d = recurrentDims(attrs);
  return steps(stepsOf) * d.g * d.h;
}

export const recurrentScan: OpDef = {
  name: "recurrent_scan",
  doc: "an LSTM's or GRU's loop over the steps of x·Wiᵀ + b: every step's state and gates [n, T, S]",
  shape: (inputs, attrs) => ["n", steps(inputs[0]), recurrentDims(attrs).s],
  macs: ([zx], attrs) => scanMacs(zx, attrs),
};

export const recurrentStates: OpDef = {
  name: "recurrent_states",
  doc: "every step's state h of a recurrent scan [n, T, H], or the last one [n, H]",
  shape: (inputs, attrs) => (attrs["last"] === 1 ? ["n", recurrentDims(attrs).h] : ["n", steps(inputs[1]), recurrentDims(attrs).h]),
  adjoint(node, dOut, g) {
    if (dOut === undefined) throw new Error("bug: recurrent_states as loss");
    const dims = recurrentDims(node.attrs);
    const [tape, zx, wh, ...rest] = node.inputs as [number, number, number, ...number[]];
    const bh = dims.cell === "gru" ? rest[0] : undefined;
    const mask = dims.masked ? rest[rest.length - 1] : undefined;
    const attrs = { ...scanAttrs(node.attrs), last: attrNum(node.attrs, "last") };
    const dz = g.add("recurrent_scan_grad", [dOut, tape, wh, ...(mask !== undefined ? [mask] : [])], attrs, `${g.gradName(zx)}Steps`, node.origin);
    const part = (start: number, end: number, name: string): number => g.add("slice", [dz], { axis: 2, start, end }, name, node.origin);
    const dzx = dims.cell === "lstm" ? dz : part(0, dims.g, g.gradName(zx));
    const dwh = g.needsGrad(wh) ? g.add("recurrent_dwh", [dz, tape], scanAttrs(node.attrs), g.gradName(wh), node.origin) : undefined;
    const dbh = bh !== undefined && g.needsGrad(bh) ? g.add("sum_to", [part(dims.dh, dims.d, `${g.gradName(bh)}Steps`)], { to: toShape([dims.g]) }, g.gradName(bh), node.origin) : undefined;
    return [undefined, g.needsGrad(zx) ? dzx : undefined, dwh, ...(bh !== undefined ? [dbh] : []), ...(mask !== undefined ? [undefined] : [])];
  },
};

export const recurrentScanGrad: OpDef = {
  name: "recurrent_scan_grad",
  doc: "the backward pass through time of a recurrent scan: each step's pre-activation gradient [n, T, D]",
  shape: (inputs, attrs) => ["n", steps(inputs[1]), recurrentDims(attrs).d],
  macs: ([, tape], attrs) => scanMacs(tape, attrs),
};

export const recurrentDwh: OpDef = {
  name: "recurrent_dwh",
  doc: "Σ over the steps of dz_hᵀ · the state before the step: the recurrent matrix's gradient [G, H]",
  shape: (_inputs, attrs) => [recurrentDims(attrs).g, recurrentDims(attrs).h],
  macs: ([dz], attrs) => scanMacs(dz, attrs),
};
