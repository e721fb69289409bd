/**
 * `nnc explain FILE --weights W [--input FILE | --data SPLIT] [--method M] [--target CLASS] …`:
 * per-sample attributions (`runtime/explain.ts`) as CSV or JSON, a picture of them (`--svg`:
 * heat maps over images, signed bars per feature for tabular data), or with `--summary` the
 * mean |attribution| per feature over the samples (and, for tabular data with labels, the
 * permutation importance beside it). Integrated gradients report their completeness.
 */
import { MAX_SEED } from "../../compiler/check/checker.js";
import type { Command } from "commander";
import { closest, didYouMean } from "../../compiler/suggest.js";
import { diag } from "../../grammar/diagnostics.js";
import { FILE_START } from "../../grammar/span.js";
import { inert } from "../../runtime/inert.js";
import {
  attribute,
  BASELINES,
  blurred,
  featureMean,
  imageLayers,
  lastConvLayer,
  meanAbsolute,
  METHODS,
  permutationImportance,
  predictedTargets,
  type Attributions,
  type BaselineKind,
  type ExplainSettings,
  type Method,
} from "../../runtime/explain.js";
import { barsPanel, heatmapPanel, svgDocument, type Panel } from "../../runtime/explain-svg.js";
import { writeFileAtomic } from "../../runtime/node/atomic.js";
import { CliError } from "../errors.js";
import { KERNELS_HELP } from "../options.js";
import { renderRun } from "../session.js";
import { csvCell, intOf, numberOf, openExplaining, optionError, type Explaining, type SampleOptions } from "./explain-common.js";

interface ExplainOptions extends SampleOptions {
  method: string;
  target?: string;
  format: string;
  svg?: string;
  summary?: boolean;
  steps?: string;
  quadrature: string;
  baseline: string;
  samples?: string;
  noise?: string;
  seed?: string;
  layer?: string;
  patch?: string;
}

/**
 * Integrated gradients whose sum misses F(x) − F(baseline) by more than this fraction get a
 * warning (Sundararajan et al. suggest 5%; a ReLU network's integrand jumps at every kink, so a
 * few samples whose scores barely move need more steps than the rest).
 */
export const COMPLETENESS_TOLERANCE = 0.05;

export function registerExplain(program: Command): void {
  program
    .command("explain")
    .description("attributions: which input values a trained model's decisions rest on")
    .argument("<file>", ".nn file")
    .option("--weights <file>", "weights file written by `nnc train` (default: runs/<file name>/weights.json)")
    .option("--input <file>", "samples to explain: a CSV or JSON file, or - for stdin (default: --data test)")
    .option("--data <split>", "explain a split of the file's data: test, validation or train")
    .option("--limit <n>", "explain the first n samples only")
    .option("--method <method>", METHODS.join(", "), "saliency")
    .option("--target <class>", "the class (name or index) to explain; default: each sample's predicted class")
    .option("--format <format>", "csv or json", "csv")
    .option("--svg <file>", "also draw the attributions (heat maps over images, bars per feature) as an SVG file")
    .option("--summary", "print the mean |attribution| per feature over the samples (and the permutation importance, for tabular data with labels)")
    .option("--steps <n>", "ig: steps along the path", "64")
    .option("--quadrature <rule>", "ig: gauss (Gauss–Legendre) or trapezoid", "gauss")
    .option("--baseline <kind>", "ig and occlusion: zeros, blurred (images) or mean (the training mean)", "zeros")
    .option("--samples <n>", "smoothgrad: noisy copies per sample", "25")
    .option("--noise <fraction>", "smoothgrad: the noise's standard deviation as a fraction of the sample's range", "0.15")
    .option("--seed <n>", "smoothgrad and permutation importance: the seed", "1")
    .option("--layer <name>", "gradcam: the conv layer (default: the last one with an image shape)")
    .option("--patch <n>", "occlusion: the side of the square patch (images)")
    .option("--kernels <kind>", KERNELS_HELP)
    .action(async (file: string, opts: ExplainOptions) => {
      await explainCommand(file, opts);
    });
}

