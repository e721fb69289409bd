/**
 * The weights file: one JSON document that the generated module alone can load.
 *
 *     const w = JSON.parse(text);
 *     const model = createModel();          // from the generated module
 *     model.params.set(w.params);           // that is all
 *
 * plus `preprocess` (scale and per-feature shift/divide: x' = (x·scale − shift) / divide) and
 * `classes` (names of the outputs), so an application transforms inputs as training did.
 * Numbers are written with JavaScript's shortest round-trip form, so float32 values survive
 * exactly.
 */
import type { CompiledModel, ParamEntry } from "../compiler/model-api.js";
import type { Diagnostic, Result } from "../grammar/diagnostics.js";
import { FILE_START } from "../grammar/span.js";
import type { Task } from "./metrics.js";
import type { Preprocess } from "./preprocess.js";
import { dataDiag } from "./span.js";

export const WEIGHTS_FORMAT = "nnc-weights";
export const WEIGHTS_VERSION = 1;

export interface WeightsFile {
  readonly format: typeof WEIGHTS_FORMAT;
  readonly version: number;
  readonly model: string;
  readonly inputShape: readonly number[];
  readonly outputSize: number;
  readonly task: Task;
  readonly layout: readonly Pick<ParamEntry, "name" | "shape" | "offset" | "size">[];
  readonly preprocess: Preprocess;
  /** Epochs trained. */
  readonly epochs: number;
  /**
   * With early stopping: the monitored metric's best value and epoch, and whether `params` are
   * that epoch's (restored) rather than the last epoch's.
   */
  readonly best?: BestEpoch;
  /** Every parameter, flat, in `layout` order (also batchnorm statistics). */
  readonly params: readonly number[];
}

export interface BestEpoch {
  readonly monitor: string;
  readonly value: number;
  readonly epoch: number;
  readonly restored: boolean;
}

export function encodeWeights(model: CompiledModel, preprocess: Preprocess, task: Task, epochs: number, best?: BestEpoch): string {
  const w: WeightsFile = {
    format: WEIGHTS_FORMAT,
    version: WEIGHTS_VERSION,
    model: model.meta.name,
    inputShape: model.meta.inputShape,
    outputSize: model.meta.outputSize,
    task,
    layout: model.layout.map(({ name, shape, offset, size }) => ({ name, shape, offset, size })),
    preprocess,
    epochs,
    ...(best ? { best } : {}),
    params: Array.from(model.params),
  };
  // One parameter array per line keeps the file diff-able and quick to parse.
  const { params, ...head } = w;
  return `${JSON.stringify(head, null, 1).slice(0, -2)},\n "params": [${params.join(",")}]\n}\n`;
}

/** Parses and checks a weights file against the model's layout (NN5004 when it does not fit). */
export function decodeWeights(text: string, model: CompiledModel, file: string): Result<WeightsFile | undefined> {
  const bad = (why: string, hint: string): Result<undefined> => ({
    value: undefined,
    diagnostics: [dataDiag(file, "weightsMismatch", FILE_START, [file, why], hint)],
  });
  let w: WeightsFile;
  try {
    w = JSON.parse(text) as WeightsFile;
  } catch (e) {
    return bad(`it is not JSON (${e instanceof Error ? e.message : String(e)})`, "pass the weights.json that `nnc train` wrote");
  }
  if (w === null || typeof w !== "object" || w.format !== WEIGHTS_FORMAT || !Array.isArray(w.params))
    return bad("it is not an nnc weights file", "pass the weights.json that `nnc train` wrote");
  const problems: string[] = [];
  const layout = model.layout;
  if (w.params.length !== model.params.length)
    problems.push(`it holds ${w.params.length} parameters, the model has ${model.params.length}`);
  // Each entry is read as the model's: a name, a shape of whole numbers, an offset (a hand-edited
  // `layout` of another form is "no such tensor", not an exception).
  const given: readonly unknown[] = Array.isArray(w.layout) ? w.layout : [];
  const isEntry = (x: unknown): x is WeightsFile["layout"][number] => {
    const o = x as Record<string, unknown> | null;
    return o !== null && typeof o === "object" && typeof o["name"] === "string" && typeof o["offset"] === "number" && Array.isArray(o["shape"]) && o["shape"].every((d) => typeof d === "number");
  };
  if (!Array.isArray(w.layout)) problems.push("its `layout` is not a list");
  for (const e of Array.isArray(w.layout) ? layout : []) {
    const f = given.find((x): x is WeightsFile["layout"][number] => isEntry(x) && x.name === e.name);
    if (!f) problems.push(`it has no tensor \`${e.name}\``);
    else if (f.shape.join("×") !== e.shape.join("×") || f.offset !== e.offset)
      problems.push(`\`${e.name}\` has shape [${f.shape.join(", ")}], the model needs [${e.shape.join(", ")}]`);
    if (problems.length >= 3) break;
  }
  if (problems.length > 0) return bad(problems.join("; "), "the model in the .nn file changed since training; train again or use the matching file");
  const notNumber = w.params.findIndex((v) => typeof v !== "number" || !Number.isFinite(v));
  if (notNumber >= 0) return bad(`parameter ${notNumber} is ${String(w.params[notNumber])}, not a finite number`, "the file is damaged; train again");
  const damaged = preprocessProblem(w.preprocess, model);
  if (damaged !== undefined) return bad(`its preprocessing is damaged: ${damaged}`, "the file was edited or damaged; train again (the weights alone cannot be trusted without the statistics they were trained with)");
  return { value: w, diagnostics: [] as Diagnostic[] };
}

