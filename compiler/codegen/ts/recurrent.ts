/**
 * TypeScript lowerings of the recurrent ops (`ops/recurrent_scan.ts`): each a loop over the
 * steps — the forward scan, the backward pass through time and the recurrent matrix's
 * gradient — so the code is the same size for 5 steps or 500. Each step's matrix product (the
 * state times Whᵀ, dz times Wh, dzᵀ times the state) is a `StepProduct`: the WebAssembly target
 * hands it to a kernel called with the step (`wasm/lowering.ts`), else it is a plain loop here.
 * The cell's arithmetic is a TypeScript loop small enough for V8 to optimize; the WebAssembly
 * target takes the cell too (`RecurrentKernels.cell`, `cellGrad`: LSTM or GRU, padding masked
 * or not, any units) for the steps after the first — forwards all of them in one kernel with
 * their products (`CellRequest.scan`) — and dWh as one kernel reading the states from the tape
 * (`StepProduct.fromTape`, no copy of them).
 *
 * Layouts ([n, T, ·], row b·T + t): zx [G], tape [S], dz [D] (`recurrentDims`). `t` is the
 * step's position, `p` the step read before it (t − 1, or t + 1 reading backwards), `first`
 * whether there is none (the state before it is zero).
 */
import type { IrNode } from "../../ir.js";
import type { ProductShape } from "../gemm.js";
import { recurrentDims, type RecurrentDims } from "../../ops/recurrent_scan.js";
import type { EmitContext, TsLowering } from "./context.js";

/**
 * One step's matrix product out(r, c) (+)= Σ_d A(r, d)·B(d, c), with A at element `at.a` +
 * index·`shift.a` of buffer `a` (and so on for B and the output), strides as `ProductShape`.
 */
export interface StepProduct extends ProductShape {
  readonly a: string;
  readonly b: string;
  readonly out: string;
  readonly at: { readonly a: number; readonly b: number; readonly out: number };
  readonly shift: { readonly a: number; readonly b: number; readonly out: number };
  /** Add to the output instead of storing. */
  readonly accumulate: boolean;
  /** A depth of "n" counts n × this many rows (every sample's steps). */
  readonly depthPerSample?: number;
  /** What it computes, for the comment. */
  readonly doc: string;
  /**
   * dWh's product with B the state before each step read from this tape (`b`), the first
   * step's skipped (zero): a kernel only, called with n (no copy of the states is made).
   */
  readonly fromTape?: { readonly steps: number; readonly s: number; readonly reverse: boolean };
}

/** The statement running a step's product with this index (an expression), or undefined for the plain loop. */
export type StepKernel = (p: StepProduct, index: string) => string | undefined;

/** A cell (LSTM or GRU) for every step but the first, as a kernel: its buffers (mask: [n, T, 1], 0 at a padded step; bh: the GRU's b_hh) and sizes. */
export interface CellRequest {
  readonly cell: "lstm" | "gru";
  readonly zx: string;
  readonly tape: string;
  readonly bh?: string;
  readonly mask?: string;
  readonly steps: number;
  readonly h: number;
  /** Every step after the first as one kernel, called with n: the step's product (`step`'s), then the cell. */
  readonly scan?: { readonly product: StepProduct; readonly reverse: boolean };
}

/**
 * The backward cell as a kernel: its buffers and sizes. cellState: the LSTM's carried gradient
 * of c; direct: the part of the state's gradient that skips the product (padded steps, the
 * GRU's z·dh); dOut: every step's dh, absent when only the last state is read.
 */
export interface CellGradRequest {
  readonly cell: "lstm" | "gru";
  readonly tape: string;
  readonly dz: string;
  readonly carry: string;
  readonly cellState?: string;
  readonly direct?: string;
  readonly dOut?: string;
  readonly mask?: string;
  readonly steps: number;
  readonly h: number;
}

/** What a target's kernels do for the recurrent ops: the step products, and (optionally) the cells forwards and backwards — the call, with `n, t, p`. */
export interface RecurrentKernels {
  readonly step: StepKernel;
  readonly cell?: (r: CellRequest) => string | undefined;
  readonly cellGrad?: (r: CellGradRequest) => string | undefined;
}

