/**
 * Issue 17 in the page for image models (`npm run build:playground` first): digits-cnn shows a
 * strip of three test images per class; one picked with the mouse is explained at once and again
 * as the model trains; its probabilities, class and maps are those of the same module compiled in
 * Node with the page's weights (`runtime/explain.ts`); the overlay is painted and changes with
 * the method (Grad-CAM, non-negative, on conv2d_1); the keyboard moves along the strip and picks;
 * digits-mlp's 64 pixels are images too, without Grad-CAM; class names from a dropped CSV stay
 * text. Fails on any console or page error. Screenshot: tests/browser/screenshots/16-images.png.
 */
import { join } from "node:path";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { checkSource } from "../../compiler/check.js";
import { compileProgram } from "../../compiler/compile.js";
import { defaultKernels, loadModule } from "../../compiler/load.js";
import { attribute, isExplainModel, type ExplainModel } from "../../runtime/explain.js";
import { decodeWeights } from "../../runtime/weights.js";
import { openPlayground, SHOTS, useHarness } from "./harness.js";
import { run, seriousA11y } from "./page-checks.js";

interface Pick {
  index: number;
  label: number;
  predicted: number;
  probs: number[];
  pixels: number[];
  saliency: number[];
  gradxinput: number[];
  gradcam: { layer: string; height: number; width: number; values: number[] } | undefined;
  epoch: number;
}
interface Images {
  strip: { indices: number[]; labels: number[]; classNames: string[]; gradcamLayer: string | undefined } | undefined;
  pick: Pick | undefined;
  updates: number;
  workerMillis: number[];
  drawMillis: number[];
  method: string | undefined;
  fingerprint: string | undefined;
}
interface Nnc {
  editor: { getValue(): string };
  history(): { epoch: number }[];
  state(): { running: boolean; ready: boolean; done: boolean };
  images(): Images;
  weightsText(): Promise<string>;
}
declare const window: { readonly __nnc: Nnc; readonly pwned?: number };

const h = useHarness();

/** The page's model compiled in Node as the training worker compiles it, with the page's weights. */
function nodeModel(source: string, weightsText: string): ExplainModel {
  const compiled = compileProgram(checkSource(source).value!, { target: "js", maxBatch: 512, kernels: defaultKernels(), explain: true });
  const model = loadModule(compiled.value!.code).createModel();
  if (!isExplainModel(model)) throw new Error("no explain methods");
  const w = decodeWeights(weightsText, model, "page.weights.json");
  expect(w.diagnostics).toEqual([]);
  model.params.set(w.value!.params);
  return model;
}

const close = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-5 + 1e-4 * Math.abs(b);
const images = (page: Page): Promise<Images> => page.evaluate(() => window.__nnc.images());

/** Pixels of the map's half of the view (right of the image) that are coloured (not grey). */
function colouredPixels(page: Page): Promise<number> {
  return run<number>(
    page,
    `(() => { const c = document.getElementById("images-view"); const d = c.getContext("2d").getImageData(c.width / 2 + 6, 0, c.width / 2 - 6, c.height).data;
      let n = 0; for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i] - d[i + 2]) > 40) n++; return n; })()`,
  );
}

