/**
 * The register-tiled matrix product of the TypeScript target, rendered from a `Product`:
 *
 *     out(r, c) = epilogue(Σ_d A(r, d) · B(d, c))
 *
 * with A(r, d) = a[r·aR + d·aD] (loaded into u0..u3), B(d, c) = b[d·bD + c·bC] (into t0..t7),
 * and out(r, c) at r·oR + c·oC. A block of 4 rows × 3 columns is held in 12 local
 * accumulators; each step of the inner loop loads 4 values of A and 3 of B and does 12
 * multiply-adds (the bench helper's probes: 4×3 beats 4×4, whose 16 accumulators spill).
 * Leftover batch rows use 1 × 8 blocks, which is also the n = 1 inference path.
 *
 * Rows may be the batch `n` (a run-time count, times `rowsPerSample` for a pointwise
 * convolution's pixels) or a constant; columns are always constant, so column blocks and the
 * remainder block are unrolled at compile time. A convolution's product covers one sample's
 * windows inside a loop over the samples (`sample`): its operands are shifted by the sample. Each product picks strides so that its inner loop reads
 * both operands with constant offsets (`ts/products.ts`, `productOf`). The epilogue is data
 * (bias, activation, dropout mask, activation derivative), rendered here into each store; the
 * WebAssembly kernels map the same data onto theirs (`wasm/products.ts`).
 */
import { activationCode, storeActivated } from "./ts/activations.js";
import type { CausalSkip } from "../ops/bmm.js";

/** The shape of a matrix product: sizes (`n`: the run-time batch) and strides in elements. */
export interface ProductShape {
  readonly rows: number | "n";
  readonly cols: number;
  readonly depth: number | "n";
  readonly aR: number;
  readonly aD: number;
  readonly bD: number;
  readonly bC: number;
  readonly oR: number;
  readonly oC: number;
  /** A causal attention's triangle that may be skipped (`ops/bmm.ts`: `CausalSkip`); the TypeScript kernels compute it all. */
  readonly causal?: CausalSkip;
}

/** An activation in an epilogue: its kind (`ops/activations.ts`) and its `alpha` (0 when it has none). */
export interface EpilogueActivation {
  readonly kind: string;
  readonly alpha: number;
}

/** A forward product's epilogue: the sum plus a bias per column, then an activation. */
export interface ForwardEpilogue {
  readonly kind: "forward";
  /** Buffer indexed by column. */
  readonly bias?: string;
  readonly act?: EpilogueActivation;
}

/** An input gradient's epilogue: the sum times a dropout mask, then times an activation's derivative. */
export interface GradientEpilogue {
  readonly kind: "gradient";
  /** Buffer laid out like the output. */
  readonly mask?: string;
  /** The derivative of `kind` at the saved value (laid out like the output; the output or the input of that activation). */
  readonly actGrad?: EpilogueActivation & { readonly saved: string };
}

export type Epilogue = ForwardEpilogue | GradientEpilogue;

/** A matrix product as one typed request: operand and output buffers, shape and strides, epilogue as data. */
export interface Product extends ProductShape {
  readonly a: string;
  readonly b: string;
  readonly out: string;
  /** A `"n"` rows or depth counts n × this many rows (a convolution's output pixels per sample); 1 when absent. */
  readonly rowsPerSample?: number;
  /**
   * The product of one sample, run inside a loop over the samples that the caller writes (its
   * index: `SAMPLE`): A, B and the output start this many elements further on per sample (0
   * when absent). The rows and the depth are then constants.
   */
  readonly sample?: { readonly a?: number; readonly b?: number; readonly out?: number };
  /** Add each result to the output instead of storing it (a sum over samples; no bias, no activation). */
  readonly accumulate?: boolean;
  readonly epilogue: Epilogue;
}

/** The sample index of a per-sample product (`Product.sample`), in the code that loops over the samples. */
export const SAMPLE = "sample";

/** What rendering a product may need besides the product: literals, and where single rows gather their non-zero inputs. */
export interface GemmOptions {
  readonly num: (x: number) => string;
  /**
   * Single rows (the batch's leftover rows, and n = 1 inference) first gather the non-zero
   * values of their row of A into these buffers and loop over those only: inputs such as
   * images and ReLU outputs are about half zeros.
   */
  readonly gather?: { readonly idx: string; readonly val: string };
}

