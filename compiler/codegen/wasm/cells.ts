/**
 * The arithmetic of the recurrent cells' kernels (`recurrent.ts` runs it over the samples and
 * units): the LSTM's and the GRU's cell, forwards and backwards, for one chunk of units — 4 at
 * a time (v128), or 1 (f32) for the last units % 4 — written once for both widths through
 * `Chunk`. Each follows its TypeScript loop in `ts/recurrent.ts` operation for operation
 * (the same products, in the same order), with sigmoid as 0.5 + 0.5·tanh(x/2) and tanh the
 * kernels' rational approximation (`tanhOnStack`, within 8 float32 ulp): the values differ from
 * the TypeScript loop's by float32 rounding only.
 *
 * Addresses are byte addresses: the caller sets the locals of `CellAt` to the chunk's place in
 * each buffer (its row plus the unit's offset), and the bodies add the buffers' addresses and
 * the field's offset in the row as the load's constant offset.
 */
import type { Body } from "./encode.js";
import { tanhOnStack } from "./products.js";
import { E, lanes, type Lanes, type Locals } from "./loops.js";

/** Values of one width: arithmetic (`Lanes`), memory and locals. */
export interface Chunk {
  readonly x: Lanes;
  /** Bytes per chunk: 16 or 4. */
  readonly bytes: number;
  /** Push the value(s) at the address in local `at`, plus `offset`. */
  load(at: number, offset: number): void;
  /** [address, value] → the memory at address + offset. */
  store(offset: number): void;
  /** A local of this width, by name (declared once per width). */
  local(name: string): number;
}

export function chunk(f: Body, L: Locals, vec: boolean): Chunk {
  const made = new Map<string, number>();
  const plain = lanes(f, L, vec, 0);
  const held = vec ? heldConstants(f) : new Map<number, number>();
  return {
    x: {
      ...plain,
      k: (v) => (held.has(v) ? void f.get(held.get(v) as number) : plain.k(v)),
      // min and max clamp a value (first) by a constant: pmin/pmax give the same lanes, NaN
      // kept, in one instruction where V8 spends seven on min's and max's NaN and −0 rules.
      ...(vec ? { min: () => void f.f32x4Pmin(), max: () => void f.f32x4Pmax() } : {}),
      // As `lanes`' (|v| < limit on the value in scratch local 0), the limit held.
      tinyMask: (limit) => (held.has(limit) ? void f.get(L.vt(0)).f32x4Abs().get(held.get(limit) as number).f32x4Lt() : plain.tinyMask(limit)),
    },
    bytes: vec ? 16 : 4,
    load: (at, offset) => void (vec ? f.get(at).v128Load(offset) : f.get(at).f32Load(offset)),
    store: (offset) => void (vec ? f.v128Store(offset) : f.f32Store(offset)),
    local(name) {
      let i = made.get(name);
      if (i === undefined) {
        i = f.local(vec ? "v128" : "f32", vec ? name : `${name}1`);
        made.set(name, i);
      }
      return i;
    },
  };
}

/**
 * The vector constants of the cells (tanh's clamp, coefficients and small-argument limit, ½, 1)
 * set into locals here, before the loops that read them, rather than a v128.const at each use
 * (14 per tanh) that V8 materializes where it stands.
 */
function heldConstants(f: Body): Map<number, number> {
  const values = new Set<number>([0.5, 1]);
  const none = (): void => undefined;
  tanhOnStack({ add: none, sub: none, mul: none, div: none, min: none, max: none, gt: none, load: none, set: none, get: none, tinyMask: (limit) => void values.add(limit), pick: none, k: (v) => void values.add(v) });
  const held = new Map<number, number>();
  for (const v of values) {
    const at = f.local("v128", "k");
    f.f32x4Const([v, v, v, v]).set(at);
    held.set(v, at);
  }
  return held;
}

/** Locals holding the chunk's byte address in each buffer. */
export interface CellAt {
  /** The step's row of the tape, and the row of the step before. */
  readonly row: number;
  readonly prev: number;
  /** The step's row of zx (forwards) or of dz (backwards). */
  readonly z: number;
  /** The unit's offset in bytes (into b_hh). */
  readonly j: number;
  /** Backwards: the sample's row of the carried gradients, and the step's row of dOut. */
  readonly state: number;
  readonly out: number;
}

/** Byte addresses of the buffers, and the units H. */
export interface CellBuffers {
  readonly h: number;
  readonly tape: number;
  readonly zx?: number;
  readonly bh?: number;
  readonly dz?: number;
  readonly carry?: number;
  readonly cell?: number;
  readonly direct?: number;
  readonly dOut?: number;
}

