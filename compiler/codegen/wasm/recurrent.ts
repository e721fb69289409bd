/**
 * A recurrent layer's per-step matrix product as a WebAssembly function (`ts/recurrent.ts`'s
 * `StepProduct`): called with the batch n and the step's index, it runs `products.ts`'s dot or
 * axpy loop with A, B and the output shifted by the index (`KernelSpec.sample`). The loop over
 * the steps and the cell's arithmetic stay in TypeScript; the product, most of a step's work,
 * runs here.
 */
import { Body, type WasmFunction } from "./encode.js";
import { productInto, tanhOnStack, transposeInto, type KernelSpec } from "./products.js";
import { countedLoop, E, lanes, locals } from "./loops.js";

export function stepFunction(name: string, product: KernelSpec): WasmFunction {
  const f = new Body(["i32", "i32"], ["n", "step"]);
  const L = locals(f);
  transposeInto(f, L, product);
  productInto(f, L, product, 1);
  return { name, body: f };
}

/** An LSTM's cell for one step after the first, for `lstmCellFunction`: byte addresses and sizes. */
export interface LstmCellSpec {
  readonly name: string;
  /** x·Wiᵀ + b [n, T, 4H] and the tape [n, T, 6H] (`ops/recurrent_scan.ts`). */
  readonly zx: number;
  readonly tape: number;
  readonly steps: number;
  /** Units, a multiple of 4. */
  readonly h: number;
}

/**
 * The LSTM cell of step `step` after the step `before` (called with n, step, before), 4 units at
 * a time: the gates from zx plus the tape's h·Whᵀ (which the step's product wrote), c and h,
 * all stored in the step's row of the tape. Sigmoid is 0.5 + 0.5·tanh(x/2) and tanh the
 * kernels' rational approximation (`tanhOnStack`, within 8 float32 ulp), so the values differ
 * from the TypeScript loop's by float32 rounding only.
 */
export function lstmCellFunction(s: LstmCellSpec): WasmFunction {
  const f = new Body(["i32", "i32", "i32"], ["n", "step", "before"]);
  const L = locals(f);
  const x = lanes(f, L, true, 0);
  const [b, row, prev, zrow, j] = ["b", "row", "prev", "zrow", "j"].map((name) => f.local("i32", name)) as [number, number, number, number, number];
  const [gi, gf, gg, go, c] = ["i", "f", "g", "o", "c"].map((name) => f.local("v128", name)) as [number, number, number, number, number];
  const h = s.h;
  const rowBytes = (step: number, width: number, into: number): void => void f.get(b).i32(s.steps).i32Mul().get(step).i32Add().i32(width * E).i32Mul().get(j).i32Add().set(into);
  const half = (): void => void f.f32x4Const([0.5, 0.5, 0.5, 0.5]);
  // Gate k's pre-activation: zx plus h·Whᵀ.
  const pre = (k: number): void => {
    f.get(zrow).v128Load(s.zx + k * h * E);
    f.get(row).v128Load(s.tape + (2 + k) * h * E).f32x4Add();
  };
  const sigmoid = (): void => {
    half();
    f.f32x4Mul();
    tanhOnStack(x);
    half();
    f.f32x4Mul();
    half();
    f.f32x4Add();
  };
  countedLoop(
    f,
    b,
    0,
    "n",
    1,
    () => {
      countedLoop(
        f,
        j,
        0,
        h * E,
        16,
        () => {
          rowBytes(1, 6 * h, row);
          rowBytes(2, 6 * h, prev);
          rowBytes(1, 4 * h, zrow);
          pre(0);
          sigmoid();
          f.set(gi);
          pre(1);
          sigmoid();
          f.set(gf);
          pre(2);
          tanhOnStack(x);
          f.set(gg);
          pre(3);
          sigmoid();
          f.set(go);
          // c = f·c_before + i·g; h = o·tanh(c)
          f.get(gf).get(prev).v128Load(s.tape + h * E).f32x4Mul();
          f.get(gi).get(gg).f32x4Mul().f32x4Add().set(c);
          f.get(row).get(go).get(c);
          tanhOnStack(x);
          f.f32x4Mul().v128Store(s.tape);
          f.get(row).get(c).v128Store(s.tape + h * E);
          [gi, gf, gg, go].forEach((v, k) => void f.get(row).get(v).v128Store(s.tape + (2 + k) * h * E));
        },
        L.n,
      );
    },
    L.n,
  );
  return { name: s.name, body: f };
}

