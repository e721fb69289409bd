/**
 * A recurrent layer's kernels, called from the node's TypeScript loop over the steps
 * (`ts/recurrent.ts`), or running the loop themselves:
 *
 * - the forward scan of the steps after the first as one kernel (`scanFunction`): the
 *   recurrent matrix transposed once (when the product reads it transposed), then for each
 *   step the product and the cell below, one call per forward pass instead of two per step;
 *
 * - the per-step matrix product (`StepProduct`): called with the batch n and the step's index,
 *   it runs `products.ts`'s dot or axpy loop with A, B and the output shifted by the index
 *   (`KernelSpec.sample`);
 * - the cell of a step after the first, forwards and backwards, LSTM or GRU (called with n, the
 *   step and the step before): per sample, a padded step (mask 0) carries the state over (or,
 *   backwards, passes the state's gradient on and zeroes dz), a real one runs the cell's
 *   arithmetic (`cells.ts`) 4 units at a time, then the last H % 4 one at a time.
 *
 * The TypeScript loop runs the first step's cell (no state before it) and the products' order.
 * The recurrent matrix's gradient is `dwh.ts`'s.
 */
import { Body, type WasmFunction } from "./encode.js";
import { productInto, transposeInto, type KernelSpec } from "./products.js";
import { countedLoop, E, locals, type Locals } from "./loops.js";
import { recurrentDims } from "../../ops/recurrent_scan.js";
import type { CellGradRequest, CellRequest } from "../ts/recurrent.js";
import { chunk, gruBackward, gruForward, lstmBackward, lstmForward, need, stateGrad, type CellAt, type CellBuffers, type Chunk } from "./cells.js";

export function stepFunction(name: string, product: KernelSpec): WasmFunction {
  const f = new Body(["i32", "i32"], ["n", "step"]);
  const L = locals(f);
  transposeInto(f, L, product);
  productInto(f, L, product, 1);
  return { name, body: f };
}

/** A cell kernel for `WasmKernels`: its name, the buffers it names, its line in the module's comment, and its function once the addresses are known. */
export interface CellKernel {
  readonly name: string;
  readonly buffers: readonly string[];
  readonly doc: string;
  build(at: (buffer: string) => number): WasmFunction;
  /** Its loop over the samples, written into `f` with the step and the step before in locals. */
  into(f: Body, L: Locals, at: (buffer: string) => number, step: number, before: number): void;
}

const defined = (xs: readonly (string | undefined)[]): string[] => xs.filter((x): x is string => x !== undefined);

/** The forward cell of the steps after the first, as a kernel called with (n, step, before). */
export function cellKernel(r: CellRequest): CellKernel {
  const name = `${r.tape}Cell`;
  const into = (f: Body, L: Locals, at: (buffer: string) => number, step: number, before: number): void =>
    cellInto(f, L, { step, before }, r.cell, false, r.steps, r.mask !== undefined ? at(r.mask) : undefined, {
      h: r.h,
      tape: at(r.tape),
      zx: at(r.zx),
      ...(r.bh !== undefined ? { bh: at(r.bh) } : {}),
    });
  return {
    name,
    buffers: defined([r.zx, r.tape, r.bh, r.mask]),
    doc: `${name}(n, step, before): the ${r.cell.toUpperCase()} cell of a step after the first, from ${r.zx} and the step's h·Whᵀ into ${r.tape}${r.mask !== undefined ? ` (a padded step in ${r.mask} keeps the state)` : ""}, 4 units at a time`,
    build: (at) => cellFunction(name, (f, L) => into(f, L, at, STEP, BEFORE)),
    into,
  };
}

/** The backward cell of the steps after the first (but the last read, when only it is read), as a kernel called with (n, step, before). */
export function cellGradKernel(r: CellGradRequest): CellKernel {
  const name = `${r.dz}Cell`;
  const from = [r.carry, r.dOut, r.cellState].filter((x) => x !== undefined).join(", ");
  const into = (f: Body, L: Locals, at: (buffer: string) => number, step: number, before: number): void => {
    const opt = (k: string, x: string | undefined): Record<string, number> => (x !== undefined ? { [k]: at(x) } : {});
    cellInto(f, L, { step, before }, r.cell, true, r.steps, r.mask !== undefined ? at(r.mask) : undefined, {
      h: r.h,
      tape: at(r.tape),
      dz: at(r.dz),
      carry: at(r.carry),
      ...opt("cell", r.cellState),
      ...opt("direct", r.direct),
      ...opt("dOut", r.dOut),
    });
  };
  return {
    name,
    buffers: defined([r.tape, r.dz, r.carry, r.cellState, r.direct, r.dOut, r.mask]),
    doc: `${name}(n, step, before): the backward ${r.cell.toUpperCase()} cell of a step, from ${from} into ${r.dz}${r.direct !== undefined ? ` and ${r.direct}` : ""}, 4 units at a time`,
    build: (at) => cellFunction(name, (f, L) => into(f, L, at, STEP, BEFORE)),
    into,
  };
}

/**
 * The forward scan of the steps after the first (steps ≥ 2) as one kernel called with n: the
 * product's transposed operand made once, then for each step in reading order the product
 * (moved by the step's index, as `stepFunction`'s: the step before it forwards, the step
 * itself reading backwards) and the cell — the calls the TypeScript loop would make, in its order.
 */
