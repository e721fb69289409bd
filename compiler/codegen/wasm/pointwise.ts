/**
 * The pointwise kernel of the WebAssembly target: loop nests over strided operands (`NestRequest`),
 * the wasm form of `ts/loops.ts`'s `stridedLoops`. Each nest walks the output's merged axes;
 * every operand is a buffer read at Σ index_k · stride_k, or a literal. The innermost axis runs
 * 4 lanes at a time when it is a multiple of 4 and every operand walks it contiguously or not at
 * all (a value read along a whole row is loaded once and splat), else one value at a time. A
 * reduction adds into its output (zeroed by the nest before it), in the TypeScript loop's order,
 * so the sums are the same to the bit; so are the elementwise results (one float32 operation each).
 *
 * `pointwise-ops.ts` makes these requests from the elementwise, layout and reduction ops.
 */
import { Body, type WasmFunction } from "./encode.js";
import { countedLoop, E } from "./loops.js";

/** What each element computes from the inputs (operands 1, 2, …). */
export type NestOp = "copy" | "add" | "sub" | "mul" | "div" | "neg" | "rsqrt" | "relu_grad";

/** A buffer read (or, as operand 0, written) at `offset + Σ index_k · strides[k]` elements. */
export interface NestBuffer<A = string> {
  readonly at: A;
  readonly strides: readonly number[];
  readonly offset?: number;
}

export type NestOperand<A = string> = NestBuffer<A> | { readonly value: number };

export interface Nest<A = string> {
  /** Outer to inner; a batch axis (the first only) runs n × size times. */
  readonly axes: readonly { readonly size: number; readonly batch: boolean }[];
  /** The output first, then the op's inputs. */
  readonly operands: readonly [NestBuffer<A>, ...NestOperand<A>[]];
  readonly op: NestOp;
  /** Add into the output instead of storing. */
  readonly accumulate?: boolean;
}

/** One kernel of nests run in order, for `WasmKernels.nests`. */
export interface NestRequest {
  readonly out: string;
  /** What it computes, for the module's comment. */
  readonly doc: string;
  readonly nests: readonly Nest[];
}

const isBuffer = <A>(o: NestOperand<A>): o is NestBuffer<A> => "at" in o;

/** The buffers a request reads or writes. */
export function nestBuffers(r: NestRequest): string[] {
  return r.nests.flatMap((s) => s.operands.flatMap((o) => (isBuffer(o) ? [o.at] : [])));
}

/** The request with byte addresses for names (offsets folded in). */
export function placeNests(r: NestRequest, at: (name: string) => number): Nest<number>[] {
  return r.nests.map((s) => {
    const place = (o: NestOperand): NestOperand<number> => (isBuffer(o) ? { at: at(o.at) + E * (o.offset ?? 0), strides: o.strides } : o);
    const [out, ...inputs] = s.operands;
    return { ...s, operands: [place(out) as NestBuffer<number>, ...inputs.map(place)] };
  });
}

/** A copy of a buffer onto itself (an op placed over its input, whose value a kernel before it already wrote): no code. */
function copiesOntoItself(s: Nest<number>): boolean {
  const [out, x] = s.operands;
  return s.op === "copy" && s.accumulate !== true && x !== undefined && isBuffer(x) && x.at === out.at && x.strides.every((v, k) => v === out.strides[k]);
}

export function nestFunction(name: string, nests: readonly Nest<number>[]): WasmFunction {
  const f = new Body(["i32"], ["n"]);
  for (const s of nests) if (!copiesOntoItself(s)) emitNest(f, s);
  return { name, body: f };
}

/** The element expression on 4 lanes or 1, `load(k)` pushing input k. */
function compute(f: Body, op: NestOp, vec: boolean, load: (k: number) => void): void {
  const binary = (v: () => void, s: () => void): void => {
    load(1);
    load(2);
    if (vec) v();
    else s();
  };
  switch (op) {
    case "copy":
      return load(1);
    case "add":
      return binary(() => f.f32x4Add(), () => f.f32Add());
    case "sub":
      return binary(() => f.f32x4Sub(), () => f.f32Sub());
    case "mul":
      return binary(() => f.f32x4Mul(), () => f.f32Mul());
    case "div":
      return binary(() => f.f32x4Div(), () => f.f32Div());
    case "neg":
      load(1);
      return void (vec ? f.f32x4Neg() : f.f32Neg());
    case "rsqrt":
      if (vec) f.f32x4Const([1, 1, 1, 1]);
      else f.f32(1);
      load(1);
      return void (vec ? f.f32x4Sqrt().f32x4Div() : f.f32Sqrt().f32Div());
    case "relu_grad":
      // y > 0 ? g : 0 (operands g, y)
      if (vec) {
        load(1);
        load(2);
        f.v128Zero().f32x4Gt().v128And();
      } else {
        load(1);
        f.f32(0);
        load(2);
        f.f32(0).f32Gt().select();
      }
  }
}

