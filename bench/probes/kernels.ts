/**
 * Source generators for shape-specialized matmul kernels: the probe of what nnc's generated
 * code can reach. Every size that is known at compile time is a literal in the emitted text;
 * the batch size `n` is a runtime argument (≤ maxBatch), as in generated models.
 *
 * Three products, all row-major, C (rows × cols):
 *   NN  C[r][c] = Σ_t A[r][t] · B[t][c]   forward X·W with W stored [in][out]
 *   NT  C[r][c] = Σ_t A[r][t] · B[c][t]   input gradient dY·Wᵀ (W [in][out]) or forward with W [out][in]
 *   TN  C[r][c] = Σ_t A[t][r] · B[t][c]   weight gradient Xᵀ·dY (W [in][out])
 *
 * A tiled kernel keeps an R × C block of outputs in local variables (registers) across the
 * whole reduction: per step it loads R values of A and C values of B and does R·C
 * multiply-adds. A plain kernel is the textbook loop nest.
 */

export type Kind = "NN" | "NT" | "TN";

/** A size: a literal number, or the name of a runtime variable. */
export type Dim = number | string;

export interface KernelSpec {
  kind: Kind;
  rows: Dim;
  cols: number;
  /** Reduction length. */
  inner: Dim;
  /** Register tile: rows × cols of outputs held in locals. 0 = plain loops. */
  tileR: number;
  tileC: number;
  /**
   * Skip a reduction step when the tile's A values are all zero (NN: the block's rows share a
   * zero input; TN: the block's inputs are zero in that sample): sparse inputs, ReLU outputs.
   */
  skipZero?: boolean;
  /** Column block of the leftover rows (n % tileR, e.g. n = 1 inference); default tileC. */
  tailC?: number;
  /** Add into C (C += A·B) instead of overwriting it. */
  accumulate?: boolean;
  /** Epilogue: add `bias[c]` and apply an activation. */
  bias?: boolean;
  relu?: boolean;
  tanh?: boolean;
  /** Epilogue: keep the value only where `M[same index] > 0` (ReLU derivative by its output). */
  maskRelu?: boolean;
  /** Epilogue: multiply by `1 - M[same index]²` (tanh derivative by its output). */
  maskTanh?: boolean;
}

const d = (x: Dim): string => (typeof x === "number" ? String(x) : x);

/**
 * `target = tanh(value)` through `Math.expm1`, as statements: V8's `Math.tanh` is an
 * out-of-line call that took half of a W2 step; this form is within 2 ulp of it (exact to
 * float64 rounding near 0, clamped where tanh is ±1 in float64).
 */
function storeTanh(target: string, value: string): string {
  return `{ const x = ${value}; const e = Math.expm1(2 * x); ${target} = x > 20 ? 1 : x < -20 ? -1 : e / (e + 2); }`;
}

function epilogue(spec: KernelSpec, value: string, c: string): string {
  let v = value;
  if (spec.bias) v = `${v} + bias[${c}]`;
  return v;
}

