/** The decision boundary (a heat map of class probabilities with the data on top) or, for a 1-D regression, the fitted curve. */
import type { Picture } from "./protocol.js";

export const CLASS_COLORS = ["#f59e0b", "#0ea5e9", "#10b981", "#ef4444", "#8b5cf6", "#ec4899", "#84cc16", "#64748b"];
const RGB = CLASS_COLORS.map((h) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16)) as [number, number, number]);

export interface PictureOptions {
  /** Draw the test points (hollow). */
  readonly showTest: boolean;
  /** Colour each region by its most likely class only. */
  readonly discretize: boolean;
}

export function drawPicture(canvas: HTMLCanvasElement, pic: Picture, classNames?: readonly string[], options: PictureOptions = { showTest: true, discretize: false }): void {
  const dpr = window.devicePixelRatio || 1;
  const size = 340;
  if (canvas.width !== size * dpr) {
    canvas.width = size * dpr;
    canvas.height = size * dpr;
  }
  const g = canvas.getContext("2d")!;
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, size, size);
  if (pic.kind === "boundary") drawBoundary(g, size, pic, options);
  else if (pic.kind === "confusion") drawConfusion(g, size, pic, classNames);
  else drawCurve(g, size, pic);
}

function drawBoundary(g: CanvasRenderingContext2D, size: number, p: Extract<Picture, { kind: "boundary" }>, options: PictureOptions): void {
  const { res, classes, probs } = p;
  const img = new ImageData(res, res);
  const floor = 1 / classes;
  for (let k = 0; k < res * res; k++) {
    let r = 0, gr = 0, b = 0, top = 0, best = 0;
    for (let c = 0; c < classes; c++) {
      const q = probs[k * classes + c]!;
      const rgb = RGB[c % RGB.length]!;
      r += q * rgb[0];
      gr += q * rgb[1];
      b += q * rgb[2];
      if (q > top) {
        top = q;
        best = c;
      }
    }
    if (options.discretize) [r, gr, b] = RGB[best % RGB.length]!;
    // Confident regions are saturated, uncertain ones fade to white (discretized: all alike).
    const a = options.discretize ? 0.45 : 0.18 + 0.5 * Math.max(0, (top - floor) / (1 - floor));
    img.data[4 * k] = 255 * (1 - a) + r * a;
    img.data[4 * k + 1] = 255 * (1 - a) + gr * a;
    img.data[4 * k + 2] = 255 * (1 - a) + b * a;
    img.data[4 * k + 3] = 255;
  }
  const off = new OffscreenCanvas(res, res);
  off.getContext("2d")!.putImageData(img, 0, 0);
  g.imageSmoothingEnabled = true;
  g.imageSmoothingQuality = "high";
  g.drawImage(off, 0, 0, size, size);
  const sx = (x: number): number => ((x - p.x0) / (p.x1 - p.x0)) * size;
  const sy = (y: number): number => ((p.y1 - y) / (p.y1 - p.y0)) * size;
  const dots = (xy: Float32Array, cls: Uint8Array, hollow: boolean): void => {
    for (let i = 0; i < cls.length; i++) {
      g.beginPath();
      g.arc(sx(xy[2 * i]!), sy(xy[2 * i + 1]!), hollow ? 3.2 : 2.8, 0, 2 * Math.PI);
      const color = CLASS_COLORS[cls[i]! % CLASS_COLORS.length]!;
      if (hollow) {
        g.fillStyle = "#ffffff";
        g.fill();
        g.strokeStyle = color;
        g.lineWidth = 1.6;
        g.stroke();
      } else {
        g.fillStyle = color;
        g.fill();
        g.strokeStyle = "rgba(255,255,255,0.9)";
        g.lineWidth = 0.8;
        g.stroke();
      }
    }
  };
  dots(p.px, p.pc, false);
  if (options.showTest) dots(p.tx, p.tc, true);
  ticks(g, size, p);
}

/** Axis ticks along the bottom and left edges, in the model's (preprocessed) input units. */
function ticks(g: CanvasRenderingContext2D, size: number, p: Extract<Picture, { kind: "boundary" }>): void {
  const steps = (lo: number, hi: number): number[] => {
    const raw = (hi - lo) / 4;
    const mag = 10 ** Math.floor(Math.log10(raw));
    const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
    const out: number[] = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi; v += step) out.push(Math.abs(v) < step / 1e6 ? 0 : v);
    return out;
  };
  const label = (v: number): string => String(Number(v.toPrecision(3)));
  g.font = "10px system-ui, sans-serif";
  g.fillStyle = "#334155";
  g.strokeStyle = "#334155";
  g.lineWidth = 1;
  g.textAlign = "center";
  g.textBaseline = "bottom";
  for (const v of steps(p.x0, p.x1)) {
    const x = Math.round(((v - p.x0) / (p.x1 - p.x0)) * size) + 0.5;
    g.beginPath();
    g.moveTo(x, size);
    g.lineTo(x, size - 4);
    g.stroke();
    if (x > 12 && x < size - 12) g.fillText(label(v), x, size - 5);
  }
  g.textAlign = "left";
  g.textBaseline = "middle";
  for (const v of steps(p.y0, p.y1)) {
    const y = Math.round(((p.y1 - v) / (p.y1 - p.y0)) * size) + 0.5;
    g.beginPath();
    g.moveTo(0, y);
    g.lineTo(4, y);
    g.stroke();
    if (y > 10 && y < size - 16) g.fillText(label(v), 6, y);
  }
}