/** The product as plain loops. */
function productLoops(p: StepProduct, index: string): string {
  const step = /^\w+$/.test(index) ? index : `(${index})`;
  const base = (at: number, shift: number): string => (shift === 0 ? String(at) : at === 0 ? `${step} * ${shift}` : `${at} + ${step} * ${shift}`);
  const times = (i: string, stride: number): string => (stride === 1 ? i : `${i} * ${stride}`);
  const rows = p.rows === "n" ? "n" : String(p.rows);
  const depth = p.depth === "n" ? (p.depthPerSample !== undefined ? `n * ${p.depthPerSample}` : "n") : String(p.depth);
  return [
    `{`,
    `const ao = ${base(p.at.a, p.shift.a)};`,
    `const bo = ${base(p.at.b, p.shift.b)};`,
    `const oo = ${base(p.at.out, p.shift.out)};`,
    `for (let r = 0; r < ${rows}; r++) {`,
    `for (let c = 0; c < ${p.cols}; c++) {`,
    `let sum = 0;`,
    `for (let d = 0; d < ${depth}; d++) sum += ${p.a}[ao + ${times("r", p.aR)} + ${times("d", p.aD)}] * ${p.b}[bo + ${times("d", p.bD)} + ${times("c", p.bC)}];`,
    `${p.out}[oo + ${times("r", p.oR)} + ${times("c", p.oC)}] ${p.accumulate ? "+=" : "="} sum;`,
    `}`,
    `}`,
    `}`,
  ].join("\n");
}

function product(p: StepProduct, index: string, kernels: RecurrentKernels | undefined): string {
  return `// ${p.doc}\n${kernels?.step(p, index) ?? productLoops(p, index)}`;
}

/** `const name = tanh(v)` for a variable v, as the `tanh` helper of `activations.ts` computes it. */
function tanhOf(name: string, v: string): string {
  return `const ${name}E = Math.expm1(2 * ${v});\nconst ${name} = ${v} > 20 ? 1 : ${v} < -20 ? -1 : ${name}E / (${name}E + 2);`;
}

const sigmoid = (x: string): string => `1 / (1 + Math.exp(-(${x})))`;

/**
 * The loop over the steps in reading order (backwards with `inReverse`), from the `from`-th
 * read, declaring `t`, and `p` and `first` unless `bare`.
 */
function steps(t: number, dims: RecurrentDims, body: string, options: { readonly inReverse?: boolean; readonly from?: number; readonly bare?: boolean } = {}): string {
  const from = options.from ?? 0;
  const head = options.inReverse === true ? `for (let s = ${t - 1}; s >= ${from}; s--) {` : `for (let s = ${from}; s < ${t}; s++) {`;
  const pos = [`const t = ${dims.reverse ? `${t - 1} - s` : "s"};`, ...(options.bare === true ? [] : [`const p = t ${dims.reverse ? "+" : "-"} 1;`, `const first = s === 0;`])];
  return [head, ...pos, body, `}`].join("\n");
}

/** The number of steps of a value [n, T, ·]. */
function stepsOf(ctx: EmitContext, id: number): number {
  return ctx.node(id).shape[1] as number;
}