/** The statements computing `p` in TypeScript. */
export function gemm(p: Product, options: GemmOptions): string {
  const e = p.epilogue;
  const per = p.rowsPerSample ?? 1;
  const count = per === 1 ? "n" : "rows";
  const code = tiles({
    ...p,
    count,
    aBase: p.sample?.a !== undefined ? times(SAMPLE, p.sample.a) : "",
    bBase: p.sample?.b !== undefined ? times(SAMPLE, p.sample.b) : "",
    oBase: p.sample?.out !== undefined ? times(SAMPLE, p.sample.out) : "",
    ...(options.gather !== undefined ? { gather: options.gather } : {}),
    ...(e.kind === "forward" && e.bias !== undefined ? { colSetup: (ci: number, c: string) => `const q${ci} = ${e.bias}[${c}];` } : {}),
    store: (acc, o, ci) => {
      const target = `${p.out}[${o}]`;
      if (p.accumulate === true) {
        if (e.kind !== "forward" || e.bias !== undefined || e.act !== undefined) throw new Error("bug: an accumulating product with an epilogue");
        return `${target} += ${acc};`;
      }
      if (e.kind === "forward") {
        const v = e.bias !== undefined ? `${acc} + q${ci}` : acc;
        return e.act === undefined ? `${target} = ${v};` : storeActivated(target, v, e.act.kind, options.num(e.act.alpha));
      }
      const g = e.mask !== undefined ? `${acc} * ${e.mask}[${o}]` : acc;
      const d = e.actGrad;
      return `${target} = ${d !== undefined ? activationCode(d.kind).grad(g, `${d.saved}[${o}]`, options.num(d.alpha)) : g};`;
    },
  });
  return per === 1 ? code : `const rows = n * ${per};\n${code}`;
}

/** A product with its epilogue as code, for the tile writers below. */
interface Tiles extends ProductShape {
  readonly a: string;
  readonly b: string;
  /** The run-time count that a `"n"` rows or depth stands for (`n`, or `rows`). */
  readonly count: string;
  /** Element offsets added to every index of A, of B and of the output ("" for none). */
  readonly aBase: string;
  readonly bBase: string;
  readonly oBase: string;
  /** Statements run once per column block before the rows, e.g. loading the bias: (ci, colExpr). */
  readonly colSetup?: (ci: number, col: string) => string;
  /** Statement storing one result: (accumulator, output index expression, column index ci). */
  readonly store: (acc: string, o: string, ci: number) => string;
  readonly gather?: { readonly idx: string; readonly val: string };
}

/** Main block: 4 rows × 3 columns = 12 accumulators, which fit x64's 16 vector registers. */
const ROWS = 4;
const COLS = 3;
/** The batch's leftover rows (and n = 1 inference) use one row × 8 columns. */
const TAIL_COLS = 8;

function plus(base: string, k: number): string {
  if (/^\d+$/.test(base)) return String(Number(base) + k);
  return k === 0 ? base : `${base} + ${k}`;
}

/** `x * k` as short as it gets: "" for 0, "x" for k = 1, folded when x is a literal. */
function times(x: string, k: number): string {
  if (x === "0" || k === 0) return "";
  if (/^\d+$/.test(x)) return String(Number(x) * k);
  return k === 1 ? x : `${x} * ${k}`;
}

function sum(...terms: string[]): string {
  const t = terms.filter((x) => x !== "");
  if (t.length === 0) return "0";
  const lits = t.filter((x) => /^\d+$/.test(x)).reduce((a, x) => a + Number(x), 0);
  const rest = t.filter((x) => !/^\d+$/.test(x));
  if (lits !== 0 || rest.length === 0) rest.push(String(lits));
  return rest.join(" + ");
}

/** A 1 × cw tile over the gathered non-zero entries of row r (see `GemmOptions.gather`). */
function gatheredTile(s: Tiles, g: { idx: string; val: string }, cw: number, r: string, c: string): string {
  const lines: string[] = [];
  const accs: string[] = [];
  for (let j = 0; j < cw; j++) accs.push(`s0${j} = 0`);
  lines.push(`let ${accs.join(", ")};`);
  lines.push(`const pb = ${sum(s.bBase, times(c, s.bC))};`);
  const bloads: string[] = [];
  for (let j = 0; j < cw; j++) bloads.push(`t${j} = ${s.b}[${plus("pd", j * s.bC)}]`);
  const fmas: string[] = [];
  for (let j = 0; j < cw; j++) fmas.push(`s0${j} += u0 * t${j};`);
  lines.push(`for (let q = 0; q < nnz; q++) {`);
  lines.push(`const u0 = ${g.val}[q], pd = pb + ${times(`${g.idx}[q]`, s.bD) || "0"};`);
  lines.push(`const ${bloads.join(", ")};`);
  lines.push(fmas.join("\n"));
  lines.push("}");
  lines.push(`const po = ${sum(s.oBase, times(r, s.oR), times(c, s.oC))};`);
  for (let j = 0; j < cw; j++) lines.push(s.store(`s0${j}`, plus("po", j * s.oC), j));
  return `{\n${lines.join("\n")}\n}`;
}

