/**
 * The HTML report (issue 20, item 6): the run's setup (optimizer, learning rate, batch, data
 * sources with their samples, training time) before the results (the best epoch among them),
 * and charts whose axis ticks are round numbers (1, 2 or 5 × 10^k) covering the curves, with
 * whole epochs on the x axis.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { niceTicks, renderReport } from "../../runtime/report.js";
import { nncInProcess } from "../cli/in-process.js";
import { ROOT } from "./helpers.js";

/** Every tick an integer multiple of one round step, evenly spaced. */
function round(ticks: readonly number[]): number {
  const step = ticks[1]! - ticks[0]!;
  const mant = step / 10 ** Math.floor(Math.log10(step) + 1e-9);
  expect([1, 2, 5].some((m) => Math.abs(mant - m) < 1e-9)).toBe(true);
  for (const t of ticks) expect(Math.abs(t / step - Math.round(t / step))).toBeLessThan(1e-6);
  return step;
}

describe("niceTicks", () => {
  it("round steps covering the range", () => {
    expect(niceTicks(0.0123, 0.987, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(256.91, 4180.2, 5)).toEqual([0, 1000, 2000, 3000, 4000, 5000]);
    expect(niceTicks(1, 100, 6, 1)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(1, 3, 6, 1)).toEqual([1, 2, 3]);
    for (const [lo, hi] of [[4.11e-9, 1.8e-6], [-3.2, 7.7], [0.31, 0.33], [1e5, 3.3e7]] as const) {
      const t = niceTicks(lo, hi, 5);
      round(t);
      expect(t[0]).toBeLessThanOrEqual(lo);
      expect(t.at(-1)).toBeGreaterThanOrEqual(hi);
      expect(t.length).toBeLessThanOrEqual(12);
    }
  });

  it("the charts label their axes with them (no 0.2371-like labels)", () => {
    const html = renderReport({
      title: "t",
      history: Array.from({ length: 37 }, (_, i) => ({ epoch: i + 1, lr: 0.1, seconds: 1, samplesPerSecond: 1, values: { loss: 2.371 / (i + 1) + 0.0417 } })),
      summary: {},
    });
    const ys = [...html.matchAll(/class="ytick">([^<]+)</g)].map((m) => Number(m[1]));
    round(ys);
    expect(ys[0]).toBe(0);
    expect(ys.at(-1)).toBeCloseTo(2.5, 9);
    const xs = [...html.matchAll(/class="xtick">([^<]+)</g)].map((m) => Number(m[1]));
    expect(xs).toEqual([10, 20, 30]);
  });
});

describe("nnc train's report", () => {
  it("shows the optimizer, learning rate, batch, data sources, training time and the best epoch", async () => {
    const out = mkdtempSync(join(tmpdir(), "nnc-report-"));
    const r = await nncInProcess("train", join(ROOT, "examples/iris.nn"), "--out", out, "--epochs", "12", "--quiet");
    expect(r.code).toBe(0);
    const html = readFileSync(join(out, "report.html"), "utf8");
    const row = (k: string): string => new RegExp(`<tr><th>${k}</th><td>([^<]*)</td></tr>`).exec(html)?.[1] ?? "";
    expect(row("optimizer")).toMatch(/^adam\b.*lr 0\.01/);
    expect(row("learning rate")).toBe("0.01");
    expect(row("batch")).toBe("16");
    expect(row("train data")).toBe('csv(&quot;data/iris.csv&quot;): 120 samples');
    expect(row("test data")).toBe("20% held out: 30 samples");
    expect(row("training time")).toMatch(/^\d+\.\d s$/);
    expect(html.indexOf("<h2>Run</h2>")).toBeLessThan(html.indexOf("<h2>Results</h2>"));
  });

  it("names the best epoch when the run keeps it", async () => {
    const out = mkdtempSync(join(tmpdir(), "nnc-report-"));
    const src = readFileSync(join(ROOT, "examples/iris.nn"), "utf8").replace("  test      20%", "  test      20%\n  validation 20%").replace("  batch  16", "  batch  16\n  keep_best monitor val_loss");
    const { writeFileSync, mkdirSync, copyFileSync } = await import("node:fs");
    mkdirSync(join(out, "data"));
    copyFileSync(join(ROOT, "examples/data/iris.csv"), join(out, "data/iris.csv"));
    writeFileSync(join(out, "iris.nn"), src);
    const r = await nncInProcess("train", join(out, "iris.nn"), "--out", join(out, "run"), "--epochs", "15", "--quiet");
    expect(r.code).toBe(0);
    const html = readFileSync(join(out, "run", "report.html"), "utf8");
    expect(html).toMatch(/<tr><th>best epoch<\/th><td>\d+ \(val_loss [\d.]+\)<\/td><\/tr>/);
    expect(html).toContain("validation data</th><td>20% held out: 24 samples");
  });
});