function scan(node: IrNode, ctx: EmitContext, kernels?: RecurrentKernels): string {
  const dims = recurrentDims(node.attrs);
  const { h, g, s: S } = dims;
  const [zxId, whId, ...rest] = node.inputs as [number, number, ...number[]];
  const t = stepsOf(ctx, node.id);
  const zx = ctx.ref(zxId);
  const wh = ctx.ref(whId);
  const tape = ctx.ref(node.id);
  const bh = dims.cell === "gru" ? ctx.ref(rest[0] as number) : undefined;
  const mask = dims.masked ? ctx.ref(rest[rest.length - 1] as number) : undefined;
  const lstm = dims.cell === "lstm";
  const col = lstm ? 2 * h : 4 * h;
  // The state before the step times Whᵀ, into the step's gate columns of the tape.
  const recur: StepProduct = {
    a: tape,
    b: wh,
    out: tape,
    at: dims.reverse ? { a: S, b: 0, out: col } : { a: 0, b: 0, out: S + col },
    shift: { a: S, b: 0, out: S },
    rows: "n",
    depth: h,
    cols: g,
    aR: t * S,
    aD: 1,
    bD: 1,
    bC: h,
    oR: t * S,
    oC: 1,
    accumulate: false,
    doc: `the state before the step times ${wh}ᵀ, into the step's ${lstm ? "gates" : "h·Whᵀ"}`,
  };
  const keep = lstm ? 2 * h : h;
  const masked =
    mask === undefined
      ? []
      : [`if (${mask}[b * ${t} + t] === 0) {`, `// a padded step: the state before it carries over`, `for (let j = 0; j < ${keep}; j++) ${tape}[o + j] = first ? 0 : ${tape}[q + j];`, `continue;`, `}`];
  const cell = lstm
    ? [
        `const i = ${sigmoid(`${zx}[xo + j] + (first ? 0 : ${tape}[o + ${2 * h} + j])`)};`,
        `const f = ${sigmoid(`${zx}[xo + ${h} + j] + (first ? 0 : ${tape}[o + ${3 * h} + j])`)};`,
        `const gz = ${zx}[xo + ${2 * h} + j] + (first ? 0 : ${tape}[o + ${4 * h} + j]);`,
        tanhOf("g", "gz"),
        `const og = ${sigmoid(`${zx}[xo + ${3 * h} + j] + (first ? 0 : ${tape}[o + ${5 * h} + j])`)};`,
        `const c = (first ? 0 : f * ${tape}[q + ${h} + j]) + i * g;`,
        tanhOf("tc", "c"),
        `${tape}[o + j] = og * tc;`,
        `${tape}[o + ${h} + j] = c;`,
        `${tape}[o + ${2 * h} + j] = i;`,
        `${tape}[o + ${3 * h} + j] = f;`,
        `${tape}[o + ${4 * h} + j] = g;`,
        `${tape}[o + ${5 * h} + j] = og;`,
      ]
    : [
        `const hr = (first ? 0 : ${tape}[o + ${4 * h} + j]) + ${bh}[j];`,
        `const hz = (first ? 0 : ${tape}[o + ${5 * h} + j]) + ${bh}[${h} + j];`,
        `const hn = (first ? 0 : ${tape}[o + ${6 * h} + j]) + ${bh}[${2 * h} + j];`,
        `const r = ${sigmoid(`${zx}[xo + j] + hr`)};`,
        `const z = ${sigmoid(`${zx}[xo + ${h} + j] + hz`)};`,
        `const nz = ${zx}[xo + ${2 * h} + j] + r * hn;`,
        tanhOf("nn", "nz"),
        `${tape}[o + j] = nn + z * ((first ? 0 : ${tape}[q + j]) - nn);`,
        `${tape}[o + ${h} + j] = r;`,
        `${tape}[o + ${2 * h} + j] = z;`,
        `${tape}[o + ${3 * h} + j] = nn;`,
        `${tape}[o + ${4 * h} + j] = hr;`,
        `${tape}[o + ${5 * h} + j] = hz;`,
        `${tape}[o + ${6 * h} + j] = hn;`,
      ];
  const cellRequest: CellRequest = { cell: dims.cell, zx, tape, ...(bh !== undefined ? { bh } : {}), ...(mask !== undefined ? { mask } : {}), steps: t, h };
  const rows = [
    `for (let b = 0; b < n; b++) {`,
    `const o = (b * ${t} + t) * ${S}; // this step's row of the tape`,
    `const q = (b * ${t} + p) * ${S}; // the step before`,
    `const xo = (b * ${t} + t) * ${g}; // its row of x·Wiᵀ + b`,
    ...masked,
    `for (let j = 0; j < ${h}; j++) {`,
    ...cell,
    `}`,
    `}`,
  ];
  const rowDoc = lstm ? "h, c, then the gates i, f, g, o" : "h, the gates r, z, n, then h·Whᵀ + b_hh";
  const head = `// ${dims.cell} over ${t} steps${dims.reverse ? ", last to first" : ""}; a row of the tape: ${rowDoc}`;
  // The steps after the first as one kernel: the first step here, then the call.
  const whole = t > 1 ? kernels?.cell?.({ ...cellRequest, scan: { product: recur, reverse: dims.reverse } }) : undefined;
  if (whole !== undefined) {
    const t0 = dims.reverse ? t - 1 : 0;
    const first = [`{`, `const t = ${t0};`, `const p = ${dims.reverse ? t0 + 1 : t0 - 1};`, `const first = true;`, ...rows, `}`];
    return [head, `// the first step (no state before it)`, ...first, `// the steps after it, each ${recur.doc} then the cell, as one kernel`, whole].join("\n");
  }
  // Every step after the first may run its cell as a kernel.
  const cellCall = kernels?.cell?.(cellRequest);
  const row = [
    `if (!first) {`,
    product(recur, dims.reverse ? "t" : "p", kernels),
    ...(cellCall !== undefined ? [`// the cell, as a kernel`, cellCall, `continue;`] : []),
    `}`,
    ...rows,
  ].join("\n");
  return `${head}\n${steps(t, dims, row)}`;
}

