/**
 * What the training worker shows of the inside of a model (issue 17), from a module compiled
 * with `explain: true`: one input's attributions (`runtime/explain.ts`, the code `nnc explain`
 * runs), each unit's output over the 2-D input plane (as the TensorFlow Playground draws its
 * neurons) and the dense layers' weights for the diagram's edges. Runs in the training worker.
 */
import { attribute, predictedTargets, type ExplainModel } from "../../runtime/explain.js";
import type { Preprocess } from "../../runtime/preprocess.js";
import type { Attribution, Insight } from "./protocol.js";

/** Integrated gradients' Gauss–Legendre steps (`nnc explain`'s default). */
export const IG_STEPS = 64;
/** Side of a unit's map over the input plane. */
export const MAP_RES = 24;
/** Largest weight matrix sent for the diagram (a dense layer of 64 × 64). */
const MAX_WEIGHTS = 4096;

/** The names of the input's values: the CSV's feature columns (a categorical one per category), else x₀, x₁, … */
export function featureNames(preprocess: Preprocess, inputSize: number): string[] {
  const cols = preprocess.csv?.featureColumns;
  const categories = preprocess.csv?.categories ?? {};
  const expanded = cols?.flatMap((c) => (categories[c] !== undefined ? categories[c].map((v) => `${c}=${v}`) : [c]));
  if (expanded !== undefined && expanded.length === inputSize) return expanded;
  return Array.from({ length: inputSize }, (_, j) => `x${j}`);
}

/** Saliency, gradient × input and integrated gradients (from the all-zero input) of `x` for its predicted class. */
export function attributionOf(model: ExplainModel, x: Float32Array, from: string, features: readonly string[], classNames: readonly string[] | undefined, epoch: number): Attribution {
  const targets = predictedTargets(model, x, 1);
  const saliency = attribute(model, x, 1, targets, { method: "saliency" });
  const gradxinput = attribute(model, x, 1, targets, { method: "gradxinput" });
  const ig = attribute(model, x, 1, targets, { method: "ig", steps: IG_STEPS });
  const target = targets[0]!;
  return {
    x: Array.from(x),
    from,
    features,
    target,
    targetName: classNames?.[target] ?? `class ${target}`,
    score: ig.scores[0]!,
    baselineScore: ig.completeness!.baselineScores[0]!,
    delta: ig.completeness!.delta[0]!,
    saliency: Array.from(saliency.values),
    gradxinput: Array.from(gradxinput.values),
    ig: Array.from(ig.values),
    steps: IG_STEPS,
    epoch,
  };
}

/** The grid's points, row 0 at the top (y1), as the decision boundary lays them out. */
export function gridPoints(x0: number, x1: number, y0: number, y1: number, res: number): Float32Array {
  const grid = new Float32Array(res * res * 2);
  for (let r = 0; r < res; r++)
    for (let c = 0; c < res; c++) {
      const k = r * res + c;
      grid[2 * k] = x0 + ((c + 0.5) / res) * (x1 - x0);
      grid[2 * k + 1] = y1 - ((r + 0.5) / res) * (y1 - y0);
    }
  return grid;
}

/**
 * The units' maps over [x0, x1] × [y0, y1] (2-D inputs; `extent` undefined otherwise) and the
 * dense layers' weights. The arrays are fresh, to be transferred.
 */
export function insightOf(model: ExplainModel, extent: readonly [number, number, number, number] | undefined, epoch: number): Insight {
  const t0 = performance.now();
  let maps: Insight["maps"];
  const flat = (model.meta.explain?.layers ?? []).filter((l) => l.shape.length === 1);
  if (extent !== undefined && model.meta.inputSize === 2 && flat.length > 0) {
    const [x0, x1, y0, y1] = extent;
    const res = MAP_RES;
    const points = res * res;
    const grid = gridPoints(x0, x1, y0, y1, res);
    const layers = flat.map((l) => ({ name: l.name, units: l.shape[0]!, values: new Float32Array(l.shape[0]! * points) }));
    const bs = Math.max(1, model.meta.maxBatch);
    for (let start = 0; start < points; start += bs) {
      const m = Math.min(bs, points - start);
      model.forward(grid.subarray(2 * start, 2 * (start + m)), m);
      for (const l of layers) {
        const a = model.explain.activations(l.name);
        // Unit-major: unit u's map is values[u·points …].
        for (let i = 0; i < m; i++) for (let u = 0; u < l.units; u++) l.values[u * points + start + i] = a[i * l.units + u]!;
      }
    }
    maps = { x0, x1, y0, y1, res, layers };
  }
  const kinds = new Map((model.meta.explain?.layers ?? []).map((l) => [l.name, l.kind]));
  const weights = model.layout
    .filter((e) => e.name.endsWith(".weight") && e.shape.length === 2 && e.size <= MAX_WEIGHTS && kinds.get(e.name.slice(0, -".weight".length)) === "dense")
    .map((e) => ({ name: e.name.slice(0, -".weight".length), out: e.shape[0]!, in: e.shape[1]!, values: Float32Array.from(model.params.subarray(e.offset, e.offset + e.size)) }));
  return { epoch, maps, weights, millis: performance.now() - t0 };
}

/** The arrays of an insight, for the transfer list. */
export function insightBuffers(i: Insight): ArrayBuffer[] {
  return [...(i.maps?.layers ?? []).map((l) => l.values.buffer as ArrayBuffer), ...i.weights.map((w) => w.values.buffer as ArrayBuffer)];
}
