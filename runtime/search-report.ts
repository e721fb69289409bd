/**
 * The report page of a search: self-contained HTML (inline SVG, no script) with the
 * leaderboard, a parallel-coordinates chart (one axis per range and one for the metric, a line
 * per trial, coloured by its score) and each trial's learning curve. Everything that comes
 * from the `.nn` file (labels, values, messages) is escaped. Browser-safe.
 */
import type { Dim } from "../compiler/search/space.js";
import type { Direction } from "../compiler/search/settings.js";
import { leaderboard, type TrialRecord } from "./search.js";

export interface SearchReportInput {
  readonly title: string;
  readonly dims: readonly Dim[];
  readonly records: readonly TrialRecord[];
  /** The metric as its curves are named (`val_accuracy`). */
  readonly metric: string;
  readonly direction: Direction;
  /** Lines of text shown above the table (algorithm, budget, winner). */
  readonly notes: readonly string[];
}

export function renderSearchReport(r: SearchReportInput): string {
  const board = leaderboard(r.records, r.direction);
  const head = ["rank", "trial", "rung", "epochs", ...r.dims.map((d) => d.label), r.metric, "test", "seconds", "status"];
  const rows = board.map((t, i) => {
    const test = t.test ? Object.entries(t.test).map(([k, v]) => `${k} ${num(v)}`).join(", ") : "";
    const cells = [String(i + 1), String(t.trial), String(t.rung), t.epochs === undefined ? "file" : String(t.epochs), ...t.values, t.score === null ? "—" : num(t.score), test, num(t.seconds), t.status + (t.message ? `: ${t.message}` : "")];
    return `<tr${i === 0 && t.score !== null ? ' class="best"' : ""}>${cells.map((c) => `<td>${esc(c)}</td>`).join("")}</tr>`;
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(r.title)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse;margin:12px 0}th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f4f4f4}tr.best td{background:#eef8ee;font-weight:600}
svg text{font:11px system-ui,sans-serif;fill:#444}.curves{display:flex;flex-wrap:wrap;gap:10px}
</style></head><body>
<h1>${esc(r.title)}</h1>
${r.notes.map((n) => `<p>${esc(n)}</p>`).join("\n")}
<h2>Leaderboard</h2>
<table><tr>${head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr>${rows.join("")}</table>
<h2>Parallel coordinates</h2>
${parallel(r.dims, r.records, r.metric, r.direction)}
<h2>Learning curves (${esc(r.metric)} per epoch)</h2>
<div class="curves">${board.map((t) => curve(t, r.metric)).join("\n")}</div>
</body></html>
`;
}

const PW = 160;
const PH = 300;
const PT = 30;
const PB = 40;

/** An axis: where a trial's value sits on it, from 0 (bottom) to 1 (top), and its tick labels. */
interface Axis {
  readonly label: string;
  readonly pos: (t: TrialRecord) => number | undefined;
  readonly ticks: readonly { readonly at: number; readonly text: string }[];
}

function dimAxis(d: Dim & { kind: "loguniform" | "uniform" | "int" }, i: number): Axis {
  const log = d.kind === "loguniform";
  const f = (v: number): number => (log ? Math.log(v) : v);
  const pos = (v: number): number => (f(v) - f(d.lo)) / (f(d.hi) - f(d.lo));
  return {
    label: d.label,
    pos: (t) => {
      const v = Number(t.values[i]);
      return Number.isFinite(v) ? pos(v) : undefined;
    },
    ticks: [{ at: 0, text: num(d.lo) }, { at: 1, text: num(d.hi) }],
  };
}

function choiceAxis(d: Dim & { kind: "choice" }, i: number, records: readonly TrialRecord[]): Axis {
  const texts = [...new Set(records.map((t) => t.values[i] ?? ""))].sort();
  const n = texts.length;
  const at = (k: number): number => (n <= 1 ? 0.5 : k / (n - 1));
  return { label: d.label, pos: (t) => at(texts.indexOf(t.values[i] ?? "")), ticks: texts.map((text, k) => ({ at: at(k), text })) };
}

function parallel(dims: readonly Dim[], records: readonly TrialRecord[], metric: string, direction: Direction): string {
  const done = records.filter((t) => t.score !== null);
  if (done.length === 0) return "<p>No trial finished.</p>";
  const scores = done.map((t) => t.score!);
  let lo = Math.min(...scores);
  let hi = Math.max(...scores);
  if (hi - lo < 1e-12) {
    lo -= 0.5;
    hi += 0.5;
  }
  const scoreAxis: Axis = { label: metric, pos: (t) => (t.score === null ? undefined : (t.score - lo) / (hi - lo)), ticks: [{ at: 0, text: num(lo) }, { at: 1, text: num(hi) }] };
  const axes = [...dims.map((d, i) => (d.kind === "choice" ? choiceAxis(d, i, records) : dimAxis(d, i))), scoreAxis];
  const width = Math.max(2, axes.length) * PW;
  const x = (k: number): number => PW / 2 + k * PW;
  const y = (p: number): number => PT + (1 - p) * (PH - PT - PB);
  const good = (t: TrialRecord): number => {
    const p = scoreAxis.pos(t) ?? 0;
    return direction === "maximize" ? p : 1 - p;
  };
  const lines = [...done]
    .sort((a, b) => good(a) - good(b))
    .map((t) => {
      const pts = axes.map((a, k) => [x(k), y(a.pos(t) ?? 0)] as const);
      const d = pts.map((p, k) => `${k === 0 ? "M" : "L"}${p[0].toFixed(1)},${p[1].toFixed(1)}`).join("");
      return `<path d="${d}" fill="none" stroke="${color(good(t))}" stroke-width="1.6" opacity="0.85"><title>${esc(`trial ${t.trial}: ${t.values.join(", ")} → ${num(t.score!)}`)}</title></path>`;
    });
  const drawn = axes.map((a, k) => {
    const ticks = a.ticks.map((tk) => `<text x="${(x(k) + 5).toFixed(1)}" y="${(y(tk.at) + 4).toFixed(1)}">${esc(tk.text)}</text>`).join("");
    return `<line x1="${x(k)}" x2="${x(k)}" y1="${y(1)}" y2="${y(0)}" stroke="#888"/>${ticks}<text x="${x(k)}" y="${PH - 12}" text-anchor="middle" font-weight="600">${esc(a.label)}</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${PH}" viewBox="0 0 ${width} ${PH}" role="img" aria-label="parallel coordinates of the trials">
<rect width="${width}" height="${PH}" fill="#fff" stroke="#ddd"/>${lines.join("")}${drawn.join("")}</svg>`;
}

/** From red (worst) to green (best). */
function color(goodness: number): string {
  const g = Math.max(0, Math.min(1, goodness));
  return `hsl(${Math.round(g * 120)},70%,42%)`;
}

const CW = 220;
const CH = 130;

function curve(t: TrialRecord, metric: string): string {
  const pts = t.curve.map((v, i) => [i + 1, v] as const).filter((p) => Number.isFinite(p[1]));
  const title = `trial ${t.trial}${t.rung > 0 ? ` (rung ${t.rung})` : ""}: ${t.score === null ? t.status : num(t.score)}`;
  if (pts.length === 0) return `<svg xmlns="http://www.w3.org/2000/svg" width="${CW}" height="${CH}" role="img" aria-label="${esc(title)}"><rect width="${CW}" height="${CH}" fill="#fff" stroke="#ddd"/><text x="8" y="16">${esc(title)}</text></svg>`;
  const ys = pts.map((p) => p[1]);
  let lo = Math.min(...ys);
  let hi = Math.max(...ys);
  if (hi - lo < 1e-12) {
    lo -= 0.5;
    hi += 0.5;
  }
  const n = Math.max(2, pts.length);
  const px = (e: number): number => 34 + ((e - 1) / (n - 1)) * (CW - 44);
  const py = (v: number): number => 26 + (1 - (v - lo) / (hi - lo)) * (CH - 46);
  const d = pts.map((p, k) => `${k === 0 ? "M" : "L"}${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`).join("");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${CW}" height="${CH}" viewBox="0 0 ${CW} ${CH}" role="img" aria-label="${esc(`${title}, ${metric} per epoch`)}">
<rect width="${CW}" height="${CH}" fill="#fff" stroke="#ddd"/><text x="8" y="16">${esc(title)}</text>
<text x="30" y="${py(hi) + 4}" text-anchor="end">${esc(num(hi))}</text><text x="30" y="${py(lo) + 4}" text-anchor="end">${esc(num(lo))}</text>
<text x="${CW - 10}" y="${CH - 6}" text-anchor="end">epoch ${pts.length}</text>
<path d="${d}" fill="none" stroke="#1f77b4" stroke-width="1.8"/></svg>`;
}

function num(v: number): string {
  if (!Number.isFinite(v) || Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 0.001 || a >= 1e5) ? v.toExponential(2) : String(Number(v.toPrecision(4)));
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}
