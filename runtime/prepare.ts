/**
 * Loaded data sets → the splits a run trains on: held-out test and validation fractions
 * (a seeded permutation, so sorted files split fairly), labels as the model's targets,
 * scaling and normalization fitted on the training split only.
 */
import { encodeTexts, fitTokenizer, fitTokens, tokenIds, tokens, windows } from "./text.js";
import type { Data, DataSource } from "../compiler/program.js";
import { hasErrors, type Diagnostic, type Result } from "../grammar/diagnostics.js";
import type { Span } from "../grammar/span.js";
import { FILE_START } from "../grammar/span.js";
import { subset, type Dataset } from "./dataset.js";
import type { Task } from "./metrics.js";
import { applyPreprocess, fitPreprocess, fitTarget, scaleTargets, type Preprocess, type TargetScaling } from "./preprocess.js";
import { deriveSeed, Rng } from "./rng.js";
import { dataDiag, lineSpan, listNames } from "./span.js";
import type { CsvSchema } from "./csv.js";
import { prepareTagged } from "./tagged.js";

/** Samples ready for the model: normalized features and targets of the output's width. */
export interface Split {
  readonly n: number;
  readonly features: number;
  /** n × features, preprocessed. */
  readonly x: Float32Array;
  /** n × outputs: one-hot rows, 0/1, or target values; with `ids`, n × steps class ids (−1: a padded step of a tagger, no target). */
  readonly y: Float32Array;
  /** With `normalize_target`: `y` is standardized; metrics read outputs and targets back in the data's units. */
  readonly target?: TargetScaling;
  /**
   * A language model's targets, kept as ids (one-hot rows of every step of every window would
   * take steps × classes floats per sample): each batch expands its own (`runtime/train.ts`).
   */
  readonly ids?: { readonly steps: number; readonly classes: number };
}

export interface PreparedData {
  readonly train: Split;
  readonly validation: Split | undefined;
  readonly test: Split | undefined;
  readonly preprocess: Preprocess;
}

export interface LoadedData {
  readonly train: Dataset;
  readonly test?: Dataset;
  readonly validation?: Dataset;
  /** How the training CSV was read, kept with the weights. */
  readonly csv?: CsvSchema;
}

export interface ModelShape {
  readonly inputShape: readonly number[];
  readonly inputSize: number;
  readonly outputSize: number;
  /** The shape of one sample's output ([T, V] for a sequence); `[outputSize]` when absent. */
  readonly outputShape?: readonly number[];
}

