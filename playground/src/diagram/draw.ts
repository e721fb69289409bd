/**
 * The network diagram as SVG, laid out by `layout.ts`: each value a column of units (at most
 * seven dots; an image a box; a merge a round `+` or `∥` where its branches join), each edge
 * unit to unit between neighbouring columns (all to all, or local, as the layer's definition
 * says) or one curve when it skips columns or rows. The layers of a block use are framed with
 * a header that folds them into one box: a button with `aria-expanded`, kept folded across
 * checks (by the use's name) until unfolded.
 */
import type { Diagram, DiagramNode } from "../protocol.js";
import type { Insight } from "../protocol.js";
import { paintInsight } from "./live.js";
import { DOTS_AREA, layoutDiagram, MAX_DOTS, unitOfDot, type Box, type Edge, type Frame, type Layout } from "./layout.js";

const SVG = "http://www.w3.org/2000/svg";
const XHTML = "http://www.w3.org/1999/xhtml";
/** Longest label under a column (11 px text in a 104 px column), so neighbours never touch. */
const LABEL_CHARS = 15;
/** Labels are 11 px in the SVG: it may shrink to fit its card down to this size, then it scrolls. */
const MIN_TEXT_PX = 10;

function el<K extends keyof SVGElementTagNameMap>(name: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

const clip = (s: string, n: number): string => (s.length > n ? s.slice(0, Math.max(1, n - 1)) + "…" : s);
const paramsText = (n: number): string => `${n.toLocaleString("en")} params`;

/** Where a box's units are: one y per dot (none for an image, a merge or a folded use). */
interface Placed {
  readonly box: Box;
  readonly x: number;
  readonly ys: readonly number[];
  readonly units: number;
  /** Middle of the dot area. */
  readonly cy: number;
}

function place(box: Box, layout: Layout): Placed {
  const top = box.top + layout.dotsTop;
  const cy = top + DOTS_AREA / 2;
  if (box.type === "group" || box.node.merge) return { box, x: box.x, ys: [], units: 0, cy };
  const shape = box.node.shape;
  const units = shape.length === 1 ? shape[0]! : 0;
  const shown = units > 0 ? Math.min(units, MAX_DOTS) : 0;
  const ys = Array.from({ length: shown }, (_, k) => top + (shown === 1 ? DOTS_AREA / 2 : (k * DOTS_AREA) / (shown - 1)));
  return { box, x: box.x, ys, units, cy };
}

/** Just above a box's drawing. */
function topOf(p: Placed): number {
  if (p.ys.length > 0) return p.ys[0]! - 9;
  if (p.box.type === "group") return p.cy - 41;
  return p.box.node.merge ? p.cy - 14 : p.cy - 31;
}

function drawEdge(svg: SVGElement, e: Edge, a: Placed, b: Placed): void {
  const g = el("g", { class: "edge", "data-from": e.from, "data-to": e.to });
  if (e.straight) {
    // Unit to unit, as a chain has always been drawn.
    const dense = b.box.type === "value" && !b.box.node.merge && b.box.node.connects === "all";
    const as = a.ys.length > 0 ? a.ys : [a.cy];
    const bs = b.ys.length > 0 ? b.ys : [b.cy];
    as.forEach((y1, ia) => {
      const targets = dense ? bs.map((_, jb) => jb) : [Math.min(bs.length - 1, ia)];
      for (const jb of targets) {
        const line = el("line", { x1: a.x, y1, x2: b.x, y2: bs[jb]!, stroke: dense ? "#cbd5e1" : "#e2e8f0", "stroke-width": dense ? 0.7 : 1.2 });
        // The units it joins, for the weights' colours (`live.ts`).
        const i = unitOfDot(ia, a.ys.length, a.units);
        const j = unitOfDot(jb, b.ys.length, b.units);
        if (dense && i !== undefined && j !== undefined) {
          line.dataset["i"] = String(i);
          line.dataset["j"] = String(j);
        }
        g.append(line);
      }
    });
  } else {
    const x1 = a.x + 10;
    const x2 = b.x - (b.box.type === "value" && b.box.node.merge ? 13 : 10);
    let d: string;
    if (a.box.row === b.box.row) {
      // Over the columns it skips, from the top of one box to the top of the other: the
      // curve's highest point is in the room above the dots.
      const ya = topOf(a);
      const yb = topOf(b);
      const peak = a.box.top + 7;
      const c = Math.min(ya, yb) + (peak - Math.min(ya, yb)) / 0.75;
      d = `M${a.x},${ya} C${a.x + 30},${c} ${b.x - 30},${c} ${b.x},${yb}`;
    } else {
      const mx = (x1 + x2) / 2;
      d = `M${x1},${a.cy} C${mx},${a.cy} ${mx},${b.cy} ${x2},${b.cy}`;
    }
    g.append(el("path", { d, fill: "none", stroke: "#94a3b8", "stroke-width": 1.4 }));
  }
  svg.append(g);
}

function foldButton(key: string, label: string, expanded: boolean, x: number, y: number): SVGForeignObjectElement {
  const fo = el("foreignObject", { x, y, width: 20, height: 20 });
  const b = document.createElementNS(XHTML, "button") as HTMLButtonElement;
  b.type = "button";
  b.className = "fold";
  b.dataset["group"] = key;
  b.setAttribute("aria-expanded", String(expanded));
  b.setAttribute("aria-label", `${expanded ? "Fold" : "Unfold"} ${label}`);
  b.title = expanded ? "fold this block use into one box" : "show the layers of this block use";
  b.textContent = expanded ? "▾" : "▸";
  fo.append(b);
  return fo;
}

function drawFrame(svg: SVGElement, f: Frame): void {
  const g = el("g", { class: "frame", "data-group": f.group.key });
  const rect = el("rect", { x: f.x0, y: f.y0, width: f.x1 - f.x0, height: f.y1 - f.y0, rx: 8, fill: f.depth % 2 === 0 ? "#f8fafc" : "#f1f5f9", stroke: "#cbd5e1", "stroke-dasharray": "4 3" });
  rect.append(el("title", {}, `${f.group.label} — ${paramsText(f.group.params)}`));
  g.append(rect);
  g.append(foldButton(f.group.key, f.group.label, true, f.x0 + 3, f.y0 + 2));
  const room = Math.floor((f.x1 - f.x0 - 30) / 6);
  g.append(el("text", { x: f.x0 + 27, y: f.y0 + 16, class: "frame-label" }, clip(f.group.label, room)));
  svg.append(g);
}

function drawBox(svg: SVGElement, p: Placed, layout: Layout): void {
  const box = p.box;
  const labelY = box.top + layout.dotsTop + DOTS_AREA;
  if (box.type === "group") {
    const g = el("g", { class: "node folded", "data-group": box.group.key, "data-id": box.output.id });
    g.append(el("rect", { x: p.x - 44, y: p.cy - 40, width: 88, height: 80, rx: 8, fill: "#e0e7ff", stroke: "#818cf8" }));
    g.append(foldButton(box.group.key, box.group.label, false, p.x - 42, p.cy - 38));
    g.append(el("text", { x: p.x, y: p.cy + 4, "text-anchor": "middle", class: "block-name" }, clip(box.group.block, 14)));
    g.append(el("text", { x: p.x, y: p.cy + 20, "text-anchor": "middle", class: "sub" }, `${box.members.length} layers`));
    const key = box.group.key.slice(box.group.key.lastIndexOf(".") + 1);
    g.append(el("text", { x: p.x, y: labelY + 24, "text-anchor": "middle" }, clip(key, LABEL_CHARS)));
    g.append(el("text", { x: p.x, y: labelY + 40, "text-anchor": "middle", class: "sub" }, `[${box.output.shape.join(" × ")}]`));
    g.append(el("text", { x: p.x, y: labelY + 55, "text-anchor": "middle", class: "sub" }, paramsText(box.group.params)));
    g.append(el("title", {}, `${box.group.label}: ${box.members.map((m) => m.label).join("; ")}`));
    svg.append(g);
    return;
  }
  const n: DiagramNode = box.node;
  const g = el("g", { class: "node", "data-id": n.id, "data-kind": n.kind, "data-name": n.name });
  if (n.merge) {
    g.append(el("circle", { cx: p.x, cy: p.cy, r: 13, fill: n.color, stroke: "#fff", "stroke-width": 1.5 }));
    g.append(el("text", { x: p.x, y: p.cy + 5, "text-anchor": "middle", class: "merge-glyph" }, n.kind === "add" ? "+" : "∥"));
  } else if (p.ys.length > 0) {
    p.ys.forEach((y, k) => {
      if (p.units > MAX_DOTS && k === MAX_DOTS - 2) g.append(el("text", { x: p.x, y: y + 4, "text-anchor": "middle", class: "sub" }, "⋮"));
      else g.append(el("circle", { cx: p.x, cy: y, r: 7, fill: n.color, stroke: "#fff", "stroke-width": 1.5, "data-unit": unitOfDot(k, p.ys.length, p.units) ?? "" }));
    });
  } else {
    // An image-shaped value: a box labelled with its shape.
    g.append(el("rect", { x: p.x - 26, y: p.cy - 30, width: 52, height: 60, rx: 6, fill: n.color, opacity: 0.8 }));
  }
  g.append(el("text", { x: p.x, y: labelY + 24, "text-anchor": "middle" }, clip(n.label, LABEL_CHARS)));
  g.append(el("text", { x: p.x, y: labelY + 40, "text-anchor": "middle", class: "sub" }, `[${n.shape.join(" × ")}]`));
  if (n.params > 0) g.append(el("text", { x: p.x, y: labelY + 55, "text-anchor": "middle", class: "sub" }, paramsText(n.params)));
  // The whole label (a long one is clipped to its column) and the layer's name.
  g.append(el("title", {}, `${n.name}: ${n.label}`));
  svg.append(g);
}

/** Renders `d` into `host` with the uses in `collapsed` folded; returns the layout drawn. */
export function renderDiagram(host: HTMLElement, d: Diagram, collapsed: ReadonlySet<string>): Layout {
  const layout = layoutDiagram(d, collapsed);
  const { width, height } = layout;
  const svg = el("svg", { width, height, viewBox: `0 0 ${width} ${height}`, "aria-label": "Network diagram" });
  svg.setAttribute("role", d.groups.length > 0 ? "group" : "img");
  for (const f of [...layout.frames].sort((a, b) => a.depth - b.depth)) drawFrame(svg, f);
  const placed = new Map(layout.boxes.map((b) => [b.key, place(b, layout)]));
  // Edges under the nodes.
  for (const e of layout.edges) drawEdge(svg, e, placed.get(e.from)!, placed.get(e.to)!);
  for (const p of placed.values()) drawBox(svg, p, layout);
  svg.style.maxWidth = `${width}px`;
  // A graph too wide for the card scrolls rather than shrinking its text away.
  svg.style.minWidth = `${Math.min(width, Math.max(300, Math.ceil((width * MIN_TEXT_PX) / 11)))}px`;
  host.replaceChildren(svg);
  return layout;
}

/** The diagram of a page: the latest diagram, which block uses are folded, and the latest view of the model's inside. */
export class DiagramView {
  private diagram: Diagram | undefined;
  private readonly collapsed = new Set<string>();
  private insight: Insight | undefined;
  /** Insights painted, and what the last one painted (for the tests). */
  painted = { updates: 0, tiles: 0, edges: 0 };

  constructor(private readonly host: HTMLElement) {
    host.addEventListener("click", (e) => {
      const button = (e.target as Element | null)?.closest?.("button.fold") as HTMLButtonElement | null;
      const key = button?.dataset["group"];
      if (key !== undefined) this.toggle(key);
    });
  }

  show(d: Diagram): void {
    this.diagram = d;
    // Forget folds of uses that are gone.
    const keys = new Set(d.groups.map((g) => g.key));
    for (const k of this.collapsed) if (!keys.has(k)) this.collapsed.delete(k);
    renderDiagram(this.host, d, this.collapsed);
    this.paint();
    this.scrollable();
  }

  /** A drawing wider than its card scrolls: then the keyboard can reach it too. */
  private scrollable(): void {
    const wide = this.host.scrollWidth > this.host.clientWidth + 1 || this.host.scrollHeight > this.host.clientHeight + 1;
    if (wide) this.host.tabIndex = 0;
    else this.host.removeAttribute("tabindex");
  }

  /** Unit maps and weights from the training worker; undefined when the run is gone. */
  setInsight(i: Insight | undefined): void {
    this.insight = i;
    if (i === undefined && this.diagram) renderDiagram(this.host, this.diagram, this.collapsed);
    this.paint();
  }

  private paint(): void {
    if (!this.diagram || !this.insight) return;
    const { tiles, edges } = paintInsight(this.host, this.diagram, this.insight);
    this.painted = { updates: this.painted.updates + 1, tiles, edges };
  }

  /** Folds or unfolds block use `key`, keeping the keyboard focus on its button. */
  toggle(key: string): void {
    if (this.diagram === undefined) return;
    if (this.collapsed.has(key)) this.collapsed.delete(key);
    else this.collapsed.add(key);
    renderDiagram(this.host, this.diagram, this.collapsed);
    this.paint();
    this.scrollable();
    this.host.querySelector<HTMLButtonElement>(`button.fold[data-group="${CSS.escape(key)}"]`)?.focus();
  }

  folded(): readonly string[] {
    return [...this.collapsed];
  }
}
