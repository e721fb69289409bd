/**
 * The training report's attributions (`nnc train` → report.html): for a few test samples of
 * each class, what the trained model's decision rests on — saliency heat maps over images,
 * integrated-gradient bars per feature for tabular data — and, for images, the first conv
 * layer's filters. Browser-safe; the pictures are `explain-svg.ts` panels.
 */
import type { CompiledModel } from "../compiler/model-api.js";
import { attribute, predictedTargets, type ExplainModel } from "./explain.js";
import { barsPanel, heatmapPanel, svgDocument, type Panel } from "./explain-svg.js";
import type { Split } from "./prepare.js";

export interface ReportSection {
  readonly title: string;
  /** Plain text under the title. */
  readonly note: string;
  /** An SVG document (every text in it escaped). */
  readonly svg: string;
}

export interface AttributionOptions {
  readonly classes?: readonly string[];
  readonly featureNames: readonly string[];
  /** Samples per class (default 2). */
  readonly perClass?: number;
}

/**
 * The sections for a classifier: `explain` is a module compiled with `explain: true` for the
 * same program; it gets the trained model's parameters first.
 */
export function attributionSections(trained: CompiledModel, explain: ExplainModel, test: Split, o: AttributionOptions): ReportSection[] {
  explain.params.set(trained.params);
  const K = explain.meta.outputSize;
  const size = explain.meta.inputSize;
  const image = explain.meta.inputShape.length >= 2;
  const perClass = o.perClass ?? 2;
  // The first samples of each true class (one-hot rows; for one sigmoid output, 0 and 1).
  const picked: number[] = [];
  const classes = K === 1 ? 2 : K;
  for (let c = 0; c < classes; c++) {
    let found = 0;
    for (let i = 0; i < test.n && found < perClass; i++) {
      const label = K === 1 ? (test.y[i]! >= 0.5 ? 1 : 0) : test.y[i * K + c] === 1 ? c : -1;
      if (label === c) {
        picked.push(i);
        found++;
      }
    }
  }
  if (picked.length === 0) return [];
  const x = new Float32Array(picked.length * size);
  picked.forEach((s, k) => x.set(test.x.subarray(s * size, (s + 1) * size), k * size));
  const n = picked.length;
  const targets = predictedTargets(explain, x, n);
  const name = (k: number): string => o.classes?.[k] ?? String(k);
  const trueClass = (s: number): number => (K === 1 ? (test.y[s]! >= 0.5 ? 1 : 0) : Array.from(test.y.subarray(s * K, (s + 1) * K)).indexOf(1));
  const method = image ? "saliency" : "ig";
  const a = attribute(explain, x, n, targets, { method, steps: 64 });
  // One sigmoid output: the predicted class is 1 when its probability is at least ½ (the attribution is the positive class's score's).
  const p = K === 1 ? explain.predict(x, n) : undefined;
  const predicted = (k: number): number => (p !== undefined ? (p[k]! >= 0.5 ? 1 : 0) : targets[k]!);
  const panels: Panel[] = picked.map((s, k) => {
    const title = `${name(trueClass(s))} → ${name(predicted(k))}`;
    const map = a.values.subarray(k * size, (k + 1) * size);
    return image
      ? heatmapPanel({ image: x.subarray(k * size, (k + 1) * size), shape: explain.meta.inputShape, map, mapShape: explain.meta.inputShape, signed: false, title, scale: Math.max(3, Math.floor(84 / explain.meta.inputShape[0]!)) })
      : barsPanel({ names: o.featureNames, values: map, title, width: 180 });
  });
  const sections: ReportSection[] = [
    {
      title: "What the decisions rest on (test samples)",
      note: image
        ? `Saliency |∂score/∂pixel| of the predicted class, over the first ${perClass} test images of each class (true → predicted). nnc explain draws more: docs/explain.md.`
        : `Integrated gradients (64 Gauss–Legendre steps from the all-zero input, the training mean after normalization) of the predicted class's score, for the first ${perClass} test samples of each class (true → predicted). nnc explain draws more: docs/explain.md.`,
      svg: svgDocument(panels, image ? perClass * 2 : 3),
    },
  ];
  const filters = firstConvFilters(explain);
  if (filters !== undefined) sections.push(filters);
  return sections;
}

/** The first conv2d layer's filters, each averaged over its input channels: red positive, blue negative weights. */
function firstConvFilters(model: ExplainModel): ReportSection | undefined {
  const conv = model.meta.explain?.layers.find((l) => l.kind === "conv2d");
  const w = conv !== undefined ? model.layout.find((e) => e.name === `${conv.name}.weight`) : undefined;
  if (conv === undefined || w === undefined || w.shape.length !== 4) return undefined;
  const [f, kh, kw, c] = w.shape as [number, number, number, number];
  const panels: Panel[] = [];
  for (let k = 0; k < Math.min(f, 64); k++) {
    const map = new Float32Array(kh * kw);
    for (let p = 0; p < kh * kw; p++) for (let ch = 0; ch < c; ch++) map[p]! += (model.params[w.offset + (k * kh * kw + p) * c + ch] as number) / c;
    panels.push(heatmapPanel({ image: new Float32Array(kh * kw), shape: [kh, kw], map, mapShape: [kh, kw], signed: true, beside: false, scale: Math.max(6, Math.floor(48 / kh)), title: `${k + 1}` }));
  }
  return { title: `The filters of ${conv.name}`, note: `${f} filters of ${kh}×${kw}${c > 1 ? `, averaged over ${c} channels` : ""}; each scaled to its largest weight.`, svg: svgDocument(panels, 16, 6) };
}
