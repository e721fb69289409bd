/**
 * Graphs in the playground (issue 13), on the built site (`npm run build:playground` first):
 * the network diagram draws a residual model (a block used three times) and a two-input model
 * as DAGs — every input a node, one edge per value a layer takes, a frame per block use that
 * folds into one box — and the editor completes and explains value names and block uses.
 * Fails on any console or page error. Screenshots: tests/browser/screenshots/8-*.png.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { checkSource } from "../../compiler/check.js";
import { RESIDUAL } from "../playground/residual.js";
import { openPlayground, SHOTS, useHarness } from "./harness.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

interface Nnc {
  editor: { getValue(): string; setValue(s: string): void };
  state(): { checks: number };
}
interface PageElement {
  readonly textContent: string | null;
  getAttribute(name: string): string | null;
  focus(): void;
}
declare const window: { readonly __nnc: Nnc };
declare const document: {
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement>;
  readonly activeElement: PageElement | null;
};

const h = useHarness();

/** Puts `source` in the editor and waits until the diagram shows `nodes` nodes. */
async function load(page: Page, source: string, nodes: number): Promise<void> {
  await page.evaluate((s) => window.__nnc.editor.setValue(s), source);
  await page.waitForFunction((n) => document.querySelectorAll("#diagram svg g.node").length === n, nodes);
}

const count = (page: Page, selector: string): Promise<number> => page.evaluate((s) => document.querySelectorAll(s).length, selector);

async function showHover(page: Page, line: number, word: string, occurrence = 0): Promise<string> {
  await page.evaluate(
    ({ line, word, occurrence }) => {
      const e = window.__nnc.editor as unknown as {
        focus(): void;
        setPosition(p: object): void;
        getModel(): { getLineContent(n: number): string };
        trigger(source: string, id: string, payload: object): void;
      };
      const text = e.getModel().getLineContent(line);
      let at = -1;
      for (let k = 0; k <= occurrence; k++) at = text.indexOf(word, at + 1);
      e.focus();
      e.setPosition({ lineNumber: line, column: at + 2 });
      e.trigger("keyboard", "editor.action.showHover", {});
    },
    { line, word, occurrence },
  );
  await page.waitForFunction(() => Array.from(document.querySelectorAll(".hover-contents")).some((e) => (e.textContent ?? "").trim() !== ""));
  const text = await page.$$eval(".hover-contents", (els) => els.map((e) => e.textContent ?? "").join("\n"));
  await page.keyboard.press("Escape");
  return text;
}

async function completionsAfter(page: Page, line: number, typed: string): Promise<string[]> {
  await page.evaluate((l) => {
    const e = window.__nnc.editor as unknown as { setPosition(p: object): void; focus(): void };
    e.focus();
    e.setPosition({ lineNumber: l, column: 1000 });
  }, line);
  await page.keyboard.press("Enter");
  await page.keyboard.type(typed, { delay: 15 });
  await page.waitForSelector(".suggest-widget.visible .monaco-list-row");
  const offered = await page.$$eval(".suggest-widget.visible .monaco-list-row .label-name", (els) => els.map((e) => e.textContent ?? ""));
  await page.keyboard.press("Escape");
  return offered;
}

