/**
 * Issue 21's ten points, worst first, on the built site (`npm run build:playground` first):
 * each test shows one thing a demanding user hit and what the page does now. Every test fails
 * on a console error, a page error or a request that leaves the origin.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { openPlayground, SHOTS, useHarness } from "./harness.js";
import { contrast, overlaps, rect, rects, run } from "./page-checks.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const example = (name: string): string => readFileSync(join(ROOT, `examples/${name}.nn`), "utf8");
const SPIRAL = example("spiral");
const XOR = example("xor");

const h = useHarness();

const setSource = (page: Page, s: string): Promise<void> => run(page, `window.__nnc.editor.setValue(${JSON.stringify(s)})`);
const source = (page: Page): Promise<string> => run(page, "window.__nnc.editor.getValue()");
const state = (page: Page): Promise<{ running: boolean; ready: boolean; done: boolean; pictures: number }> => run(page, "window.__nnc.state()");
const epochs = (page: Page): Promise<number> => run(page, "window.__nnc.history().length");
const waitFor = (page: Page, script: string, timeout = 30_000): Promise<unknown> => page.waitForFunction(script, undefined, { timeout });
/** Waits until the language worker has checked the editor's current text. */
const checked = (page: Page, code: string): Promise<unknown> => waitFor(page, `window.__nnc.markers().some((m) => m.code === ${JSON.stringify(code)})`);
const text = async (page: Page, selector: string): Promise<string> => (await page.textContent(selector)) ?? "";

/** A CSV file dropped on the page. */
async function dropCsv(page: Page, name: string, csv: string): Promise<void> {
  const dt = await page.evaluateHandle(`(() => { const t = new DataTransfer(); t.items.add(new File([${JSON.stringify(csv)}], ${JSON.stringify(name)}, { type: "text/csv" })); return t; })()`);
  await page.dispatchEvent("main", "dragenter", { dataTransfer: dt });
  await page.dispatchEvent("main", "drop", { dataTransfer: dt });
  await waitFor(page, `document.getElementById("data").value === "csv"`);
}

/** Iris petals with the species first: three text classes, two numbers. */
function petals(): string {
  const rows = readFileSync(join(ROOT, "examples/data/iris.csv"), "utf8").trim().split("\n").slice(1);
  return ["species,petal_length,petal_width", ...rows.map((r) => r.split(",")).map((c) => `${c[4]},${c[2]},${c[3]}`)].join("\n") + "\n";
}

