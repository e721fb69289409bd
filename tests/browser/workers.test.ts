/**
 * Issue 16 in the page (`npm run build:playground` first): `vite preview` sends the
 * cross-origin isolation headers, so the page has SharedArrayBuffer and trains with two Web
 * Workers; the weights after the same steps are the same bit for bit with one worker and with
 * two (a hash of the parameters' bytes, from the training worker), for a dense and a conv
 * model. Served without the headers, the page trains with one worker and says why; its service
 * worker then adds the headers, and the page it reloads is isolated. Fails on any console error.
 */
import { join } from "node:path";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { openPlayground, SHOTS, useHarness } from "./harness.js";

interface Nnc {
  editor: { getValue(): string };
  history(): { epoch: number }[];
  state(): { running: boolean; ready: boolean; done: boolean; checks: number };
  weightsHash(): Promise<string>;
  workers(): { isolated: boolean; training: number | undefined; shards: number | undefined };
}
declare const window: { readonly __nnc: Nnc };
declare const navigator: { readonly serviceWorker: { readonly controller: object | null } };
declare const crossOriginIsolated: boolean;

const h = useHarness();

/** `epochs` Steps from fresh weights with `workers` workers: the weights' hash and the seconds they took. */
async function stepsWith(page: Page, workers: number, epochs: number): Promise<{ hash: string; seconds: number; untrained: string }> {
  await page.selectOption("#workers", String(workers));
  await page.click("#reset");
  await page.waitForFunction((w) => window.__nnc.state().ready && window.__nnc.workers().training === w && window.__nnc.history().length === 0, workers);
  const untrained = await page.evaluate(() => window.__nnc.weightsHash());
  const t0 = Date.now();
  for (let e = 1; e <= epochs; e++) {
    await page.click("#step");
    await page.waitForFunction((k) => window.__nnc.history().length === k && !window.__nnc.state().running, e, { timeout: 60_000 });
  }
  const seconds = (Date.now() - t0) / 1000;
  return { hash: await page.evaluate(() => window.__nnc.weightsHash()), seconds, untrained };
}

describe("training with Web Workers", () => {
  it("is cross-origin isolated on the preview, and 2 workers give the weights of 1 bit for bit (spiral, digits-cnn)", async () => {
    const { page, context } = await h.newPage();
    await openPlayground(page);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    // One worker by default (two do not pay on these models), two to choose.
    // auto: the rule of `nnc train`, one worker for the spiral's small step.
    expect(await page.inputValue("#workers")).toBe("auto");
    expect(await page.isDisabled("#workers")).toBe(false);
    expect(await page.isHidden("#workers-note")).toBe(true);
    await page.waitForFunction(() => window.__nnc.state().ready);
    expect(await page.evaluate(() => window.__nnc.workers())).toEqual({ isolated: true, training: 1, shards: 4 });

    const lines: string[] = [];
    for (const [example, epochs] of [["spiral", 3], ["digits-cnn", 1]] as const) {
      if (example !== "spiral") {
        await page.selectOption("#examples", example);
        await page.waitForFunction(() => window.__nnc.editor.getValue().includes("model DigitsCNN") && window.__nnc.state().ready);
      }
      const two = await stepsWith(page, 2, epochs);
      const one = await stepsWith(page, 1, epochs);
      // The same fresh weights, trained: different from them, and the same whatever the workers.
      expect(one.untrained).toBe(two.untrained);
      expect(two.hash).not.toBe(two.untrained);
      expect(one.hash).toBe(two.hash);
      lines.push(`${example}: ${epochs} epoch(s) with 2 workers ${two.seconds.toFixed(2)} s, with 1 ${one.seconds.toFixed(2)} s; weights ${one.hash} both`);
    }
    console.log(`workers: ${lines.join("; ")}`);
    await context.close();
  });

  it("without the headers: one worker and a note; the service worker adds them and the reloaded page has two", async () => {
    const { page, context } = await h.newPage();
    // The server's isolation headers taken off every response, the service worker's fetches included.
    let fromServiceWorker = 0;
    await context.route("**/*", async (route) => {
      if (route.request().serviceWorker()) fromServiceWorker++;
      const response = await route.fetch();
      const headers = { ...response.headers() };
      delete headers["cross-origin-opener-policy"];
      delete headers["cross-origin-embedder-policy"];
      await route.fulfill({ response, headers });
    });
    await openPlayground(page);
    const firstLoad = await page.evaluate(() => crossOriginIsolated);
    if (!firstLoad) {
      expect(await page.isDisabled("#workers")).toBe(true);
      expect(await page.inputValue("#workers")).toBe("1");
      expect(await page.textContent("#workers-note")).toContain("not cross-origin isolated");
      await page.screenshot({ path: join(SHOTS, "13-one-worker.png") });
    }
    // The service worker takes control and the page reloads itself once, isolated.
    const until = Date.now() + 60_000;
    for (;;) {
      const isolated = await page
        .evaluate(() => crossOriginIsolated && navigator.serviceWorker.controller !== null && window.__nnc !== undefined && window.__nnc.state().checks > 0)
        .catch(() => false);
      if (isolated) break;
      if (Date.now() > until) throw new Error("the page never became cross-origin isolated");
      await page.waitForTimeout(250);
    }
    expect(firstLoad).toBe(false);
    expect(fromServiceWorker).toBeGreaterThan(0);
    expect(await page.isHidden("#workers-note")).toBe(true);
    await page.selectOption("#workers", "2");
    await page.waitForFunction(() => window.__nnc.state().ready && window.__nnc.workers().training === 2);
    await page.click("#step");
    await page.waitForFunction(() => window.__nnc.history().length === 1 && !window.__nnc.state().running);
    await context.close();
  });
});