function drawConfusion(g: CanvasRenderingContext2D, size: number, p: Extract<Picture, { kind: "confusion" }>, names?: readonly string[]): void {
  const k = p.matrix.length;
  const left = 70, top = 30, cell = (size - left - 10) / k;
  const rowSums = p.matrix.map((r) => r.reduce((a, b) => a + b, 0));
  const label = (i: number): string => {
    const n = names?.[i] ?? String(i);
    return n.length > 9 ? n.slice(0, 8) + "…" : n;
  };
  g.fillStyle = "#ffffff";
  g.fillRect(0, 0, size, size);
  g.font = "11px system-ui, sans-serif";
  g.textAlign = "center";
  g.textBaseline = "middle";
  for (let t = 0; t < k; t++) {
    for (let q = 0; q < k; q++) {
      const n = p.matrix[t]![q]!;
      const share = rowSums[t]! > 0 ? n / rowSums[t]! : 0;
      const rgb = t === q ? [16, 185, 129] : [239, 68, 68];
      g.fillStyle = `rgba(${rgb.join(",")},${0.08 + 0.85 * share})`;
      g.fillRect(left + q * cell + 1, top + t * cell + 1, cell - 2, cell - 2);
      if (cell >= 16) {
        g.fillStyle = share > 0.5 ? "#ffffff" : "#0f172a";
        g.fillText(String(n), left + (q + 0.5) * cell, top + (t + 0.5) * cell);
      }
    }
  }
  g.fillStyle = "#64748b";
  if (k <= 12) {
    for (let i = 0; i < k; i++) {
      g.textAlign = "right";
      g.fillText(label(i), left - 6, top + (i + 0.5) * cell);
      g.save();
      g.translate(left + (i + 0.5) * cell, top - 8);
      g.textAlign = "center";
      g.fillText(label(i), 0, 0);
      g.restore();
    }
  }
  g.textAlign = "left";
  g.fillText("true ↓  predicted →", 4, 10);
}

function drawCurve(g: CanvasRenderingContext2D, size: number, p: Extract<Picture, { kind: "curve" }>): void {
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (const v of p.px) { x0 = Math.min(x0, v); x1 = Math.max(x1, v); }
  for (const v of [...p.py, ...p.ys]) { if (Number.isFinite(v)) { y0 = Math.min(y0, v); y1 = Math.max(y1, v); } }
  const padY = (y1 - y0) * 0.08 || 1;
  y0 -= padY; y1 += padY;
  const pad = 10;
  const sx = (x: number): number => pad + ((x - x0) / (x1 - x0 || 1)) * (size - 2 * pad);
  const sy = (y: number): number => pad + ((y1 - y) / (y1 - y0)) * (size - 2 * pad);
  g.fillStyle = "#f8fafc";
  g.fillRect(0, 0, size, size);
  g.strokeStyle = "#e2e8f0";
  g.beginPath();
  g.moveTo(pad, sy(0));
  g.lineTo(size - pad, sy(0));
  g.stroke();
  g.fillStyle = "rgba(14,165,233,0.55)";
  for (let i = 0; i < p.px.length; i++) {
    g.beginPath();
    g.arc(sx(p.px[i]!), sy(p.py[i]!), 2.2, 0, 2 * Math.PI);
    g.fill();
  }
  g.strokeStyle = "#f59e0b";
  g.lineWidth = 2.5;
  g.beginPath();
  for (let i = 0; i < p.xs.length; i++) {
    const X = sx(p.xs[i]!), Y = sy(p.ys[i]!);
    if (i === 0) g.moveTo(X, Y);
    else g.lineTo(X, Y);
  }
  g.stroke();
}

/** A cheap fingerprint of the canvas pixels (tests compare it over time). */
export function canvasFingerprint(canvas: HTMLCanvasElement): string {
  const g = canvas.getContext("2d")!;
  const d = g.getImageData(0, 0, canvas.width, canvas.height).data;
  let h = 2166136261;
  for (let i = 0; i < d.length; i += 7) h = Math.imul(h ^ d[i]!, 16777619);
  return (h >>> 0).toString(16);
}