function states(node: IrNode, ctx: EmitContext): string {
  const { h, s: S } = recurrentDims(node.attrs);
  const tapeId = node.inputs[0] as number;
  const t = stepsOf(ctx, tapeId);
  const tape = ctx.ref(tapeId);
  const out = ctx.ref(node.id);
  if (node.attrs["last"] === 1) {
    const at = recurrentDims(node.attrs).reverse ? 0 : t - 1;
    return [`for (let b = 0; b < n; b++) {`, `for (let j = 0; j < ${h}; j++) ${out}[b * ${h} + j] = ${tape}[(b * ${t} + ${at}) * ${S} + j];`, `}`].join("\n");
  }
  return [`for (let k = 0; k < n * ${t}; k++) {`, `for (let j = 0; j < ${h}; j++) ${out}[k * ${h} + j] = ${tape}[k * ${S} + j];`, `}`].join("\n");
}

function scanGrad(node: IrNode, ctx: EmitContext, kernels?: RecurrentKernels): string {
  const dims = recurrentDims(node.attrs);
  const { h, g, s: S, d: D } = dims;
  const [dOutId, tapeId, whId, maskId] = node.inputs as [number, number, number, number | undefined];
  const t = stepsOf(ctx, tapeId);
  const dOut = ctx.ref(dOutId);
  const tape = ctx.ref(tapeId);
  const wh = ctx.ref(whId);
  const dz = ctx.ref(node.id);
  const mask = dims.masked ? ctx.ref(maskId as number) : undefined;
  const lstm = dims.cell === "lstm";
  const carry = ctx.scratch("carry", ctx.maxBatch * h, "the gradient of the state, carried to the step before");
  // The part of the state's gradient that skips the product: a padded step's, the GRU's z·dh.
  const direct = !lstm || mask !== undefined;
  const dh = direct ? ctx.scratch("direct", ctx.maxBatch * h, "the part of it that skips the product (padded steps; the GRU's z·h)") : undefined;
  const dc = lstm ? ctx.scratch("cell", ctx.maxBatch * h, "the gradient of the cell state, carried to the step before") : undefined;
  const dOutAt = node.attrs["last"] === 1 ? `(s === ${t - 1} ? ${dOut}[b * ${h} + j] : 0)` : `${dOut}[(b * ${t} + t) * ${h} + j]`;
  const back: StepProduct = {
    a: dz,
    b: wh,
    out: carry,
    at: { a: dims.dh, b: 0, out: 0 },
    shift: { a: D, b: 0, out: 0 },
    rows: "n",
    depth: g,
    cols: h,
    aR: t * D,
    aD: 1,
    bD: h,
    bC: 1,
    oR: h,
    oC: 1,
    accumulate: false,
    doc: `the step's dz times ${wh}: the gradient of the state before it`,
  };
  const masked =
    mask === undefined
      ? []
      : [
          `if (${mask}[b * ${t} + t] === 0) {`,
          `// a padded step: the gradient of the state passes on to the step before`,
          `for (let j = 0; j < ${h}; j++) ${dh}[b * ${h} + j] = ${dOutAt} + ${carry}[b * ${h} + j];`,
          `for (let j = 0; j < ${D}; j++) ${dz}[zo + j] = 0;`,
          `continue;`,
          `}`,
        ];
  const cell = lstm
    ? [
        `const c = ${tape}[o + ${h} + j];`,
        `const i = ${tape}[o + ${2 * h} + j];`,
        `const f = ${tape}[o + ${3 * h} + j];`,
        `const g = ${tape}[o + ${4 * h} + j];`,
        `const og = ${tape}[o + ${5 * h} + j];`,
        tanhOf("tc", "c"),
        `const dcj = ${dc}[b * ${h} + j] + dhj * og * (1 - tc * tc);`,
        `${dz}[zo + j] = dcj * g * i * (1 - i);`,
        `${dz}[zo + ${h} + j] = first ? 0 : dcj * ${tape}[q + ${h} + j] * f * (1 - f);`,
        `${dz}[zo + ${2 * h} + j] = dcj * i * (1 - g * g);`,
        `${dz}[zo + ${3 * h} + j] = dhj * tc * og * (1 - og);`,
        `${dc}[b * ${h} + j] = dcj * f;`,
        ...(dh !== undefined ? [`${dh}[b * ${h} + j] = 0;`] : []),
      ]
    : [
        `const r = ${tape}[o + ${h} + j];`,
        `const zg = ${tape}[o + ${2 * h} + j];`,
        `const nn = ${tape}[o + ${3 * h} + j];`,
        `const hn = ${tape}[o + ${6 * h} + j];`,
        `const dn = dhj * (1 - zg) * (1 - nn * nn);`,
        `const dr = dn * hn * r * (1 - r);`,
        `const dzg = dhj * ((first ? 0 : ${tape}[q + j]) - nn) * zg * (1 - zg);`,
        `${dz}[zo + j] = dr;`,
        `${dz}[zo + ${h} + j] = dzg;`,
        `${dz}[zo + ${2 * h} + j] = dn;`,
        `${dz}[zo + ${3 * h} + j] = dr;`,
        `${dz}[zo + ${4 * h} + j] = dzg;`,
        `${dz}[zo + ${5 * h} + j] = dn * r;`,
        `${dh}[b * ${h} + j] = dhj * zg;`,
      ];
  const rows = [
    `for (let b = 0; b < n; b++) {`,
    `const o = (b * ${t} + t) * ${S};`,
    `const q = (b * ${t} + p) * ${S};`,
    `const zo = (b * ${t} + t) * ${D}; // its row of ${dz}`,
    ...masked,
    `for (let j = 0; j < ${h}; j++) {`,
    `const dhj = ${dOutAt} + ${carry}[b * ${h} + j];`,
    ...cell,
    `}`,
    `}`,
  ];
  // The steps but the first may run the cell as a kernel (the last state's gradient, when only it is read, then starts the carry).
  const last = node.attrs["last"] === 1;
  const cellCall = kernels?.cellGrad?.({
    cell: dims.cell,
    tape,
    dz,
    carry,
    ...(dc !== undefined ? { cellState: dc } : {}),
    ...(dh !== undefined ? { direct: dh } : {}),
    ...(last ? {} : { dOut }),
    ...(mask !== undefined ? { mask } : {}),
    steps: t,
    h,
  });
  const row = [
    ...(cellCall !== undefined ? [`if (!first) {`, `// the cell, as a kernel`, cellCall, `} else {`, ...rows, `}`] : rows),
    `if (!first) {`,
    product(back, "t", kernels),
    ...(dh !== undefined ? [`for (let k = 0; k < n * ${h}; k++) ${carry}[k] += ${dh}[k];`] : []),
    `}`,
  ].join("\n");
  return [
    `// back through the ${t} steps of the ${dims.cell}, last read first; a row of ${dz}: ${lstm ? "the gates' pre-activations" : "those of x·Wiᵀ + b_ih, then of h·Whᵀ + b_hh"}`,
    // Reading the last state only, its gradient starts the carried one (dOut + 0 in the loop).
    last && cellCall !== undefined && t > 1 ? `for (let k = 0; k < n * ${h}; k++) ${carry}[k] = ${dOut}[k];` : `${carry}.fill(0, 0, n * ${h});`,
    ...(dc !== undefined ? [`${dc}.fill(0, 0, n * ${h});`] : []),
    steps(t, dims, row, { inReverse: true }),
  ].join("\n");
}

