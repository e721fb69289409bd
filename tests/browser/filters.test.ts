/**
 * The Filters view in headless Chromium, on the built site (`npm run build:playground` first):
 * the digits-cnn example trains in the page above 90% test accuracy, and the filters of its
 * first convolution are drawn and redrawn as it learns. Fails on any console or page error.
 * Screenshot: tests/browser/screenshots/7-digits-filters.png.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openPlayground, SHOTS, useHarness } from "./harness.js";

/** digits-cnn must finish training within this many seconds of pressing Train. */
const DIGITS_SECONDS = 60;

interface Nnc {
  editor: { getValue(): string };
  history(): { epoch: number; values: Record<string, number> }[];
  test(): Record<string, number> | undefined;
  state(): { running: boolean; ready: boolean; done: boolean };
  filters(): { fingerprint: string; updates: number } | undefined;
}
// The page's globals, as used by callbacks that run in the page (module-scoped: no DOM lib needed).
interface PageElement {
  readonly textContent: string | null;
  readonly hidden: boolean;
  readonly width: number;
  readonly height: number;
}
declare const window: { readonly __nnc: Nnc };
declare const document: { getElementById(id: string): PageElement | null; querySelector(selector: string): PageElement | null };

const h = useHarness();

describe("filters view", () => {
  it(`trains digits-cnn above 90% test accuracy within ${DIGITS_SECONDS} s and redraws its conv2d_1 filters`, async () => {
    const { page, context } = await h.newPage();
    await openPlayground(page);
    // The spiral example (no convolution) shows no Filters view.
    await page.waitForFunction(() => window.__nnc.state().ready);
    expect(await page.evaluate(() => window.__nnc.filters())).toBeUndefined();
    expect(await page.evaluate(() => document.getElementById("filters-card")?.hidden)).toBe(true);

    await page.selectOption("#examples", "digits-cnn");
    await page.waitForFunction(() => window.__nnc.editor.getValue().includes("model DigitsCNN"));
    // The example's data loads without training: the untrained filters appear.
    await page.waitForFunction(() => window.__nnc.state().ready && window.__nnc.filters() !== undefined);
    const untrained = (await page.evaluate(() => window.__nnc.filters()))!;
    const size = await page.evaluate(() => {
      const c = document.getElementById("filters")!;
      return [c.width, c.height];
    });
    expect(size[0]).toBeGreaterThan(100);
    expect(size[1]).toBeGreaterThan(20);

    // One epoch (Step), then the rest (Train).
    await page.click("#step");
    await page.waitForFunction(
      () => window.__nnc.history().length === 1 && !window.__nnc.state().running && (document.getElementById("filters-caption")?.textContent ?? "").includes("after epoch 1:"),
    );
    const first = (await page.evaluate(() => window.__nnc.filters()))!;
    expect(first.fingerprint).not.toBe(untrained.fingerprint);

    const t0 = Date.now();
    await page.click("#train");
    await page.waitForFunction(() => window.__nnc.state().done && window.__nnc.test() !== undefined, undefined, { timeout: DIGITS_SECONDS * 1000 });
    const seconds = (Date.now() - t0) / 1000;
    const end = (await page.evaluate(() => window.__nnc.filters()))!;
    const epochs = (await page.evaluate(() => window.__nnc.history())).length;
    expect(end.updates).toBeGreaterThan(first.updates);
    expect(end.fingerprint).not.toBe(first.fingerprint);
    expect(await page.textContent("#filters-caption")).toContain(`after epoch ${epochs}:`);

    // Test accuracy as the page shows it.
    const shown = Number(await page.textContent('#numbers dd[data-key="test accuracy"]'));
    expect(shown).toBeGreaterThanOrEqual(0.9);
    expect((await page.evaluate(() => window.__nnc.test()))!["accuracy"]).toBeGreaterThanOrEqual(0.9);

    await page.screenshot({ path: join(SHOTS, "7-digits-filters.png") });
    console.log(`digits-cnn: ${epochs} epochs, test accuracy ${shown}, ${seconds.toFixed(1)} s after Train (plus one Step epoch); filters redrawn ${end.updates} times`);
    await context.close();
  });
});
