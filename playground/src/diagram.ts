/** The network diagram, drawn from the compiled IR: one column per layer, with its output shape and parameters; colours and connections come from each layer's definition. */
import type { DiagramLayer } from "./protocol.js";

const SVG = "http://www.w3.org/2000/svg";
const MAX_DOTS = 7;

function el<K extends keyof SVGElementTagNameMap>(name: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

export function drawDiagram(host: HTMLElement, layers: readonly DiagramLayer[]): void {
  host.replaceChildren();
  const colW = 104;
  const height = 190;
  const top = 16;
  const area = 112;
  const width = Math.max(layers.length * colW, 300);
  const svg = el("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "Network diagram" });
  const columns = layers.map((l, i) => {
    const units = l.shape.length === 1 ? l.shape[0]! : 0;
    const shown = units > 0 ? Math.min(units, MAX_DOTS) : 0;
    const cx = colW * i + colW / 2;
    const ys = Array.from({ length: shown }, (_, k) => top + (shown === 1 ? area / 2 : (k * area) / (shown - 1)));
    return { l, cx, ys, units, shown };
  });
  // Edges first, under the nodes.
  for (let i = 1; i < columns.length; i++) {
    const a = columns[i - 1]!, b = columns[i]!;
    const dense = b.l.connects === "all";
    const as = a.ys.length > 0 ? a.ys : [top + area / 2];
    const bs = b.ys.length > 0 ? b.ys : [top + area / 2];
    for (const y1 of as)
      for (const y2 of dense ? bs : [bs[Math.min(bs.length - 1, as.indexOf(y1))]!]) {
        svg.append(el("line", { x1: a.cx, y1, x2: b.cx, y2, stroke: dense ? "#cbd5e1" : "#e2e8f0", "stroke-width": dense ? 0.7 : 1.2 }));
      }
  }
  for (const c of columns) {
    const color = c.l.color;
    if (c.shown > 0) {
      c.ys.forEach((y, k) => {
        if (c.units > MAX_DOTS && k === MAX_DOTS - 2) {
          svg.append(el("text", { x: c.cx, y: y + 4, "text-anchor": "middle", class: "sub" }, "⋮"));
        } else {
          svg.append(el("circle", { cx: c.cx, cy: y, r: 7, fill: color, stroke: "#fff", "stroke-width": 1.5 }));
        }
      });
    } else {
      // An image-shaped value: a box labelled with its shape.
      svg.append(el("rect", { x: c.cx - 26, y: top + area / 2 - 30, width: 52, height: 60, rx: 6, fill: color, opacity: 0.8 }));
    }
    const label = c.l.label.length > 18 ? c.l.label.slice(0, 17) + "…" : c.l.label;
    svg.append(el("text", { x: c.cx, y: top + area + 24, "text-anchor": "middle" }, label));
    svg.append(el("text", { x: c.cx, y: top + area + 40, "text-anchor": "middle", class: "sub" }, `[${c.l.shape.join(" × ")}]`));
    if (c.l.params > 0) svg.append(el("text", { x: c.cx, y: top + area + 55, "text-anchor": "middle", class: "sub" }, `${c.l.params.toLocaleString("en")} params`));
  }
  svg.style.maxWidth = `${width}px`;
  host.append(svg);
}
