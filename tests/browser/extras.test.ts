/**
 * What a TensorFlow Playground fan expects, and what issue 21 asks the page to show, on the
 * built site (`npm run build:playground` first): knobs and data set thumbnails that edit the
 * text (and follow it), the picture's toggles and axis ticks, no serious accessibility
 * violation (axe-core) on the main screen, and the first-load figures of docs/playground.md.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { BASE, openPlayground, SHOTS, useHarness } from "./harness.js";
import { run } from "./page-checks.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SPIRAL = readFileSync(join(ROOT, "examples/spiral.nn"), "utf8");
const AXE = readFileSync(join(ROOT, "node_modules/axe-core/axe.min.js"), "utf8");

const h = useHarness();

const source = (page: Page): Promise<string> => run(page, "window.__nnc.editor.getValue()");
const waitFor = (page: Page, script: string, timeout = 30_000): Promise<unknown> => page.waitForFunction(script, undefined, { timeout });
const fingerprint = (page: Page): Promise<string> => run(page, "window.__nnc.fingerprint()");

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** axe-core's serious and critical violations on the page as it is. */
async function axe(page: Page): Promise<AxeViolation[]> {
  await page.addScriptTag({ content: AXE });
  const result = await run<{ violations: AxeViolation[] }>(page, `axe.run(document, { resultTypes: ["violations"] })`);
  return result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
}

/** The picture's toggles (test points, a discretized boundary) and its axis ticks. */
async function checkPicture(page: Page): Promise<void> {
  const shown = await fingerprint(page);
  await page.uncheck("#show-test");
  const hidden = await fingerprint(page);
  expect(hidden).not.toBe(shown);
  expect(await page.textContent("#picture-caption")).not.toContain("hollow");
  await page.check("#discretize");
  expect(await fingerprint(page)).not.toBe(hidden);
  await page.check("#show-test");
  // Ticks: dark marks on the bottom and left edges of the picture, where the heat map is light.
  const ink = await run<{ bottom: number; left: number }>(
    page,
    `(() => {
      const c = document.getElementById("picture"), g = c.getContext("2d"), s = c.width / 340;
      const dark = (x, y, w, h) => { const d = g.getImageData(x * s, y * s, w * s, h * s).data; let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] + d[i + 1] + d[i + 2] < 300) n++; return n; };
      return { bottom: dark(0, 336, 340, 4), left: dark(0, 0, 4, 340) };
    })()`,
  );
  expect(ink.bottom).toBeGreaterThan(3);
  expect(ink.left).toBeGreaterThan(3);
  await page.screenshot({ path: join(SHOTS, "13-picture-options.png"), clip: { x: 620, y: 200, width: 400, height: 460 } });
}

describe("the playground, as a TensorFlow Playground fan and issue 21 ask", () => {
  it("has knobs and data set thumbnails that edit the text, and follow it", async () => {
    const { page, context } = await h.newPage();
    await openPlayground(page);
    expect(await page.inputValue("#knob-lr")).toBe("0.01");
    expect(await page.inputValue("#knob-activation")).toBe("relu");
    await page.selectOption("#knob-lr", "0.03");
    await page.selectOption("#knob-activation", "tanh");
    await page.selectOption("#knob-batch", "16");
    await page.selectOption("#knob-test", "30");
    const edited = await source(page);
    expect(edited).toBe(
      SPIRAL.replace("adam(lr: 0.01)", "adam(lr: 0.03)")
        .replace(/dense 32, relu/g, "dense 32, tanh")
        .replace(/batch    32/, "batch    16")
        .replace("test       20%", "test       30%"),
    );
    // One undo takes a knob's edit back.
    await run(page, "(() => { window.__nnc.editor.focus(); window.__nnc.editor.trigger('keyboard', 'undo', null); })()");
    expect(await source(page)).toContain("test       20%");
    expect(await page.inputValue("#knob-test")).toBe("20");
    // Typing in the text moves the knob.
    await run(page, `window.__nnc.editor.setValue(window.__nnc.editor.getValue().replace("lr: 0.03", "lr: 0.3"))`);
    expect(await page.inputValue("#knob-lr")).toBe("0.3");
    // A thumbnail picks the data set.
    expect(await page.getAttribute('.dataset[data-dataset="spiral"]', "aria-pressed")).toBe("true");
    await waitFor(page, "window.__nnc.state().pictures > 0");
    const spiral = await fingerprint(page);
    await page.click('.dataset[data-dataset="moons"]');
    expect(await source(page)).toContain("train      moons(size: 1000, noise: 0.03, seed: 3)");
    expect(await page.getAttribute('.dataset[data-dataset="moons"]', "aria-pressed")).toBe("true");
    // The picture shows the new data before any training.
    await waitFor(page, `window.__nnc.state().ready && window.__nnc.fingerprint() !== ${JSON.stringify(spiral)}`);
    expect(await run(page, "window.__nnc.history().length")).toBe(0);
    await context.close();
  });

  it("toggles the test points and a discretized boundary, draws axis ticks, and has no serious or critical accessibility violation on the main screen (axe-core)", async () => {
    const { page, context } = await h.newPage();
    await openPlayground(page);
    await waitFor(page, "window.__nnc.state().pictures > 0");
    await checkPicture(page);
    const found = await axe(page);
    for (const v of found) console.log(`${v.impact} ${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
    expect(found.map((v) => v.id)).toEqual([]);
    await context.close();
  });

  it("measures the first load: first paint, an editable editor, bytes", async () => {
    const { page, context } = await h.newPage();
    const t0 = Date.now();
    await page.goto(BASE);
    // Editable: a key typed into the editor is in its text.
    await page.waitForSelector(".monaco-editor textarea");
    await page.focus(".monaco-editor textarea");
    await page.keyboard.type("#");
    await waitFor(page, `window.__nnc !== undefined && window.__nnc.editor.getValue().startsWith("#")`);
    const editable = Date.now() - t0;
    const figures = await run<{ fcp: number; bytes: number; files: number }>(
      page,
      `(() => {
        const fcp = performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? NaN;
        const rs = performance.getEntriesByType("resource").filter((r) => r.startTime < ${editable});
        const nav = performance.getEntriesByType("navigation")[0];
        return { fcp, bytes: rs.reduce((a, r) => a + r.transferSize, nav.transferSize), files: rs.length + 1 };
      })()`,
    );
    console.log(`first load: first contentful paint ${figures.fcp.toFixed(0)} ms, editable ${editable} ms, ${figures.files} files, ${(figures.bytes / 1024).toFixed(0)} KB transferred`);
    expect(figures.fcp).toBeLessThan(5000);
    expect(editable).toBeLessThan(10_000);
    // The page, Monaco and the lexer; not prettier, uPlot or the data files.
    expect(figures.bytes).toBeLessThan(6 * 1024 * 1024);
    await context.close();
  });
});
