/**
 * Matrix-product kernels as WebAssembly SIMD functions, the wasm twin of `gemm.ts`:
 *
 *     out(r, c) = epilogue(Σ_d A(r, d) · B(d, c))
 *
 * with A(r, d) at a + 4·(r·aR + d·aD), B(d, c) at b + 4·(d·bD + c·bC), out(r, c) at
 * out + 4·(r·oR + c·oC), every address a byte offset in the model's one linear memory and
 * every size a constant except the batch `n` (the function's only parameter). Two shapes of
 * loop cover the three products of a dense layer:
 *
 * - **dot** (aD = bD = 1: both operands contiguous along d, e.g. the forward x·wᵀ): a block of
 *   rows × cols outputs, each a 4-lane accumulator of partial sums over d, 4 values of d per
 *   step; lanes are added at the end, then the last depth % 4 terms one by one.
 * - **axpy** (bC = oC = 1: B and out contiguous along c, e.g. the gradients dy·w and dyᵀ·x):
 *   a block of rows × (4·vectors) outputs; each step splats one A value per row and multiplies
 *   it into whole vectors of B; the last cols % 4 columns use single-value accumulators.
 *
 * The epilogue adds a bias per column, applies ReLU or tanh, multiplies by a dropout mask,
 * zeroes the gradient where a saved ReLU output is not positive, or multiplies it by the
 * derivative of tanh or sigmoid — the same epilogues the TypeScript kernels apply, lane for
 * lane (`v > 0 ? v : 0`, with NaN → 0). `kernelRequest` maps a product's epilogue (the data
 * that `gemm.ts` renders for TypeScript) onto these, or says there is no kernel for it.
 */
import { Body, type WasmFunction } from "./encode.js";
import type { EpilogueActivation, Product, ProductShape } from "../gemm.js";
import { colBlocks, countedLoop, E, lanes, locals, rowBlocks, scaled, type Lanes, type Locals } from "./loops.js";
import { depthLoop, lowerColBlocks, skips } from "./causal.js";

export interface KernelSpec extends ProductShape {
  /** Export name (an identifier). */
  readonly name: string;
  /** Byte addresses of the operands and the output. */
  readonly a: number;
  readonly b: number;
  readonly out: number;
  /** Byte address of a bias indexed by column. */
  readonly bias?: number;
  /** ReLU on the result. */
  readonly relu?: boolean;
  /** Byte address of a mask laid out like out: the result is multiplied by it. */
  readonly mask?: number;
  /** Byte address of a saved ReLU output laid out like out: the result is zeroed where it is ≤ 0. */
  readonly reluGradOf?: number;
  /** tanh on the result (a rational approximation, see `tanhOnStack`). */
  readonly act?: "tanh";
  /** The derivative of tanh (1 − y²) or sigmoid (y·(1 − y)) from the saved output y at `saved`. */
  readonly actGradOf?: { readonly act: "tanh" | "sigmoid"; readonly saved: number };
  /**
   * B is `b` transposed: the function first copies the [cols × depth] matrix at `from` into
   * `b` as [depth × cols] (the forward of a layer with a short reduction, where the axpy loop
   * beats the dot loop; the copy is depth·cols values per call).
   */
  readonly transposeB?: { readonly from: number };
  /**
   * The product of one sample inside a loop over the samples (`productInto`): A, B (bmm's
   * per-head operands) and the output (and everything laid out like it) start this many
   * elements further on per sample.
   */
  readonly sample?: { readonly a?: number; readonly b?: number; readonly out?: number };
  /** Add each result to the output instead of storing it (a sum over samples; no epilogue). */
  readonly accumulate?: boolean;
}

/** A matrix product for `WasmKernels.request`: `KernelSpec` with buffer names for addresses. */
export interface KernelRequest extends ProductShape {
  readonly a: string;
  readonly b: string;
  readonly out: string;
  /** Buffer added per column. */
  readonly bias?: string;
  readonly relu?: boolean;
  /** Buffer multiplied in, laid out like the output (a dropout mask). */
  readonly mask?: string;
  /** Saved ReLU output laid out like the output: the result is zeroed where it is ≤ 0. */
  readonly reluGradOf?: string;
  /** tanh on the result. */
  readonly act?: "tanh";
  /** The result times the derivative of tanh or sigmoid, from the saved output (laid out like the output). */
  readonly actGradOf?: { readonly act: "tanh" | "sigmoid"; readonly saved: string };
  /** A `"n"` rows or depth counts n × this many rows (a pointwise convolution's pixels): the kernel is called with that count. */
  readonly rowsPerSample?: number;
  /** One sample's product, run by a convolution or bmm kernel for each sample (`KernelSpec.sample`). */
  readonly sample?: { readonly a?: number; readonly b?: number; readonly out?: number };
  readonly accumulate?: boolean;
}