/** The body that computes one R × C block whose corner is (i, j). */
function tileBody(spec: KernelSpec, R: number, C: number): string {
  const { kind, rows, cols, inner } = spec;
  const lines: string[] = [];
  for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) lines.push(`let s${r}_${c} = 0;`);
  // Base offsets hoisted out of the reduction loop.
  if (kind === "TN") {
    lines.push(`for (let t = 0; t < ${d(inner)}; t++) {`);
    lines.push(`  const ao = t * ${d(rows)} + i, bo = t * ${cols} + j;`);
    for (let r = 0; r < R; r++) lines.push(`  const a${r} = A[ao + ${r}];`);
    if (spec.skipZero) lines.push(`  if (${Array.from({ length: R }, (_, r) => `a${r} === 0`).join(" && ")}) continue;`);
    for (let c = 0; c < C; c++) lines.push(`  const b${c} = B[bo + ${c}];`);
  } else if (kind === "NN") {
    for (let r = 0; r < R; r++) lines.push(`const ar${r} = (i + ${r}) * ${d(inner)};`);
    lines.push(`for (let t = 0; t < ${d(inner)}; t++) {`);
    lines.push(`  const bo = t * ${cols} + j;`);
    for (let r = 0; r < R; r++) lines.push(`  const a${r} = A[ar${r} + t];`);
    if (spec.skipZero) lines.push(`  if (${Array.from({ length: R }, (_, r) => `a${r} === 0`).join(" && ")}) continue;`);
    for (let c = 0; c < C; c++) lines.push(`  const b${c} = B[bo + ${c}];`);
  } else {
    for (let r = 0; r < R; r++) lines.push(`const ar${r} = (i + ${r}) * ${d(inner)};`);
    for (let c = 0; c < C; c++) lines.push(`const br${c} = (j + ${c}) * ${d(inner)};`);
    lines.push(`for (let t = 0; t < ${d(inner)}; t++) {`);
    for (let r = 0; r < R; r++) lines.push(`  const a${r} = A[ar${r} + t];`);
    for (let c = 0; c < C; c++) lines.push(`  const b${c} = B[br${c} + t];`);
  }
  for (let r = 0; r < R; r++)
    for (let c = 0; c < C; c++) lines.push(`  s${r}_${c} += a${r} * b${c};`);
  lines.push(`}`);
  for (let r = 0; r < R; r++) {
    lines.push(`{ const o = (i + ${r}) * ${cols} + j;`);
    for (let c = 0; c < C; c++) {
      let v = epilogue(spec, `s${r}_${c}`, `j + ${c}`);
      if (spec.accumulate) v = `C[o + ${c}] + ${v}`;
      if (spec.maskRelu) lines.push(`  C[o + ${c}] = M[o + ${c}] > 0 ? ${v} : 0;`);
      else if (spec.maskTanh) lines.push(`  { const m = M[o + ${c}]; C[o + ${c}] = (${v}) * (1 - m * m); }`);
      else if (spec.tanh) lines.push(`  ${storeTanh(`C[o + ${c}]`, v)}`);
      else if (spec.relu) lines.push(`  { const v = ${v}; C[o + ${c}] = v > 0 ? v : 0; }`);
      else lines.push(`  C[o + ${c}] = ${v};`);
    }
    lines.push(`}`);
  }
  return lines.join("\n");
}

function tiled(spec: KernelSpec): string {
  const { rows, cols, tileR: R, tileC: C } = spec;
  const out: string[] = [];
  // Rows left over (n % R, and n = 1 inference) run with 1 × tailC blocks.
  const tailTile = Math.min(spec.tailC ?? C, cols);
  const rowLoop = (rr: number, cc: number, start: string, end: string): void => {
    const mainCols = cols - (cols % cc);
    const tailC = cols % cc;
    out.push(`for (let i = ${start}; i < ${end}; i += ${rr}) {`);
    if (mainCols > 0) {
      out.push(`for (let j = 0; j < ${mainCols}; j += ${cc}) {`);
      out.push(tileBody(spec, rr, cc));
      out.push(`}`);
    }
    if (tailC > 0) {
      out.push(`{ const j = ${mainCols};`);
      out.push(tileBody(spec, rr, tailC));
      out.push(`}`);
    }
    out.push(`}`);
  };
  if (typeof rows === "number") {
    const mainRows = rows - (rows % R);
    if (mainRows > 0) rowLoop(R, C, "0", String(mainRows));
    if (rows % R) rowLoop(1, tailTile, String(mainRows), String(rows));
  } else {
    out.push(`const nMain = ${rows} - (${rows} % ${R});`);
    rowLoop(R, C, "0", "nMain");
    rowLoop(1, tailTile, "nMain", rows);
  }
  return out.join("\n");
}

