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
 * The epilogue adds a bias per column, applies ReLU, multiplies by a dropout mask, or zeroes
 * the gradient where a saved ReLU output is not positive — the same epilogues the
 * TypeScript kernels apply, lane for lane (`v > 0 ? v : 0`, with NaN → 0).
 */
import { Body, type ValType, type WasmFunction } from "./encode.js";
import type { ProductShape } from "../gemm.js";
import type { Geometry } from "../../ops/conv-geometry.js";

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
const E = 4;

/** The locals of a kernel, each declared on first use (so a function declares only what it reads). */
interface Locals {
  readonly n: number;
  readonly r: number;
  readonly c: number;
  readonly d: number;
  readonly pa: number;
  readonly pb: number;
  readonly o: number;
  readonly t: number;
  readonly s: number;
  acc(k: number): number;
  av(i: number): number;
  bv(j: number): number;
  /** f32 accumulators and operands of the axpy loop's last cols % 4 columns. */
  sacc(k: number): number;
  sb(j: number): number;
  readonly sa: number;
  /** Scratch of the activation epilogues: v128 and f32. */
  vt(i: number): number;
  st(i: number): number;
  readonly ti: number;
}

function locals(f: Body): Locals {
  const made = new Map<string, number>();
  const get = (name: string, type: ValType): number => {
    let i = made.get(name);
    if (i === undefined) {
      i = f.local(type, name);
      made.set(name, i);
    }
    return i;
  };
  return {
    n: 0,
    get r() {
      return get("r", "i32");
    },
    get c() {
      return get("c", "i32");
    },
    get d() {
      return get("d", "i32");
    },
    get pa() {
      return get("pa", "i32");
    },
    get pb() {
      return get("pb", "i32");
    },
    get o() {
      return get("o", "i32");
    },
    get t() {
      return get("t", "f32");
    },
    get s() {
      return get("s", "v128");
    },
    acc: (k) => get(`acc${k}`, "v128"),
    av: (i) => get(`a${i}`, "v128"),
    bv: (j) => get(`b${j}`, "v128"),
    sacc: (k) => get(`sacc${k}`, "f32"),
    sb: (j) => get(`sb${j}`, "f32"),
    vt: (i) => get(`vt${i}`, "v128"),
    st: (i) => get(`st${i}`, "f32"),
    get ti() {
      return get("ti", "i32");
    },
    get sa() {
      return get("sa", "f32");
    },
  };
}

/** `for (v = from; v < to; v += step) body` as a do-while (callers guarantee one iteration). */
function countedLoop(f: Body, v: number, from: number, to: number | "n", step: number, body: () => void, n: number): void {
  f.i32(from).set(v).loop();
  body();
  f.get(v).i32(step).i32Add().tee(v);
  if (to === "n") f.get(n);
  else f.i32(to);
  f.i32LtU().brIf(0).end();
}

/** Rows in blocks of `rh`; with a run-time `n`, leftover rows one at a time. */
function rowBlocks(f: Body, L: Locals, rows: number | "n", rh: number, block: (h: number) => void): void {
  if (rows === "n") {
    f.i32(0).set(L.r);
    // while (r + rh <= n) { block; r += rh }
    f.block().loop();
    f.get(L.r).i32(rh).i32Add().get(L.n).i32GtU().brIf(1);
    block(rh);
    f.get(L.r).i32(rh).i32Add().set(L.r).br(0).end().end();
    // while (r < n) { block(1); r++ }
    f.block().loop();
    f.get(L.r).get(L.n).i32GeU().brIf(1);
    block(1);
    f.get(L.r).i32(1).i32Add().set(L.r).br(0).end().end();
    return;
  }
  const full = Math.floor(rows / rh) * rh;
  if (full > 0) countedLoop(f, L.r, 0, full, rh, () => block(rh), L.n);
  if (rows > full) {
    f.i32(full).set(L.r);
    block(rows - full);
  }
}

/** Columns in blocks of `cw` (units of the caller's choosing), then one narrower block. */
function colBlocks(f: Body, L: Locals, cols: number, cw: number, block: (w: number) => void): void {
  const full = Math.floor(cols / cw) * cw;
  if (full > 0) countedLoop(f, L.c, 0, full, cw, () => block(cw), L.n);
  if (cols > full) {
    f.i32(full).set(L.c);
    block(cols - full);
  }
}

