/**
 * A small self-contained HTML report: how the run was set up (optimizer, learning rate, batch,
 * data sources, training time, the best epoch), one inline SVG chart per quantity (loss, then
 * each metric) with training and validation curves per epoch on round-number axis ticks, plus
 * the final figures. Browser-safe.
 */
import type { DataSource, Program } from "../compiler/program.js";
import { describeOptimizer } from "../compiler/optimizers/index.js";
import type { PreparedData } from "./prepare.js";
import type { EpochRecord } from "./train.js";

export interface ReportInput {
  readonly title: string;
  readonly history: readonly EpochRecord[];
  /** How the run was set up (`runSetup`): shown first. */
  readonly setup?: Readonly<Record<string, string>>;
  /** Final figures, e.g. test metrics; shown as a table. */
  readonly summary: Readonly<Record<string, string | number>>;
  readonly confusion?: readonly (readonly number[])[];
  readonly classes?: readonly string[];
  /** The epoch whose weights early stopping kept: marked on every chart. */
  readonly best?: { readonly epoch: number; readonly label: string };
  /** Further sections after the charts, each an SVG document whose text is escaped (`explain-report.ts`). */
  readonly sections?: readonly { readonly title: string; readonly note: string; readonly svg: string }[];
  /** Further tables after the charts (e.g. before and after `quantize`), every cell escaped. */
  readonly tables?: readonly { readonly title: string; readonly note: string; readonly head: readonly string[]; readonly rows: readonly (readonly string[])[] }[];
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
${r.setup ? `<h2>Run</h2><table class="setup">${Object.entries(r.setup).map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join("")}</table><h2>Results</h2>` : ""}
<table>${rows}</table>
<div class="charts">${charts.join("\n")}</div>
${r.confusion ? confusionTable(r.confusion, r.classes) : ""}
${(r.sections ?? []).map((s) => `<h2>${esc(s.title)}</h2><p>${esc(s.note)}</p>${s.svg}`).join("\n")}
${(r.tables ?? []).map((t) => `<h2>${esc(t.title)}</h2><p>${esc(t.note)}</p><table><tr>${t.head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr>${t.rows.map((row) => `<tr>${row.map((c, j) => (j === 0 ? `<th>${esc(c)}</th>` : `<td>${esc(c)}</td>`)).join("")}</tr>`).join("")}</table>`).join("\n")}
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
  let lo = Math.min(...ys);
  let hi = Math.max(...ys);
  if (hi - lo < 1e-12 * Math.max(1, Math.abs(hi))) {
    lo -= Math.max(0.5, Math.abs(lo) * 0.1);
    hi += Math.max(0.5, Math.abs(hi) * 0.1);
  }
  // The y axis spans whole steps of a round tick (1, 2 or 5 × 10^k).
  const ticks = niceTicks(lo, hi, 5);
  const y0 = ticks[0]!;
  const y1 = ticks[ticks.length - 1]!;
  const px = (x: number): number => PAD.l + ((x - x0) / (x1 - x0)) * (W - PAD.l - PAD.r);
  const py = (y: number): number => H - PAD.b - ((y - y0) / (y1 - y0)) * (H - PAD.t - PAD.b);
  const grid = ticks
    .map((v) => `<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${py(v).toFixed(1)}" y2="${py(v).toFixed(1)}" stroke="#eee"/>` +
      `<text x="${PAD.l - 6}" y="${(py(v) + 4).toFixed(1)}" text-anchor="end" class="ytick">${tickText(v, ticks)}</text>`)
    .join("");
  // Epochs on whole, round steps.
  const xticks = niceTicks(x0, x1, 6, 1).filter((x) => x >= x0 && x <= x1);
  const xaxis = xticks
    .map((x) => `<line x1="${px(x).toFixed(1)}" x2="${px(x).toFixed(1)}" y1="${H - PAD.b}" y2="${H - PAD.b + 4}" stroke="#888"/>` +
      `<text x="${px(x).toFixed(1)}" y="${H - PAD.b + 16}" text-anchor="middle" class="xtick">${x}</text>`)
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
${xaxis}<text x="${(PAD.l + W - PAD.r) / 2}" y="${H - 4}" text-anchor="middle">epoch</text>
${mark}${lines}${legend}</svg>`;
}

function confusionTable(c: readonly (readonly number[])[], classes?: readonly string[]): string {
  const name = (i: number): string => esc(classes?.[i] ?? String(i));
  const head = `<tr><th>true \\ predicted</th>${c.map((_, j) => `<th>${name(j)}</th>`).join("")}</tr>`;
  const body = c.map((row, i) => `<tr><th>${name(i)}</th>${row.map((v) => `<td>${v}</td>`).join("")}</tr>`).join("");
  return `<h2>Confusion matrix (test)</h2><table>${head}${body}</table>`;
}

/**
 * Round ticks covering [lo, hi]: a step of 1, 2 or 5 × 10^k giving about `count` intervals
 * (at least `minStep`), from the last multiple of the step at or below lo to the first at or
 * above hi.
 */
export function niceTicks(lo: number, hi: number, count: number, minStep = 0): number[] {
  const raw = Math.max((hi - lo) / count, minStep, Number.MIN_VALUE);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = Math.max(minStep, [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw * (1 - 1e-9))!);
  const first = Math.floor(lo / step + 1e-9);
  const last = Math.ceil(hi / step - 1e-9);
  const out: number[] = [];
  // Multiples of the step, rounded to its digits so 0.1 × 3 prints as 0.3.
  const digits = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  for (let i = first; i <= last; i++) out.push(Number((i * step).toFixed(Math.min(20, digits))));
  return out;
}

/** A tick's text: as many decimals as the step needs, or an exponent for very small or large steps. */
function tickText(v: number, ticks: readonly number[]): string {
  const step = ticks.length > 1 ? Math.abs(ticks[1]! - ticks[0]!) : 1;
  if (v === 0) return "0";
  if (step < 1e-3 || Math.abs(v) >= 1e6) return v.toExponential(Math.max(0, Math.round(Math.log10(Math.abs(v) / step)))).replace(/\.?0+e/, "e");
  return v.toFixed(Math.max(0, -Math.floor(Math.log10(step) + 1e-9)));
}

/**
 * The run's settings as the report shows them: optimizer (with its arguments), learning rate
 * and schedule, batch, the data sources with each split's samples, and the time spent training.
 */
export function runSetup(p: Program, data: PreparedData, history: readonly EpochRecord[]): Record<string, string> {
  const t = p.train;
  const seconds = history.reduce((a, h) => a + h.seconds, 0);
  const out: Record<string, string> = {
    optimizer: describeOptimizer(p.optimizer),
    "learning rate": `${p.optimizer.lr}${t.schedule.kind !== "constant" ? `, schedule ${t.schedule.kind}` : ""}${t.warmup > 0 ? `, warm-up ${t.warmup} epochs` : ""}`,
    batch: String(t.batch),
    loss: p.loss.kind,
  };
  if (p.data) {
    out["train data"] = `${sourceText(p.data.train)}: ${data.train.n} samples`;
    const held = (name: "validation" | "test"): void => {
      const s = p.data![name];
      const split = data[name];
      if (split === undefined) return;
      out[`${name} data`] = `${typeof s === "number" ? `${Math.round(s * 100)}% held out` : sourceText(s)}: ${split.n} samples`;
    };
    held("validation");
    held("test");
  }
  out["training time"] = seconds >= 60 ? `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s` : `${seconds.toFixed(1)} s`;
  return out;
}

function sourceText(s: DataSource): string {
  switch (s.kind) {
    case "csv":
    case "json":
    case "text":
    case "tagged":
      return `${s.kind}("${s.path}")`;
    case "idx":
      return `idx("${s.images}", "${s.labels}")`;
    case "generator":
      return `${s.generator}(size: ${s.size}, noise: ${s.noise}, seed: ${s.seed})`;
  }
}

function num(v: number): string {
  if (!Number.isFinite(v) || Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 0.001 || a >= 1e5) ? v.toExponential(2) : String(Number(v.toPrecision(4)));
}

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
}
