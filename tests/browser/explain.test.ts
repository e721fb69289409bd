/**
 * Issue 17 in the page (`npm run build:playground` first): a click on the spiral's decision
 * boundary shows that point's attributions, and they are the numbers `runtime/explain.ts` gives
 * for the same point from the same weights (the page's weights file, loaded here into the same
 * module compiled in Node); every unit of the network diagram shows its output over the input
 * plane and the maps change as the model learns; the edges into dense layers are coloured by
 * their weights' signs (checked against the weights file, before and after training). Fails on
 * any console or page error. Screenshot: tests/browser/screenshots/12-explain.png.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkSource } from "../../compiler/check.js";
import { compileProgram } from "../../compiler/compile.js";
import { defaultKernels, loadModule } from "../../compiler/load.js";
import { attribute, isExplainModel, predictedTargets, type ExplainModel } from "../../runtime/explain.js";
import { decodeWeights, type WeightsFile } from "../../runtime/weights.js";
import { openPlayground, SHOTS, useHarness } from "./harness.js";
import { seriousA11y } from "./page-checks.js";

interface Attribution {
  x: number[];
  from: string;
  features: string[];
  target: number;
  score: number;
  baselineScore: number;
  delta: number;
  saliency: number[];
  gradxinput: number[];
  ig: number[];
  steps: number;
  epoch: number;
  updates: number;
}
interface Nnc {
  editor: { getValue(): string };
  history(): { epoch: number }[];
  state(): { running: boolean; ready: boolean; done: boolean };
  attribution(): Attribution | undefined;
  insight(): { updates: number; tiles: number; edges: number; millis: number[] };
  weightsText(): Promise<string>;
}
interface PageElement {
  readonly textContent: string | null;
  readonly dataset: Record<string, string | undefined>;
  getAttribute(name: string): string | null;
  focus(): void;
}
declare const window: { readonly __nnc: Nnc };
declare const document: { querySelectorAll(selector: string): ArrayLike<PageElement>; getElementById(id: string): PageElement | null };

const h = useHarness();

/** The spiral's model compiled in Node as the training worker compiles it, with the page's weights. */
function nodeModel(source: string, weightsText: string): { model: ExplainModel; weights: WeightsFile } {
  const program = checkSource(source).value!;
  const compiled = compileProgram(program, { target: "js", maxBatch: 512, kernels: defaultKernels(), explain: true });
  const model = loadModule(compiled.value!.code).createModel();
  if (!isExplainModel(model)) throw new Error("no explain methods");
  const w = decodeWeights(weightsText, model, "page.weights.json");
  expect(w.diagnostics).toEqual([]);
  model.params.set(w.value!.params);
  return { model, weights: w.value! };
}

const close = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-5 + 1e-4 * Math.abs(b);

/** Each painted edge: its layer's node id, units i → j, stroke and width. */
async function paintedEdges(page: import("playwright-core").Page): Promise<{ to: string; i: number; j: number; stroke: string; width: number }[]> {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll("#diagram g.edge line[data-weight]")).map((l) => ({
      to: (l as unknown as { parentNode: PageElement }).parentNode.getAttribute("data-to") ?? "",
      i: Number(l.dataset["i"]),
      j: Number(l.dataset["j"]),
      stroke: l.getAttribute("stroke") ?? "",
      width: Number(l.getAttribute("stroke-width")),
    })),
  );
}

/** Every painted edge has its weight's sign as colour (orange positive, blue negative), and a larger |w| is never thinner. */
function checkEdges(edges: Awaited<ReturnType<typeof paintedEdges>>, w: WeightsFile): Map<string, number> {
  const names: Record<string, string> = { v1: "dense_1", v2: "dense_2", v3: "dense_3" };
  const signs = new Map<string, number>();
  const byLayer = new Map<string, { abs: number; width: number }[]>();
  for (const e of edges) {
    const entry = w.layout.find((x) => x.name === `${names[e.to]}.weight`)!;
    const v = w.params[entry.offset + e.j * entry.shape[1]! + e.i]!;
    expect(e.stroke).toBe(v < 0 ? "rgb(14,116,196)" : "rgb(234,128,12)");
    signs.set(`${e.to}:${e.i}:${e.j}`, Math.sign(v));
    byLayer.set(e.to, [...(byLayer.get(e.to) ?? []), { abs: Math.abs(v), width: e.width }]);
  }
  for (const list of byLayer.values()) {
    list.sort((a, b) => a.abs - b.abs);
    for (let k = 1; k < list.length; k++) expect(list[k]!.width).toBeGreaterThanOrEqual(list[k - 1]!.width);
  }
  return signs;
}