/** An address the kernel needs (a bug when the request lacks it). */
export const need = (x: number | undefined, what: string): number => {
  if (x === undefined) throw new Error(`bug: a recurrent cell kernel without ${what}`);
  return x;
};

function sigmoid(c: Chunk): void {
  const { x } = c;
  x.k(0.5);
  x.mul();
  tanhOnStack(x);
  x.k(0.5);
  x.mul();
  x.k(0.5);
  x.add();
}

/** The value on the stack times v, then times (1 − v): a sigmoid gate's derivative, in the TypeScript's order. */
function timesSigmoidGrad(c: Chunk, v: number, f: Body): void {
  f.get(v);
  c.x.mul();
  c.x.k(1);
  f.get(v);
  c.x.sub();
  c.x.mul();
}

/** The LSTM cell forwards (tape row: h, c, i, f, g, o; the gates' h·Whᵀ in the i, f, g, o fields). */
export function lstmForward(f: Body, c: Chunk, a: CellAt, s: CellBuffers): void {
  const { x } = c;
  const h = s.h;
  const zx = need(s.zx, "zx");
  const [gi, gf, gg, go, cs] = ["i", "f", "g", "o", "c"].map((n) => c.local(n)) as [number, number, number, number, number];
  // Gate k's pre-activation: zx plus h·Whᵀ.
  const pre = (k: number): void => {
    c.load(a.z, zx + k * h * E);
    c.load(a.row, s.tape + (2 + k) * h * E);
    x.add();
  };
  pre(0);
  sigmoid(c);
  f.set(gi);
  pre(1);
  sigmoid(c);
  f.set(gf);
  pre(2);
  tanhOnStack(x);
  f.set(gg);
  pre(3);
  sigmoid(c);
  f.set(go);
  // c = f·c_before + i·g; h = o·tanh(c)
  f.get(gf);
  c.load(a.prev, s.tape + h * E);
  x.mul();
  f.get(gi).get(gg);
  x.mul();
  x.add();
  f.set(cs);
  f.get(a.row).get(go).get(cs);
  tanhOnStack(x);
  x.mul();
  c.store(s.tape);
  f.get(a.row).get(cs);
  c.store(s.tape + h * E);
  [gi, gf, gg, go].forEach((v, k) => {
    f.get(a.row).get(v);
    c.store(s.tape + (2 + k) * h * E);
  });
}

/** The GRU cell forwards (tape row: h, r, z, n, then h·Whᵀ + b_hh; the product wrote h·Whᵀ there). */
export function gruForward(f: Body, c: Chunk, a: CellAt, s: CellBuffers): void {
  const { x } = c;
  const h = s.h;
  const zx = need(s.zx, "zx");
  const bh = need(s.bh, "b_hh");
  const [hr, hz, hn, r, z, nn] = ["hr", "hz", "hn", "r", "z", "n"].map((n) => c.local(n)) as [number, number, number, number, number, number];
  // h·Whᵀ + b_hh, each of r, z, n
  [hr, hz, hn].forEach((v, k) => {
    c.load(a.row, s.tape + (4 + k) * h * E);
    c.load(a.j, bh + k * h * E);
    x.add();
    f.set(v);
  });
  // r = σ(zx_r + hr), z = σ(zx_z + hz), n = tanh(zx_n + r·hn)
  c.load(a.z, zx);
  f.get(hr);
  x.add();
  sigmoid(c);
  f.set(r);
  c.load(a.z, zx + h * E);
  f.get(hz);
  x.add();
  sigmoid(c);
  f.set(z);
  c.load(a.z, zx + 2 * h * E);
  f.get(r).get(hn);
  x.mul();
  x.add();
  tanhOnStack(x);
  f.set(nn);
  // h = n + z·(h_before − n)
  f.get(a.row).get(nn).get(z);
  c.load(a.prev, s.tape);
  f.get(nn);
  x.sub();
  x.mul();
  x.add();
  c.store(s.tape);
  [r, z, nn, hr, hz, hn].forEach((v, k) => {
    f.get(a.row).get(v);
    c.store(s.tape + (1 + k) * h * E);
  });
}

/** Push dh: the carried gradient of the state (the step's own added first when every step is read). */
export function stateGrad(c: Chunk, a: CellAt, s: CellBuffers): void {
  if (s.dOut !== undefined) {
    c.load(a.out, s.dOut);
    c.load(a.state, need(s.carry, "carry"));
    c.x.add();
  } else c.load(a.state, need(s.carry, "carry"));
}

