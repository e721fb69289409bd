/**
 * The helpers every WebAssembly kernel is built from: counted loops (`countedLoop`, and the
 * row and column blocking of the matrix products), byte offsets from indices (`scaled`), the
 * kernels' locals declared on first use (`locals`), and arithmetic on 4 lanes or 1 (`lanes`),
 * so one epilogue serves vectors and single values.
 */
import type { Body, ValType } from "./encode.js";

/** Bytes per float32 value. */
export const E = 4;

/** The locals of a kernel, each declared on first use (so a function declares only what it reads). */
export interface Locals {
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

export function locals(f: Body): Locals {
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
export function countedLoop(f: Body, v: number, from: number, to: number | "n", step: number, body: () => void, n: number): void {
  f.i32(from).set(v).loop();
  body();
  f.get(v).i32(step).i32Add().tee(v);
  if (to === "n") f.get(n);
  else f.i32(to);
  f.i32LtU().brIf(0).end();
}

/** Rows in blocks of `rh`; with a run-time `n`, leftover rows one at a time. */
export function rowBlocks(f: Body, L: Locals, rows: number | "n", rh: number, block: (h: number) => void): void {
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
export function colBlocks(f: Body, L: Locals, cols: number, cw: number, block: (w: number) => void): void {
  const full = Math.floor(cols / cw) * cw;
  if (full > 0) countedLoop(f, L.c, 0, full, cw, () => block(cw), L.n);
  if (cols > full) {
    f.i32(full).set(L.c);
    block(cols - full);
  }
}

/** local = get(x) · k (a byte offset from an index). */
export function scaled(f: Body, x: number, k: number): void {
  f.get(x);
  if (k !== 1) f.i32(k).i32Mul();
}

/** Arithmetic on 4 lanes (v128) or 1 (f32), so one epilogue serves vectors and single values. */
export interface Lanes {
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

export function lanes(f: Body, L: Locals, vec: boolean, off: number): Lanes {
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