async function explainCommand(file: string, opts: ExplainOptions): Promise<void> {
  if (!(METHODS as readonly string[]).includes(opts.method)) optionError("--method", "unknownExplainMethod", [opts.method], didYouMean(opts.method, METHODS, "the methods"));
  if (opts.format !== "csv" && opts.format !== "json") optionError("--format", "badExplainOption", ["--format", "csv or json", opts.format], "e.g. --format json");
  if (opts.quadrature !== "gauss" && opts.quadrature !== "trapezoid") optionError("--quadrature", "badExplainOption", ["--quadrature", "gauss or trapezoid", opts.quadrature], "e.g. --quadrature gauss");
  if (!(BASELINES as readonly string[]).includes(opts.baseline)) optionError("--baseline", "badExplainOption", ["--baseline", BASELINES.join(", "), opts.baseline], didYouMean(opts.baseline, BASELINES, "the baselines"));
  const method = opts.method as Method;
  const ex = await openExplaining(file, opts, "explain");
  const meta = ex.model.meta;
  if (meta.explain?.inputGradient !== true && method !== "occlusion") {
    optionError("--method", "noInputGradient", ["the input is read only as integer tokens"], "use --method occlusion, or `nnc features` for the layers' values");
  }
  const settings: ExplainSettings = {
    method,
    steps: intOf("--steps", opts.steps, 64, 1, 4096),
    quadrature: opts.quadrature as "gauss" | "trapezoid",
    samples: intOf("--samples", opts.samples, 25, 1, 10_000),
    noise: numberOf("--noise", opts.noise, 0.15, 0, 10),
    seed: intOf("--seed", opts.seed, 1, 0, MAX_SEED),
    ...(opts.patch !== undefined ? { patch: intOf("--patch", opts.patch, 2, 1, 4096) } : {}),
    ...(method === "gradcam" ? { layer: gradcamLayer(ex, opts.layer) } : {}),
    ...(method === "ig" || method === "occlusion" ? { baseline: await baselineOf(ex, opts.baseline as BaselineKind) } : {}),
  };
  const targets = opts.target !== undefined ? new Int32Array(ex.n).fill(targetOf(ex, opts.target)) : predictedTargets(ex.model, ex.x, ex.n);
  const a = attribute(ex.model, ex.x, ex.n, targets, settings);
  if (a.completeness !== undefined) reportCompleteness(ex, a, settings, opts.baseline);

  const names = method === "gradcam" ? mapNames(a.shape) : ex.featureNames;
  const summary = opts.summary === true ? summarize(ex, a, names, settings.seed ?? 1) : undefined;
  if (opts.svg !== undefined) {
    const svg = summary !== undefined ? summarySvg(summary, method) : samplesSvg(ex, a, method);
    const failed = writeFileAtomic(opts.svg, svg);
    if (failed) throw new CliError(renderRun([failed], file, ex.source));
    process.stderr.write(`wrote ${opts.svg}\n`);
  }
  const text = summary !== undefined ? summaryText(summary, opts.format) : samplesText(ex, a, names, opts.format);
  process.stdout.write(process.stdout.isTTY ? inert(text, { keepNewlines: true }) : text);
}