/** Textbook loops, in the order natural for each kind (inner loop contiguous where possible). */
function plain(spec: KernelSpec): string {
  const { kind, rows, cols, inner } = spec;
  const o: string[] = [];
  const fin = (idx: string, c: string): string => {
    const v = spec.bias ? `C[${idx}] + bias[${c}]` : `C[${idx}]`;
    if (spec.relu) return `{ const v = ${v}; C[${idx}] = v > 0 ? v : 0; }`;
    if (spec.tanh) return storeTanh(`C[${idx}]`, v);
    return spec.bias ? `C[${idx}] = ${v};` : "";
  };
  if (kind === "NT") {
    // dot products, both operands contiguous along t
    o.push(`for (let i = 0; i < ${d(rows)}; i++) for (let j = 0; j < ${cols}; j++) {`);
    o.push(`  let s = 0; const ao = i * ${d(inner)}, bo = j * ${d(inner)};`);
    o.push(`  for (let t = 0; t < ${d(inner)}; t++) s += A[ao + t] * B[bo + t];`);
    const v0 = spec.accumulate ? `C[i * ${cols} + j] + s` : "s";
    const m = spec.maskRelu
      ? `M[i * ${cols} + j] > 0 ? ${v0} : 0`
      : spec.maskTanh
        ? `(${v0}) * (1 - M[i * ${cols} + j] * M[i * ${cols} + j])`
        : v0;
    o.push(`  C[i * ${cols} + j] = ${m};`);
    const f = fin(`i * ${cols} + j`, "j");
    if (f) o.push(`  ${f}`);
    o.push(`}`);
    return o.join("\n");
  }
  if (!spec.accumulate) o.push(`C.fill(0, 0, ${d(rows)} * ${cols});`);
  if (kind === "NN") {
    // axpy: i, t, j — inner loop contiguous in B and C
    o.push(`for (let i = 0; i < ${d(rows)}; i++) {`);
    o.push(`  const co = i * ${cols};`);
    o.push(`  for (let t = 0; t < ${d(inner)}; t++) {`);
    o.push(`    const a = A[i * ${d(inner)} + t]; const bo = t * ${cols};`);
    o.push(`    for (let j = 0; j < ${cols}; j++) C[co + j] += a * B[bo + j];`);
    o.push(`  }`);
    if (spec.bias || spec.relu || spec.tanh) o.push(`  for (let j = 0; j < ${cols}; j++) ${fin("co + j", "j")}`);
    o.push(`}`);
  } else {
    // TN: outer products, t, i, j
    o.push(`for (let t = 0; t < ${d(inner)}; t++) {`);
    o.push(`  const ao = t * ${d(rows)}, bo = t * ${cols};`);
    o.push(`  for (let i = 0; i < ${d(rows)}; i++) {`);
    o.push(`    const a = A[ao + i]; const co = i * ${cols};`);
    o.push(`    for (let j = 0; j < ${cols}; j++) C[co + j] += a * B[bo + j];`);
    o.push(`  }`);
    o.push(`}`);
  }
  return o.join("\n");
}

export function kernelSource(spec: KernelSpec): string {
  return spec.tileR > 0 ? tiled(spec) : plain(spec);
}

export type Kernel = (
  A: Float32Array,
  B: Float32Array,
  C: Float32Array,
  bias: Float32Array,
  n: number,
  M?: Float32Array,
) => void;

export function buildKernel(spec: KernelSpec): Kernel {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function("A", "B", "C", "bias", "n", "M", `"use strict";\n${kernelSource(spec)}`) as Kernel;
}

/**
 * One sample (n = 1) through a dense layer whose input is mostly zeros (image background,
 * ReLU outputs): one pass gathers the non-zero inputs (`I` = row offsets into W, `V` = values),
 * then 1×8 column blocks loop over that list only. W stored [in][out] (K × M).
 */
export type GatherKernel = (
  A: Float32Array,
  B: Float32Array,
  C: Float32Array,
  bias: Float32Array,
  I: Int32Array,
  V: Float64Array,
) => void;

export function gatherKernelSource(K: number, M: number, act: "relu" | "tanh" | "none"): string {
  const lines = [
    `let nnz = 0;`,
    `for (let t = 0; t < ${K}; t++) {`,
    `  const a = A[t];`,
    `  if (a !== 0) { I[nnz] = t * ${M}; V[nnz] = a; nnz++; }`,
    `}`,
  ];
  const block = (j: string, c: number): string => {
    const L: string[] = [];
    for (let q = 0; q < c; q++) L.push(`let s${q} = 0;`);
    L.push(`for (let q = 0; q < nnz; q++) {`, `  const a = V[q], bo = I[q] + ${j};`);
    for (let q = 0; q < c; q++) L.push(`  s${q} += a * B[bo + ${q}];`);
    L.push(`}`);
    for (let q = 0; q < c; q++) {
      const v = `s${q} + bias[${j} + ${q}]`;
      if (act === "relu") L.push(`{ const v = ${v}; C[${j} + ${q}] = v > 0 ? v : 0; }`);
      else if (act === "tanh") L.push(storeTanh(`C[${j} + ${q}]`, v));
      else L.push(`C[${j} + ${q}] = ${v};`);
    }
    return L.join("\n");
  };
  const main = M - (M % 8);
  if (main > 0) lines.push(`for (let j = 0; j < ${main}; j += 8) {`, block("j", 8), `}`);
  if (M % 8) lines.push(`{`, block(String(main), M % 8), `}`);
  return lines.join("\n");
}

export function buildGatherKernel(K: number, M: number, act: "relu" | "tanh" | "none"): GatherKernel {
  return new Function("A", "B", "C", "bias", "I", "V", `"use strict";\n${gatherKernelSource(K, M, act)}`) as GatherKernel;
}
