/**
 * One way to write a model's float32 output as text (`nnc predict`'s CSV and JSON): the
 * shortest decimal that reads back as the same float32 (so `256.91278`, never the float64
 * expansion `256.91278076171875`), in positional notation for 1e-4 ≤ |x| < 1e16 and as
 * `d.ddde-N` / `d.ddde+N` outside it (Python's `repr` rule, which pandas and NumPy print by),
 * never `0.00000180241` beside `4.11109e-9`.
 */

/** The shortest significant digits that round-trip to the same float32 as `x`. */
export function shortestFloat32(x: number): number {
  const f = Math.fround(x);
  if (f === 0 || !Number.isFinite(f)) return f;
  for (let p = 1; p < 9; p++) {
    const v = Number(f.toPrecision(p));
    if (Math.fround(v) === f) return v;
  }
  return Number(f.toPrecision(9));
}

/** `x` as float32 text, the shortest round-trip digits in one notation rule (see above). */
export function float32Text(x: number): string {
  const v = shortestFloat32(x);
  if (v === 0 || !Number.isFinite(v)) return Object.is(v, -0) ? "0" : String(v);
  const a = Math.abs(v);
  // String() is positional over this whole range (it switches below 1e-6 and from 1e21).
  if (a >= 1e-4 && a < 1e16) return String(v);
  // toExponential() gives the shortest digits of the float64 `v`, which are the float32's.
  return v.toExponential();
}
