/**
 * ⬆ weights (issue 15, `npm run build:playground` and `npm run build` first): the page loads a
 * `weights.json` for the model in the editor, checked by `decodeWeights` as `nnc eval` checks
 * it, with the preprocessing saved in it. The spiral trained in the page, saved with ⬇ weights,
 * Reset and loaded again gives back the same test figures and the same parameters bit for bit;
 * a file written by `nnc train` in Node gives the accuracy `nnc eval` prints for it; another
 * model's file and a hand-edited one are refused with the CLI's message, the weights kept.
 * Fails on any console or page error. Screenshot: tests/browser/screenshots/15-weights.png.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { checkSource } from "../../compiler/check.js";
import { compileProgram } from "../../compiler/compile.js";
import { defaultKernels, loadModule } from "../../compiler/load.js";
import { encodeTexts } from "../../runtime/text.js";
import { decodeWeights } from "../../runtime/weights.js";
import { openPlayground, SHOTS, useHarness } from "./harness.js";
import { seriousA11y } from "./page-checks.js";

interface Nnc {
  editor: { getValue(): string; setValue(s: string): void };
  history(): { epoch: number; values: Record<string, number> }[];
  test(): Record<string, number> | undefined;
  state(): { running: boolean; ready: boolean; done: boolean };
  fingerprint(): string;
  weightsText(): Promise<string>;
  weightsHash(): Promise<string>;
  loadedWeights(): { name: string; epochs: number } | undefined;
  refusedWeights(): { name: string; message: string } | undefined;
  attribution(): { from: string; score: number; ig: number[]; epoch: number; updates: number } | undefined;
  typed(): { text: string; tokens: string[]; probs: number[]; classes: string[]; epoch: number } | undefined;
}
declare const window: { readonly __nnc: Nnc };
declare class DataTransfer {
  readonly items: { add(file: object): void };
}

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const NNC = join(ROOT, "dist/nnc.mjs");

const h = useHarness();

/** FNV-1a over a Float32Array's bytes: the training worker's `weightsHash`. */
function hashOf(params: readonly number[]): string {
  const bytes = new Uint8Array(Float32Array.from(params).buffer);
  let x = 2166136261;
  for (const b of bytes) x = Math.imul(x ^ b, 16777619);
  return (x >>> 0).toString(16).padStart(8, "0");
}

/** `nnc eval --json` of a weights file for the `.nn` file at `nn`. */
function nncEval(nn: string, weights: string): { accuracy: number; loss: number } {
  return JSON.parse(execFileSync(process.execPath, [NNC, "eval", nn, "--weights", weights, "--json"], { encoding: "utf8" })) as { accuracy: number; loss: number };
}

/** The module the page compiles for `source`, in Node. */
function nodeModel(source: string) {
  const program = checkSource(source).value!;
  return loadModule(compileProgram(program, { target: "js", kernels: defaultKernels() }).value!.code).createModel();
}

/** The message `decodeWeights` gives for `text` against the model of `source` (what `nnc eval` prints). */
function refusal(source: string, text: string, name: string): string {
  const r = decodeWeights(text, nodeModel(source), name);
  expect(r.value).toBeUndefined();
  return r.diagnostics[0]!.message;
}

/** Chooses `path` with ⬆ weights (from the keyboard when `keyboard`). */
async function choose(page: Page, path: string, keyboard = false): Promise<void> {
  const chooser = page.waitForEvent("filechooser");
  if (keyboard) {
    await page.focus("#upload-weights");
    await page.keyboard.press("Enter");
  } else await page.getByRole("button", { name: "⬆ weights", exact: true }).click();
  await (await chooser).setFiles(path);
}

/** Drops a file with this name and text on the page, as a file manager would. */
async function drop(page: Page, name: string, text: string): Promise<void> {
  const dataTransfer = await page.evaluateHandle(
    ([n, t]) => {
      const dt = new DataTransfer();
      dt.items.add(new File([t], n, { type: "application/json" }));
      return dt;
    },
    [name, text] as const,
  );
  await page.dispatchEvent("main", "drop", { dataTransfer });
}