/**
 * The kernel fields of a forward activation ({} for none), or undefined when the kernels lack
 * it: they apply ReLU and tanh. Sigmoid is not among them: from tanh it would lose its relative
 * precision for negative inputs (0 below −15.8); leaky_relu, elu and gelu have no kernel form.
 */
function forwardActivation(act: EpilogueActivation | undefined): Pick<KernelRequest, "relu" | "act"> | undefined {
  if (act === undefined) return {};
  if (act.kind === "relu") return { relu: true };
  if (act.kind === "tanh") return { act: "tanh" };
  return undefined;
}

/** The kernel fields of an activation's derivative at a saved output: ReLU's, tanh's and sigmoid's; undefined for the others. */
function activationDerivative(d: (EpilogueActivation & { readonly saved: string }) | undefined): Pick<KernelRequest, "reluGradOf" | "actGradOf"> | undefined {
  if (d === undefined) return {};
  if (d.kind === "relu") return { reluGradOf: d.saved };
  if (d.kind === "tanh" || d.kind === "sigmoid") return { actGradOf: { act: d.kind, saved: d.saved } };
  return undefined;
}

/** The kernel request of a product, or undefined when the kernels lack its epilogue (then the TypeScript lowering runs). */
export function kernelRequest(p: Product): KernelRequest | undefined {
  const { epilogue: e, rowsPerSample, sample, accumulate, ...product } = p;
  const rows = { ...(rowsPerSample !== undefined ? { rowsPerSample } : {}), ...(sample !== undefined ? { sample } : {}), ...(accumulate === true ? { accumulate } : {}) };
  if (e.kind === "forward") {
    const act = forwardActivation(e.act);
    return act === undefined ? undefined : { ...product, ...(e.bias !== undefined ? { bias: e.bias } : {}), ...act, ...rows };
  }
  const grad = activationDerivative(e.actGrad);
  return grad === undefined ? undefined : { ...product, ...(e.mask !== undefined ? { mask: e.mask } : {}), ...grad, ...rows };
}

export type KernelForm = "dot" | "axpy";

/** Which loop shape computes this product, or why none does (then the TypeScript kernel runs). */
export function kernelForm(s: KernelSpec): KernelForm | string {
  if (s.aD === 1 && s.bD === 1 && typeof s.depth === "number") return "dot";
  if (s.bC === 1 && s.oC === 1) return "axpy";
  return "neither operand layout is contiguous";
}

/** Block sizes: dot 2 rows × 4 columns (8 accumulators + 6 loaded vectors fit 16 registers). */
const DOT_ROWS = 2;
const DOT_COLS = 4;
/** axpy: 4 rows × 2 vectors (8 columns); single rows take 4 vectors (16 columns). */
const AXPY_ROWS = 4;
const AXPY_VECS = 2;
const AXPY_TAIL_VECS = 4;

/**
 * tanh of the value(s) on the stack: x·p(x²)/q(x²) with x clamped to ±7.9053111 (where the
 * approximation reaches ±1), the odd 13/6 rational function that Eigen and XLA use for
 * float32, and x itself where |x| < 0.0004 (as Eigen does: exact there, and no underflow of
 * x·p for tiny x). Within 8 float32 ulp (4.2e-7) of Math.tanh; NaN stays NaN (min/max
 * propagate it).
 */
const TANH_CLAMP = 7.90531110763549805;
const TANH_P = [-2.76076847742355e-16, 2.00018790482477e-13, -8.60467152213735e-11, 5.12229709037114e-8, 1.48572235717979e-5, 6.37261928875436e-4, 4.89352455891786e-3];
const TANH_Q = [1.19825839466702e-6, 1.18534705686654e-4, 2.268434632439e-3, 4.89352518554385e-3];

