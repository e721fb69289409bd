/**
 * Checks that run inside the page (as the source text of functions, so this Node-typed file
 * needs no DOM types): the contrast of an element's text against what is really behind it,
 * and the boxes of elements, for overlap and overflow tests.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";

/** WCAG contrast of `selector`'s text colour against the first opaque background behind it. */
const CONTRAST = `(selector) => {
  const el = document.querySelector(selector);
  if (!el) return 0;
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  let bg = [255, 255, 255];
  for (let e = el; e; e = e.parentElement) {
    const c = rgb(getComputedStyle(e).backgroundColor);
    if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) { bg = c.slice(0, 3); break; }
  }
  const fg = rgb(getComputedStyle(el).color).slice(0, 3);
  const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}`;

export function contrast(page: Page, selector: string): Promise<number> {
  return page.evaluate(`(${CONTRAST})(${JSON.stringify(selector)})`) as Promise<number>;
}

export interface Rect {
  readonly left: number;
  readonly right: number;
  readonly top: number;
  readonly bottom: number;
  readonly width: number;
  readonly height: number;
}

/** The boxes of every element matching `selector`, in page pixels. */
export function rects(page: Page, selector: string): Promise<Rect[]> {
  return page.evaluate(
    `[...document.querySelectorAll(${JSON.stringify(selector)})].map((e) => { const r = e.getBoundingClientRect(); return { left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width, height: r.height }; })`,
  ) as Promise<Rect[]>;
}

export async function rect(page: Page, selector: string): Promise<Rect> {
  const r = (await rects(page, selector))[0];
  if (!r) throw new Error(`no element ${selector}`);
  return r;
}

/** Pairs of boxes that overlap by more than `slack` pixels both ways. */
export function overlaps(boxes: readonly Rect[], slack = 0.5): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < boxes.length; i++)
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i]!, b = boxes[j]!;
      const x = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const y = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (x > slack && y > slack) out.push([i, j]);
    }
  return out;
}

/** Runs a script in the page (a string, so no DOM types are needed here). */
export function run<T>(page: Page, script: string): Promise<T> {
  return page.evaluate(script) as Promise<T>;
}

const AXE = readFileSync(fileURLToPath(new URL("../../node_modules/axe-core/axe.min.js", import.meta.url)), "utf8");

/** axe-core's serious and critical violations on the page as it is: their ids and targets. */
export async function seriousA11y(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: AXE });
  const result = await run<{ violations: { id: string; impact: string | null; nodes: { target: string[] }[] }[] }>(page, `axe.run(document, { resultTypes: ["violations"] })`);
  return result.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}
