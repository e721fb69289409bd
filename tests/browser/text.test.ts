/**
 * Issue 14 in the page (`npm run build:playground` first): the Names example (a character-level
 * classifier of 8,849 first names, `examples/names.nn`) trains in the page, and a text typed
 * into the box is predicted at every key; the shown probabilities are those of the same module
 * compiled in Node with the page's weights file and its fitted tokenizer (`runtime/text.ts`).
 * Fails on any console or page error. Screenshot: tests/browser/screenshots/14-names.png.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkSource } from "../../compiler/check.js";
import { compileProgram } from "../../compiler/compile.js";
import { defaultKernels, loadModule } from "../../compiler/load.js";
import { encodeTexts } from "../../runtime/text.js";
import { decodeWeights } from "../../runtime/weights.js";
import { openPlayground, SHOTS, useHarness } from "./harness.js";
import { seriousA11y } from "./page-checks.js";

interface Typed {
  text: string;
  tokens: string[];
  probs: number[];
  classes: string[];
  epoch: number;
  updates: number;
}
interface Nnc {
  editor: { getValue(): string };
  history(): { epoch: number; values: Record<string, number> }[];
  state(): { running: boolean; ready: boolean; done: boolean };
  typed(): Typed | undefined;
  weightsText(): Promise<string>;
}
interface PageElement {
  readonly dataset: Record<string, string | undefined>;
}
declare const window: { readonly __nnc: Nnc };
declare const document: { querySelectorAll(selector: string): ArrayLike<PageElement> };

const h = useHarness();

describe("a text classifier in the page", () => {
  it("trains Names and predicts what is typed, as the same model does in Node", async () => {
    const { page, context } = await h.newPage();
    await openPlayground(page);
    await page.waitForFunction(() => window.__nnc.state().ready);
    // A 2-D example has no box to type in.
    expect(await page.isHidden("#typing-card")).toBe(true);
    await page.selectOption("#examples", "names");
    await page.waitForFunction(() => window.__nnc.editor.getValue().includes("model Names") && window.__nnc.state().ready, undefined, { timeout: 60_000 });
    expect(await page.isVisible("#typing-card")).toBe(true);

    // Typed before training: each key is predicted (by the untrained model).
    await page.click("#type-text");
    await page.keyboard.type("Mar", { delay: 30 });
    await page.waitForFunction(() => window.__nnc.typed()?.text === "Mar");
    const early = (await page.evaluate(() => window.__nnc.typed()))!;
    expect(early.epoch).toBe(0);
    expect(early.tokens).toEqual(["m", "a", "r"]);

    // Three epochs, one Step at a time: the prediction follows the model.
    const t0 = Date.now();
    for (let e = 1; e <= 3; e++) {
      await page.click("#step");
      await page.waitForFunction((k) => window.__nnc.history().length === k && !window.__nnc.state().running, e, { timeout: 90_000 });
    }
    const seconds = (Date.now() - t0) / 1000;
    await page.waitForFunction(() => window.__nnc.typed()?.epoch === 3);
    await page.focus("#type-text");
    await page.keyboard.press("End");
    await page.keyboard.type("garet", { delay: 30 });
    await page.waitForFunction(() => window.__nnc.typed()?.text === "Margaret" && window.__nnc.typed()!.epoch === 3);
    const margaret = (await page.evaluate(() => window.__nnc.typed()))!;
    expect(margaret.updates).toBeGreaterThanOrEqual(early.updates + 5);
    expect(margaret.classes).toEqual(["female", "male"]);

    // The same numbers from the same module, weights and tokenizer in Node.
    const source = await page.evaluate(() => window.__nnc.editor.getValue());
    const program = checkSource(source).value!;
    const model = loadModule(compileProgram(program, { target: "js", maxBatch: 512, kernels: defaultKernels() }).value!.code).createModel();
    const weights = decodeWeights(await page.evaluate(() => window.__nnc.weightsText()), model, "page.weights.json");
    expect(weights.diagnostics).toEqual([]);
    model.params.set(weights.value!.params);
    const tokenizer = weights.value!.preprocess.tokenizer!;
    const predict = (text: string): number[] => Array.from(model.forward(encodeTexts([text], tokenizer), 1).subarray(0, 2));
    const expected = predict("Margaret");
    for (let k = 0; k < 2; k++) expect(margaret.probs[k]!).toBeCloseTo(expected[k]!, 5);
    // What the page shows is that.
    const shown = await page.evaluate(() => Array.from(document.querySelectorAll("#typing-bars .typing-row")).map((r) => [r.dataset["class"], Number(r.dataset["p"])]));
    expect(shown).toEqual([
      ["female", margaret.probs[0]],
      ["male", margaret.probs[1]],
    ]);
    // After three epochs the model knows these two.
    expect(margaret.probs[0]!).toBeGreaterThan(0.5);
    await page.fill("#type-text", "Robert");
    await page.waitForFunction(() => window.__nnc.typed()?.text === "Robert");
    const robert = (await page.evaluate(() => window.__nnc.typed()))!;
    expect(robert.probs[1]!).toBeGreaterThan(0.5);
    for (let k = 0; k < 2; k++) expect(robert.probs[k]!).toBeCloseTo(predict("Robert")[k]!, 5);

    const accuracy = (await page.evaluate(() => window.__nnc.history()))[2]!.values["val_accuracy"] ?? (await page.evaluate(() => window.__nnc.history()))[2]!.values["accuracy"];
    expect(await seriousA11y(page)).toEqual([]);
    await page.screenshot({ path: join(SHOTS, "14-names.png") });
    console.log(`names: 3 epochs in ${seconds.toFixed(1)} s, accuracy ${accuracy}; Margaret ${(100 * margaret.probs[0]!).toFixed(1)}% female, Robert ${(100 * robert.probs[1]!).toFixed(1)}% male`);
    await context.close();
  });
});