/** A counted loop over `count` (times n on a batch axis), `step` at a time. */
function loopOver(f: Body, v: number, count: number, batch: boolean, step: number, body: () => void): void {
  if (!batch) return countedLoop(f, v, 0, count, step, body, 0);
  const bound = f.local("i32", "bound");
  f.get(0).i32(count).i32Mul().set(bound);
  countedLoop(f, v, 0, "n", step, body, bound);
}

function emitNest(f: Body, s: Nest<number>): void {
  const last = s.axes.length - 1;
  const inner = s.axes[last] as { size: number; batch: boolean };
  const outer = s.axes.slice(0, last);
  const [out] = s.operands;
  const idx = outer.map(() => f.local("i32", "i"));
  // Each buffer's row start (bytes from its address) for the outer indices; -1 when it is always 0.
  const bases = s.operands.map((o) => (isBuffer(o) && outer.some((_, k) => (o.strides[k] as number) !== 0) ? f.local("i32", "row") : -1));
  const innerStride = (o: NestOperand<number>): number => (isBuffer(o) ? (o.strides[last] as number) : 0);
  const outInner = innerStride(out);
  const vec = inner.size % 4 === 0 && outInner === 1 && s.operands.every((o) => [0, 1].includes(innerStride(o)));
  const j = f.local("i32", "j");
  const rowStart = (k: number): void => {
    const b = bases[k] as number;
    if (b >= 0) f.get(b);
    else f.i32(0);
  };
  // Byte address of operand k's current element (without its constant address), on the stack.
  const address = (k: number): void => {
    const o = s.operands[k] as NestBuffer<number>;
    const stride = o.strides[last] as number;
    rowStart(k);
    if (stride === 0) return;
    f.get(j);
    if (!vec && stride !== 1) f.i32(stride).i32Mul();
    if (!vec) f.i32(E).i32Mul();
    f.i32Add();
  };
  const load = (k: number): void => {
    const o = s.operands[k] as NestOperand<number>;
    if (!isBuffer(o)) return void (vec ? f.f32x4Const([o.value, o.value, o.value, o.value]) : f.f32(o.value));
    address(k);
    if (!vec) f.f32Load(o.at);
    else if ((o.strides[last] as number) === 0) f.v128Load32Splat(o.at);
    else f.v128Load(o.at);
  };
  const row = (): void => {
    bases.forEach((b, k) => {
      if (b < 0) return;
      const o = s.operands[k] as NestBuffer<number>;
      let first = true;
      outer.forEach((_, a) => {
        const stride = o.strides[a] as number;
        if (stride === 0) return;
        f.get(idx[a] as number).i32(stride * E).i32Mul();
        if (!first) f.i32Add();
        first = false;
      });
      f.set(b);
    });
    if (s.accumulate === true && outInner === 0) {
      // A row summed into one output value, in order.
      const acc = f.local("f32", "acc");
      rowStart(0);
      f.f32Load(out.at).set(acc);
      loopOver(f, j, inner.size, inner.batch, 1, () => {
        f.get(acc);
        compute(f, s.op, false, load);
        f.f32Add().set(acc);
      });
      rowStart(0);
      f.get(acc).f32Store(out.at);
      return;
    }
    loopOver(f, j, vec ? inner.size * E : inner.size, inner.batch, vec ? 16 : 1, () => {
      address(0);
      if (s.accumulate === true) load(0);
      compute(f, s.op, vec, load);
      if (s.accumulate === true) void (vec ? f.f32x4Add() : f.f32Add());
      if (vec) f.v128Store(out.at);
      else f.f32Store(out.at);
    });
  };
  const open = (a: number): void => {
    if (a === outer.length) return row();
    const axis = outer[a] as { size: number; batch: boolean };
    loopOver(f, idx[a] as number, axis.size, axis.batch, 1, () => open(a + 1));
  };
  open(0);
}
