/**
 * The optimizer's update as one WebAssembly SIMD function: SGD (with momentum or Nesterov),
 * Adam and AdamW, with an optional L2 term, over the flat parameter array.
 */
import { Body, type ValType, type WasmFunction } from "./encode.js";

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