export function tanhOnStack(x: Lanes): void {
  x.k(TANH_CLAMP);
  x.min();
  x.k(-TANH_CLAMP);
  x.max();
  x.set(0); // x
  x.get(0);
  x.get(0);
  x.mul();
  x.set(1); // x²
  const poly = (cs: readonly number[]): void => {
    x.k(cs[0] as number);
    for (const c of cs.slice(1)) {
      x.get(1);
      x.mul();
      x.k(c);
      x.add();
    }
  };
  x.get(0);
  poly(TANH_P);
  x.mul();
  poly(TANH_Q);
  x.div();
  // |x| < 0.0004: x itself
  x.get(0);
  x.tinyMask(TANH_TINY);
  x.pick();
}

const TANH_TINY = 0.0004;

/**
 * Mask, activation derivative and activation on the value(s) on the stack, in the order the
 * TypeScript epilogues apply them. `x` reads the mask and saved outputs at the output's offset.
 */
function activationEpilogue(f: Body, s: KernelSpec, L: Locals, x: Lanes, vec: boolean): void {
  if (s.mask !== undefined) {
    x.load(s.mask);
    x.mul();
  }
  if (s.reluGradOf !== undefined) {
    if (vec) {
      x.load(s.reluGradOf);
      f.v128Zero().f32x4Gt().v128And();
    } else {
      // v, 0, saved > 0 → select
      f.set(L.t).get(L.t).f32(0);
      x.load(s.reluGradOf);
      f.f32(0).f32Gt().select();
    }
  }
  if (s.actGradOf !== undefined) {
    const y = s.actGradOf.saved;
    if (s.actGradOf.act === "tanh") {
      // g · (1 − y·y)
      x.k(1);
      x.load(y);
      x.load(y);
      x.mul();
      x.sub();
    } else {
      // g · (y · (1 − y))
      x.load(y);
      x.k(1);
      x.load(y);
      x.sub();
      x.mul();
    }
    x.mul();
  }
  if (s.relu === true) {
    if (vec) f.set(L.s).v128Zero().get(L.s).f32x4Pmax();
    else f.set(L.t).get(L.t).f32(0).get(L.t).f32(0).f32Gt().select();
  }
  if (s.act === "tanh") tanhOnStack(x);
}

/** The axpy epilogue on the vector on the stack, reading at `o + off` (bias: column `c` + `j`). */
function epilogueVec(f: Body, s: KernelSpec, L: Locals, off: number, j: number): void {
  if (s.bias !== undefined) {
    scaled(f, L.c, 16);
    f.v128Load(s.bias + 16 * j).f32x4Add();
  }
  activationEpilogue(f, s, L, lanes(f, L, true, off), true);
}

/** Byte shifts (locals) added to A's, B's and the output's addresses: one sample's product in a convolution or bmm kernel. */
interface Shifts {
  readonly a: number | undefined;
  readonly b: number | undefined;
  readonly out: number | undefined;
}

/** `local.get shift; i32.add` when there is a shift. */
function shifted(f: Body, shift: number | undefined): void {
  if (shift !== undefined) f.get(shift).i32Add();
}

/** Adds the output's current value (at `o + out + off`) to the result on the stack, for an accumulating product. */
function accumulated(f: Body, s: KernelSpec, L: Locals, off: number, vec: boolean): void {
  if (s.accumulate !== true) return;
  if (vec) f.get(L.o).v128Load(s.out + off).f32x4Add();
  else f.get(L.o).f32Load(s.out + off).f32Add();
}