describe("graphs in the playground", () => {
  it("draws a residual model: a frame per block use, each folding into one box", async () => {
    expect(checkSource(RESIDUAL).diagnostics).toEqual([]);
    const { page, context } = await h.newPage();
    await openPlayground(page);
    // 1 input + dense + 3 uses × (dense, dense, add) + dense = 12 values; 14 edges (11 + 3 skips).
    await load(page, RESIDUAL, 12);
    expect(await count(page, "#diagram g.edge")).toBe(14);
    expect(await count(page, '#diagram g.node[data-kind="input"]')).toBe(1);
    expect(await count(page, '#diagram g.node[data-kind="add"]')).toBe(3);
    const frames = await page.$$eval("#diagram g.frame", (els) => els.map((e) => `${e.getAttribute("data-group")}|${e.querySelector("text.frame-label")?.textContent}`));
    expect(frames).toEqual(["residual_1|residual_1: residual 16", "residual_2|residual_2: residual 16", "r|r: residual 16"]);
    // Each use's add takes the value before the use (the skip edge) and its second dense.
    for (const [add, skip] of [
      [4, 1],
      [7, 4],
      [10, 7],
    ])
      expect(await count(page, `#diagram g.edge[data-from="v${skip}"][data-to="v${add}"]`)).toBe(1);
    await page.screenshot({ path: join(SHOTS, "8-residual.png") });

    // Folding residual_2 (a button with aria-expanded) hides its three layers behind one box.
    const fold = '#diagram button.fold[data-group="residual_2"]';
    expect(await page.getAttribute(fold, "aria-expanded")).toBe("true");
    await page.click(fold);
    await page.waitForFunction(() => document.querySelectorAll('#diagram g.node[data-name^="residual_2."]').length === 0);
    expect(await count(page, "#diagram g.node")).toBe(10);
    expect(await count(page, '#diagram g.node.folded[data-group="residual_2"]')).toBe(1);
    expect(await count(page, "#diagram g.frame")).toBe(2);
    const box = await page.textContent('#diagram g.node.folded[data-group="residual_2"]');
    expect(box).toContain("residual");
    expect(box).toContain("544 params"); // 2 × (16 × 16 + 16)
    expect(await page.getAttribute(fold, "aria-expanded")).toBe("false");
    // Into the box: residual_1's add; out of it: r's first dense and r's add (its skip).
    expect(await count(page, '#diagram g.edge[data-to="g:residual_2"]')).toBe(1);
    expect(await count(page, '#diagram g.edge[data-from="g:residual_2"]')).toBe(2);
    // The focus stays on the button, and the keyboard unfolds it again.
    expect(await page.evaluate(() => document.activeElement?.getAttribute("data-group"))).toBe("residual_2");
    await page.screenshot({ path: join(SHOTS, "8b-residual-folded.png") });
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => document.querySelectorAll('#diagram g.node[data-name^="residual_2."]').length === 3);
    expect(await page.getAttribute(fold, "aria-expanded")).toBe("true");
    expect(await count(page, "#diagram g.node")).toBe(12);

    // A fold survives the next check (by the use's name).
    await page.click(fold);
    await page.waitForFunction(() => document.querySelectorAll('#diagram g.node.folded').length === 1);
    const checks = await page.evaluate(() => window.__nnc.state().checks);
    await page.evaluate(() => window.__nnc.editor.setValue(window.__nnc.editor.getValue().replace("dense 3, softmax", "dense 3, softmax  # out")));
    await page.waitForFunction((c) => window.__nnc.state().checks > c, checks);
    await page.waitForFunction(() => document.querySelectorAll('#diagram g.node.folded[data-group="residual_2"]').length === 1);
    await context.close();
  });

  it("draws a two-input model: both inputs, their branches side by side, joined by concat", async () => {
    const penguins = readFileSync(join(ROOT, "examples/penguins.nn"), "utf8");
    const { page, context } = await h.newPage();
    await openPlayground(page);
    await page.selectOption("#examples", "penguins");
    // 2 inputs + 4 dense + concat + dense = 8 values; edges: 4 in the branches, 2 into concat, 1 out.
    await page.waitForFunction(() => document.querySelectorAll("#diagram svg g.node").length === 8);
    expect(await page.evaluate(() => window.__nnc.editor.getValue())).toBe(penguins);
    expect(await count(page, "#diagram g.edge")).toBe(7);
    expect(await count(page, '#diagram g.node[data-kind="input"]')).toBe(2);
    expect(await count(page, "#diagram g.frame")).toBe(0);
    expect(await count(page, '#diagram g.edge[data-to="v6"]')).toBe(2);
    // The branches stand side by side: the first layer of each in the same column, one above the other.
    const at = (id: number): Promise<number[]> =>
      page.evaluate((i) => {
        const c = document.querySelector(`#diagram g.node[data-id="${i}"] circle`)!;
        return [Number(c.getAttribute("cx")), Number(c.getAttribute("cy"))];
      }, id);
    const [b, p] = [await at(2), await at(4)];
    expect(b[0]).toBe(p[0]);
    expect(p[1]).toBeGreaterThan(b[1]!);
    await page.screenshot({ path: join(SHOTS, "8c-two-inputs.png") });
    await context.close();
  });

  it("explains and completes value names and block uses", async () => {
    const { page, context } = await h.newPage();
    await openPlayground(page);
    await page.selectOption("#examples", "penguins");
    await page.waitForFunction(() => document.querySelectorAll("#diagram svg g.node").length === 8);
    const lines = (await page.evaluate(() => window.__nnc.editor.getValue())).split("\n");
    const concatLine = lines.findIndex((l) => l.trim() === "concat b, p") + 1;
    // Hover on `p` in `concat b, p`: the layer that made it and its shape.
    const hover = await showHover(page, concatLine, "p");
    expect(hover).toContain("dense 8, relu");
    expect(hover).toContain("dense_4");
    expect(hover).toContain("[8]");
    // Hover on `place` in `place -> dense 8, relu`: the input.
    const placeLine = lines.findIndex((l) => l.trim().startsWith("place ->")) + 1;
    expect(await showHover(page, placeLine, "place")).toContain("[5]");
    // Completion after `concat ` offers the values named above.
    const offered = await completionsAfter(page, concatLine, "concat ");
    expect(offered).toEqual(expect.arrayContaining(["body", "place", "b", "p"]));

    // The residual model: hover on a block use shows the block's header; a statement's first
    // word may be a declared block.
    await load(page, RESIDUAL, 12);
    const useLine = RESIDUAL.split("\n").findIndex((l) => l.includes("r = residual 16")) + 1;
    expect(await showHover(page, useLine, "residual")).toContain("block residual(width)");
    const first = await completionsAfter(page, useLine, "res");
    expect(first).toContain("residual");
    await page.screenshot({ path: join(SHOTS, "8d-completion.png") });
    await context.close();
  });
});