/** The backward LSTM cell for `lstmCellGradFunction`: byte addresses and sizes. */
export interface LstmCellGradSpec {
  readonly name: string;
  readonly tape: number;
  /** dz [n, T, 4H] (the output), the state's and the cell state's carried gradients [n, H]. */
  readonly dz: number;
  readonly carry: number;
  readonly cell: number;
  /** Every step's dh [n, T, H], added to the carried gradient; absent when only the last state is read. */
  readonly dOut?: number;
  readonly steps: number;
  readonly h: number;
}

/**
 * The backward LSTM cell of step `step` after `before` (called with n, step, before), 4 units at
 * a time: from the carried gradients of h and c (plus the step's dh), the gradient of the
 * step's four gate pre-activations into dz, and c's gradient carried on (times f). The
 * TypeScript loop runs the first step (and the last read, when only the last state is read).
 */
export function lstmCellGradFunction(s: LstmCellGradSpec): WasmFunction {
  const f = new Body(["i32", "i32", "i32"], ["n", "step", "before"]);
  const L = locals(f);
  const x = lanes(f, L, true, 0);
  const [b, row, prev, zrow, state, out, j] = ["b", "row", "prev", "zrow", "state", "out", "j"].map((name) => f.local("i32", name)) as [number, number, number, number, number, number, number];
  const [dh, dc, gi, gf, gg, go, tc] = ["dh", "dc", "i", "f", "g", "o", "tc"].map((name) => f.local("v128", name)) as [number, number, number, number, number, number, number];
  const h = s.h;
  const rowBytes = (step: number, width: number, into: number): void => void f.get(b).i32(s.steps).i32Mul().get(step).i32Add().i32(width * E).i32Mul().get(j).i32Add().set(into);
  const one = (): void => void f.f32x4Const([1, 1, 1, 1]);
  // The value on the stack times v·(1 − v), a sigmoid gate's derivative.
  const sigmoidGrad = (v: number): void => {
    f.get(v);
    one();
    f.get(v).f32x4Sub().f32x4Mul().f32x4Mul();
  };
  countedLoop(
    f,
    b,
    0,
    "n",
    1,
    () => {
      countedLoop(
        f,
        j,
        0,
        h * E,
        16,
        () => {
          rowBytes(1, 6 * h, row);
          rowBytes(2, 6 * h, prev);
          rowBytes(1, 4 * h, zrow);
          f.get(b).i32(h * E).i32Mul().get(j).i32Add().set(state);
          // dh = the carried gradient (+ the step's own)
          f.get(state).v128Load(s.carry);
          if (s.dOut !== undefined) {
            rowBytes(1, h, out);
            f.get(out).v128Load(s.dOut).f32x4Add();
          }
          f.set(dh);
          [gi, gf, gg, go].forEach((v, k) => void f.get(row).v128Load(s.tape + (2 + k) * h * E).set(v));
          f.get(row).v128Load(s.tape + h * E);
          tanhOnStack(x);
          f.set(tc);
          // dc = the carried dc + dh·o·(1 − tanh(c)²)
          f.get(state).v128Load(s.cell).get(dh).get(go).f32x4Mul();
          one();
          f.get(tc).get(tc).f32x4Mul().f32x4Sub().f32x4Mul().f32x4Add().set(dc);
          // dz_i = dc·g·i(1 − i)
          f.get(zrow).get(dc).get(gg).f32x4Mul();
          sigmoidGrad(gi);
          f.v128Store(s.dz);
          // dz_f = dc·c_before·f(1 − f)
          f.get(zrow).get(dc).get(prev).v128Load(s.tape + h * E).f32x4Mul();
          sigmoidGrad(gf);
          f.v128Store(s.dz + h * E);
          // dz_g = dc·i·(1 − g²)
          f.get(zrow).get(dc).get(gi).f32x4Mul();
          one();
          f.get(gg).get(gg).f32x4Mul().f32x4Sub().f32x4Mul().v128Store(s.dz + 2 * h * E);
          // dz_o = dh·tanh(c)·o(1 − o)
          f.get(zrow).get(dh).get(tc).f32x4Mul();
          sigmoidGrad(go);
          f.v128Store(s.dz + 3 * h * E);
          // c's gradient carried to the step before: dc·f
          f.get(state).get(dc).get(gf).f32x4Mul().v128Store(s.cell);
        },
        L.n,
      );
    },
    L.n,
  );
  return { name: s.name, body: f };
}