/** Splits, checks and preprocesses. `span` is the `data` block, for problems that belong to no file. */
export function prepareData(
  data: Data,
  loaded: LoadedData,
  shape: ModelShape,
  task: Task,
  span: Span,
  /** Statistics saved with the weights (eval, predict); fitted on the training split when absent. */
  fixed?: Preprocess,
): Result<PreparedData | undefined> {
  if (loaded.train.stream === true) return prepareStream(data, loaded, shape, span, fixed);
  if (loaded.train.tagged !== undefined) return prepareTagged(data, loaded, shape, span, fixed);
  const diagnostics: Diagnostic[] = [];
  let train = loaded.train;
  let test = loaded.test;
  let validation = loaded.validation;
  if (train.n === 0) {
    // Not the held-out fractions' doing: the file itself holds nothing.
    diagnostics.push(dataDiag(train.file, "emptyData", FILE_START, [], "the file holds no samples"));
    return { value: undefined, diagnostics };
  }

  // Held-out fractions: test from the whole set first, then validation from what remains.
  const perm = new Uint32Array(train.n);
  for (let i = 0; i < train.n; i++) perm[i] = i;
  new Rng(deriveSeed(data.shuffleSeed, 0x5eed)).shuffle(perm);
  let rest: Uint32Array = perm;
  if (typeof data.test === "number" && data.test > 0) {
    const k = Math.round(train.n * data.test);
    test = subset(train, rest.subarray(0, k));
    rest = rest.subarray(k);
  }
  if (typeof data.validation === "number" && data.validation > 0) {
    const k = Math.round(rest.length * data.validation);
    validation = subset(train, rest.subarray(0, k));
    rest = rest.subarray(k);
  }
  if (rest.length !== train.n) train = subset(train, Array.from(rest).sort((a, b) => a - b));
  if (train.n === 0) {
    diagnostics.push(dataDiag(train.file, "emptyData", span, [], "the held-out fractions leave no training samples"));
    return { value: undefined, diagnostics };
  }

  // Text: the tokenizer is fitted on the training split (or given with the weights), then
  // every split's texts become its features, `length` ids per sample.
  let tokenizer = fixed?.tokenizer;
  if (data.tokenize !== undefined) {
    if (train.texts === undefined) {
      diagnostics.push(dataDiag(train.file, "emptyData", span, [], "`tokenize` needs a text column: `csv(…, text: column)`"));
      return { value: undefined, diagnostics };
    }
    tokenizer ??= fitTokenizer(train.texts, data.tokenize);
    const tok = tokenizer;
    const encode = (d: Dataset | undefined): Dataset | undefined =>
      d === undefined || d.texts === undefined ? d : { ...d, x: encodeTexts(d.texts, tok), features: tok.length, featureNames: Array.from({ length: tok.length }, (_, j) => `token ${j + 1}`) };
    train = encode(train) as Dataset;
    test = encode(test);
    validation = encode(validation);
  }

  // With the weights' classes (eval, explain): labels are read by name against the classes the
  // model was trained on, whatever subset or order of them this file holds.
  if (fixed?.classes !== undefined) {
    const known = fixed.classes;
    const unknown = new Map<string, string | undefined>(); // label → its file
    const named = (d: Dataset | undefined): Dataset | undefined => (d === undefined ? d : byClassName(d, known, unknown));
    train = named(train) as Dataset;
    test = named(test);
    validation = named(validation);
    if (unknown.size > 0) {
      diagnostics.push(
        dataDiag([...unknown.values()][0], "unknownClass", FILE_START, [listNames([...unknown.keys()]), listNames(known)],
          "the weights can only name the classes they were trained on: evaluate on data with those labels, or train again with these"),
      );
      return { value: undefined, diagnostics };
    }
  }

  // Held-out fractions share their file with the training split: one message per file.
  const checked = new Set<string>();
  for (const d of [train, validation, test]) {
    if (!d || checked.has(`${d.file ?? ""}\u0000${d.features}`)) continue;
    checked.add(`${d.file ?? ""}\u0000${d.features}`);
    checkFeatures(d, shape, span, diagnostics, loaded.csv);
  }
  if (hasErrors(diagnostics)) return { value: undefined, diagnostics };

  if (train.classes !== undefined && data.classes !== undefined)
    diagnostics.push(dataDiag(undefined, "ignoredSetting", data.classes.span, ["`classes` names numbered labels, and this file's labels are names already"], "remove `classes`"));
  const classes = fixed?.classes ?? train.classes ?? namedClasses(data, train, task, diagnostics);
  if (hasErrors(diagnostics)) return { value: undefined, diagnostics };
  const fitted = fixed ?? fitPreprocess(train.x, train.n, train.features, data.normalize, data.scale);
  if (fixed === undefined && data.normalize === "none" && data.tokenize === undefined) warnUnscaled(train, data.scale, span, diagnostics);
  const preprocess: Preprocess = {
    ...fitted,
    ...(classes ? { classes } : {}),
    ...(loaded.csv ? { csv: loaded.csv } : {}),
    ...(tokenizer !== undefined ? { tokenizer } : {}),
  };
  // Subsets are our own copies and are transformed in place; loaded arrays are copied first.
  const given = new Set([loaded.train.x, loaded.test?.x, loaded.validation?.x]);
  const make = (d: Dataset | undefined): Split | undefined => {
    if (!d) return undefined;
    const y = targets(d, task, shape.outputSize, span, diagnostics);
    const x = given.has(d.x) ? new Float32Array(d.x) : d.x;
    applyPreprocess(preprocess, x, d.features);
    return y ? { n: d.n, features: d.features, x, y } : undefined;
  };
  const splits = { train: make(train), validation: make(validation), test: make(test) };
  if (hasErrors(diagnostics) || splits.train === undefined) return { value: undefined, diagnostics };
  // Regression targets standardized with the training split's statistics (or those saved with the weights).
  const target = data.normalizeTarget !== undefined && task.kind === "regression" ? (fixed?.target ?? fitTarget(splits.train.y, shape.outputSize)) : undefined;
  const scaled = (sp: Split | undefined): Split | undefined => {
    if (sp === undefined || target === undefined) return sp;
    scaleTargets(target, sp.y);
    return { ...sp, target };
  };
  const value: PreparedData = {
    train: scaled(splits.train)!,
    validation: scaled(splits.validation),
    test: scaled(splits.test),
    preprocess: target ? { ...preprocess, target } : preprocess,
  };
  return { value, diagnostics };
}