const NORMALIZATIONS: readonly string[] = ["none", "standard", "minmax"];

/**
 * What is wrong with a weights file's `preprocess` for this model, or undefined: every field is
 * used as it is by `eval`, `predict` and `export`, so a hand-edited or damaged value (a string
 * scale, a short or infinite shift, a zero divisor, fewer class names than classes, a tokenizer
 * of another length) would give wrong numbers without a word.
 */
function preprocessProblem(p: unknown, model: CompiledModel): string | undefined {
  if (p === null || typeof p !== "object" || Array.isArray(p)) return "`preprocess` is missing";
  const pre = p as Record<string, unknown>;
  const features = model.meta.inputSize;
  if (typeof pre["scale"] !== "number" || !Number.isFinite(pre["scale"])) return `its scale is ${JSON.stringify(pre["scale"])}`;
  if (typeof pre["normalize"] !== "string" || !NORMALIZATIONS.includes(pre["normalize"])) return `its normalize is ${JSON.stringify(pre["normalize"])}`;
  for (const key of ["shift", "divide"]) {
    const a = pre[key];
    if (!Array.isArray(a)) return `its ${key} is not a list`;
    if (pre["normalize"] !== "none" && a.length !== features) return `it has ${a.length} ${key} values for ${features} features`;
    const k = a.findIndex((v) => typeof v !== "number" || !Number.isFinite(v) || (key === "divide" && v === 0));
    if (k >= 0) return `${key}[${k}] is ${JSON.stringify(a[k])}`;
  }
  const classes = pre["classes"];
  if (classes !== undefined) {
    if (!Array.isArray(classes) || classes.some((c) => typeof c !== "string") || new Set(classes).size !== classes.length) return "its class names are not distinct texts";
    const shape = model.meta.outputShape;
    const want = model.meta.loss === "cross_entropy" ? (shape[shape.length - 1] as number) : model.meta.loss === "binary_cross_entropy" && model.meta.outputSize === 1 ? 2 : undefined;
    if (want !== undefined && classes.length !== want) return `it names ${classes.length} classes, the model has ${want}`;
  }
  const tok = pre["tokenizer"];
  if (tok !== undefined) {
    const t = tok as Record<string, unknown>;
    if (tok === null || typeof tok !== "object" || (t["kind"] !== "chars" && t["kind"] !== "words") || typeof t["lowercase"] !== "boolean") return "its tokenizer is not one nnc wrote";
    if (t["length"] !== features) return `its tokenizer makes ${JSON.stringify(t["length"])} ids, the model reads ${features}`;
    const tokens = t["tokens"];
    if (!Array.isArray(tokens) || tokens.some((x) => typeof x !== "string") || new Set(tokens).size !== tokens.length) return "its tokenizer's tokens are not distinct texts";
  }
  const target = pre["target"];
  if (target !== undefined) {
    // `normalize_target`: a finite mean and a finite, non-zero std per output.
    const t = (target ?? {}) as Record<string, unknown>;
    for (const key of ["mean", "std"]) {
      const a = t[key];
      if (!Array.isArray(a) || a.length !== model.meta.outputSize) return `its target ${key} is not ${model.meta.outputSize} numbers`;
      const k = a.findIndex((v) => typeof v !== "number" || !Number.isFinite(v) || (key === "std" && v === 0));
      if (k >= 0) return `target ${key}[${k}] is ${JSON.stringify(a[k])}`;
    }
  }
  return undefined;
}

/**
 * The per-feature transform a weights file's `preprocess` stands for, with every feature
 * spelled out: x' = (x · scale − shift[j]) / divide[j]. Exactly what `applyPreprocess` does:
 * with `normalize none` the file stores empty `shift` and `divide` (nothing was fitted), which
 * is shift 0 and divide 1 here, never a division by 0 or by a missing entry. A statistic that is
 * not a finite number, or a divisor of 0, is refused (the file was damaged or edited).
 */
export function featureTransform(
  p: Preprocess,
  features: number,
): { value: { scale: number; shift: number[]; divide: number[] } | undefined; problem?: string } {
  if (typeof p.scale !== "number" || !Number.isFinite(p.scale)) return { value: undefined, problem: `its scale is ${String(p.scale)}` };
  const fitted = p.normalize !== "none" && Array.isArray(p.shift) && p.shift.length === features;
  const shift = new Array<number>(features).fill(0);
  const divide = new Array<number>(features).fill(1);
  if (fitted) {
    if (!Array.isArray(p.divide) || p.divide.length !== features)
      return { value: undefined, problem: `it has ${features} shifts but ${Array.isArray(p.divide) ? p.divide.length : "no"} divisors` };
    for (let j = 0; j < features; j++) {
      const s = p.shift[j];
      const d = p.divide[j];
      if (typeof s !== "number" || !Number.isFinite(s)) return { value: undefined, problem: `shift[${j}] is ${String(s)}` };
      if (typeof d !== "number" || !Number.isFinite(d) || d === 0) return { value: undefined, problem: `divide[${j}] is ${String(d)}` };
      shift[j] = s;
      divide[j] = d;
    }
  }
  return { value: { scale: p.scale, shift, divide } };
}
