/**
 * The Search tab on the built site (`npm run build:playground` first): a small search of the
 * editor's file on the page's data, trials appearing one by one in a table with the best
 * marked, the best configuration put into the editor as a plain file, text from the file kept
 * as text, and no serious or critical accessibility violation (axe-core) on the tab.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { openPlayground, SHOTS, useHarness } from "./harness.js";
import { run } from "./page-checks.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const AXE = readFileSync(join(ROOT, "node_modules/axe-core/axe.min.js"), "utf8");
/** Spiral, shorter, with a search block of 2 trials: the page adds the default space (learning rate and width). */
const SPIRAL = readFileSync(join(ROOT, "examples/spiral.nn"), "utf8")
  .replace("epochs   150", "epochs   12")
  .replace("size: 1000", "size: 300")
  .concat("\nsearch {\n  trials 2\n  seed   4\n}\n");

const h = useHarness();

interface SearchState {
  running: boolean;
  finished: boolean;
  trials: number;
  best: number | undefined;
  scores: (number | null)[];
  values: string[][];
}
const state = (page: Page): Promise<SearchState> => run(page, "window.__nnc.search()");

describe("the Search tab", () => {
  it("searches the file's learning rate and width on its data, trial by trial, and puts the best in the editor", async () => {
    const { page } = await h.newPage();
    await openPlayground(page);
    await run(page, `window.__nnc.editor.setValue(${JSON.stringify(SPIRAL)})`);
    await page.click("#tab-button-search");
    expect(await page.isVisible("#tab-search")).toBe(true);
    await page.click("#search-run");
    // Trials appear one at a time: the table has a row before the search ends.
    await page.waitForFunction("window.__nnc.search().trials >= 1", undefined, { timeout: 60_000 });
    const partial = await state(page);
    expect(partial.trials).toBeGreaterThanOrEqual(1);
    await page.waitForFunction("window.__nnc.search().finished", undefined, { timeout: 120_000 });
    const s = await state(page);
    // The baseline (the file as written) and 2 drawn configurations.
    expect(s.trials).toBe(3);
    expect(s.values[0]).toEqual(["32", "0.01"]);
    for (const v of s.scores) expect(v !== null && v >= 0 && v <= 1).toBe(true);
    const top = Math.max(...s.scores.map((v) => v ?? -1));
    expect(s.scores[s.best! - 1]).toBe(top);
    expect(await page.textContent("#search-note")).toContain("The file has no ranges: searching the learning rate");
    const rows = await page.$$eval("#search-body tr", (trs) => trs.map((tr) => ({ best: tr.className === "best", text: tr.textContent ?? "" })));
    expect(rows).toHaveLength(3);
    expect(rows.filter((r) => r.best)).toHaveLength(1);
    expect(rows[s.best! - 1]!.best).toBe(true);
    expect(rows[s.best! - 1]!.text).toContain("★");
    expect(await page.textContent("#search-head")).toContain("val_accuracy");
    await page.screenshot({ path: join(SHOTS, "30-search.png") });

    await page.addScriptTag({ content: AXE });
    const axe = await run<{ violations: { id: string; impact: string | null }[] }>(page, `axe.run(document.getElementById("tab-search"), { resultTypes: ["violations"] })`);
    expect(axe.violations.filter((v) => v.impact === "serious" || v.impact === "critical")).toEqual([]);

    await page.click("#search-use");
    const text = await run<string>(page, "window.__nnc.editor.getValue()");
    expect(text).toMatch(/^# Found by the playground's search: trial \d of 3/);
    expect(text).not.toMatch(/loguniform|int\(|search \{/);
    const [width, lr] = s.values[s.best! - 1]!;
    expect(text).toContain(`dense ${width}, relu`);
    expect(text).toContain(`adam(lr: ${lr})`);
    // The plain file checks clean.
    await page.waitForFunction("window.__nnc.markers().length === 0", undefined, { timeout: 30_000 });
  }, 180_000);

  it("shows text from the file as text, and says why a search cannot start", async () => {
    const { page } = await h.newPage();
    await openPlayground(page);
    // A range over the data source: one option a path that is markup, whose trial fails (no such file).
    const evil = SPIRAL.replace("train      spiral(size: 300, noise: 0.03, seed: 3)", 'train      choice(spiral(size: 300, noise: 0.03, seed: 3), csv("<img src=x onerror=window.__pwned=1>.csv"))').replace("search {\n  trials 2", "search {\n  algorithm grid\n  trials 2");
    expect(evil).toContain("<img");
    await run(page, `window.__nnc.editor.setValue(${JSON.stringify(evil)})`);
    await page.click("#tab-button-search");
    await page.click("#search-run");
    await page.waitForFunction("window.__nnc.search().finished", undefined, { timeout: 120_000 });
    const s = await state(page);
    expect(s.trials).toBe(2);
    expect(s.scores[1]).toBeNull();
    expect(await page.textContent("#search-body")).toContain('csv("<img src=x onerror=window.__pwned=1>.csv")');
    expect(await page.$$eval("#tab-search img", (x) => x.length)).toBe(0);
    expect(await run(page, "window.__pwned === undefined")).toBe(true);
    // No ranges and nothing to vary: the reason, not a crash.
    await run(page, `window.__nnc.editor.setValue("model M {\\n  input 2\\n  dense 2, softmax\\n}\\nloss cross_entropy\\n")`);
    await page.click("#search-run");
    await page.waitForFunction("window.__nnc.search().finished", undefined, { timeout: 60_000 });
    expect(await page.textContent("#search-status")).toContain("no ranges");
  }, 180_000);
});