/** Explains test sample `k` from the keyboard; its attribution once it comes. */
async function explainSample(page: Page, k: number): Promise<{ score: number; ig: number[] }> {
  await page.focus("#explain-test");
  await page.fill("#explain-test", String(k));
  await page.keyboard.press("Enter");
  await page.waitForFunction((from) => window.__nnc.attribution()?.from === from, `test sample ${k}`);
  const a = (await page.evaluate(() => window.__nnc.attribution()))!;
  return { score: a.score, ig: a.ig };
}

const shownTest = (page: Page): Promise<string | null> => page.textContent('#numbers dd[data-key="test accuracy"]');

describe("⬆ weights", () => {
  it("loads the page's own weights back bit for bit, nnc train's with nnc eval's figures, and refuses another model's", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nnc-weights-"));
    const { page, context } = await h.newPage();
    await openPlayground(page);
    await page.waitForFunction(() => window.__nnc.state().ready);
    expect(await page.isDisabled("#upload-weights")).toBe(false);

    // The spiral, 4 epochs, trained in the page to the end (so the page shows its test figures).
    await page.evaluate(() => window.__nnc.editor.setValue(window.__nnc.editor.getValue().replace(/epochs\s+150/, "epochs   4")));
    const source = await page.evaluate(() => window.__nnc.editor.getValue());
    expect(source).toContain("epochs   4");
    const nn = join(dir, "spiral.nn");
    writeFileSync(nn, source);
    await page.click("#train");
    await page.waitForFunction(() => window.__nnc.state().done && window.__nnc.test() !== undefined, undefined, { timeout: 90_000 });
    await page.waitForFunction(() => !window.__nnc.state().running);
    // Test sample 0 explained (the picture marks it), by the trained weights.
    const trainedWhy = await explainSample(page, 0);
    const trained = {
      test: (await page.evaluate(() => window.__nnc.test()))!,
      shown: await shownTest(page),
      hash: await page.evaluate(() => window.__nnc.weightsHash()),
      fingerprint: await page.evaluate(() => window.__nnc.fingerprint()),
    };
    expect(trained.test["accuracy"]).toBeGreaterThan(0.8);

    // ⬇ weights saves what the hook reads.
    const download = page.waitForEvent("download");
    await page.click("#download-weights");
    const saved = join(dir, "spiral.weights.json");
    await (await download).saveAs(saved);
    const savedText = readFileSync(saved, "utf8");
    expect(savedText).toBe(await page.evaluate(() => window.__nnc.weightsText()));
    expect(hashOf((JSON.parse(savedText) as { params: number[] }).params)).toBe(trained.hash);

    // Reset: fresh weights, which guess (what `nnc eval` says of them).
    await page.click("#reset");
    await page.waitForFunction(() => window.__nnc.state().ready && window.__nnc.history().length === 0 && window.__nnc.test() === undefined);
    const fresh = { hash: await page.evaluate(() => window.__nnc.weightsHash()), text: await page.evaluate(() => window.__nnc.weightsText()) };
    expect(fresh.hash).not.toBe(trained.hash);
    writeFileSync(join(dir, "fresh.weights.json"), fresh.text);
    const freshEval = nncEval(nn, join(dir, "fresh.weights.json"));
    expect(freshEval.accuracy).toBeLessThan(trained.test["accuracy"]! - 0.2);
    expect(await page.isDisabled("#download-weights")).toBe(true);
    // Test sample 0 explained by the fresh weights, explained again once the file is loaded.
    const freshWhy = await explainSample(page, 0);
    expect(freshWhy.score).not.toBe(trainedWhy.score);

    // Loaded back with ⬆ weights: the same test figures, parameters and picture as trained.
    await choose(page, saved);
    await page.waitForFunction(() => window.__nnc.loadedWeights() !== undefined && window.__nnc.test() !== undefined);
    expect(await page.evaluate(() => window.__nnc.loadedWeights())).toEqual({ name: "spiral.weights.json", epochs: 4 });
    expect(await page.evaluate(() => window.__nnc.test())).toEqual(trained.test);
    expect(await shownTest(page)).toBe(trained.shown);
    expect(await page.evaluate(() => window.__nnc.weightsHash())).toBe(trained.hash);
    await page.waitForFunction((f) => window.__nnc.fingerprint() === f, trained.fingerprint);
    await page.waitForFunction((score) => window.__nnc.attribution()?.score === score, trainedWhy.score);
    expect((await page.evaluate(() => window.__nnc.attribution()))!.ig).toEqual(trainedWhy.ig);
    expect(await page.textContent("#status")).toContain("loaded spiral.weights.json");
    expect(await page.isDisabled("#download-weights")).toBe(false);

    // Train goes on from them: one Step, and the file it saves counts the loaded epochs too.
    await page.click("#step");
    await page.waitForFunction(() => window.__nnc.history().length === 1 && !window.__nnc.state().running, undefined, { timeout: 60_000 });
    const step = (await page.evaluate(() => window.__nnc.history()))[0]!.values;
    expect(step["val_accuracy"]).toBeGreaterThan(freshEval.accuracy + 0.2);
    expect(await page.evaluate(() => window.__nnc.weightsHash())).not.toBe(trained.hash);
    expect((JSON.parse(await page.evaluate(() => window.__nnc.weightsText())) as { epochs: number }).epochs).toBe(5);

    // Weights from `nnc train` in Node (another seed, 2 epochs), dropped on the page: `nnc eval`'s figures.
    const run = join(dir, "node-run");
    execFileSync(process.execPath, [NNC, "train", nn, "--epochs", "2", "--seed", "7", "--out", run], { stdio: "ignore" });
    const nodeText = readFileSync(join(run, "weights.json"), "utf8");
    const nodeEval = nncEval(nn, join(run, "weights.json"));
    await drop(page, "weights.json", nodeText);
    await page.waitForFunction(() => window.__nnc.loadedWeights()?.epochs === 2 && window.__nnc.test() !== undefined);
    const nodeShown = (await page.evaluate(() => window.__nnc.test()))!;
    expect(nodeShown["accuracy"]).toBeCloseTo(nodeEval.accuracy, 6);
    expect(Math.abs(nodeShown["loss"]! - nodeEval.loss)).toBeLessThan(1e-5 * Math.max(1, nodeEval.loss));
    const nodeHash = hashOf((JSON.parse(nodeText) as { params: number[] }).params);
    expect(await page.evaluate(() => window.__nnc.weightsHash())).toBe(nodeHash);
    expect(nodeHash).not.toBe(trained.hash);
    console.log(
      `spiral, 4 epochs in the page: test accuracy ${trained.test["accuracy"]}, loss ${trained.test["loss"]}; fresh weights (nnc eval): ${freshEval.accuracy}; ` +
        `nnc train --epochs 2 --seed 7: nnc eval ${nodeEval.accuracy} / ${nodeEval.loss}, the page ${nodeShown["accuracy"]} / ${nodeShown["loss"]}`,
    );
    // The data were not taken for a CSV file.
    expect(await page.inputValue("#data")).toBe("source");

    // Another model's weights (xor), chosen from the keyboard: refused with the CLI's message, nothing changes.
    const xorRun = join(dir, "xor-run");
    execFileSync(process.execPath, [NNC, "train", join(ROOT, "examples/xor.nn"), "--epochs", "1", "--out", xorRun], { stdio: "ignore" });
    const xorText = readFileSync(join(xorRun, "weights.json"), "utf8");
    await choose(page, join(xorRun, "weights.json"), true);
    await page.waitForFunction(() => window.__nnc.refusedWeights() !== undefined);
    const xorMessage = refusal(source, xorText, "weights.json");
    expect(xorMessage).toContain("does not fit this model");
    expect(await page.evaluate(() => window.__nnc.refusedWeights()!.message)).toContain(xorMessage);
    expect(await page.isVisible("#notice")).toBe(true);
    expect(await page.textContent("#notice-text")).toContain(xorMessage);
    expect(await page.evaluate(() => window.__nnc.weightsHash())).toBe(nodeHash);
    expect(await page.evaluate(() => window.__nnc.loadedWeights()?.epochs)).toBe(2);
    expect(await page.evaluate(() => window.__nnc.test())).toEqual(nodeShown);
    expect(await seriousA11y(page)).toEqual([]);
    await page.screenshot({ path: join(SHOTS, "15-weights.png") });

    // A hand-edited value (the first parameter made infinite): refused too.
    const edited = savedText.replace(/"params": \[[^,]+,/, '"params": [1e999,');
    expect(edited).not.toBe(savedText);
    const editedPath = join(dir, "edited.weights.json");
    writeFileSync(editedPath, edited);
    await page.click("#notice-actions button");
    expect(await page.isHidden("#notice")).toBe(true);
    await choose(page, editedPath);
    await page.waitForFunction(() => window.__nnc.refusedWeights()?.name === "edited.weights.json");
    const editedMessage = refusal(source, edited, "edited.weights.json");
    expect(editedMessage).toContain("not a finite number");
    expect(await page.textContent("#notice-text")).toContain(editedMessage);
    expect(await page.evaluate(() => window.__nnc.weightsHash())).toBe(nodeHash);

    // Reset goes back to fresh weights.
    await page.click("#reset");
    await page.waitForFunction(() => window.__nnc.state().ready && window.__nnc.loadedWeights() === undefined);
    expect(await page.evaluate(() => window.__nnc.weightsHash())).toBe(fresh.hash);
    await context.close();
  });

  it("loads nnc train's weights of a text classifier (Names) with their tokenizer: nnc eval's figures, the same predictions as in Node", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nnc-weights-"));
    const nn = join(ROOT, "examples/names.nn");
    const run = join(dir, "names-run");
    execFileSync(process.execPath, [NNC, "train", nn, "--epochs", "1", "--out", run], { stdio: "ignore" });
    const text = readFileSync(join(run, "weights.json"), "utf8");
    const evaluated = nncEval(nn, join(run, "weights.json"));
    const { page, context } = await h.newPage();
    await openPlayground(page);
    await page.waitForFunction(() => window.__nnc.state().ready);
    await page.selectOption("#examples", "names");
    await page.waitForFunction(() => window.__nnc.editor.getValue().includes("model Names") && window.__nnc.state().ready, undefined, { timeout: 60_000 });
    const source = await page.evaluate(() => window.__nnc.editor.getValue());
    expect(source).toBe(readFileSync(nn, "utf8"));
    await page.fill("#type-text", "Margaret");
    await page.waitForFunction(() => window.__nnc.typed()?.text === "Margaret");

    await choose(page, join(run, "weights.json"));
    await page.waitForFunction(() => window.__nnc.loadedWeights() !== undefined && window.__nnc.test() !== undefined, undefined, { timeout: 60_000 });
    const shown = (await page.evaluate(() => window.__nnc.test()))!;
    expect(shown["accuracy"]).toBeCloseTo(evaluated.accuracy, 6);
    expect(Math.abs(shown["loss"]! - evaluated.loss)).toBeLessThan(1e-5 * Math.max(1, evaluated.loss));
    const w = JSON.parse(text) as { params: number[] };
    expect(await page.evaluate(() => window.__nnc.weightsHash())).toBe(hashOf(w.params));

    // The typed name is predicted again by the file's model through the file's tokenizer.
    const model = nodeModel(source);
    const decoded = decodeWeights(text, model, "weights.json").value!;
    model.params.set(decoded.params);
    const expected = Array.from(model.forward(encodeTexts(["Margaret"], decoded.preprocess.tokenizer!), 1).subarray(0, 2));
    await page.waitForFunction((p) => {
      const t = window.__nnc.typed();
      return t?.text === "Margaret" && Math.abs(t.probs[0]! - p) < 1e-5;
    }, expected[0]!);
    const typed = (await page.evaluate(() => window.__nnc.typed()))!;
    for (let k = 0; k < 2; k++) expect(typed.probs[k]!).toBeCloseTo(expected[k]!, 5);
    expect(typed.classes).toEqual(decoded.preprocess.classes);
    console.log(`names, nnc train --epochs 1: nnc eval ${evaluated.accuracy} / ${evaluated.loss}, the page ${shown["accuracy"]} / ${shown["loss"]}; Margaret ${(100 * typed.probs[0]!).toFixed(1)}% female`);
    await context.close();
  });
});
