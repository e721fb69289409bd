/**
 * The matrix-product loops of a causal attention's products (`KernelSpec.causal`, proved by
 * `ops/bmm.ts`'s `causalSkip`): the dot loop's column blocks up to the diagonal, 0 past them
 * (`out`), and the axpy loop's depth range where op(A) is not 0 (`lower`, `upper`). Every other
 * product runs the full loops of `products.ts`.
 */
import type { Body } from "./encode.js";
import { countedLoop, E, scaled, type Locals } from "./loops.js";
import type { KernelSpec } from "./products.js";

/** The `causal` skip this kernel honours: a square [T, T] matrix of constant size, else none. */
export function skips(s: KernelSpec): KernelSpec["causal"] {
  if (s.causal === undefined || typeof s.rows !== "number" || typeof s.depth !== "number") return undefined;
  if (s.causal === "out") return s.rows === s.cols ? "out" : undefined;
  return s.rows === s.depth ? s.causal : undefined;
}

/**
 * The dot loop's column blocks of rows r … r + rh − 1 when only the outputs on and below the
 * diagonal are read (`causal: "out"`): the blocks that start at or before column r + rh − 1
 * are computed, the columns after them set to 0 (so the values above the diagonal are finite
 * and exactly what the rest of the model ignores).
 */
export function lowerColBlocks(f: Body, L: Locals, s: KernelSpec, rh: number, cw: number, tile: (rh: number, cw: number) => void, shiftOut: number | undefined): void {
  const cols = s.cols;
  const full = Math.floor(cols / cw) * cw;
  f.i32(0).set(L.c);
  if (full > 0) {
    // while (c < r + rh && c < full) { tile; c += cw }
    f.block().loop();
    f.get(L.c).get(L.r).i32(rh).i32Add().i32GeU().brIf(1);
    f.get(L.c).i32(full).i32GeU().brIf(1);
    tile(rh, cw);
    f.get(L.c).i32(cw).i32Add().set(L.c).br(0).end().end();
  }
  if (cols > full) {
    // The narrower last block, when it reaches a column ≤ r + rh − 1.
    f.block();
    f.i32(full).get(L.r).i32(rh).i32Add().i32GeU().brIf(0);
    f.i32(full).set(L.c);
    tile(rh, cols - full);
    f.i32(cols).set(L.c);
    f.end();
  }
  // Columns c … cols − 1 of each row: 0.
  for (let i = 0; i < rh; i++) {
    f.get(L.c).set(L.d);
    f.block().loop();
    f.get(L.d).i32(cols).i32GeU().brIf(1);
    scaled(f, L.r, s.oR * E);
    scaled(f, L.d, s.oC * E);
    f.i32Add();
    if (shiftOut !== undefined) f.get(shiftOut).i32Add();
    f.f32(0).f32Store(s.out + i * s.oR * E);
    f.get(L.d).i32(1).i32Add().set(L.d).br(0).end().end();
  }
}

/**
 * The axpy loop over depth for the rows r … r + rh − 1, `body` advancing pa and pb by one
 * step: all of it, or only where op(A) may be non-zero (`causal`): d ≤ r + rh − 1 when op(A)
 * is zero above its diagonal, d ≥ r (pa and pb moved there first) when zero below it. The
 * terms left out are exact zeros, after (or before) the others in each output's sum, so the
 * sums are the same.
 */
export function depthLoop(f: Body, L: Locals, s: KernelSpec, rh: number, end: () => number, body: () => void): void {
  const skip = skips(s);
  if (skip === "lower") {
    const to = end();
    f.get(L.r).i32(rh).i32Add().set(to);
    countedLoop(f, L.d, 0, "n", 1, body, to);
  } else if (skip === "upper") {
    f.get(L.pa).get(L.r).i32(s.aD * E).i32Mul().i32Add().set(L.pa);
    f.get(L.pb).get(L.r).i32(s.bD * E).i32Mul().i32Add().set(L.pb);
    f.get(L.r).set(L.d).loop();
    body();
    f.get(L.d).i32(1).i32Add().tee(L.d).i32(s.depth as number).i32LtU().brIf(0).end();
  } else countedLoop(f, L.d, 0, s.depth, 1, body, L.n);
}