function tile(s: Tiles, rh: number, cw: number, r: string, c: string): string {
  if (rh === 1 && s.gather !== undefined) return gatheredTile(s, s.gather, cw, r, c);
  const lines: string[] = [];
  const accs: string[] = [];
  for (let i = 0; i < rh; i++) for (let j = 0; j < cw; j++) accs.push(`s${i}${j} = 0`);
  lines.push(`let ${accs.join(", ")};`);
  lines.push(`let pa = ${sum(s.aBase, times(r, s.aR))}, pb = ${sum(s.bBase, times(c, s.bC))};`);
  const loads: string[] = [];
  for (let i = 0; i < rh; i++) loads.push(`u${i} = ${s.a}[${plus("pa", i * s.aR)}]`);
  const bloads: string[] = [];
  for (let j = 0; j < cw; j++) bloads.push(`t${j} = ${s.b}[${plus("pb", j * s.bC)}]`);
  const fmas: string[] = [];
  for (let i = 0; i < rh; i++) for (let j = 0; j < cw; j++) fmas.push(`s${i}${j} += u${i} * t${j};`);
  lines.push(`for (let d = 0; d < ${depthOf(s)}; d++) {`);
  lines.push(`const ${loads.join(", ")};`);
  lines.push(`const ${bloads.join(", ")};`);
  lines.push(fmas.join("\n"));
  lines.push(`pa += ${s.aD};`, `pb += ${s.bD};`);
  lines.push("}");
  const base = sum(s.oBase, times(r, s.oR), times(c, s.oC));
  lines.push(`const po = ${base};`);
  for (let i = 0; i < rh; i++) {
    for (let j = 0; j < cw; j++) lines.push(s.store(`s${i}${j}`, plus("po", i * s.oR + j * s.oC), j));
  }
  return `{\n${lines.join("\n")}\n}`;
}

/** The tiles of one block of rows (height rh, column blocks of cw) at row expression r. */
function rowBlock(s: Tiles, rh: number, cw: number, r: string): string {
  const out: string[] = [];
  const width = Math.min(cw, s.cols);
  const full = Math.floor(s.cols / width) * width;
  const rest = s.cols - full;
  const setup = (c: string, w: number): string => {
    if (s.colSetup === undefined) return "";
    const parts: string[] = [];
    for (let j = 0; j < w; j++) parts.push(s.colSetup(j, plus(c, j)));
    return parts.join("\n") + "\n";
  };
  if (full === width) out.push(`{\n${setup("0", width)}${tile(s, rh, width, r, "0")}\n}`);
  else if (full > width) {
    out.push(`for (let c = 0; c < ${full}; c += ${width}) {\n${setup("c", width)}${tile(s, rh, width, r, "c")}\n}`);
  }
  if (rest > 0) out.push(`{\n${setup(String(full), rest)}${tile(s, rh, rest, r, String(full))}\n}`);
  return out.join("\n");
}

/** The gathering loop before a single row's tiles (nothing without `gather`). */
function gatherRow(s: Tiles, r: string): string {
  const g = s.gather;
  if (g === undefined) return "";
  return [
    `let nnz = 0;`,
    `for (let d = 0, pa = ${sum(s.aBase, times(r, s.aR))}; d < ${depthOf(s)}; d++, pa += ${s.aD}) {`,
    `const a = ${s.a}[pa];`,
    `if (a !== 0) {`,
    `${g.idx}[nnz] = d;`,
    `${g.val}[nnz] = a;`,
    `nnz++;`,
    `}`,
    `}`,
    "",
  ].join("\n");
}

/** The reduction's length as code. */
function depthOf(s: Tiles): string {
  return s.depth === "n" ? s.count : String(s.depth);
}

function tiles(s: Tiles): string {
  if (s.rows === "n") {
    return [
      `let r = 0;`,
      `for (; r + ${ROWS} <= ${s.count}; r += ${ROWS}) {\n${rowBlock(s, ROWS, COLS, "r")}\n}`,
      `for (; r < ${s.count}; r++) {\n${gatherRow(s, "r")}${rowBlock(s, 1, TAIL_COLS, "r")}\n}`,
    ].join("\n");
  }
  const full = Math.floor(s.rows / ROWS) * ROWS;
  const rest = s.rows - full;
  const out: string[] = [];
  if (full === ROWS) out.push(rowBlock(s, ROWS, COLS, "0"));
  else if (full > ROWS) out.push(`for (let r = 0; r < ${full}; r += ${ROWS}) {\n${rowBlock(s, ROWS, COLS, "r")}\n}`);
  if (rest > 0) out.push(`{\n${rowBlock(s, rest, COLS, String(full))}\n}`);
  return out.join("\n");
}
