/**
 * A small seeded generator (mulberry32). Its whole state is one 32-bit integer, so a run can
 * save it in a checkpoint and continue with exactly the same stream.
 */
export class Rng {
  /** The full state; assign a saved value to resume the stream. */
  state: number;

  constructor(seed: number) {
    this.state = seedState(seed);
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box–Muller; no cached second value, so the state stays one number). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Fisher–Yates shuffle of `a` in place. */
  shuffle(a: Uint32Array | number[]): void {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i]!;
      a[i] = a[j]!;
      a[j] = t;
    }
  }
}

/**
 * `next` of a generator whose state starts at `state` as given (no seed mixing): the plain
 * mulberry32 stream, for tools that want a `() => number`.
 */
export function streamFrom(state: number): () => number {
  const r = new Rng(0);
  r.state = state >>> 0;
  return () => r.next();
}

/** Mixes a seed (any finite number) into a 32-bit state, so nearby seeds give unrelated streams. */
export function seedState(seed: number): number {
  let h = (Math.floor(Math.abs(seed)) ^ 0x9e3779b9) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** A seed derived from a base seed and a counter (e.g. the epoch), for stateless streams. */
export function deriveSeed(seed: number, k: number): number {
  return (seedState(seed) ^ Math.imul(k + 1, 0x27d4eb2d)) >>> 0;
}