describe("issue 21: the playground as a demanding user meets it", () => {
  it("1. shows the selected completion item legibly (the page's styles stay out of Monaco's rows)", async () => {
    const { page, context } = await h.newPage();
    await openPlayground(page);
    const line = SPIRAL.split("\n").findIndex((l) => /dense 32, relu/.test(l)) + 1;
    await run(page, `(() => { const e = window.__nnc.editor; e.focus(); e.setPosition({ lineNumber: ${line}, column: 1000 }); })()`);
    await page.keyboard.press("Enter");
    await page.keyboard.type("dense 8, ", { delay: 20 });
    await page.waitForSelector(".suggest-widget.visible .monaco-list-row.focused");
    const name = ".suggest-widget.visible .monaco-list-row.focused .label-name";
    const ratio = await contrast(page, name);
    console.log(`selected completion item: contrast ${ratio.toFixed(1)}:1`);
    expect(ratio).toBeGreaterThanOrEqual(4.5);
    // No page rule paints Monaco's own `.left` (the suggestion row's label box).
    expect(await run(page, `getComputedStyle(document.querySelector(".suggest-widget .monaco-list-row .left")).backgroundColor`)).toBe("rgba(0, 0, 0, 0)");
    await page.screenshot({ path: join(SHOTS, "10-completion-selected.png") });
    await context.close();
  });

  it("2. keeps edits across a reload, and a share link in the address bar never replaces newer edits", async () => {
    const { page, context } = await h.newPage();
    await openPlayground(page);
    await page.selectOption("#examples", "xor");
    const shared = XOR.replace(/epochs\s+60/, "epochs 42");
    await setSource(page, shared);
    await page.click("#share");
    await waitFor(page, `document.getElementById("share").dataset.url !== undefined`);
    const url = await run<string>(page, `document.getElementById("share").dataset.url`);
    expect(url).toContain("#src=");
    // Edit after sharing: the hash leaves the address bar, the draft is saved.
    const newer = shared.replace("epochs 42", "epochs 43");
    await setSource(page, newer);
    expect(await run(page, "location.hash")).toBe("");
    // Reload once the preview's worker is in (a reload would cancel its fetch).
    await waitFor(page, "window.__nnc.state().ready");
    await page.waitForLoadState("networkidle");
    await page.reload();
    await waitFor(page, "window.__nnc !== undefined && window.__nnc.state().checks > 0");
    expect(await source(page)).toBe(newer);
    expect(await page.inputValue("#examples")).toBe("");
    // Opening the old link shows its text, with the newer work one click away.
    await page.waitForLoadState("networkidle");
    await page.goto(url);
    await waitFor(page, `window.__nnc !== undefined && window.__nnc.editor.getValue() === ${JSON.stringify(shared)}`);
    expect(await text(page, "#notice")).toContain("replaced the text you were working on");
    await page.click("#notice-actions button");
    expect(await source(page)).toBe(newer);
    expect(await run(page, "location.hash")).toBe("");
    await context.close();
  });

  it("3. clears the red status of a failed Train once the text is fixed, and shows the data again", async () => {
    const { page, context } = await h.newPage();
    await openPlayground(page);
    await waitFor(page, "window.__nnc.state().pictures > 0");
    await setSource(page, SPIRAL.replace("dense 32, relu", "dense 32, rleu"));
    await checked(page, "NN2004");
    await page.click("#train");
    await waitFor(page, `document.getElementById("status").classList.contains("bad")`);
    expect(await text(page, "#status")).toContain("the program has errors");
    const before = (await state(page)).pictures;
    await setSource(page, SPIRAL);
    await waitFor(page, `!document.getElementById("status").classList.contains("bad") && window.__nnc.state().pictures > ${before}`);
    expect(await text(page, "#status")).not.toContain("errors");
    expect(await page.$$(".problem")).toHaveLength(0);
    expect(await text(page, "#picture-caption")).toContain("Decision boundary");
    await context.close();
  });

  it("4. fits a 390 px phone (problems visible, nothing covered, no sideways scroll) and a 1280 px laptop (one header row)", async () => {
    const { page, context } = await h.newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    await openPlayground(page);
    await page.selectOption("#examples", "xor");
    await page.click("#train");
    await waitFor(page, "window.__nnc.state().done");
    await waitFor(page, `document.querySelector("#chart-loss .uplot") !== null`);
    const header = await rect(page, "header");
    const button = await rect(page, "#train");
    console.log(`390 px: header ${header.height.toFixed(0)} px (${Math.round(header.height / button.height)} button heights)`);
    expect(header.height).toBeLessThanOrEqual(2 * button.height + 30); // two rows
    expect((await rect(page, "#problems")).height).toBeGreaterThanOrEqual(24);
    const editor = await rect(page, "#editor");
    const tabs = await rect(page, ".tabs");
    expect(editor.bottom).toBeLessThanOrEqual(tabs.top);
    expect(await run(page, "document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
    for (const r of [...(await rects(page, ".chart")), ...(await rects(page, ".chart .uplot")), await rect(page, "#picture")]) expect(r.right).toBeLessThanOrEqual(390);
    await page.screenshot({ path: join(SHOTS, "11-390px.png"), fullPage: true });

    await page.setViewportSize({ width: 1280, height: 800 });
    const wide = await rect(page, "header");
    const train = await rect(page, "#train");
    console.log(`1280 px: header ${wide.height.toFixed(0)} px`);
    expect(wide.height).toBeLessThanOrEqual(train.height + 20);
    for (const id of ["#share", "#download-ts", "#download-weights", "#open-csv"]) expect((await rect(page, id)).top).toBe(train.top);
    await page.screenshot({ path: join(SHOTS, "11b-1280px.png") });
    await context.close();
  });

  it("5. lets the keyboard out of the editor (Ctrl+M, said below it) and into Open CSV…", async () => {
    const { page, context } = await h.newPage();
    await openPlayground(page);
    expect(await text(page, "#tab-hint")).toContain("Ctrl+M");
    await run(page, "window.__nnc.editor.focus()");
    await page.keyboard.press("Tab");
    expect(await source(page)).not.toBe(SPIRAL); // Tab indents
    await page.keyboard.press("Control+z");
    await page.keyboard.press("Control+m");
    expect(await text(page, "#tab-hint")).toContain("Tab moves the focus");
    await page.keyboard.press("Tab");
    expect(await run(page, `document.getElementById("editor").contains(document.activeElement)`)).toBe(false);
    expect(await source(page)).toBe(SPIRAL);
    // Open CSV… is a button in the tab order, and opens the file chooser from the keyboard.
    const chooser = page.waitForEvent("filechooser"); // intercepted from now on
    await page.focus("#data");
    await page.keyboard.press("Tab");
    expect(await run(page, "document.activeElement.id")).toBe("open-csv");
    await page.keyboard.press("Enter");
    expect((await chooser).isMultiple()).toBe(false);
    await context.close();
  });

  it("6. lists a data file's problems once, adapts the model to a dropped CSV, and names the file", async () => {
    const { page, context } = await h.newPage();
    await openPlayground(page);
    // The spiral model (2 outputs) on iris petals (3 classes, the label first).
    await dropCsv(page, "petals.csv", petals());
    expect(await page.inputValue("#label")).toBe("species"); // the one text column
    expect(await text(page, "#notice")).toContain("petals.csv has 2 features and 3 classes");
    await page.click("#train");
    await waitFor(page, `document.getElementById("status").classList.contains("bad") || window.__nnc.state().done`);
    const codes = await run<string[]>(page, `[...document.querySelectorAll(".problem")].map((p) => p.dataset.code)`);
    console.log(`spiral model on petals.csv: problems ${codes.join(", ")}`);
    expect(codes.length).toBeLessThanOrEqual(2);
    expect(new Set(codes).size).toBe(codes.length);
    // One click makes the model fit: 3 softmax units, the file's 2 features.
    await page.click("#notice-actions button");
    expect(await source(page)).toContain("dense 3, softmax");
    await page.click("#train");
    await waitFor(page, "window.__nnc.state().done", 60_000);
    expect(await page.$$(".problem")).toHaveLength(0);
    expect(await text(page, "#summary")).toContain("petals.csv");
    const last = (await run<{ values: Record<string, number> }[]>(page, "window.__nnc.history()")).at(-1)!;
    expect(last.values["accuracy"]).toBeGreaterThan(0.9);
    // A text feature column of a dropped file is one-hot, not a flood of NN4003.
    const withColour = petals().split("\n").map((l, i) => (l === "" ? l : `${l},${i === 0 ? "colour" : ["red", "blue"][i % 2]}`)).join("\n");
    await dropCsv(page, "colours.csv", withColour);
    await page.selectOption("#label", "species");
    expect(await text(page, "#notice")).toContain("colours.csv has 4 features"); // 2 numbers, 2 colours
    await page.click("#notice-actions button");
    await page.click("#train");
    await waitFor(page, `document.getElementById("status").classList.contains("bad") || window.__nnc.state().done`, 60_000);
    expect(await text(page, "#problems")).toBe("");
    expect(await run(page, "window.__nnc.state().done")).toBe(true);
    await context.close();
  });

  it("7. marks a regression loss on a softmax classifier, and an input the generator cannot fill, while typing", async () => {
    const { page, context } = await h.newPage();
    await openPlayground(page);
    await setSource(page, SPIRAL.replace(/^loss\s+cross_entropy/m, "loss      mse"));
    await checked(page, "NN3005");
    const loss = (await run<{ code: string; startLineNumber: number; message: string }[]>(page, "window.__nnc.markers()"))[0]!;
    expect(loss.startLineNumber).toBe(SPIRAL.split("\n").findIndex((l) => l.startsWith("loss")) + 1);
    expect(loss.message).toContain("softmax gives class probabilities");
    await setSource(page, SPIRAL.replace("input 2", "input 3"));
    await checked(page, "NN4009");
    const input = (await run<{ startLineNumber: number; message: string }[]>(page, "window.__nnc.markers()"))[0]!;
    expect(input.startLineNumber).toBe(4);
    expect(input.message).toContain("write `input 2`");
    expect(await run(page, "window.__nnc.state().ready")).toBe(false);
    await context.close();
  });

  it("8. keeps the diagram's labels apart and legible (conv layers, six columns), and says when it is stale", async () => {
    const { page, context } = await h.newPage();
    await openPlayground(page);
    const legible = async (nodes: number): Promise<void> => {
      await waitFor(page, `document.querySelectorAll("#diagram svg g.node").length === ${nodes}`);
      const labels = await rects(page, "#diagram svg g.node > text");
      expect(overlaps(labels)).toEqual([]);
      const svg = await rect(page, "#diagram svg");
      const px = (11 * svg.width) / Number(await run(page, `document.querySelector("#diagram svg").getAttribute("width")`));
      expect(px).toBeGreaterThanOrEqual(9.9);
    };
    await page.selectOption("#examples", "digits-cnn");
    await legible(5);
    const deep = SPIRAL.replace("dense 32, relu\n  dense 32, relu", "dense 16, relu\n  dense 16, relu\n  dense 16, relu\n  dense 16, relu");
    await setSource(page, deep);
    await legible(6);
    const card = await rect(page, "#diagram-card");
    await page.screenshot({ path: join(SHOTS, "12-diagram.png"), clip: { x: card.left, y: card.top, width: card.width, height: card.height } });
    expect(await page.isVisible("#diagram-stale")).toBe(false);
    await setSource(page, deep.replace("dense 16, relu", "dense 16, rleu"));
    await checked(page, "NN2004");
    expect(await page.isVisible("#diagram-stale")).toBe(true);
    await setSource(page, deep);
    await waitFor(page, `document.getElementById("diagram-stale").hidden`);
    await context.close();
  });

  it("9. trains slowly enough to watch, until paused if asked, and calls a run that learned nothing a failure", async () => {
    const { page, context } = await h.newPage();
    await openPlayground(page);
    await page.selectOption("#examples", "xor");
    await page.selectOption("#speed", "200"); // 5 epochs a second
    await page.click("#train");
    await waitFor(page, "window.__nnc.history().length > 0");
    const first = await epochs(page);
    await page.waitForTimeout(1000);
    const watched = (await epochs(page)) - first;
    console.log(`at 5 epochs/s: ${watched} epochs in 1 s`);
    expect(watched).toBeGreaterThanOrEqual(3);
    expect(watched).toBeLessThanOrEqual(7);
    await page.click("#pause");
    await waitFor(page, "!window.__nnc.state().running");
    // Until paused: past the file's 60 epochs, still training.
    await page.selectOption("#speed", "0");
    await page.check("#until-paused");
    await page.click("#train");
    await waitFor(page, "window.__nnc.history().length > 80");
    expect((await state(page)).running).toBe(true);
    expect(await run(page, `document.querySelector('dd[data-key="epoch"]').textContent`)).toMatch(/ \/ ∞$/);
    await page.click("#pause");
    await waitFor(page, "!window.__nnc.state().running");
    await page.uncheck("#until-paused");
    // A loss spike need not flatten the chart: the loss on a log scale.
    await page.check("#log-scale");
    await waitFor(page, "window.__nnc.lossScale() === 3");
    // lr 10: the run ends, but not as a success.
    await page.selectOption("#examples", "spiral");
    await setSource(page, SPIRAL.replace("adam(lr: 0.01)", "adam(lr: 10)"));
    await page.click("#train");
    await waitFor(page, "window.__nnc.state().done", 60_000);
    const status = await text(page, "#status");
    console.log(`spiral at lr 10: ${status}; last epoch ${JSON.stringify((await run<{ values: object }[]>(page, "window.__nnc.history()")).at(-1)?.values)}`);
    expect(await run(page, `document.getElementById("status").classList.contains("bad")`)).toBe(true);
    expect(status).toMatch(/did not learn|diverged/);
    await context.close();
  });

  it("10. gets the small things right: no NaN for an empty split, AA contrast, hover text, placeholders, downloads", async () => {
    const { page, context } = await h.newPage();
    await openPlayground(page);
    // Before training: placeholders in the charts, and nothing to download as weights.
    expect(await page.isVisible("#chart-loss .empty-chart")).toBe(true);
    expect(await page.isVisible("#chart-metric .empty-chart")).toBe(true);
    expect(await page.isDisabled("#download-weights")).toBe(true);
    expect(await contrast(page, "#train")).toBeGreaterThanOrEqual(4.5);
    await waitFor(page, `document.querySelector("#picture-caption .class-key") !== null`);
    for (const r of await run<number[]>(page, `[...document.querySelectorAll("#picture-caption .class-key")].map((_, i) => i)`))
      expect(await contrast(page, `#picture-caption .class-key:nth-of-type(${r + 1})`)).toBeGreaterThanOrEqual(4.5);
    // The spiral's hover reads as a sentence.
    const line = SPIRAL.split("\n").findIndex((l) => /train\s+spiral/.test(l)) + 1;
    await run(page, `(() => { const e = window.__nnc.editor; e.focus(); e.setPosition({ lineNumber: ${line}, column: e.getModel().getLineContent(${line}).indexOf("spiral") + 2 }); e.trigger("keyboard", "editor.action.showHover", {}); })()`);
    await waitFor(page, `[...document.querySelectorAll(".hover-contents")].some((e) => e.textContent.includes("spiral arms"))`);
    expect(await run(page, `[...document.querySelectorAll(".hover-contents")].map((e) => e.textContent).join(" ")`)).not.toMatch(/classes classes/);
    // A tiny CSV: its 5% validation split is empty, and nothing says NaN.
    const tiny = ["a,b,label", "0,0,0", "0,1,1", "1,0,1", "1,1,0", "0.1,0.1,0", "0.1,0.9,1", "0.9,0.1,1", "0.9,0.9,0"].join("\n") + "\n";
    await setSource(page, XOR.replace("test  25%", "test  25%\n  validation 5%"));
    await dropCsv(page, "tiny.csv", tiny);
    await page.click("#train");
    await waitFor(page, "window.__nnc.state().done", 60_000);
    expect(await text(page, "#numbers")).not.toContain("NaN");
    expect(await text(page, "#summary")).not.toContain("validation");
    expect(await page.isVisible("#chart-loss .empty-chart")).toBe(false);
    // Downloads share one name.
    expect(await page.isDisabled("#download-weights")).toBe(false);
    const [ts] = await Promise.all([page.waitForEvent("download"), page.click("#download-ts")]);
    const [weights] = await Promise.all([page.waitForEvent("download"), page.click("#download-weights")]);
    expect([ts.suggestedFilename(), weights.suggestedFilename()]).toEqual(["xor.ts", "xor.weights.json"]);
    await context.close();
  });
});
