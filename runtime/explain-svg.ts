/**
 * Pictures of attributions as SVG text (no dependency; browser-safe): heat maps over image
 * samples and signed bar charts per feature. Every text from a data file (feature and class
 * names) is escaped, so a picture cannot carry markup or script.
 *
 * A picture is a `Panel` (its size and its SVG body); `svgDocument` lays panels out in a grid.
 */

export interface Panel {
  readonly width: number;
  readonly height: number;
  /** SVG elements drawn from (0, 0). */
  readonly body: string;
}

/** Text made safe inside SVG/XML text and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string);
}

const num = (x: number): string => String(Math.round(x * 100) / 100);
const FONT = `font-family="system-ui, sans-serif"`;

export interface HeatmapInput {
  /** One sample, [h, w] or [h, w, c] values (channels are averaged for the grey image). */
  readonly image: Float32Array;
  readonly shape: readonly number[];
  /** The attribution map: [h, w] or [h, w, c] of the image, or a coarser [mh, mw] (Grad-CAM), drawn over it. */
  readonly map: Float32Array;
  readonly mapShape: readonly number[];
  /** Signed maps: red positive, blue negative; else red only, by magnitude. */
  readonly signed: boolean;
  readonly title?: string;
  /** Pixels per image pixel (default: 168 / the larger side, at least 4). */
  readonly scale?: number;
  /** Draw the plain image to the left of the heat map (default true). */
  readonly beside?: boolean;
}

/**
 * A heat map over the image, drawn light (dark ink on white) so the colours stand out, beside
 * the plain image: each cell's opacity is |value| / the map's largest |value|.
 */
export function heatmapPanel(o: HeatmapInput): Panel {
  const [h, w] = o.shape as [number, number];
  const c = o.shape[2] ?? 1;
  const [mh, mw] = o.mapShape as [number, number];
  const mc = o.mapShape[2] ?? 1;
  const s = o.scale ?? Math.max(4, Math.floor(168 / Math.max(h, w)));
  const beside = o.beside ?? true;
  const left = beside ? w * s + 6 : 0;
  const top = o.title !== undefined ? 18 : 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of o.image) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  const grey = (y: number, x: number): number => {
    let t = 0;
    for (let ch = 0; ch < c; ch++) t += o.image[(y * w + x) * c + ch] as number;
    return hi > lo ? (t / c - lo) / (hi - lo) : 0;
  };
  // The map's value at a position: channels summed (signed) for a map shaped like the image.
  const at = (y: number, x: number): number => {
    let t = 0;
    for (let ch = 0; ch < mc; ch++) t += o.map[(y * mw + x) * mc + ch] as number;
    return t;
  };
  let peak = 0;
  for (let y = 0; y < mh; y++) for (let x = 0; x < mw; x++) peak = Math.max(peak, Math.abs(at(y, x)));
  const parts: string[] = [];
  if (o.title !== undefined) parts.push(`<text x="0" y="13" font-size="12" ${FONT}>${escapeXml(o.title)}</text>`);
  // Cells of one fill are one path (grey in 64 levels, opacity in 20): a 28×28 image stays small.
  const cells = new Map<string, string[]>();
  const cell = (fill: string, x: number, y: number, cw: number, ch: number): void => {
    const list = cells.get(fill) ?? [];
    list.push(`M${num(x)} ${num(y)}h${num(cw)}v${num(ch)}h${num(-cw)}z`);
    cells.set(fill, list);
  };
  const greyFill = (level: number): string => {
    const v = Math.round(level / 4) * 4;
    return `fill="rgb(${v},${v},${v})"`;
  };
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const g = grey(y, x);
      if (beside) cell(greyFill(255 * (1 - g)), x * s, top + y * s, s, s);
      cell(greyFill(255 - 150 * g), left + x * s, top + y * s, s, s);
    }
  }
  const ch = (h / mh) * s;
  const cw = (w / mw) * s;
  for (let y = 0; y < mh; y++) {
    for (let x = 0; x < mw; x++) {
      const v = at(y, x);
      const a = Math.round((peak > 0 ? Math.abs(v) / peak : 0) * 20) / 20;
      if (a === 0) continue;
      const color = !o.signed || v >= 0 ? "#e6194b" : "#2a6fdb";
      cell(`fill="${color}" fill-opacity="${num(0.8 * a)}"`, left + x * cw, top + y * ch, cw, ch);
    }
  }
  for (const [fill, d] of cells) parts.push(`<path ${fill} d="${d.join("")}"/>`);
  if (beside) parts.push(`<rect x="0.5" y="${top + 0.5}" width="${w * s - 1}" height="${h * s - 1}" fill="none" stroke="#999"/>`);
  parts.push(`<rect x="${left + 0.5}" y="${top + 0.5}" width="${w * s - 1}" height="${h * s - 1}" fill="none" stroke="#999"/>`);
  return { width: left + w * s, height: top + h * s, body: parts.join("") };
}