describe("explaining the spiral in the page", () => {
  it("a click shows the point's attributions as runtime/explain.ts computes them; the unit maps and edges follow training", async () => {
    const { page, context } = await h.newPage();
    await openPlayground(page);
    await page.waitForFunction(() => window.__nnc.state().ready && window.__nnc.insight().tiles > 0);
    // The untrained network: input 2 + 6 + 6 shown units + 2 outputs, one map each.
    expect(await page.evaluate(() => document.querySelectorAll("#diagram image.unit-map").length)).toBe(16);
    const tiles = (): Promise<string[]> => page.evaluate(() => Array.from(document.querySelectorAll("#diagram image.unit-map")).map((t) => t.getAttribute("href") ?? ""));
    const untrainedTiles = await tiles();
    const source = await page.evaluate(() => window.__nnc.editor.getValue());
    const untrained = nodeModel(source, await page.evaluate(() => window.__nnc.weightsText()));
    const untrainedSigns = checkEdges(await paintedEdges(page), untrained.weights);
    // 2·6 + 6·6 + 6·2 unit-to-unit edges, every one painted.
    expect(untrainedSigns.size).toBe(60);

    // Five epochs, one Step at a time: the weights are still while the test reads them.
    for (let e = 1; e <= 5; e++) {
      await page.click("#step");
      await page.waitForFunction((k) => window.__nnc.history().length === k && !window.__nnc.state().running, e);
    }
    const trainedTiles = await tiles();
    // Every hidden and output unit's map changed (the input's are its coordinates: the same).
    const changed = trainedTiles.filter((t, k) => t !== untrainedTiles[k]).length;
    expect(changed).toBeGreaterThanOrEqual(12);

    // Click a point of the picture.
    const box = (await page.locator("#picture").boundingBox())!;
    await page.mouse.click(box.x + box.width * 0.7, box.y + box.height * 0.3);
    await page.waitForFunction(() => window.__nnc.attribution() !== undefined);
    const a = (await page.evaluate(() => window.__nnc.attribution()))!;
    expect(a.from).toMatch(/^the point \(/);
    expect(a.epoch).toBe(5);
    expect(a.features).toEqual(["x0", "x1"]);

    const { model, weights } = nodeModel(source, await page.evaluate(() => window.__nnc.weightsText()));
    const x = Float32Array.from(a.x);
    const targets = predictedTargets(model, x, 1);
    expect(a.target).toBe(targets[0]);
    for (const method of ["saliency", "gradxinput", "ig"] as const) {
      const expected = attribute(model, x, 1, targets, { method, ...(method === "ig" ? { steps: a.steps } : {}) });
      const shown = a[method];
      for (let j = 0; j < 2; j++) expect(close(shown[j]!, expected.values[j]!), `${method}[${j}]: page ${shown[j]}, Node ${expected.values[j]}`).toBe(true);
      if (method === "ig") {
        expect(close(a.score, expected.scores[0]!)).toBe(true);
        expect(close(a.baselineScore, expected.completeness!.baselineScores[0]!)).toBe(true);
      }
    }
    // Completeness: the integrated gradients add up to F(x) − F(0), within the 5% past which
    // `nnc explain` warns (NN5020; a ReLU network's path has kinks, so 64 steps are not exact).
    const sum = a.ig[0]! + a.ig[1]!;
    expect(sum - (a.score - a.baselineScore)).toBeCloseTo(a.delta, 5);
    expect(Math.abs(a.delta)).toBeLessThanOrEqual(0.05 * Math.abs(a.score - a.baselineScore) + 1e-4);
    // The table shows the same numbers (3 significant digits), one row per input.
    const cells = await page.evaluate(() => Array.from(document.querySelectorAll("#explain-body td")).map((c) => Number(c.dataset["value"])));
    expect(cells).toEqual([a.x[0], a.saliency[0], a.gradxinput[0], a.ig[0], a.x[1], a.saliency[1], a.gradxinput[1], a.ig[1]]);
    expect(await page.textContent("#explain-result")).toContain("completeness error");
    // The table, the painted diagram and the controls have no serious accessibility problem.
    expect(await seriousA11y(page)).toEqual([]);

    // The edges follow the trained weights; an edge whose weight changed sign changed colour.
    const trainedSigns = checkEdges(await paintedEdges(page), weights);
    const flipped = [...trainedSigns].filter(([k, s]) => untrainedSigns.get(k) !== s).length;
    expect(flipped).toBeGreaterThan(0);

    // From the keyboard: a test sample's number, then Enter.
    await page.focus("#explain-test");
    await page.fill("#explain-test", "3");
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => window.__nnc.attribution()?.from === "test sample 3");

    // While it trains, the maps and the attribution are redrawn (throttled) and the run ends well.
    const before = await page.evaluate(() => ({ painted: window.__nnc.insight().updates, explained: window.__nnc.attribution()!.updates }));
    const t0 = Date.now();
    await page.click("#train");
    await page.waitForFunction(() => window.__nnc.state().done, undefined, { timeout: 60_000 });
    const seconds = (Date.now() - t0) / 1000;
    const after = await page.evaluate(() => ({ insight: window.__nnc.insight(), attribution: window.__nnc.attribution()! }));
    // Redrawn while it ran, but throttled: at most one insight per 300 ms (and the last one forced).
    const painted = after.insight.updates - before.painted;
    expect(painted).toBeGreaterThanOrEqual(2);
    expect(painted).toBeLessThanOrEqual(seconds / 0.3 + 3);
    expect(after.attribution.updates - before.explained).toBeGreaterThanOrEqual(2);
    expect(after.attribution.from).toBe("test sample 3");
    expect(after.attribution.epoch).toBe(150);
    const endTiles = await tiles();
    // (A ReLU unit that died in training keeps its blank map.)
    expect(endTiles.filter((t, k) => t !== trainedTiles[k]).length).toBeGreaterThanOrEqual(10);
    const millis = [...after.insight.millis].sort((p, q) => p - q);
    await page.screenshot({ path: join(SHOTS, "12-explain.png") });
    console.log(
      `explain: ${flipped} of 60 drawn edges changed sign in 5 epochs; 145 more epochs in ${seconds.toFixed(1)} s with ${painted} diagram updates ` +
        `(median ${millis[Math.floor(millis.length / 2)]!.toFixed(2)} ms in the worker each, worst ${millis.at(-1)!.toFixed(2)} ms) and ${after.attribution.updates - before.explained} attributions`,
    );
    await context.close();
  });

  it("explains a test sample of a tabular model (iris) per named feature, as runtime/explain.ts does", async () => {
    const { page, context } = await h.newPage();
    await openPlayground(page);
    await page.waitForFunction(() => window.__nnc.state().ready);
    await page.selectOption("#examples", "iris");
    await page.waitForFunction(() => window.__nnc.editor.getValue().includes("model Iris") && window.__nnc.state().ready);
    for (let e = 1; e <= 10; e++) {
      await page.click("#step");
      await page.waitForFunction((k) => window.__nnc.history().length === k && !window.__nnc.state().running, e);
    }
    // No picture to click (a confusion matrix): the test sample's number, from the keyboard.
    await page.focus("#explain-test");
    await page.fill("#explain-test", "2");
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => window.__nnc.attribution()?.from === "test sample 2");
    const a = (await page.evaluate(() => window.__nnc.attribution()))!;
    expect(a.features).toEqual(["sepal_length", "sepal_width", "petal_length", "petal_width"]);
    expect(await page.evaluate(() => document.querySelectorAll("#explain-body tr").length)).toBe(4);
    const source = await page.evaluate(() => window.__nnc.editor.getValue());
    const { model } = nodeModel(source, await page.evaluate(() => window.__nnc.weightsText()));
    const x = Float32Array.from(a.x);
    const targets = predictedTargets(model, x, 1);
    expect(a.target).toBe(targets[0]);
    for (const method of ["saliency", "gradxinput", "ig"] as const) {
      const expected = attribute(model, x, 1, targets, { method, ...(method === "ig" ? { steps: a.steps } : {}) });
      for (let j = 0; j < 4; j++) expect(close(a[method][j]!, expected.values[j]!), `${method}[${j}]: page ${a[method][j]}, Node ${expected.values[j]}`).toBe(true);
    }
    expect(Math.abs(a.delta)).toBeLessThanOrEqual(0.05 * Math.abs(a.score - a.baselineScore) + 1e-4);
    await context.close();
  });
});