/** `classes [...]` of the data block: names for numbered labels, one per class of the model. */
function namedClasses(data: Data, train: Dataset, task: Task, out: Diagnostic[]): readonly string[] | undefined {
  const c = data.classes;
  if (c === undefined || train.labelWidth !== 1) return undefined;
  const k = task.kind === "multiclass" ? task.classes : task.kind === "binary" ? 2 : undefined;
  if (k === undefined) {
    out.push(dataDiag(undefined, "conflictingSettings", c.span, ["`classes` names the classes of a classifier, but this model's loss is a regression's"], "remove `classes`"));
    return undefined;
  }
  if (c.names.length !== k) {
    out.push(dataDiag(undefined, "conflictingSettings", c.span, [`\`classes\` names ${c.names.length} classes, but the model has ${k}`], `give one name per class, in label order (0 … ${k - 1})`));
    return undefined;
  }
  return c.names;
}

/** Features this wide, left as they are, slow or stall gradient descent: say so (once, for the widest). */
const WIDE_RANGE = 100;

function warnUnscaled(d: Dataset, scale: number, span: Span, out: Diagnostic[]): void {
  let widest = -1;
  let range = 0;
  let lo = 0;
  let hi = 0;
  for (let j = 0; j < d.features; j++) {
    let a = Infinity;
    let b = -Infinity;
    for (let i = 0; i < d.n; i++) {
      const v = d.x[i * d.features + j]! * scale;
      if (v < a) a = v;
      if (v > b) b = v;
    }
    if (b - a > range) [widest, range, lo, hi] = [j, b - a, a, b];
  }
  if (widest < 0 || range <= WIDE_RANGE) return;
  const name = d.featureNames?.[widest] ?? `feature ${widest}`;
  const fmt = (v: number): string => String(Number(v.toPrecision(4)));
  out.push(dataDiag(d.file, "unnormalizedFeatures", d.file === undefined ? span : FILE_START, [name, fmt(lo), fmt(hi)], "add `normalize standard` to the data block (fitted on the training split, saved with the weights), or `scale`"));
}

function where(d: Dataset, i: number, span: Span): Span {
  if (d.file === undefined) return span;
  return d.origin && d.originKind === "line" ? lineSpan(d.origin[i]!) : FILE_START;
}

function recordNote(d: Dataset, i: number): string {
  if (d.file === undefined) return ` (sample ${i})`;
  return d.origin && d.originKind === "record" ? ` (record ${d.origin[i]})` : "";
}

function checkFeatures(d: Dataset, shape: ModelShape, span: Span, out: Diagnostic[], csv?: CsvSchema): void {
  if (d.features === shape.inputSize) return;
  const from = d.featureNames && csv ? csvFeatures(csv) : undefined;
  out.push(
    dataDiag(d.file, "dataShapeMismatch", d.file === undefined ? span : FILE_START,
      [d.features, `[${shape.inputShape.join(", ")}]`, shape.inputSize],
      `${from ? `${from}; ` : ""}choose the feature columns that match the model's \`input\`, or change the input shape`),
  );
}

