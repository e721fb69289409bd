/**
 * The network diagram while the model learns (issue 17), painted over `draw.ts`'s drawing:
 * each unit of a 2-D model as a small heat map of its output over the input plane (as the
 * TensorFlow Playground draws its neurons; an input unit shows its own coordinate), and each
 * edge into a dense layer coloured by its weight's sign (blue negative, orange positive) and
 * thickened by its magnitude. The training worker sends the numbers (`Insight`), at most
 * about three times a second.
 */
import type { Diagram, Insight } from "../protocol.js";
import { valueKey } from "./layout.js";
import { diverging, edgeStyle } from "./scale.js";

const SVG = "http://www.w3.org/2000/svg";
/** Side of a unit's heat map in the diagram (its dot is 14 px across). */
const TILE = 16;
let scratch: HTMLCanvasElement | undefined;

/** A res × res map as a PNG data URL, on a scale of ±max|v| (the map's own). */
function mapImage(values: Float32Array, offset: number, res: number): string {
  let max = 0;
  for (let k = 0; k < res * res; k++) max = Math.max(max, Math.abs(values[offset + k]!));
  scratch ??= document.createElement("canvas");
  scratch.width = scratch.height = res;
  const g = scratch.getContext("2d")!;
  const img = g.createImageData(res, res);
  for (let k = 0; k < res * res; k++) {
    const [r, gr, b] = diverging(max > 0 ? values[offset + k]! / max : 0);
    img.data.set([r, gr, b, 255], 4 * k);
  }
  g.putImageData(img, 0, 0);
  return scratch.toDataURL();
}

/** The maps of the input's two units: its x and y coordinates over the grid. */
function inputMaps(m: NonNullable<Insight["maps"]>): Float32Array {
  const { res, x0, x1, y0, y1 } = m;
  const out = new Float32Array(2 * res * res);
  for (let r = 0; r < res; r++)
    for (let c = 0; c < res; c++) {
      out[r * res + c] = x0 + ((c + 0.5) / res) * (x1 - x0);
      out[res * res + r * res + c] = y1 - ((r + 0.5) / res) * (y1 - y0);
    }
  return out;
}

/** Paints `insight` over the diagram drawn in `host`; returns how many tiles and edges it painted. */
export function paintInsight(host: HTMLElement, d: Diagram, insight: Insight): { tiles: number; edges: number } {
  let tiles = 0;
  let edges = 0;
  const maps = insight.maps;
  if (maps) {
    const byName = new Map(maps.layers.map((l) => [l.name, l]));
    for (const n of d.nodes) {
      const layer = n.kind === "input" && n.shape.length === 1 && n.shape[0] === 2 ? { units: 2, values: inputMaps(maps) } : byName.get(n.name);
      if (!layer || n.shape.length !== 1 || n.shape[0] !== layer.units) continue;
      const g = host.querySelector(`g.node[data-id="${n.id}"]`);
      if (!g) continue;
      for (const dot of g.querySelectorAll<SVGCircleElement>("circle[data-unit]")) {
        const unit = Number(dot.dataset["unit"]);
        if (!(unit >= 0 && unit < layer.units)) continue;
        let tile = g.querySelector<SVGImageElement>(`image.unit-map[data-unit="${unit}"]`);
        if (!tile) {
          tile = document.createElementNS(SVG, "image");
          tile.classList.add("unit-map");
          tile.dataset["unit"] = String(unit);
          const cx = Number(dot.getAttribute("cx"));
          const cy = Number(dot.getAttribute("cy"));
          for (const [k, v] of Object.entries({ x: cx - TILE / 2, y: cy - TILE / 2, width: TILE, height: TILE, preserveAspectRatio: "none" })) tile.setAttribute(k, String(v));
          dot.after(tile);
        }
        tile.setAttribute("href", mapImage(layer.values, unit * maps.res * maps.res, maps.res));
        tiles++;
      }
    }
  }
  const weights = new Map(insight.weights.map((w) => [w.name, w]));
  for (const n of d.nodes) {
    const w = weights.get(n.name);
    const from = n.inputs.length === 1 ? d.nodes[n.inputs[0]!] : undefined;
    if (!w || !from || n.shape.length !== 1 || n.shape[0] !== w.out || from.shape.length !== 1 || from.shape[0] !== w.in) continue;
    let max = 0;
    for (const v of w.values) max = Math.max(max, Math.abs(v));
    const group = host.querySelector(`g.edge[data-from="${valueKey(from.id)}"][data-to="${valueKey(n.id)}"]`);
    for (const line of group?.querySelectorAll<SVGLineElement>("line[data-i]") ?? []) {
      const i = Number(line.dataset["i"]);
      const j = Number(line.dataset["j"]);
      const v = w.values[j * w.in + i]!;
      const style = edgeStyle(v, max);
      line.setAttribute("stroke", style.stroke);
      line.setAttribute("stroke-width", String(style.width));
      line.dataset["weight"] = String(v);
      edges++;
    }
  }
  return { tiles, edges };
}
