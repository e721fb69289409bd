/**
 * A small self-contained HTML report: one inline SVG chart per quantity (loss, then each
 * metric), training and validation curves per epoch, plus the final figures. Browser-safe.
 */
import type { EpochRecord } from "./train.js";

export interface ReportInput {
  readonly title: string;
  readonly history: readonly EpochRecord[];
  /** Final figures, e.g. test metrics; shown as a table. */
  readonly summary: Readonly<Record<string, string | number>>;
  readonly confusion?: readonly (readonly number[])[];
  readonly classes?: readonly string[];
  /** The epoch whose weights early stopping kept: marked on every chart. */
  readonly best?: { readonly epoch: number; readonly label: string };
  /** Further sections after the charts, each an SVG document whose text is escaped (`explain-report.ts`). */
  readonly sections?: readonly { readonly title: string; readonly note: string; readonly svg: string }[];
}

const W = 480;
const H = 260;
const PAD = { l: 56, r: 16, t: 28, b: 36 };

export function renderReport(r: ReportInput): string {
  const keys = new Set<string>();
  for (const h of r.history) for (const k of Object.keys(h.values)) keys.add(k.replace(/^val_/, ""));
  const charts = [...keys]
    .sort((a, b) => (a === "loss" ? -1 : b === "loss" ? 1 : a.localeCompare(b)))
    .map((k) => chart(k, r.history, r.best));
  const rows = Object.entries(r.summary)
    .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(typeof v === "number" ? num(v) : v)}</td></tr>`)
    .join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(r.title)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}
h1{font-size:20px}.charts{display:flex;flex-wrap:wrap;gap:16px}
table{border-collapse:collapse;margin:12px 0}th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f4f4f4}svg text{font:11px system-ui,sans-serif;fill:#444}
</style></head><body>
<h1>${esc(r.title)}</h1>
<table>${rows}</table>
<div class="charts">${charts.join("\n")}</div>
${r.confusion ? confusionTable(r.confusion, r.classes) : ""}
${(r.sections ?? []).map((s) => `<h2>${esc(s.title)}</h2><p>${esc(s.note)}</p>${s.svg}`).join("\n")}
</body></html>
`;
}

function chart(key: string, history: readonly EpochRecord[], best?: ReportInput["best"]): string {
  const series = [
    { name: key, color: "#1f77b4", pts: history.map((h) => [h.epoch, h.values[key]] as const) },
    { name: `val_${key}`, color: "#ff7f0e", pts: history.map((h) => [h.epoch, h.values[`val_${key}`]] as const) },
  ].map((s) => ({ ...s, pts: s.pts.filter((p): p is readonly [number, number] => p[1] !== undefined && Number.isFinite(p[1])) }))
    .filter((s) => s.pts.length > 0);
  const xs = history.map((h) => h.epoch);
  const ys = series.flatMap((s) => s.pts.map((p) => p[1]));
  if (ys.length === 0) return "";
  const x0 = Math.min(...xs);
  const x1 = Math.max(x0 + 1, ...xs);
  let y0 = Math.min(...ys);
  let y1 = Math.max(...ys);
  if (y1 - y0 < 1e-12) {
    y0 -= 0.5;
    y1 += 0.5;
  }
  const px = (x: number): number => PAD.l + ((x - x0) / (x1 - x0)) * (W - PAD.l - PAD.r);
  const py = (y: number): number => H - PAD.b - ((y - y0) / (y1 - y0)) * (H - PAD.t - PAD.b);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((t) => y0 + t * (y1 - y0));
  const grid = ticks
    .map((v) => `<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${py(v).toFixed(1)}" y2="${py(v).toFixed(1)}" stroke="#eee"/>` +
      `<text x="${PAD.l - 6}" y="${(py(v) + 4).toFixed(1)}" text-anchor="end">${num(v)}</text>`)
    .join("");
  const lines = series
    .map((s) => {
      const d = s.pts.map((p, i) => `${i === 0 ? "M" : "L"}${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`).join("");
      return `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"/>`;
    })
    .join("");
  const mark =
    best && best.epoch >= x0 && best.epoch <= x1
      ? `<line x1="${px(best.epoch).toFixed(1)}" x2="${px(best.epoch).toFixed(1)}" y1="${PAD.t}" y2="${H - PAD.b}" stroke="#2ca02c" stroke-dasharray="4 3"/>` +
        `<text x="${(px(best.epoch) + 4).toFixed(1)}" y="${PAD.t + 10}">${esc(`${best.label} (epoch ${best.epoch})`)}</text>`
      : "";
  const legend = series
    .map((s, i) => `<rect x="${PAD.l + 8 + i * 120}" y="8" width="12" height="3" fill="${s.color}"/>` +
      `<text x="${PAD.l + 24 + i * 120}" y="13">${esc(s.name)}</text>`)
    .join("");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(key)} per epoch">
<rect width="${W}" height="${H}" fill="#fff" stroke="#ddd"/>${grid}
<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${H - PAD.b}" y2="${H - PAD.b}" stroke="#888"/>
<text x="${PAD.l}" y="${H - 12}">epoch ${x0}</text><text x="${W - PAD.r}" y="${H - 12}" text-anchor="end">epoch ${x1}</text>
${mark}${lines}${legend}</svg>`;
}

function confusionTable(c: readonly (readonly number[])[], classes?: readonly string[]): string {
  const name = (i: number): string => esc(classes?.[i] ?? String(i));
  const head = `<tr><th>true \\ predicted</th>${c.map((_, j) => `<th>${name(j)}</th>`).join("")}</tr>`;
  const body = c.map((row, i) => `<tr><th>${name(i)}</th>${row.map((v) => `<td>${v}</td>`).join("")}</tr>`).join("");
  return `<h2>Confusion matrix (test)</h2><table>${head}${body}</table>`;
}

function num(v: number): string {
  if (!Number.isFinite(v) || Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 0.001 || a >= 1e5) ? v.toExponential(2) : String(Number(v.toPrecision(4)));
}

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
}