/** How a CSV's columns become features: "2 numeric columns (a, b) and `color` one-hot as 3 (blue, green, red)". */
function csvFeatures(csv: CsvSchema): string {
  const list = (xs: readonly string[]): string => (xs.length > 6 ? `${xs.slice(0, 5).join(", ")}, …` : xs.join(", "));
  const numeric = csv.featureColumns.filter((c) => csv.categories[c] === undefined);
  const parts = numeric.length > 0 ? [`${numeric.length} numeric column${numeric.length === 1 ? "" : "s"} (${list(numeric)})`] : [];
  for (const [c, cats] of Object.entries(csv.categories)) parts.push(`\`${c}\` one-hot as ${cats.length} (${list(cats)})`);
  return `the features are ${parts.join(" and ")}`;
}

/** Labels → targets of the output's width, or undefined after reporting problems into `out`. */
export function targets(d: Dataset, task: Task, outputs: number, span: Span, out: Diagnostic[]): Float32Array | undefined {
  const before = out.length;
  // One message for all the rows with a label out of range: the first, with how many there are.
  let first: { i: number; label: string; k: number; hint: string } | undefined;
  const rows: number[] = [];
  const bad = (i: number, label: string, k: number, hint: string): void => {
    first ??= { i, label, k, hint };
    rows.push(i);
  };
  const flush = (): void => {
    if (first === undefined) return;
    const where_ = rows.slice(0, 5).map((i) => (d.origin ? `${d.originKind === "record" ? "record" : "line"} ${d.origin[i]}` : `sample ${i}`));
    const more = rows.length > 1 ? ` (${rows.length} samples in all: ${where_.join(", ")}${rows.length > 5 ? ", …" : ""})` : "";
    out.push(dataDiag(d.file, "labelOutOfRange", where(d, first.i, span), [`${first.label}${recordNote(d, first.i)}`, first.k], `${first.hint}${more}`));
    first = undefined;
  };
  if (d.labelWidth === outputs && !(task.kind === "multiclass" && outputs === 1)) {
    if (task.kind === "binary")
      for (let i = 0; i < d.n; i++) {
        const v = d.y[i]!;
        if (v < 0 || v > 1) bad(i, String(v), 2, "binary_cross_entropy needs labels 0 or 1");
      }
    flush();
    return out.length > before ? undefined : new Float32Array(d.y);
  }
  if (d.labelWidth === 1 && task.kind === "multiclass") {
    const k = task.classes;
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < d.n; i++) {
      lo = Math.min(lo, d.y[i]!);
      hi = Math.max(hi, d.y[i]!);
    }
    // Labels 1 … k (a habit from R and MATLAB) where nnc counts 0 … k − 1.
    const oneBased = d.classes === undefined && lo === 1 && hi === k;
    const y = new Float32Array(d.n * k);
    for (let i = 0; i < d.n; i++) {
      const c = d.y[i]!;
      if (!Number.isInteger(c) || c < 0 || c >= k) {
        const name = d.classes && Number.isInteger(c) && c >= 0 ? `\`${d.classes[c] ?? c}\`` : String(c);
        bad(i, name, k, oneBased ? `the labels run 1 … ${k}, but classes are counted from 0: write them 0 … ${k - 1} (or as names, e.g. \`cat\`, \`dog\`)` : `labels must be class numbers 0 … ${k - 1}; give the last layer as many units as there are classes`);
      } else y[i * k + c] = 1;
    }
    flush();
    return out.length > before ? undefined : y;
  }
  out.push(
    dataDiag(d.file, "labelWidthMismatch", d.file === undefined ? span : FILE_START, [d.labelWidth, outputs],
      task.kind === "multiclass"
        ? "cross_entropy takes one class per sample, or one-hot rows as wide as the output"
        : "give each sample as many targets as the last layer has units"),
  );
  return undefined;
}