/** local = get(x) · k (a byte offset from an index). */
function scaled(f: Body, x: number, k: number): void {
  f.get(x);
  if (k !== 1) f.i32(k).i32Mul();
}

/** Arithmetic on 4 lanes (v128) or 1 (f32), so one epilogue serves vectors and single values. */
interface Lanes {
  add(): void;
  sub(): void;
  mul(): void;
  div(): void;
  min(): void;
  max(): void;
  gt(): void;
  /** Push a constant. */
  k(x: number): void;
  /** Push the value(s) at `o + base + off`. */
  load(base: number): void;
  /** Pop into / push from this lanes' scratch local number i. */
  set(i: number): void;
  get(i: number): void;
  /** [v] → [v, |v| < limit] (a lane mask, or an i32 for one value). */
  tinyMask(limit: number): void;
  /** [a, b, mask] → mask ? b : a, per lane. */
  pick(): void;
}

function lanes(f: Body, L: Locals, vec: boolean, off: number): Lanes {
  return vec
    ? {
        add: () => void f.f32x4Add(),
        sub: () => void f.f32x4Sub(),
        mul: () => void f.f32x4Mul(),
        div: () => void f.f32x4Div(),
        min: () => void f.f32x4Min(),
        max: () => void f.f32x4Max(),
        gt: () => void f.f32x4Gt(),
        k: (x) => void f.f32x4Const([x, x, x, x]),
        load: (base) => void f.get(L.o).v128Load(base + off),
        set: (i) => void f.set(L.vt(i)),
        get: (i) => void f.get(L.vt(i)),
        tinyMask: (limit) => void f.get(L.vt(0)).f32x4Abs().f32x4Const([limit, limit, limit, limit]).f32x4Lt(),
        // bitselect(b, a, mask) = mask ? b : a: [a, b, mask] needs b first, so swap through a scratch local.
        pick: () => void f.set(L.vt(2)).set(L.vt(3)).set(L.vt(4)).get(L.vt(3)).get(L.vt(4)).get(L.vt(2)).v128Bitselect(),
      }
    : {
        add: () => void f.f32Add(),
        sub: () => void f.f32Sub(),
        mul: () => void f.f32Mul(),
        div: () => void f.f32Div(),
        min: () => void f.f32Min(),
        max: () => void f.f32Max(),
        gt: () => void f.f32Gt(),
        k: (x) => void f.f32(x),
        load: (base) => void f.get(L.o).f32Load(base + off),
        set: (i) => void f.set(L.st(i)),
        get: (i) => void f.get(L.st(i)),
        tinyMask: (limit) => void f.get(L.st(0)).f32Abs().f32(limit).f32Lt(),
        // select(x, y, c) = c ? x : y: [a, b, c] → c ? b : a means swapping a and b first.
        pick: () => void f.set(L.ti).set(L.st(3)).set(L.st(4)).get(L.st(3)).get(L.st(4)).get(L.ti).select(),
      };
}

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

function tanhOnStack(x: Lanes): void {
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

function dotKernel(s: KernelSpec): WasmFunction {
  const f = new Body(["i32"], ["n"]);
  const L = locals(f);
  const depth = s.depth as number;
  const quads = Math.floor(depth / 4);
  const rest = depth % 4;
  const tile = (rh: number, cw: number): void => {
    scaled(f, L.r, s.aR * E);
    f.set(L.pa);
    scaled(f, L.c, s.bC * E);
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
    f.i32Add().set(L.o);
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
        f.f32Store(s.out + off);
      }
    }
  };
  rowBlocks(f, L, s.rows, DOT_ROWS, (rh) => colBlocks(f, L, s.cols, DOT_COLS, (cw) => tile(rh, cw)));
  return { name: s.name, body: f };
}

