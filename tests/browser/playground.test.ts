/**
 * The playground in headless Chromium, on the built site (`npm run build:playground` first):
 * live diagnostics, training the spiral example, the decision boundary, share links and a
 * CSV drop. Every test fails on a console error, a page error, a failed request or a request
 * that leaves the page's origin. Screenshots go to tests/browser/screenshots/.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { renderDiagnostic } from "../../cli/render.js";
import { checkSource } from "../../compiler/check.js";
import { compileProgram } from "../../compiler/compile.js";
import { openPlayground, SHOTS, useHarness } from "./harness.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SPIRAL = readFileSync(join(ROOT, "examples/spiral.nn"), "utf8");
/** The spiral example must reach this accuracy within this many seconds of pressing Train. */
const SPIRAL_SECONDS = 30;

interface Marker {
  startLineNumber: number;
  startColumn: number;
  endColumn: number;
  message: string;
  code?: string;
}
interface Epoch {
  epoch: number;
  values: Record<string, number>;
}
interface Nnc {
  editor: { getValue(): string; setValue(s: string): void; focus(): void; setSelection(r: object): void };
  markers(): Marker[];
  history(): Epoch[];
  test(): Record<string, number> | undefined;
  state(): { running: boolean; ready: boolean; done: boolean; checks: number; pictures: number; formatted: boolean };
  fingerprint(): string;
  tsCode(): string | undefined;
}
// The page's globals, as used by the callbacks that run in the page (page.evaluate and
// friends). Declared here, module-scoped, so the project's Node type check needs no DOM lib.
interface PageElement {
  readonly textContent: string | null;
  readonly dataset: Record<string, string | undefined>;
  readonly value: string;
  click(): void;
}
declare const window: { readonly __nnc: Nnc };
declare const document: {
  getElementById(id: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement>;
};
declare const navigator: { readonly serviceWorker: { readonly controller: object | null } };
declare class File {
  constructor(parts: string[], name: string, options: { type: string });
}
declare class DataTransfer {
  readonly items: { add(file: File): void };
}

const h = useHarness();

/** Selects [line, fromCol, toCol) in the editor and types over it with the keyboard. */
async function typeOver(page: Page, line: number, from: number, to: number, text: string): Promise<void> {
  await page.evaluate(
    ([l, a, b]) => {
      window.__nnc.editor.focus();
      window.__nnc.editor.setSelection({ startLineNumber: l, startColumn: a, endLineNumber: l, endColumn: b });
    },
    [line, from, to] as const,
  );
  await page.keyboard.type(text, { delay: 20 });
}

describe("playground", () => {
  it("marks a misspelled activation with the CLI's message, and clears it when fixed", async () => {
    const { page, context } = await h.newPage();
    await openPlayground(page);
    expect(await page.evaluate(() => window.__nnc.editor.getValue())).toBe(SPIRAL);
    const lineNo = SPIRAL.split("\n").findIndex((l) => /dense 32, relu/.test(l)) + 1;
    const col = SPIRAL.split("\n")[lineNo - 1]!.indexOf("relu") + 1;

    // What the CLI says about the same text.
    const broken = SPIRAL.split("\n").map((l, i) => (i === lineNo - 1 ? l.replace("relu", "rleu") : l)).join("\n");
    const expected = checkSource(broken).diagnostics;
    expect(expected.map((d) => d.code)).toEqual(["NN2004"]);
    const d = expected[0]!;
    const cliHead = renderDiagnostic(d, broken, { color: false }).split("\n")[0]!;
    expect(cliHead).toBe(`<input>:${lineNo}:${col} - error NN2004: unknown activation \`rleu\``);

    await typeOver(page, lineNo, col, col + 4, "rleu");
    const t0 = Date.now();
    // The marker of the whole word: a check of a text typed halfway (`rl`) may land after the typing.
    await page.waitForFunction((c) => window.__nnc.markers().some((m) => m.code === "NN2004" && m.startColumn === c && m.endColumn === c + 4), col, { polling: 10 });
    const shownAfter = Date.now() - t0;
    const markers = await page.evaluate(() => window.__nnc.markers());
    expect(markers).toHaveLength(1);
    const m = markers[0]!;
    expect(m.code).toBe(d.code);
    expect(m.startLineNumber).toBe(lineNo);
    expect(m.startColumn).toBe(col);
    expect(m.endColumn).toBe(col + 4);
    expect(m.message.split("\n")[0]).toBe(d.message);
    expect(m.message).toContain(`hint: ${d.hint}`);
    // The problems list shows the CLI's line: position, severity, code and message.
    const row = await page.textContent(".problem");
    expect(row).toContain(`${lineNo}:${col} error NN2004: ${d.message}`);
    await page.hover(`.view-lines .view-line:nth-child(${lineNo})`).catch(() => undefined);
    await page.screenshot({ path: join(SHOTS, "1-marker.png") });
    console.log(`marker shown ${shownAfter} ms after the last key (debounce 100 ms + check in the worker)`);

    await typeOver(page, lineNo, col, col + 4, "relu");
    await page.waitForFunction(() => window.__nnc.markers().length === 0);
    expect(await page.evaluate(() => window.__nnc.editor.getValue())).toBe(SPIRAL);
    expect(await page.$$(".problem")).toHaveLength(0);
    await page.screenshot({ path: join(SHOTS, "2-fixed.png") });

    // Completion after `dense 8, ` offers the activations (and the layer's arguments).
    await page.keyboard.press("Escape"); // close the suggestions left open by typing `relu`
    await page.evaluate((l) => {
      const e = window.__nnc.editor as unknown as { setPosition(p: object): void; focus(): void };
      e.focus();
      e.setPosition({ lineNumber: l, column: 1000 });
    }, lineNo);
    await page.keyboard.press("Enter");
    await page.keyboard.type("dense 8, ", { delay: 20 });
    await page.waitForSelector(".suggest-widget.visible .monaco-list-row");
    const offered = await page.$$eval(".suggest-widget.visible .monaco-list-row .label-name", (els) => els.map((e) => e.textContent));
    expect(offered).toEqual(expect.arrayContaining(["relu", "tanh", "sigmoid", "softmax"]));
    await page.screenshot({ path: join(SHOTS, "2b-completion.png") });
    await page.keyboard.press("Escape");

    // Hover documents a word from the vocabulary.
    const source = await page.evaluate(() => window.__nnc.editor.getValue());
    expect(source.split("\n")[lineNo]).toBe("  dense 8, ");
    const optimizerLine = source.split("\n").findIndex((l) => /^optimizer/.test(l)) + 1;
    await page.evaluate((l) => {
      const e = window.__nnc.editor as unknown as {
        setPosition(p: object): void;
        getModel(): { getLineContent(n: number): string };
        trigger(source: string, id: string, payload: object): void;
      };
      e.setPosition({ lineNumber: l, column: e.getModel().getLineContent(l).indexOf("adam") + 2 });
      e.trigger("keyboard", "editor.action.showHover", {});
    }, optimizerLine);
    await page.waitForFunction(() => Array.from(document.querySelectorAll(".hover-contents")).some((e) => e.textContent?.includes("Adaptive moments")));
    const hover = await page.$$eval(".hover-contents", (els) => els.map((e) => e.textContent ?? "").join("\n"));
    expect(hover).toContain("beta1");
    await page.screenshot({ path: join(SHOTS, "2c-hover.png") });

    // A shape error from the compile stage (NN3xxx) is marked like the checker's errors.
    const mismatched = SPIRAL.replace(/^loss\s+cross_entropy/m, "loss      binary_cross_entropy");
    const checked = checkSource(mismatched);
    expect(checked.diagnostics).toEqual([]);
    const shape = compileProgram(checked.value!, {}).diagnostics;
    expect(shape.map((x) => x.code)).toEqual(["NN3005"]);
    await page.evaluate((s) => window.__nnc.editor.setValue(s), mismatched);
    await page.waitForFunction(() => window.__nnc.markers().some((m) => m.code === "NN3005"));
    const shapeMarker = (await page.evaluate(() => window.__nnc.markers()))[0]!;
    expect(shapeMarker.startLineNumber).toBe(shape[0]!.span.line);
    expect(shapeMarker.message.split("\n")[0]).toBe(shape[0]!.message);
    await context.close();
  });

  it(`trains the spiral example above 90% accuracy within ${SPIRAL_SECONDS} s, redrawing the decision boundary`, async () => {
    const { page, context } = await h.newPage();
    await openPlayground(page);
    await page.selectOption("#examples", "spiral");
    // Four times the example's epochs: with the wasm kernels 150 take about a second, too
    // short to watch the boundary change a few times at one picture per 150 ms.
    await page.evaluate(() => window.__nnc.editor.setValue(window.__nnc.editor.getValue().replace(/epochs\s+150/, "epochs   600")));
    const before = await page.evaluate(() => window.__nnc.fingerprint());
    const picturesBefore = await page.evaluate(() => window.__nnc.state().pictures);
    const t0 = Date.now();
    await page.click("#train");
    // Watch the boundary canvas while it trains.
    const seen = new Set<string>();
    let done = false;
    while (!done && Date.now() - t0 < SPIRAL_SECONDS * 1000) {
      const s = await page.evaluate(() => ({ ...window.__nnc.state(), fp: window.__nnc.fingerprint() }));
      if (s.running) seen.add(s.fp);
      done = s.done;
      await page.waitForTimeout(50);
    }
    const seconds = (Date.now() - t0) / 1000;
    expect(done).toBe(true);
    const history = await page.evaluate(() => window.__nnc.history());
    const test = await page.evaluate(() => window.__nnc.test());
    const first = history[0]!.values, last = history[history.length - 1]!.values;
    console.log(
      `spiral: ${history.length} epochs in ${seconds.toFixed(1)} s; loss ${first["loss"]!.toFixed(3)} → ${last["loss"]!.toFixed(3)}; ` +
        `accuracy ${last["accuracy"]!.toFixed(3)}, val ${last["val_accuracy"]!.toFixed(3)}, test ${test?.["accuracy"]?.toFixed(3)}; ` +
        `${seen.size} distinct boundary pictures while training`,
    );
    expect(history).toHaveLength(600);
    expect(last["loss"]!).toBeLessThan(first["loss"]! / 3);
    expect(last["accuracy"]!).toBeGreaterThan(0.9);
    expect(last["val_accuracy"]!).toBeGreaterThan(0.9);
    expect(test?.["accuracy"]).toBeGreaterThan(0.9);
    // The heat map changed while training: the page redrew it repeatedly, the test saw
    // different pictures between polls, and none of them was the untrained one.
    const drawn = (await page.evaluate(() => window.__nnc.state().pictures)) - picturesBefore;
    console.log(`boundary redrawn ${drawn} times during the run`);
    // Pictures are throttled to one per 150 ms, so a fast run finishes with few (\`seconds\` also
    // counts this loop's polling): ask for a quarter of that rate (and at least 2), capped at 10.
    expect(drawn).toBeGreaterThanOrEqual(Math.max(2, Math.min(10, Math.floor(seconds / 0.6))));
    expect(seen.size).toBeGreaterThanOrEqual(2);
    expect(seen.has(before)).toBe(false);
    expect(await page.textContent("#status")).toContain("done");
    await page.screenshot({ path: join(SHOTS, "3-spiral-trained.png") });

    // The generated TypeScript and the IR are one click away.
    await page.click('.tabs button[data-tab="ts"]');
    await page.waitForFunction(() => window.__nnc.tsCode()?.includes("Generated by nnc") ?? false);
    await page.waitForSelector("#ts-editor .view-lines");
    // Formatted by prettier, which the language worker loads only now.
    await page.waitForFunction(() => window.__nnc.state().formatted, undefined, { timeout: 90_000 });
    const formatted = await page.evaluate(() => window.__nnc.tsCode()!);
    expect(formatted).toContain("export function createModel");
    await page.screenshot({ path: join(SHOTS, "4-typescript.png") });
    await page.click('.tabs button[data-tab="ir"]');
    expect(await page.textContent("#ir")).toContain("IR after autodiff");
    await page.click('.tabs button[data-tab="run"]');

    // Reset, Step (one epoch at a time), Train, Pause, Train again to the end.
    const epochs = (): Promise<number> => page.evaluate(() => window.__nnc.history().length);
    await page.click("#reset");
    await page.waitForFunction(() => window.__nnc.state().ready && window.__nnc.history().length === 0);
    await page.click("#step");
    await page.waitForFunction(() => window.__nnc.history().length === 1 && !window.__nnc.state().running);
    await page.click("#step");
    await page.waitForFunction(() => window.__nnc.history().length === 2 && !window.__nnc.state().running);
    // Train, and pause as soon as a new epoch is in: a click from the page itself, checked on
    // a timer between the worker's messages (with the wasm kernels the whole run takes well
    // under a second, and animation frames can lag that long on a busy machine).
    await page.evaluate(
      () =>
        new Promise<void>((done) => {
          const timer = setInterval(() => {
            if (window.__nnc.history().length < 3) return;
            clearInterval(timer);
            document.getElementById("pause")!.click();
            done();
          }, 1);
          document.getElementById("train")!.click();
        }),
    );
    await page.waitForFunction(() => !window.__nnc.state().running);
    const paused = await epochs();
    await page.waitForTimeout(500);
    expect(await epochs()).toBe(paused);
    expect(paused).toBeLessThan(600);
    expect(await page.textContent("#status")).toBe(`paused after epoch ${paused}`);
    await page.click("#train");
    await page.waitForFunction(() => window.__nnc.state().done);
    expect(await epochs()).toBe(600);
    await context.close();
  });

  it("restores the source, data choice and seed from a shared link in a fresh page, and works offline", async () => {
    const { page, context } = await h.newPage();
    await openPlayground(page);
    await page.selectOption("#examples", "xor");
    const lines = (await page.evaluate(() => window.__nnc.editor.getValue())).split("\n");
    const epochsLine = lines.findIndex((l) => /^\s*epochs\s+\d+/.test(l)) + 1;
    const text = lines[epochsLine - 1]!;
    const at = text.search(/\d/) + 1;
    await typeOver(page, epochsLine, at, text.length + 1, "42  # shared");
    await page.fill("#seed", "5");
    await page.click("#share");
    await page.waitForFunction(() => document.getElementById("share")?.dataset["url"] !== undefined);
    const url = await page.evaluate(() => document.getElementById("share")!.dataset["url"]!);
    const source = await page.evaluate(() => window.__nnc.editor.getValue());
    expect(source).toContain("epochs 42  # shared");
    await context.close();

    const fresh = await h.newPage();
    await openPlayground(fresh.page, url);
    await fresh.page.waitForFunction((s) => window.__nnc.editor.getValue() === s, source);
    expect(await fresh.page.inputValue("#seed")).toBe("5");
    expect(await fresh.page.inputValue("#data")).toBe("source");
    await fresh.page.screenshot({ path: join(SHOTS, "5-shared.png") });

    // Once opened, the site works offline (its service worker keeps the built files).
    await fresh.page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 60_000 });
    await fresh.context.setOffline(true);
    await fresh.page.reload();
    await fresh.page.waitForFunction(() => window.__nnc !== undefined && window.__nnc.state().checks > 0, undefined, { timeout: 60_000 });
    await fresh.page.waitForFunction((s) => window.__nnc.editor.getValue() === s, source);
    await fresh.page.click("#train");
    await fresh.page.waitForFunction(() => window.__nnc.state().done, undefined, { timeout: 60_000 });
    expect(await fresh.page.evaluate(() => window.__nnc.history().length)).toBe(42);
    await fresh.page.screenshot({ path: join(SHOTS, "5b-offline.png") });
    await fresh.context.close();
  });

  it("trains on a dropped CSV file after picking its label column", async () => {
    const { page, context } = await h.newPage();
    await openPlayground(page);
    // Fisher's iris petals, with the label first so that picking the column matters.
    const rows = readFileSync(join(ROOT, "examples/data/iris.csv"), "utf8").trim().split("\n").slice(1);
    const csv = ["species,petal_length,petal_width", ...rows.map((r) => r.split(",")).map((c) => `${c[4]},${c[2]},${c[3]}`)].join("\n") + "\n";
    const source = [
      "# Iris petals from a dropped CSV file",
      "model Petals {",
      "  seed  1",
      "  input 2",
      "  dense 16, relu",
      "  dense 3, softmax",
      "}",
      "loss      cross_entropy",
      "optimizer adam(lr: 0.02)",
      "metrics   accuracy, loss",
      "train {",
      "  epochs 80",
      "  batch  16",
      "}",
      "",
    ].join("\n");
    await page.evaluate((s) => window.__nnc.editor.setValue(s), source);
    const dt = await page.evaluateHandle((text) => {
      const t = new DataTransfer();
      t.items.add(new File([text], "petals.csv", { type: "text/csv" }));
      return t;
    }, csv);
    await page.dispatchEvent("main", "dragenter", { dataTransfer: dt });
    await page.dispatchEvent("main", "drop", { dataTransfer: dt });
    await page.waitForFunction(() => document.getElementById("data")?.value === "csv");
    expect(await page.isVisible("#label")).toBe(true);
    expect(await page.$$eval("#label option", (os) => os.map((o) => o.textContent))).toEqual(["species", "petal_length", "petal_width"]);
    await page.selectOption("#label", "species");
    await page.click("#train");
    await page.waitForFunction(() => window.__nnc.state().done, undefined, { timeout: 60_000 });
    const history = await page.evaluate(() => window.__nnc.history());
    const test = await page.evaluate(() => window.__nnc.test());
    console.log(`petals.csv: ${history.length} epochs, train accuracy ${history.at(-1)!.values["accuracy"]!.toFixed(3)}, test accuracy ${test?.["accuracy"]?.toFixed(3)}`);
    expect(history).toHaveLength(80);
    expect(history.at(-1)!.values["accuracy"]!).toBeGreaterThan(0.9);
    expect(test?.["accuracy"]).toBeGreaterThan(0.85);
    expect(await page.evaluate(() => window.__nnc.state().pictures)).toBeGreaterThan(0);
    await page.screenshot({ path: join(SHOTS, "6-csv.png") });

    // Downloads: the generated module and the trained weights.
    const [ts] = await Promise.all([page.waitForEvent("download"), page.click("#download-ts")]);
    expect(ts.suggestedFilename()).toBe("petals.ts");
    expect(readFileSync(await ts.path(), "utf8")).toContain("export function createModel");
    const [weights] = await Promise.all([page.waitForEvent("download"), page.click("#download-weights")]);
    expect(weights.suggestedFilename()).toBe("petals.weights.json");
    const w = JSON.parse(readFileSync(await weights.path(), "utf8")) as { format: string; params: number[]; epochs: number; preprocess: { classes: string[] } };
    expect(w.format).toBe("nnc-weights");
    expect(w.params).toHaveLength(2 * 16 + 16 + 16 * 3 + 3);
    expect(w.epochs).toBe(80);
    expect(w.preprocess.classes).toEqual(["setosa", "versicolor", "virginica"]);
    await context.close();
  });
});