/**
 * A language model's splits from `text(…)` sources: the training text's tokens, the test share
 * cut from its end and the validation share from before that (so no held-out window overlaps
 * a training one), the tokenizer fitted on the training tokens alone, then each split cut into
 * windows whose targets are the next ids (`windows`). The targets stay ids (`Split.ids`).
 */
function prepareStream(data: Data, loaded: LoadedData, shape: ModelShape, span: Span, fixed?: Preprocess): Result<PreparedData | undefined> {
  const diagnostics: Diagnostic[] = [];
  const settings = data.tokenize;
  const train = loaded.train;
  if (settings === undefined) {
    diagnostics.push(dataDiag(train.file, "emptyData", span, [], "a `text(…)` source needs `tokenize` in the data block"));
    return { value: undefined, diagnostics };
  }
  const split = (d: Dataset): string[] => tokens(d.texts?.[0] ?? "", settings.kind, settings.lowercase);
  let rest = split(train);
  const cut = (share: DataSource | number): string[] | undefined => {
    if (typeof share !== "number" || share <= 0) return undefined;
    const k = Math.round(rest.length * share);
    const held = rest.slice(rest.length - k);
    rest = rest.slice(0, rest.length - k);
    return held;
  };
  const testTokens = loaded.test ? split(loaded.test) : cut(data.test);
  const validationTokens = loaded.validation ? split(loaded.validation) : cut(data.validation);
  const tokenizer = fixed?.tokenizer ?? fitTokens([rest], settings);
  const steps = tokenizer.length;
  const classes = steps > 0 && shape.outputSize % steps === 0 ? shape.outputSize / steps : 0;
  if (steps !== shape.inputSize || classes < Math.min(settings.vocabulary, tokenizer.tokens.length + 2)) {
    diagnostics.push(
      dataDiag(train.file, "languageModelShape", span, [steps, tokenizer.tokens.length + 2, `[${shape.inputShape.join(", ")}]`, shape.outputSize],
        `a language model reads \`input ${steps}\` ids and ends with \`dense ${settings.vocabulary}, softmax\` at every step: its output is [${steps}, ${settings.vocabulary}]`),
    );
    return { value: undefined, diagnostics };
  }
  const make = (toks: string[] | undefined, file: string | undefined): Split | undefined => {
    if (toks === undefined) return undefined;
    const w = windows(tokenIds(toks, tokenizer), steps);
    if (w.n === 0) {
      diagnostics.push(dataDiag(file, "emptyData", span, [], `the text needs more than ${steps} tokens to make one window of ${steps} steps`));
      return undefined;
    }
    return { n: w.n, features: steps, x: w.x, y: w.y, ids: { steps, classes } };
  };
  const value = {
    train: make(rest, train.file),
    validation: make(validationTokens, loaded.validation?.file ?? train.file),
    test: make(testTokens, loaded.test?.file ?? train.file),
    preprocess: { ...fitPreprocess(new Float32Array(0), 0, 0, "none", 1), tokenizer },
  };
  if (hasErrors(diagnostics) || value.train === undefined) return { value: undefined, diagnostics };
  return { value: value as PreparedData, diagnostics };
}

/**
 * `d` with its class indices renumbered from its own classes to `classes` (the weights'), by
 * name; a label the weights do not know is one error naming it and the known classes.
 */
function byClassName(d: Dataset, classes: readonly string[], unknown: Map<string, string | undefined>): Dataset {
  const own = d.classes;
  if (own === undefined || d.labelWidth !== 1 || (own.length === classes.length && own.every((c, i) => c === classes[i]))) return d;
  const index = new Map(classes.map((c, i) => [c, i] as const));
  const to = own.map((c) => index.get(c) ?? -1);
  const missing = own.filter((_, i) => to[i]! < 0 && d.y.includes(i));
  for (const c of missing) if (!unknown.has(c)) unknown.set(c, d.file);
  if (missing.length > 0) return d;
  const y = new Float32Array(d.y.length);
  for (let i = 0; i < y.length; i++) y[i] = to[d.y[i]!]!;
  return { ...d, y, classes };
}
