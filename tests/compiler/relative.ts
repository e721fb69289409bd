import { expect } from "vitest";

/** The largest difference between a and b over the largest magnitude of a (which must not be all zeros). */
export function relative(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(a[i] as number));
    worst = Math.max(worst, Math.abs((a[i] as number) - (b[i] as number)));
  }
  expect(scale).toBeGreaterThan(0);
  return worst / scale;
}