export interface BarsInput {
  readonly names: readonly string[];
  readonly values: ArrayLike<number>;
  readonly title?: string;
  /** Width of the bars' area (default 240). */
  readonly width?: number;
}

/** A signed horizontal bar per feature: red to the right for positive values, blue to the left for negative. */
export function barsPanel(o: BarsInput): Panel {
  const rowH = 18;
  const label = Math.min(200, 8 + 7 * Math.max(4, ...o.names.map((n) => Math.min(28, n.length))));
  const area = o.width ?? 240;
  const top = o.title !== undefined ? 20 : 4;
  let peak = 0;
  for (let i = 0; i < o.values.length; i++) peak = Math.max(peak, Math.abs(o.values[i] as number));
  const hasNegative = Array.from(o.values).some((v) => v < 0);
  const zero = label + (hasNegative ? area / 2 : 0);
  const half = hasNegative ? area / 2 : area;
  const parts: string[] = [];
  if (o.title !== undefined) parts.push(`<text x="0" y="13" font-size="12" ${FONT}>${escapeXml(o.title)}</text>`);
  o.names.forEach((name, i) => {
    const v = o.values[i] as number;
    const len = peak > 0 ? (Math.abs(v) / peak) * (half - 50) : 0;
    const y = top + i * rowH;
    const shown = name.length > 28 ? `${name.slice(0, 27)}…` : name;
    parts.push(`<text x="${label - 6}" y="${y + 13}" font-size="11" text-anchor="end" ${FONT}>${escapeXml(shown)}</text>`);
    const x = v >= 0 ? zero : zero - len;
    parts.push(`<rect x="${num(x)}" y="${y + 3}" width="${num(len)}" height="${rowH - 6}" fill="${v >= 0 ? "#e6194b" : "#2a6fdb"}"/>`);
    const tx = v >= 0 ? zero + len + 4 : zero - len - 4;
    parts.push(`<text x="${num(tx)}" y="${y + 13}" font-size="10" text-anchor="${v >= 0 ? "start" : "end"}" fill="#444" ${FONT}>${escapeXml(Number(v.toPrecision(3)).toString())}</text>`);
  });
  const bottom = top + o.names.length * rowH;
  parts.push(`<line x1="${zero}" y1="${top}" x2="${zero}" y2="${bottom}" stroke="#333" stroke-width="1"/>`);
  return { width: label + area, height: bottom + 4, body: parts.join("") };
}

/** Panels in a grid of `columns`, with a gap, as one SVG document. */
export function svgDocument(panels: readonly Panel[], columns = panels.length, gap = 12): string {
  const cols = Math.max(1, Math.min(columns, panels.length));
  const rows = Math.ceil(panels.length / cols);
  const colW = Array.from({ length: cols }, (_, c) => Math.max(0, ...panels.filter((_, i) => i % cols === c).map((p) => p.width)));
  const rowH = Array.from({ length: rows }, (_, r) => Math.max(0, ...panels.slice(r * cols, (r + 1) * cols).map((p) => p.height)));
  const parts: string[] = [];
  panels.forEach((p, i) => {
    const c = i % cols;
    const r = Math.floor(i / cols);
    const x = colW.slice(0, c).reduce((a, b) => a + b + gap, 0);
    const y = rowH.slice(0, r).reduce((a, b) => a + b + gap, 0);
    parts.push(`<g transform="translate(${x},${y})">${p.body}</g>`);
  });
  const width = colW.reduce((a, b) => a + b, 0) + gap * (cols - 1);
  const height = rowH.reduce((a, b) => a + b, 0) + gap * (rows - 1);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">\n<rect width="100%" height="100%" fill="white"/>\n${parts.join("\n")}\n</svg>\n`;
}