function dotInto(f: Body, L: Locals, s: KernelSpec, shift: Shifts): void {
  const depth = s.depth as number;
  const quads = Math.floor(depth / 4);
  const rest = depth % 4;
  const tile = (rh: number, cw: number): void => {
    scaled(f, L.r, s.aR * E);
    shifted(f, shift.a);
    f.set(L.pa);
    scaled(f, L.c, s.bC * E);
    shifted(f, shift.b);
    f.set(L.pb);
    if (quads > 0) {
      for (let k = 0; k < rh * cw; k++) f.v128Zero().set(L.acc(k));
      countedLoop(
        f,
        L.d,
        0,
        quads,
        1,
        () => {
          for (let i = 0; i < rh; i++) f.get(L.pa).v128Load(s.a + i * s.aR * E).set(L.av(i));
          for (let j = 0; j < cw; j++) f.get(L.pb).v128Load(s.b + j * s.bC * E).set(L.bv(j));
          for (let i = 0; i < rh; i++) {
            for (let j = 0; j < cw; j++) {
              const acc = L.acc(i * cw + j);
              f.get(acc).get(L.av(i)).get(L.bv(j)).f32x4Mul().f32x4Add().set(acc);
            }
          }
          f.get(L.pa).i32(16).i32Add().set(L.pa);
          f.get(L.pb).i32(16).i32Add().set(L.pb);
        },
        L.n,
      );
    }
    // o = r·oR + c·oC (bytes)
    scaled(f, L.r, s.oR * E);
    scaled(f, L.c, s.oC * E);
    f.i32Add();
    shifted(f, shift.out);
    f.set(L.o);
    for (let i = 0; i < rh; i++) {
      for (let j = 0; j < cw; j++) {
        const acc = L.acc(i * cw + j);
        const off = (i * s.oR + j * s.oC) * E;
        f.get(L.o);
        if (quads > 0) {
          f.get(acc).f32x4ExtractLane(0).get(acc).f32x4ExtractLane(1).f32Add();
          f.get(acc).f32x4ExtractLane(2).get(acc).f32x4ExtractLane(3).f32Add().f32Add();
        } else f.f32(0);
        // The last depth % 4 terms (pa, pb point just past the vector part).
        for (let t = 0; t < rest; t++) {
          f.get(L.pa).f32Load(s.a + i * s.aR * E + t * E);
          f.get(L.pb).f32Load(s.b + j * s.bC * E + t * E);
          f.f32Mul().f32Add();
        }
        if (s.bias !== undefined) {
          scaled(f, L.c, E);
          f.f32Load(s.bias + j * E).f32Add();
        }
        activationEpilogue(f, s, L, lanes(f, L, false, off), false);
        accumulated(f, s, L, off, false);
        f.f32Store(s.out + off);
      }
    }
  };
  if (skips(s) === "out") rowBlocks(f, L, s.rows, DOT_ROWS, (rh) => lowerColBlocks(f, L, s, rh, DOT_COLS, tile, shift.out));
  else rowBlocks(f, L, s.rows, DOT_ROWS, (rh) => colBlocks(f, L, s.cols, DOT_COLS, (cw) => tile(rh, cw)));
}

/** The transposed copy of B that `transposeB` asks for (once per call, before any product). */
export function transposeInto(f: Body, L: Locals, s: KernelSpec): void {
  if (s.transposeB !== undefined) {
    // b[d·cols + c] = from[c·depth + d]: pa walks the source, pb the copy.
    const depth = s.depth as number;
    const from = s.transposeB.from;
    countedLoop(
      f,
      L.c,
      0,
      s.cols,
      1,
      () => {
        scaled(f, L.c, depth * E);
        f.set(L.pa);
        scaled(f, L.c, E);
        f.set(L.pb);
        countedLoop(
          f,
          L.d,
          0,
          depth,
          1,
          () => {
            f.get(L.pb).get(L.pa).f32Load(from).f32Store(s.b);
            f.get(L.pa).i32(E).i32Add().set(L.pa);
            f.get(L.pb).i32(s.cols * E).i32Add().set(L.pb);
          },
          L.n,
        );
      },
      L.n,
    );
  }
}