function axpyKernel(s: KernelSpec): WasmFunction {
  const f = new Body(["i32"], ["n"]);
  const L = locals(f);
  const vectors = Math.floor(s.cols / 4);
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
  // c counts vectors: byte offset of column c·4 is c·16 (bC = oC = 1).
  const tile = (rh: number, cv: number): void => {
    for (let k = 0; k < rh * cv; k++) f.v128Zero().set(L.acc(k));
    scaled(f, L.r, s.aR * E);
    f.set(L.pa);
    scaled(f, L.c, 16);
    f.set(L.pb);
    countedLoop(
      f,
      L.d,
      0,
      s.depth,
      1,
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
      L.n,
    );
    scaled(f, L.r, s.oR * E);
    scaled(f, L.c, 16);
    f.i32Add().set(L.o);
    for (let i = 0; i < rh; i++) {
      for (let j = 0; j < cv; j++) {
        const off = i * s.oR * E + j * 16;
        f.get(L.o).get(L.acc(i * cv + j));
        epilogueVec(f, s, L, off, j);
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
    f.set(L.pa);
    f.i32(c0 * E).set(L.pb);
    countedLoop(
      f,
      L.d,
      0,
      s.depth,
      1,
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
      L.n,
    );
    scaled(f, L.r, s.oR * E);
    f.set(L.o);
    for (let i = 0; i < rh; i++) {
      for (let j = 0; j < rc; j++) {
        const off = (i * s.oR + c0 + j) * E;
        f.get(L.o).get(L.sacc(i * rc + j));
        if (s.bias !== undefined) f.i32(0).f32Load(s.bias + (c0 + j) * E).f32Add();
        activationEpilogue(f, s, L, lanes(f, L, false, off), false);
        f.f32Store(s.out + off);
      }
    }
  };
  rowBlocks(f, L, s.rows, AXPY_ROWS, (rh) => {
    colBlocks(f, L, vectors, rh === 1 ? AXPY_TAIL_VECS : AXPY_VECS, (cv) => tile(rh, cv));
    if (rc > 0) scalarTile(rh);
  });
  return { name: s.name, body: f };
}

/** The function computing this product; `kernelForm(s)` must not be a reason. */
export function kernelFunction(s: KernelSpec): WasmFunction {
  const form = kernelForm(s);
  if (form === "dot") return dotKernel(s);
  if (form === "axpy") return axpyKernel(s);
  throw new Error(`bug: no wasm kernel for ${s.name}: ${form}`);
}

/**
 * The optimizer's update over the flat parameter array, 4 parameters per step (and up to 3
 * single ones at the end of each run of trainable tensors). Its three f32 parameters are the
 * per-step scalars the TypeScript side computes: the learning rate, or Adam's bias-corrected
 * step size and √(1 − β₂ᵗ), and AdamW's lr·wd (not 1 − lr·wd: in float32 that would lose a
 * small decay).
 */
export interface UpdateSpec {
  readonly kind: "sgd" | "adam";
  /** Byte addresses of params, grads and the moments (Adam: m, then v at + 4·count). */
  readonly params: number;
  readonly grads: number;
  readonly moments: number;
  readonly count: number;
  /** Element ranges [start, end) of the trainable tensors. */
  readonly ranges: readonly (readonly [number, number])[];
  readonly momentum: number;
  readonly nesterov: boolean;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  /** Coefficient of the L2 term added to the gradient (0: none). */
  readonly l2: number;
  /** AdamW: p −= (third argument) · p (decoupled weight decay). */
  readonly decoupled: boolean;
}

export function updateFunction(u: UpdateSpec): WasmFunction {
  const f = new Body(["f32", "f32", "f32"], ["s0", "s1", "s2"]);
  const i = f.local("i32", "i");
  // Declared on first use: a plain SGD update needs no moment locals.
  const lazy = (name: string, type: ValType): (() => number) => {
    let at: number | undefined;
    return () => (at ??= f.local(type, name));
  };
  const [g, m, v] = [lazy("g", "v128"), lazy("m", "v128"), lazy("v", "v128")];
  const [gs, ms, vs] = [lazy("gs", "f32"), lazy("ms", "f32"), lazy("vs", "f32")];
  // Constants and the per-step scalars, splatted once for the vector loop.
  const values: Record<string, number> = { b1: u.beta1, c1: 1 - u.beta1, b2: u.beta2, c2: 1 - u.beta2, eps: u.epsilon, mom: u.momentum, l2: u.l2 };
  // The constants and per-step scalars this formula reads, splatted once for the vector loop.
  const adam = u.kind === "adam";
  const needed = [
    ...(adam ? ["b1", "c1", "b2", "c2", "eps", "s0", "s1"] : ["s0"]),
    ...(u.kind === "sgd" && u.momentum > 0 ? ["mom"] : []),
    ...(u.l2 > 0 ? ["l2"] : []),
    ...(u.decoupled ? ["s2"] : []),
  ];
  const splat: Record<string, number> = {};
  for (const name of needed) {
    splat[name] = f.local("v128", name.startsWith("s") ? `${name}x4` : name);
    if (name.startsWith("s")) f.get(Number(name.slice(1)));
    else f.f32(values[name] as number);
    f.f32x4Splat().set(splat[name] as number);
  }
  const V = u.moments + 4 * u.count;
  /** One step over 4 parameters (vec) or 1, at the address on top of `base` plus `off`. */
  const step = (vec: boolean, base: () => void, off: number): void => {
    const k = (name: string): void => {
      if (vec) f.get(splat[name] as number);
      else if (name.startsWith("s")) f.get(Number(name.slice(1)));
      else f.f32(values[name] as number);
    };
    const load = (at: number): void => {
      base();
      if (vec) f.v128Load(at + off);
      else f.f32Load(at + off);
    };
    const store = (at: number): void => (vec ? f.v128Store(at + off) : f.f32Store(at + off)) && undefined;
    const add = (): unknown => (vec ? f.f32x4Add() : f.f32Add());
    const sub = (): unknown => (vec ? f.f32x4Sub() : f.f32Sub());
    const mul = (): unknown => (vec ? f.f32x4Mul() : f.f32Mul());
    const div = (): unknown => (vec ? f.f32x4Div() : f.f32Div());
    const sqrt = (): unknown => (vec ? f.f32x4Sqrt() : f.f32Sqrt());
    const [G, M, W] = vec ? [g, m, v] : [gs, ms, vs];
    // g = grad (+ l2 · p)
    load(u.grads);
    if (u.l2 > 0) {
      k("l2");
      load(u.params);
      mul();
      add();
    }
    f.set(G());
    if (u.kind === "sgd" && u.momentum > 0) {
      // v = mom · v + g
      base();
      k("mom");
      load(u.moments);
      mul();
      f.get(G());
      add();
      f.tee(M());
      store(u.moments);
      // p -= lr · v, or lr · (g + mom · v) (Nesterov)
      base();
      load(u.params);
      k("s0");
      if (u.nesterov) {
        f.get(G());
        k("mom");
        f.get(M());
        mul();
        add();
      } else f.get(M());
      mul();
      sub();
      store(u.params);
    } else if (u.kind === "sgd") {
      base();
      load(u.params);
      k("s0");
      f.get(G());
      mul();
      sub();
      store(u.params);
    } else {
      // m = b1 · m + (1 − b1) · g;  v = b2 · v + (1 − b2) · g²
      base();
      k("b1");
      load(u.moments);
      mul();
      k("c1");
      f.get(G());
      mul();
      add();
      f.tee(M());
      store(u.moments);
      base();
      k("b2");
      load(V);
      mul();
      k("c2");
      f.get(G());
      f.get(G());
      mul();
      mul();
      add();
      f.tee(W());
      store(V);
      // p = p (− lr·wd · p) − step · m / (√v / root2 + ε)
      base();
      load(u.params);
      if (u.decoupled) {
        load(u.params);
        k("s2");
        mul();
        sub();
      }
      k("s0");
      f.get(M());
      mul();
      f.get(W());
      sqrt();
      k("s1");
      div();
      k("eps");
      add();
      div();
      sub();
      store(u.params);
    }
  };
  for (const [a, b] of u.ranges) {
    const vectors = Math.floor((b - a) / 4);
    if (vectors > 0) {
      // for (i = 4a; i < 4(a + 4·vectors); i += 16)
      f.i32(4 * a).set(i).loop();
      step(true, () => f.get(i), 0);
      f.get(i).i32(16).i32Add().tee(i).i32(4 * (a + 4 * vectors)).i32LtU().brIf(0).end();
    }
    for (let e = a + 4 * vectors; e < b; e++) step(false, () => f.i32(0), 4 * e);
  }
  return { name: "update", body: f };
}

/** A max-pooling layer (NHWC, windows inside the image) for `maxpoolFunction`. */
export interface PoolSpec extends Geometry {
  readonly name: string;
  /** Byte addresses of the input, the output and the argmax (positions within the sample, as f32). */
  readonly x: number;
  readonly out: number;
  readonly arg: number;
}

/**
 * Max pooling, 4 channels per step: each window position is one vector load, compared with
 * the running maximum (`f32x4.gt`, so NaN never wins and the first maximum is kept, as in the
 * TypeScript loop); `v128.bitselect` keeps the larger value and its position.
 */
export function maxpoolFunction(p: PoolSpec): WasmFunction {
  const f = new Body(["i32"], ["n"]);
  const i32 = (name: string): number => f.local("i32", name);
  const [r, oy, ox, cv, px, po, idx] = [i32("r"), i32("oy"), i32("ox"), i32("cv"), i32("px"), i32("po"), i32("idx")];
  const v128 = (name: string): number => f.local("v128", name);
  const [best, at, v, m, lanes] = [v128("best"), v128("at"), v128("v"), v128("m"), v128("lanes")];
  const inSize = p.h * p.w * p.c;
  const outSize = p.oh * p.ow * p.c;
  f.f32x4Const([0, 1, 2, 3]).set(lanes);
  countedLoop(
    f,
    r,
    0,
    "n",
    1,
    () => {
      countedLoop(
        f,
        oy,
        0,
        p.oh,
        1,
        () => {
          countedLoop(
            f,
            ox,
            0,
            p.ow,
            1,
            () => {
              // idx = (oy·sh·w + ox·sw)·c: the window's first value within the sample
              scaled(f, oy, p.sh * p.w * p.c);
              scaled(f, ox, p.sw * p.c);
              f.i32Add().set(idx);
              scaled(f, r, inSize * E);
              f.get(idx).i32(E).i32Mul().i32Add().set(px);
              scaled(f, r, outSize * E);
              scaled(f, oy, p.ow * p.c * E);
              f.i32Add();
              scaled(f, ox, p.c * E);
              f.i32Add().set(po);
              countedLoop(
                f,
                cv,
                0,
                p.c / 4,
                1,
                () => {
                  f.f32x4Const([-Infinity, -Infinity, -Infinity, -Infinity]).set(best);
                  f.v128Zero().set(at);
                  for (let ky = 0; ky < p.kh; ky++) {
                    for (let kx = 0; kx < p.kw; kx++) {
                      const off = (ky * p.w + kx) * p.c;
                      f.get(px).v128Load(p.x + off * E).set(v);
                      f.get(v).get(best).f32x4Gt().set(m);
                      f.get(v).get(best).get(m).v128Bitselect().set(best);
                      f.get(idx);
                      if (off !== 0) f.i32(off).i32Add();
                      f.f32ConvertI32U().f32x4Splat().get(lanes).f32x4Add();
                      f.get(at).get(m).v128Bitselect().set(at);
                    }
                  }
                  f.get(po).get(best).v128Store(p.out);
                  f.get(po).get(at).v128Store(p.arg);
                  f.get(px).i32(16).i32Add().set(px);
                  f.get(po).i32(16).i32Add().set(po);
                  f.get(idx).i32(4).i32Add().set(idx);
                },
                0,
              );
            },
            0,
          );
        },
        0,
      );
    },
    0,
  );
  return { name: p.name, body: f };
}

/** A convolution's window unfolding (NHWC) for `im2colFunction`: byte addresses and geometry. */
export interface Im2colSpec extends Geometry {
  readonly name: string;
  readonly x: number;
  readonly col: number;
}

/**
 * The loops both window kernels share: every sample r, output position (oy, ox) and window
 * offset (ky, kx), with `q` the position's row of col (bytes) and `dst` the offset's constant
 * address in col. `inside(v, q, src, dst)` runs per 4 channels v where the window pixel is in
 * the image (`src`: its byte offset in x), `outside(v, q, dst)` where it hangs over the
 * padding (one unsigned comparison per side: a negative row or column is a huge unsigned
 * number).
 */
function eachWindow(
  f: Body,
  p: Im2colSpec,
  inside: (v: number, q: number, src: number, dst: number) => void,
  outside?: (v: number, q: number, dst: number) => void,
): void {
  const i32 = (name: string): number => f.local("i32", name);
  const [r, oy, ox, q, xs, iy0, ix0, src] = [i32("r"), i32("oy"), i32("ox"), i32("q"), i32("xs"), i32("iy0"), i32("ix0"), i32("src")];
  const k = p.kh * p.kw * p.c;
  const vectors = p.c / 4;
  countedLoop(
    f,
    r,
    0,
    "n",
    1,
    () => {
      scaled(f, r, p.h * p.w * p.c * E);
      f.set(xs);
      countedLoop(
        f,
        oy,
        0,
        p.oh,
        1,
        () => {
          scaled(f, oy, p.sh);
          f.i32(p.pt).i32Sub().set(iy0);
          countedLoop(
            f,
            ox,
            0,
            p.ow,
            1,
            () => {
              scaled(f, ox, p.sw);
              f.i32(p.pl).i32Sub().set(ix0);
              // q = ((r·OH + oy)·OW + ox)·K, in bytes
              scaled(f, r, p.oh * p.ow * k * E);
              scaled(f, oy, p.ow * k * E);
              f.i32Add();
              scaled(f, ox, k * E);
              f.i32Add().set(q);
              for (let ky = 0; ky < p.kh; ky++) {
                for (let kx = 0; kx < p.kw; kx++) {
                  const dst = p.col + (ky * p.kw + kx) * p.c * E;
                  // inside = (iy0 + ky) <u h && (ix0 + kx) <u w
                  f.get(iy0).i32(ky).i32Add().i32(p.h).i32LtU();
                  f.get(ix0).i32(kx).i32Add().i32(p.w).i32LtU();
                  f.i32And().if();
                  // src = xs + ((iy0 + ky)·w + ix0 + kx)·c·4
                  f.get(iy0).i32(ky).i32Add().i32(p.w).i32Mul().get(ix0).i32Add().i32(kx).i32Add();
                  f.i32(p.c * E).i32Mul().get(xs).i32Add().set(src);
                  for (let v = 0; v < vectors; v++) inside(v, q, src, dst);
                  if (outside !== undefined) {
                    f.else();
                    for (let v = 0; v < vectors; v++) outside(v, q, dst);
                  }
                  f.end();
                }
              }
            },
            0,
          );
        },
        0,
      );
    },
    0,
  );
}

/**
 * im2col with 4 channels per copy: each output pixel's row gets its window's pixels in
 * (ky, kx, channel) order, zeros where the window hangs over the padding.
 */
export function im2colFunction(p: Im2colSpec): WasmFunction {
  const f = new Body(["i32"], ["n"]);
  eachWindow(
    f,
    p,
    (v, q, src, dst) => void f.get(q).get(src).v128Load(p.x + 16 * v).v128Store(dst + 16 * v),
    (v, q, dst) => void f.get(q).v128Zero().v128Store(dst + 16 * v),
  );
  return { name: p.name, body: f };
}

/**
 * The adjoint of im2col (col2im): x = 0, then each row of col is added back onto the window of
 * the image it came from, 4 channels per step; overlapping windows sum. With the product
 * dcol = dz·w before it, this is a convolution's input gradient.
 */
export function col2imFunction(p: Im2colSpec): WasmFunction {
  const f = new Body(["i32"], ["n"]);
  // x = 0 over the n samples, 4 values per store
  const at = f.local("i32", "at");
  f.i32(0).set(at);
  f.block().loop();
  f.get(at);
  scaled(f, 0, p.h * p.w * p.c * E);
  f.i32GeU().brIf(1);
  f.get(at).v128Zero().v128Store(p.x);
  f.get(at).i32(16).i32Add().set(at).br(0).end().end();
  // x[src] += col[q + dst]
  eachWindow(f, p, (v, q, src, dst) => void f.get(src).get(src).v128Load(p.x + 16 * v).get(q).v128Load(dst + 16 * v).f32x4Add().v128Store(p.x + 16 * v));
  return { name: p.name, body: f };
}