describe("picking a test image in the page", () => {
  it("digits-cnn: a picked image's prediction, probabilities and maps equal runtime/explain.ts in Node, and follow training", async () => {
    const { page, context } = await h.newPage();
    await openPlayground(page);
    await page.waitForFunction(() => window.__nnc.state().ready);
    // The spiral has no strip (its inputs are explained by the table).
    expect((await images(page)).strip).toBeUndefined();
    expect(await page.isHidden("#images-card")).toBe(true);

    await page.selectOption("#examples", "digits-cnn");
    await page.waitForFunction(() => window.__nnc.editor.getValue().includes("model DigitsCNN") && window.__nnc.images().strip !== undefined);
    const strip = (await images(page)).strip!;
    expect(strip.labels).toEqual(Array.from({ length: 30 }, (_, k) => Math.floor(k / 3)));
    expect(strip.gradcamLayer).toBe("conv2d_1");
    expect(await page.locator("#images-strip button").count()).toBe(30);
    expect(await page.getAttribute("#images-strip button >> nth=21", "aria-label")).toBe(`test image ${strip.indices[21]}, class 7`);
    // Not the 64-row table of the tabular models.
    expect(await page.isHidden("#explain-card")).toBe(true);

    // A click picks the third 7 of the untrained model.
    await page.click("#images-strip button >> nth=21");
    await page.waitForFunction((i) => window.__nnc.images().pick?.index === i, strip.indices[21]);
    const untrained = (await images(page)).pick!;
    expect(untrained.epoch).toBe(0);
    expect(await page.getAttribute("#images-strip button >> nth=21", "aria-pressed")).toBe("true");
    const before = (await images(page)).updates;

    // Train to the end: the pick is explained again as the model learns.
    await page.click("#train");
    await page.waitForFunction(() => window.__nnc.state().done && window.__nnc.images().pick?.epoch === 10, undefined, { timeout: 60_000 });
    const after = await images(page);
    expect(after.updates - before).toBeGreaterThanOrEqual(2);
    const p = after.pick!;
    expect(p.label).toBe(7);
    expect(p.predicted).toBe(7);
    expect(p.probs[7]).toBeGreaterThan(0.5);

    // The same numbers from the same weights in Node.
    const source = await page.evaluate(() => window.__nnc.editor.getValue());
    const model = nodeModel(source, await page.evaluate(() => window.__nnc.weightsText()));
    const x = Float32Array.from(p.pixels);
    const out = model.forward(x, 1);
    for (let k = 0; k < 10; k++) expect(close(p.probs[k]!, out[k]!), `p[${k}]: page ${p.probs[k]}, Node ${out[k]}`).toBe(true);
    const t = Int32Array.of(7);
    const saliency = attribute(model, x, 1, t, { method: "saliency" }).values;
    const gx = attribute(model, x, 1, t, { method: "gradxinput" }).values;
    const cam = attribute(model, x, 1, t, { method: "gradcam" }).values;
    for (let j = 0; j < 64; j++) {
      expect(close(p.saliency[j]!, saliency[j]!)).toBe(true);
      expect(close(p.gradxinput[j]!, gx[j]!)).toBe(true);
      expect(close(p.gradcam!.values[j]!, cam[j]!)).toBe(true);
    }
    expect([p.gradcam!.height, p.gradcam!.width]).toEqual([8, 8]);
    expect(Math.min(...p.gradcam!.values)).toBeGreaterThanOrEqual(0);

    // The overlay: saliency paints the map red over the image; Grad-CAM paints another picture.
    expect(after.method).toBe("saliency");
    expect(await colouredPixels(page)).toBeGreaterThan(100);
    expect(await page.textContent("#images-result")).toMatch(/Test image \d+ \(true: class 7\), after epoch 10: predicted class 7 \(\d+\.\d%\)/);
    // Drawn square, as the image is: the view's box keeps the canvas's proportions.
    const box = (await page.locator("#images-view").boundingBox())!;
    const size = await run<[number, number]>(page, `[document.getElementById("images-view").width, document.getElementById("images-view").height]`);
    expect(box.width / box.height).toBeCloseTo(size[0] / size[1], 1);
    expect(await page.getAttribute('#images-probs [data-class="7"]', "class")).toContain("predicted");
    await page.selectOption("#images-method", "gradcam");
    const gradcam = await images(page);
    expect(gradcam.method).toBe("gradcam");
    expect(gradcam.fingerprint).not.toBe(after.fingerprint);
    expect(await page.textContent("#images-result")).toContain("on conv2d_1's 8×8 positions");
    expect(await seriousA11y(page)).toEqual([]);
    await page.screenshot({ path: join(SHOTS, "16-images.png") });
    await page.locator("#images-card").screenshot({ path: join(SHOTS, "16b-images-card.png") });
    const median = (xs: number[]): string => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!.toFixed(2);
    console.log(
      `images: ${gradcam.updates} picks drawn; in the worker median ${median(gradcam.workerMillis)} ms (worst ${Math.max(...gradcam.workerMillis).toFixed(2)}), ` +
        `drawing on the page median ${median(gradcam.drawMillis)} ms (worst ${Math.max(...gradcam.drawMillis).toFixed(2)})`,
    );

    // From the keyboard: the arrow keys move along the strip and pick, End goes to the last image.
    await page.focus("#images-strip button >> nth=21");
    await page.keyboard.press("ArrowRight");
    await page.waitForFunction((i) => window.__nnc.images().pick?.index === i, strip.indices[22]);
    expect(await run(page, "document.activeElement.dataset.test")).toBe(String(strip.indices[22]));
    await page.keyboard.press("End");
    await page.waitForFunction((i) => window.__nnc.images().pick?.index === i, strip.indices[29]);
    expect((await images(page)).pick!.label).toBe(9);
    // Tab leaves the strip in one step (one tab stop: the picked image).
    expect(await run(page, `[...document.querySelectorAll("#images-strip button")].filter((b) => b.tabIndex === 0).length`)).toBe(1);
    await context.close();
  });

  it("digits-mlp's 64 pixels are 8 × 8 images (no Grad-CAM); class names from a dropped CSV stay text", async () => {
    const { page, context } = await h.newPage();
    await openPlayground(page);
    await page.waitForFunction(() => window.__nnc.state().ready);
    await page.selectOption("#examples", "digits-mlp");
    await page.waitForFunction(() => window.__nnc.editor.getValue().includes("model DigitsMLP") && window.__nnc.images().strip !== undefined);
    expect((await images(page)).strip!.gradcamLayer).toBeUndefined();
    expect(await page.isHidden("#images-gradcam")).toBe(true);
    await page.focus("#images-strip button >> nth=0");
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => window.__nnc.images().pick !== undefined);
    const p = (await images(page)).pick!;
    expect([p.saliency.length, p.gradcam]).toEqual([64, undefined]);
    expect(await colouredPixels(page)).toBeGreaterThan(0);

    // A dropped CSV of 6 × 6 images whose labels are markup.
    const names = ["<img src=x onerror=window.pwned=1>", `a&b "q"`, "<b>bold</b>"];
    const header = [...Array.from({ length: 36 }, (_, j) => `p${j}`), "label"].join(",");
    const rows = Array.from({ length: 60 }, (_, i) => {
      const k = i % 3;
      const px = Array.from({ length: 36 }, (_, j) => ((j % 6) + k * 2 + ((i * 7 + j) % 3)) % 6 === 0 ? 16 : 0);
      return [...px, `"${names[k]!.replace(/"/g, '""')}"`].join(",");
    });
    const csv = [header, ...rows].join("\n");
    const dt = await page.evaluateHandle(`(() => { const t = new DataTransfer(); t.items.add(new File([${JSON.stringify(csv)}], "marks.csv", { type: "text/csv" })); return t; })()`);
    await page.dispatchEvent("main", "drop", { dataTransfer: dt });
    // Adapt the model to the file (36 inputs, 3 classes), then train it.
    await page.waitForSelector("#notice-actions button");
    await page.click("#notice-actions button");
    await page.click("#train");
    await page.waitForFunction(() => window.__nnc.state().done && window.__nnc.images().strip !== undefined, undefined, { timeout: 60_000 });
    const strip = (await images(page)).strip!;
    expect([...strip.classNames].sort()).toEqual([...names].sort());
    await page.click("#images-strip button >> nth=0");
    await page.waitForFunction(() => window.__nnc.images().pick !== undefined);
    // The names are the buttons' labels and the rows' text, never elements.
    const labels = await run<string[]>(page, `[...document.querySelectorAll("#images-strip button")].map((b) => b.getAttribute("aria-label"))`);
    for (const l of labels) expect(names.some((n) => l.endsWith(`, ${n}`))).toBe(true);
    expect(await run<string[]>(page, `[...document.querySelectorAll("#images-probs .name")].map((s) => s.textContent)`)).toEqual(strip.classNames);
    expect(await run(page, `document.querySelectorAll("#images-card img, #images-card script, #images-card b b").length`)).toBe(0);
    expect(await page.textContent("#images-result")).toContain(strip.classNames[strip.labels[0]!]!);
    expect(await page.evaluate(() => window.pwned)).toBeUndefined();
    await context.close();
  });
});
