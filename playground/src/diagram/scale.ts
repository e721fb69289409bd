/** The live diagram's colours (`live.ts`), pure so they are tested on their own: blue negative, orange positive. */
export const NEGATIVE = [14, 116, 196] as const;
export const POSITIVE = [234, 128, 12] as const;

/** The diverging colour of v in [−1, 1]: blue, white at 0, orange. */
export function diverging(v: number): [number, number, number] {
  const t = Math.max(-1, Math.min(1, v));
  const c = t < 0 ? NEGATIVE : POSITIVE;
  const a = Math.abs(t);
  return [Math.round(255 + (c[0] - 255) * a), Math.round(255 + (c[1] - 255) * a), Math.round(255 + (c[2] - 255) * a)];
}

/** A weight's stroke: its colour by sign, width by |w| over the layer's largest. */
export function edgeStyle(w: number, max: number): { stroke: string; width: number } {
  const s = max > 0 ? Math.abs(w) / max : 0;
  const [r, g, b] = w < 0 ? NEGATIVE : POSITIVE;
  return { stroke: `rgb(${r},${g},${b})`, width: Number((0.4 + 3.2 * s).toFixed(2)) };
}