/** The LSTM cell backwards: dz (i, f, g, o), c's gradient carried on; with a mask, the direct part of the state's gradient zeroed. */
export function lstmBackward(f: Body, c: Chunk, a: CellAt, s: CellBuffers): void {
  const { x } = c;
  const h = s.h;
  const dzAt = need(s.dz, "dz");
  const cell = need(s.cell, "the cell state's gradient");
  const [dh, dc, gi, gf, gg, go, tc] = ["dh", "dc", "i", "f", "g", "o", "tc"].map((n) => c.local(n)) as [number, number, number, number, number, number, number];
  stateGrad(c, a, s);
  f.set(dh);
  [gi, gf, gg, go].forEach((v, k) => {
    c.load(a.row, s.tape + (2 + k) * h * E);
    f.set(v);
  });
  c.load(a.row, s.tape + h * E);
  tanhOnStack(x);
  f.set(tc);
  // dc = the carried dc + dh·o·(1 − tanh(c)²)
  c.load(a.state, cell);
  f.get(dh).get(go);
  x.mul();
  x.k(1);
  f.get(tc).get(tc);
  x.mul();
  x.sub();
  x.mul();
  x.add();
  f.set(dc);
  // dz_i = dc·g·i·(1 − i)
  f.get(a.z).get(dc).get(gg);
  x.mul();
  timesSigmoidGrad(c, gi, f);
  c.store(dzAt);
  // dz_f = dc·c_before·f·(1 − f)
  f.get(a.z).get(dc);
  c.load(a.prev, s.tape + h * E);
  x.mul();
  timesSigmoidGrad(c, gf, f);
  c.store(dzAt + h * E);
  // dz_g = dc·i·(1 − g²)
  f.get(a.z).get(dc).get(gi);
  x.mul();
  x.k(1);
  f.get(gg).get(gg);
  x.mul();
  x.sub();
  x.mul();
  c.store(dzAt + 2 * h * E);
  // dz_o = dh·tanh(c)·o·(1 − o)
  f.get(a.z).get(dh).get(tc);
  x.mul();
  timesSigmoidGrad(c, go, f);
  c.store(dzAt + 3 * h * E);
  // c's gradient carried to the step before: dc·f
  f.get(a.state).get(dc).get(gf);
  x.mul();
  c.store(cell);
  if (s.direct !== undefined) {
    f.get(a.state);
    x.k(0);
    c.store(s.direct);
  }
}

/** The GRU cell backwards: dz (x·Wiᵀ's r, z, n, then h·Whᵀ's) and z·dh, the part of the state's gradient that skips the product. */
export function gruBackward(f: Body, c: Chunk, a: CellAt, s: CellBuffers): void {
  const { x } = c;
  const h = s.h;
  const dzAt = need(s.dz, "dz");
  const direct = need(s.direct, "the direct gradient");
  const [dh, r, zg, nn, dn, dr, dzg] = ["dh", "r", "z", "n", "dn", "dr", "dzg"].map((n) => c.local(n)) as [number, number, number, number, number, number, number];
  stateGrad(c, a, s);
  f.set(dh);
  [r, zg, nn].forEach((v, k) => {
    c.load(a.row, s.tape + (1 + k) * h * E);
    f.set(v);
  });
  // dn = dh·(1 − z)·(1 − n²)
  f.get(dh);
  x.k(1);
  f.get(zg);
  x.sub();
  x.mul();
  x.k(1);
  f.get(nn).get(nn);
  x.mul();
  x.sub();
  x.mul();
  f.set(dn);
  // dr = dn·hn·r·(1 − r)
  f.get(dn);
  c.load(a.row, s.tape + 6 * h * E);
  x.mul();
  timesSigmoidGrad(c, r, f);
  f.set(dr);
  // dz = dh·(h_before − n)·z·(1 − z)
  f.get(dh);
  c.load(a.prev, s.tape);
  f.get(nn);
  x.sub();
  x.mul();
  timesSigmoidGrad(c, zg, f);
  f.set(dzg);
  [dr, dzg, dn, dr, dzg].forEach((v, k) => {
    f.get(a.z).get(v);
    c.store(dzAt + k * h * E);
  });
  f.get(a.z).get(dn).get(r);
  x.mul();
  c.store(dzAt + 5 * h * E);
  f.get(a.state).get(dh).get(zg);
  x.mul();
  c.store(direct);
}