function axpyInto(f: Body, L: Locals, s: KernelSpec, shift: Shifts): void {
  const vectors = Math.floor(s.cols / 4);
  let depthEnd: number | undefined;
  const end = (): number => (depthEnd ??= f.local("i32", "depthEnd"));
  // c counts vectors: byte offset of column c·4 is c·16 (bC = oC = 1).
  const tile = (rh: number, cv: number): void => {
    for (let k = 0; k < rh * cv; k++) f.v128Zero().set(L.acc(k));
    scaled(f, L.r, s.aR * E);
    shifted(f, shift.a);
    f.set(L.pa);
    scaled(f, L.c, 16);
    shifted(f, shift.b);
    f.set(L.pb);
    depthLoop(
      f,
      L,
      s,
      rh,
      end,
      () => {
        for (let j = 0; j < cv; j++) f.get(L.pb).v128Load(s.b + j * 16).set(L.bv(j));
        for (let i = 0; i < rh; i++) {
          f.get(L.pa).v128Load32Splat(s.a + i * s.aR * E).set(L.s);
          for (let j = 0; j < cv; j++) {
            const acc = L.acc(i * cv + j);
            f.get(acc).get(L.s).get(L.bv(j)).f32x4Mul().f32x4Add().set(acc);
          }
        }
        f.get(L.pa).i32(s.aD * E).i32Add().set(L.pa);
        f.get(L.pb).i32(s.bD * E).i32Add().set(L.pb);
      },
    );
    scaled(f, L.r, s.oR * E);
    scaled(f, L.c, 16);
    f.i32Add();
    shifted(f, shift.out);
    f.set(L.o);
    for (let i = 0; i < rh; i++) {
      for (let j = 0; j < cv; j++) {
        const off = i * s.oR * E + j * 16;
        f.get(L.o).get(L.acc(i * cv + j));
        epilogueVec(f, s, L, off, j);
        accumulated(f, s, L, off, true);
        f.v128Store(s.out + off);
      }
    }
  };
  // The last cols % 4 columns, one f32 accumulator per output.
  const rc = s.cols % 4;
  const c0 = 4 * vectors;
  const scalarTile = (rh: number): void => {
    for (let k = 0; k < rh * rc; k++) f.f32(0).set(L.sacc(k));
    scaled(f, L.r, s.aR * E);
    shifted(f, shift.a);
    f.set(L.pa);
    f.i32(c0 * E);
    shifted(f, shift.b);
    f.set(L.pb);
    depthLoop(
      f,
      L,
      s,
      rh,
      end,
      () => {
        for (let j = 0; j < rc; j++) f.get(L.pb).f32Load(s.b + j * E).set(L.sb(j));
        for (let i = 0; i < rh; i++) {
          f.get(L.pa).f32Load(s.a + i * s.aR * E).set(L.sa);
          for (let j = 0; j < rc; j++) {
            const acc = L.sacc(i * rc + j);
            f.get(acc).get(L.sa).get(L.sb(j)).f32Mul().f32Add().set(acc);
          }
        }
        f.get(L.pa).i32(s.aD * E).i32Add().set(L.pa);
        f.get(L.pb).i32(s.bD * E).i32Add().set(L.pb);
      },
    );
    scaled(f, L.r, s.oR * E);
    shifted(f, shift.out);
    f.set(L.o);
    for (let i = 0; i < rh; i++) {
      for (let j = 0; j < rc; j++) {
        const off = (i * s.oR + c0 + j) * E;
        f.get(L.o).get(L.sacc(i * rc + j));
        if (s.bias !== undefined) f.i32(0).f32Load(s.bias + (c0 + j) * E).f32Add();
        activationEpilogue(f, s, L, lanes(f, L, false, off), false);
        accumulated(f, s, L, off, false);
        f.f32Store(s.out + off);
      }
    }
  };
  rowBlocks(f, L, s.rows, AXPY_ROWS, (rh) => {
    colBlocks(f, L, vectors, rh === 1 ? AXPY_TAIL_VECS : AXPY_VECS, (cv) => tile(rh, cv));
    if (rc > 0) scalarTile(rh);
  });
}

/**
 * The product's loops written into `f` (its transposed B, if any, must be made first:
 * `transposeInto`). With `sample` (a local holding the sample index) the operands are shifted
 * by `KernelSpec.sample`; the rows and depth are then constants.
 */
export function productInto(f: Body, L: Locals, s: KernelSpec, sample?: number): void {
  const form = kernelForm(s);
  if (form !== "dot" && form !== "axpy") throw new Error(`bug: no wasm kernel for ${s.name}: ${form}`);
  const shift = (elements: number | undefined, name: string): number | undefined => {
    if (elements === undefined || elements === 0) return undefined;
    if (sample === undefined) throw new Error(`bug: ${s.name} is one sample's product, outside a loop over the samples`);
    const local = f.local("i32", name);
    scaled(f, sample, elements * E);
    f.set(local);
    return local;
  };
  const shifts: Shifts = { a: shift(s.sample?.a, "aShift"), b: shift(s.sample?.b, "bShift"), out: shift(s.sample?.out, "outShift") };
  if (s.accumulate === true && (s.bias !== undefined || s.relu === true || s.mask !== undefined || s.reluGradOf !== undefined || s.act !== undefined || s.actGradOf !== undefined)) {
    throw new Error(`bug: ${s.name} accumulates and has an epilogue`);
  }
  if (form === "dot") dotInto(f, L, s, shifts);
  else axpyInto(f, L, s, shifts);
}

/** The function computing this product (called with the row count); `kernelForm(s)` must not be a reason. */
export function kernelFunction(s: KernelSpec): WasmFunction {
  const f = new Body(["i32"], ["n"]);
  const L = locals(f);
  transposeInto(f, L, s);
  productInto(f, L, s);
  return { name: s.name, body: f };
}