export function scanFunction(name: string, product: KernelSpec, cell: CellKernel, at: (buffer: string) => number, steps: number, reverse: boolean): WasmFunction {
  const f = new Body(["i32"], ["n"]);
  const [step, before, s] = ["step", "before", "s"].map((x) => f.local("i32", x)) as [number, number, number];
  const L = locals(f);
  transposeInto(f, L, product);
  countedLoop(
    f,
    s,
    1,
    steps,
    1,
    () => {
      // t = s (or T − 1 − s backwards), the step before t ∓ 1
      if (reverse) f.i32(steps - 1).get(s).i32Sub().tee(step).i32(1).i32Add().set(before);
      else f.get(s).tee(step).i32(1).i32Sub().set(before);
      productInto(f, L, product, reverse ? step : before);
      cell.into(f, L, at, step, before);
    },
    L.n,
  );
  return { name, body: f };
}

/** `for (j = 0; j < floats·4 bytes; j += a chunk's bytes) body`: 4 lanes while 4 remain, then one at a time. */
function units(f: Body, L: Locals, j: number, floats: number, widths: { readonly vector: Chunk; readonly single: Chunk }, body: (c: Chunk) => void): void {
  const full = Math.floor(floats / 4) * 4 * E;
  if (full > 0) countedLoop(f, j, 0, full, 16, () => body(widths.vector), L.n);
  if (floats * E > full) countedLoop(f, j, full, floats * E, 4, () => body(widths.single), L.n);
}

/** The cell kernels' parameters after n. */
const STEP = 1;
const BEFORE = 2;

/** A cell kernel: the loop over the samples (`cellInto`) with the step and the step before as parameters. */
function cellFunction(name: string, into: (f: Body, L: Locals) => void): WasmFunction {
  const f = new Body(["i32", "i32", "i32"], ["n", "step", "before"]);
  into(f, locals(f));
  return { name, body: f };
}

/**
 * The cell's loop: for each sample, the byte addresses of the step's rows, then the cell over
 * its units (or, at a padded step, the state or its gradient carried over); the step and the
 * step before are the locals `p`.
 */
function cellInto(f: Body, L: Locals, p: { readonly step: number; readonly before: number }, cell: "lstm" | "gru", backward: boolean, steps: number, mask: number | undefined, s: CellBuffers): void {
  const [b, rowB, prevB, zB, stateB, outB, j] = ["b", "rowAt", "prevAt", "zAt", "stateAt", "outAt", "j"].map((x) => f.local("i32", x)) as [number, number, number, number, number, number, number];
  const [row, prev, z, state, out] = ["row", "prev", "z", "state", "out"].map((x) => f.local("i32", x)) as [number, number, number, number, number];
  const at: CellAt = { row, prev, z, state, out, j };
  const widths = { vector: chunk(f, L, true), single: chunk(f, L, false) };
  const dims = recurrentDims({ cell, units: s.h });
  const h = s.h;
  // local = ((b·T + step)·width) bytes
  const rowOf = (step: number, width: number, into: number): void => void f.get(b).i32(steps).i32Mul().get(step).i32Add().i32(width * E).i32Mul().set(into);
  const offsets = (pairs: readonly (readonly [number, number])[]): void => pairs.forEach(([local, base]) => void f.get(base).get(j).i32Add().set(local));
  const body = backward ? (cell === "lstm" ? lstmBackward : gruBackward) : cell === "lstm" ? lstmForward : gruForward;
  const real = (): void =>
    units(f, L, j, h, widths, (c) => {
      offsets([
        [at.row, rowB],
        [at.prev, prevB],
        [at.z, zB],
        ...(backward ? ([[at.state, stateB], [at.out, outB]] as const) : []),
      ]);
      body(f, c, at, s);
    });
  const padded = (): void => {
    if (!backward) {
      // The state before the step carries over: h (and the LSTM's c).
      units(f, L, j, cell === "lstm" ? 2 * h : h, widths, (c) => {
        offsets([[at.row, rowB], [at.prev, prevB]]);
        f.get(at.row);
        c.load(at.prev, s.tape);
        c.store(s.tape);
      });
      return;
    }
    // The state's gradient passes on to the step before (in `direct`), and dz is zero.
    units(f, L, j, h, widths, (c) => {
      offsets([[at.state, stateB], [at.out, outB]]);
      f.get(at.state);
      stateGrad(c, at, s);
      c.store(need(s.direct, "the direct gradient"));
    });
    units(f, L, j, dims.d, widths, (c) => {
      offsets([[at.z, zB]]);
      f.get(at.z);
      c.x.k(0);
      c.store(need(s.dz, "dz"));
    });
  };
  countedLoop(
    f,
    b,
    0,
    "n",
    1,
    () => {
      rowOf(p.step, dims.s, rowB);
      rowOf(p.before, dims.s, prevB);
      rowOf(p.step, backward ? dims.d : dims.g, zB);
      if (backward) {
        f.get(b).i32(h * E).i32Mul().set(stateB);
        rowOf(p.step, h, outB);
      }
      if (mask === undefined) real();
      else {
        // mask[b·T + step] ≠ 0: a real step
        f.get(b).i32(steps).i32Mul().get(p.step).i32Add().i32(E).i32Mul().f32Load(mask).f32Abs().f32(0).f32Gt().if();
        real();
        f.else();
        padded();
        f.end();
      }
    },
    L.n,
  );
}