function gradcamLayer(ex: Explaining, name: string | undefined): string {
  const layers = ex.model.meta.explain?.layers ?? [];
  const images = imageLayers(ex.model);
  if (name === undefined) {
    const last = lastConvLayer(ex.model);
    if (last === undefined) optionError("--layer", "gradcamNeedsImage", ["the model has none"], "Grad-CAM works on a model with conv2d layers; use --method ig or saliency");
    return last;
  }
  const layer = layers.find((l) => l.name === name);
  if (layer === undefined) optionError("--layer", "noLayerNamed", [name], didYouMean(name, layers.map((l) => l.name), "the layers"));
  if (!images.includes(name)) optionError("--layer", "gradcamNeedsImage", [`\`${name}\` has shape [${layer.shape.join(", ")}]`], images.length > 0 ? `the image layers are ${images.map((l) => `\`${l}\``).join(", ")}` : "use --method ig or saliency");
  return name;
}

function targetOf(ex: Explaining, text: string): number {
  const K = ex.model.meta.outputSize;
  // One sigmoid output scores the second class (the positive one); the first has the negated attributions.
  if (K === 1 && ex.classes?.length === 2) {
    if (text === ex.classes[1] || text === "1") return 0;
    if (text === ex.classes[0]) optionError("--target", "badExplainTarget", [text, `its one sigmoid output scores \`${ex.classes[1]}\``], `explain \`${ex.classes[1]}\`: the attributions for \`${text}\` are their negatives`);
  }
  const byName = ex.classes?.indexOf(text) ?? -1;
  if (byName >= 0) return byName;
  const k = Number(text);
  if (text.trim() !== "" && Number.isInteger(k) && k >= 0 && k < K) return k;
  const names = ex.classes !== undefined ? [...ex.classes] : Array.from({ length: K }, (_, j) => String(j));
  const near = closest(text, names);
  const hint = near !== undefined ? `did you mean \`${near}\`?` : `the ${ex.classes !== undefined ? "classes" : "outputs"} are ${names.slice(0, 12).map((s) => `\`${s}\``).join(", ")}${names.length > 12 ? ", …" : ""} (or an index in 0..${K - 1})`;
  return optionError("--target", "badExplainTarget", [text, `it has ${K} output${K === 1 ? "" : "s"}`], hint);
}

async function baselineOf(ex: Explaining, kind: BaselineKind): Promise<Float32Array> {
  const size = ex.model.meta.inputSize;
  if (kind === "zeros") return new Float32Array(size);
  if (kind === "mean") {
    const train = await ex.trainX();
    return featureMean(train.x, train.n, size);
  }
  if (ex.model.meta.inputShape.length < 2) optionError("--baseline", "badExplainOption", ["--baseline blurred", "used with an image input", "blurred"], "use --baseline zeros or mean for tabular data");
  const out = new Float32Array(ex.n * size);
  for (let i = 0; i < ex.n; i++) out.set(blurred(ex.x.subarray(i * size, (i + 1) * size), ex.model.meta.inputShape, Math.max(1, ex.model.meta.inputShape[0]! / 8)), i * size);
  return out;
}

/** |Σ attributions − (F(x) − F(x′))| relative to |F(x) − F(x′)| (floored at 1e-3), per sample. */
export function completenessErrors(a: Attributions): Float64Array {
  const c = a.completeness;
  if (c === undefined) return new Float64Array(0);
  return Float64Array.from(c.delta, (d, i) => Math.abs(d) / Math.max(1e-3, Math.abs(a.scores[i]! - c.baselineScores[i]!)));
}

function reportCompleteness(ex: Explaining, a: Attributions, s: ExplainSettings, baseline: string): void {
  const errors = completenessErrors(a);
  let worst = 0;
  errors.forEach((e, i) => (worst = e > errors[worst]! ? i : worst));
  const mean = errors.reduce((t, e) => t + e, 0) / Math.max(1, errors.length);
  const pct = (x: number): string => `${(100 * x).toPrecision(2)}%`;
  const over = errors.filter((e) => e > 0.01).length;
  process.stderr.write(`ig: ${s.steps} ${s.quadrature} steps; completeness error |Σ − (F(x) − F(x′))| / |F(x) − F(x′)|: mean ${pct(mean)}, worst ${pct(errors[worst] ?? 0)} (sample ${worst}), ${over} of ${errors.length} samples above 1%\n`);
  if ((errors[worst] ?? 0) > COMPLETENESS_TOLERANCE) {
    // From zeros, a layer that normalizes (layernorm after a bias-free layer) changes F only next to the baseline (docs/explain.md).
    const ways = [`more --steps (${s.steps} now)`, ...(s.quadrature === "gauss" ? [] : ["--quadrature gauss"]), ...(baseline === "zeros" ? ["--baseline mean (from zeros, a normalizing layer can change F only next to the baseline)"] : [])];
    const d = { ...diag("incomplete", FILE_START, [pct(errors[worst]!), worst], { hint: `use ${ways.join(", or ")}` }), file: "--method ig" };
    process.stderr.write(renderRun([d], ex.file, ex.source));
  }
}

function mapNames(shape: readonly number[]): string[] {
  const [h, w] = shape as [number, number];
  return Array.from({ length: h * w }, (_, p) => `cam_r${Math.floor(p / w)}c${p % w}`);
}

interface Summary {
  readonly names: readonly string[];
  readonly meanAbs: Float32Array;
  readonly permutation: Float32Array | undefined;
  readonly shape: readonly number[];
  readonly n: number;
  readonly image: boolean;
}

function summarize(ex: Explaining, a: Attributions, names: readonly string[], seed: number): Summary {
  const tabular = ex.model.meta.inputShape.length === 1;
  const permutation = tabular && ex.y !== undefined ? permutationImportance(ex.model, ex.x, ex.y, ex.n, 5, seed) : undefined;
  return { names, meanAbs: meanAbsolute(a), permutation, shape: a.shape, n: ex.n, image: !tabular };
}

function summaryText(s: Summary, format: string): string {
  if (format === "json") {
    const rows = s.names.map((name, j) => ({ feature: name, meanAbs: s.meanAbs[j], ...(s.permutation ? { permutation: s.permutation[j] } : {}) }));
    return JSON.stringify({ samples: s.n, features: rows }) + "\n";
  }
  const head = ["feature", "mean_abs", ...(s.permutation ? ["permutation"] : [])].join(",");
  const rows = s.names.map((name, j) => [csvCell(name), fmt(s.meanAbs[j]!), ...(s.permutation ? [fmt(s.permutation[j]!)] : [])].join(","));
  return [head, ...rows].join("\n") + "\n";
}

function fmt(x: number): string {
  return String(Number(x.toPrecision(6)));
}

function className(ex: Explaining, k: number): string {
  if (ex.model.meta.outputSize === 1 && ex.classes?.length === 2) return ex.classes[1]!;
  return ex.classes?.[k] ?? String(k);
}

function samplesText(ex: Explaining, a: Attributions, names: readonly string[], format: string): string {
  const size = names.length;
  const c = a.completeness;
  if (format === "json") {
    const rows = Array.from({ length: ex.n }, (_, i) => ({
      sample: i,
      target: className(ex, a.targets[i]!),
      score: a.scores[i],
      ...(c ? { baselineScore: c.baselineScores[i], delta: c.delta[i] } : {}),
      attributions: Array.from(a.values.subarray(i * size, (i + 1) * size)),
    }));
    return JSON.stringify({ shape: a.shape, features: names, samples: rows }) + "\n";
  }
  const head = ["sample", "target", "score", ...(c ? ["delta"] : []), ...names.map(csvCell)].join(",");
  const lines = [head];
  for (let i = 0; i < ex.n; i++) {
    const vals = Array.from(a.values.subarray(i * size, (i + 1) * size), (v) => fmt(v));
    lines.push([String(i), csvCell(className(ex, a.targets[i]!)), fmt(a.scores[i]!), ...(c ? [fmt(c.delta[i]!)] : []), ...vals].join(","));
  }
  return lines.join("\n") + "\n";
}

const SIGNED: Readonly<Record<Method, boolean>> = { saliency: false, gradxinput: true, ig: true, smoothgrad: true, gradcam: false, occlusion: true };

/** One panel per sample (at most 32): heat maps over images, signed bars for tabular samples. */
function samplesSvg(ex: Explaining, a: Attributions, method: Method): string {
  const size = ex.model.meta.inputSize;
  const mapSize = a.shape.reduce((p, d) => p * d, 1);
  const shown = Math.min(ex.n, 32);
  const panels: Panel[] = [];
  for (let i = 0; i < shown; i++) {
    const title = `#${i} ${className(ex, a.targets[i]!)} · ${method}`;
    const map = a.values.subarray(i * mapSize, (i + 1) * mapSize);
    if (ex.model.meta.inputShape.length >= 2) {
      panels.push(heatmapPanel({ image: ex.x.subarray(i * size, (i + 1) * size), shape: ex.model.meta.inputShape, map, mapShape: a.shape, signed: SIGNED[method], title }));
    } else panels.push(barsPanel({ names: ex.featureNames, values: map, title }));
  }
  return svgDocument(panels, ex.model.meta.inputShape.length >= 2 ? Math.min(4, shown) : Math.min(3, shown));
}

function summarySvg(s: Summary, method: Method): string {
  if (s.image) {
    const zero = new Float32Array(s.meanAbs.length);
    return svgDocument([heatmapPanel({ image: zero, shape: s.shape, map: s.meanAbs, mapShape: s.shape, signed: false, beside: false, title: `mean |${method}| over ${s.n} samples` })]);
  }
  const panels = [barsPanel({ names: s.names, values: s.meanAbs, title: `mean |${method}| over ${s.n} samples` })];
  if (s.permutation) panels.push(barsPanel({ names: s.names, values: s.permutation, title: "permutation importance (loss increase)" }));
  return svgDocument(panels);
}