function dwh(node: IrNode, ctx: EmitContext, kernels?: RecurrentKernels): string {
  const dims = recurrentDims(node.attrs);
  const { h, g, s: S, d: D } = dims;
  const [dzId, tapeId] = node.inputs as [number, number];
  const t = stepsOf(ctx, tapeId);
  const tape = ctx.ref(tapeId);
  const out = ctx.ref(node.id);
  const sum = (b: string): StepProduct => ({
    a: ctx.ref(dzId),
    b,
    out,
    at: { a: dims.dh, b: 0, out: 0 },
    shift: { a: 0, b: 0, out: 0 },
    rows: g,
    depth: "n",
    depthPerSample: t,
    cols: h,
    aR: 1,
    aD: D,
    bD: h,
    bC: 1,
    oR: h,
    oC: 1,
    accumulate: true,
    doc: `Σ over every sample's steps of dzᵀ times the state before the step, added to the zeros`,
  });
  // As a kernel reading the states from the tape, or from a copy of them.
  const direct: StepProduct = { ...sum(tape), fromTape: { steps: t, s: S, reverse: dims.reverse }, doc: `Σ over every sample's steps but the first of dzᵀ times the state before the step (read from ${tape}), added to the zeros` };
  const call = t > 1 ? kernels?.step(direct, "0") : undefined;
  if (call !== undefined) return [`${out}.fill(0);`, `// ${direct.doc}`, call].join("\n");
  // Every step's state before it, in the step's row: then dWh is one product over all n·T rows.
  const before = ctx.scratch("before", ctx.maxBatch * t * h, "the state before each step, in the step's row (zero before the first)");
  const p = sum(before);
  const firstAt = dims.reverse ? t - 1 : 0;
  return [
    `for (let k = 0; k < n * ${t}; k++) {`,
    `if (k % ${t} === ${firstAt}) ${before}.fill(0, k * ${h}, (k + 1) * ${h});`,
    `else for (let j = 0; j < ${h}; j++) ${before}[k * ${h} + j] = ${tape}[(k ${dims.reverse ? "+" : "-"} 1) * ${S} + j];`,
    `}`,
    `${out}.fill(0);`,
    product(p, "0", kernels),
  ].join("\n");
}

export const RECURRENT: Readonly<Record<string, TsLowering>> = {
  recurrent_scan: (node, ctx) => scan(node, ctx),
  recurrent_states: states,
  recurrent_scan_grad: (node, ctx) => scanGrad(node, ctx),
  recurrent_dwh: (node, ctx) => dwh(node, ctx),
};

/** The recurrent ops with their step products (and cells) through a target's kernels (the WebAssembly target's). */
export function recurrentWithKernels(node: IrNode, ctx: EmitContext, kernels: RecurrentKernels): string | undefined {
  if (node.op === "recurrent_scan") return scan(node, ctx, kernels);
  if (node.op === "recurrent_scan_grad") return scanGrad(node, ctx, kernels);
  if (node.op === "recurrent_dwh") return dwh(node, ctx, kernels);
  return undefined;
}
