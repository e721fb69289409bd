/**
 * The sum of sharded training (`runtime/slot-sum.ts`): chunk by chunk, the WebAssembly SIMD
 * kernel and the JavaScript loop both give, bit for bit, the definition — each element's
 * weighted terms added in slot order in float64 and rounded to float32 once — for any number
 * of slots (odd ones included), any number of them used, and lengths that are not multiples of
 * the kernel's 8 floats or of a chunk. Nothing outside the sum is written.
 */
import { describe, expect, it } from "vitest";
import { simdSupported } from "../../compiler/load.js";
import { CHUNK, SlotSum } from "../../runtime/slot-sum.js";
import { mulberry32 } from "../../bench/data.js";

/** The definition, one element at a time. */
function reference(slots: readonly Float32Array[], w: Float64Array, used: number, i: number): number {
  let acc = w[0]! * slots[0]![i]!;
  for (let k = 1; k < used; k++) acc = acc + w[k]! * slots[k]![i]!;
  return Math.fround(acc);
}

/** Gradient-like values over many magnitudes and both signs, a few zeros of each sign. */
function fill(a: Float32Array, seed: number): void {
  const r = mulberry32(seed);
  for (let i = 0; i < a.length; i++) {
    const u = r();
    a[i] = u < 0.01 ? 0 : u < 0.02 ? -0 : (r() - 0.5) * 10 ** (r() * 10 - 6);
  }
}

/** How many elements differ in their bits (a loop: `toEqual` on long arrays is slow). */
function mismatches(a: Float32Array, b: Float32Array): number {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  let n = Math.abs(x.length - y.length);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) n++;
  return n;
}

describe("the sum of the shards' gradients", () => {
  const lengths = [1, 7, 9, CHUNK - 1, 2 * CHUNK + 13];
  const counts = [1, 3, 4, 5];
  const paths = [{ js: true }, ...(simdSupported() ? [{ js: false }] : [])];

  it.each(paths.map((p) => [p.js ? "JavaScript" : "WebAssembly SIMD", p.js] as const))("%s: every chunk, every used count, as the definition", (_, js) => {
    let cases = 0;
    for (const length of lengths)
      for (const slots of counts) {
        for (const shared of [false, true]) {
          const s = new SlotSum({ length, slots, float64: false, shared, js });
          expect(s.share === undefined).toBe(js);
          fill(s.grads as Float32Array, length + slots);
          const before = Float32Array.from(s.grads);
          for (let used = 1; used <= slots; used++) {
            // Shares of an odd batch: 61 rows over `used` shards.
            for (let k = 0; k < used; k++) s.weights[k] = (Math.floor(61 / used) + (k < 61 % used ? 1 : 0)) / 61;
            s.sum.fill(NaN);
            for (let c = 0; c < s.chunks; c++) s.add(c, used);
            const want = new Float32Array(length);
            for (let i = 0; i < length; i++) want[i] = reference(s.slots as Float32Array[], s.weights, used, i);
            expect(mismatches(s.sum as Float32Array, want), `length ${length}, ${slots} slots, ${used} used`).toBe(0);
            cases++;
          }
          expect(mismatches(s.grads as Float32Array, before)).toBe(0);
        }
      }
    expect(cases).toBe(2 * lengths.length * counts.reduce((a, b) => a + b, 0));
  });

  it("cuts the parameters into chunks of CHUNK floats, the last one shorter", () => {
    expect(new SlotSum({ length: 2 * CHUNK + 13, slots: 3, float64: false, shared: false }).chunks).toBe(3);
    expect(new SlotSum({ length: CHUNK, slots: 3, float64: false, shared: false }).chunks).toBe(1);
    expect(new SlotSum({ length: 5, slots: 3, float64: true, shared: false }).chunks).toBe(1);
  });

  it("float64 gradients: the JavaScript path, summed in float64 without rounding to float32", () => {
    const s = new SlotSum({ length: 3, slots: 3, float64: true, shared: false });
    expect(s.share).toBeUndefined();
    s.grads.set([0.1, 1e-20, 3, 0.2, 1, 5, 0.3, -1, 7]);
    s.weights.set([0.5, 0.25, 0.25]);
    s.add(0, 3);
    expect(Array.from(s.sum)).toEqual([0.5 * 0.1 + 0.25 * 0.2 + 0.25 * 0.3, 0.5 * 1e-20 + 0.25 * 1 + 0.25 * -1, 0.5 * 3 + 0.25 * 5 + 0.25 * 7]);
  });
});
