/**
 * The `data { … }` block: the training source (a generator or a file format), the test and
 * validation splits (a source or a share), normalization, scale and shuffling.
 */
import type { Expr, Statement } from "../../grammar/ast.js";
import { DATA_SETTINGS, SOURCES, argValues, names } from "../vocabulary.js";
import type { CsvSource, Data, DataSource, GeneratorKind, InputColumns, Model, Normalization, TaggedSource, TextSource, Tokenize } from "../program.js";
import { checkTagged } from "./tagged.js";
import { didYouMean } from "../suggest.js";
import { describeExpr, expectNoBlock, openSection, word, type Checker } from "./checker.js";

/** Sources that make their data (every source but the file formats). */
const GENERATORS = new Set<string>(names(SOURCES).filter((n) => !["csv", "idx", "json", "text", "tagged"].includes(n)));
const GEN_DEFAULT_NOISE: Record<GeneratorKind, number> = {
  xor: 0.1,
  circles: 0.05,
  spiral: 0.1,
  moons: 0.1,
  gaussian: 0.5,
  sine: 0.05,
};

function checkDataSource(ck: Checker, e: Expr): DataSource | undefined {
  const c = ck.callable(e, SOURCES, "data source", "unknownSource");
  if (c === undefined) return undefined;
  const get = (k: string): Expr | undefined => c.args.get(k)?.expr;
  const name = c.word.name;
  const span = c.span;
  if (GENERATORS.has(name)) {
    const g = name as GeneratorKind;
    const size = get("size") === undefined ? 1000 : ck.posInt(get("size") as Expr, "size", 10_000_000);
    const noise = get("noise") === undefined ? GEN_DEFAULT_NOISE[g] : ck.ranged(get("noise") as Expr, "noise", 0, 100, "a number ≥ 0");
    const seed = get("seed") === undefined ? 1 : ck.seed(get("seed") as Expr, "seed");
    const classes = get("classes") === undefined ? 2 : ck.ranged(get("classes") as Expr, "classes", 2, 100, "a whole number from 2 to 100", { int: true });
    if (size === undefined || noise === undefined || seed === undefined || classes === undefined) return undefined;
    return { kind: "generator", generator: g, size, noise, seed, classes, span };
  }
  if (name === "csv") {
    const pathExpr = get("path");
    if (pathExpr === undefined) {
      ck.report("missingRequired", span, ["csv", "a file path"], 'e.g. `csv("data/iris.csv", label: species)`');
      return undefined;
    }
    const path = ck.path(pathExpr, "path");
    const label = get("label") === undefined ? undefined : ck.column(get("label") as Expr, "label");
    const features = get("features") === undefined ? undefined : ck.columns(get("features") as Expr, "features");
    const categorical = get("categorical") === undefined ? [] : ck.columns(get("categorical") as Expr, "categorical");
    const header = get("header") === undefined ? true : ck.bool(get("header") as Expr, "header");
    const missing = get("missing") === undefined ? "error" : ck.choice(get("missing") as Expr, "missing", argValues(SOURCES, "csv", "missing") as readonly CsvSource["missing"][]);
    const delimiter = get("delimiter") === undefined ? "," : ck.text(get("delimiter") as Expr, "delimiter");
    const text = get("text") === undefined ? undefined : ck.column(get("text") as Expr, "text");
    if (delimiter !== undefined && delimiter.length !== 1) {
      ck.report("outOfRange", (get("delimiter") as Expr).span, ["delimiter", "a single character", `"${delimiter}"`]);
      return undefined;
    }
    if (label !== undefined && features?.includes(label)) {
      ck.report("labelIsFeature", (get("features") as Expr).span, [String(label)], `remove \`${label}\` from \`features\`; a model given its label as an input learns nothing it can use on new data`);
    }
    if (path === undefined || categorical === undefined || header === undefined || missing === undefined || delimiter === undefined) return undefined;
    return { kind: "csv", path, header, label, features, categorical, missing, delimiter, ...(text !== undefined ? { text } : {}), span };
  }
  if (name === "idx") {
    const imagesExpr = get("images");
    const labelsExpr = get("labels");
    if (imagesExpr === undefined || labelsExpr === undefined) {
      ck.report("missingRequired", span, ["idx", "an images file and a labels file"], 'e.g. `idx("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")`');
      return undefined;
    }
    const images = ck.path(imagesExpr, "images");
    const labels = ck.path(labelsExpr, "labels");
    const limit = get("limit") === undefined ? 0 : ck.nonNegInt(get("limit") as Expr, "limit");
    const sideExpr = get("side");
    const side = sideExpr === undefined ? undefined : checkDataSource(ck, sideExpr);
    if (sideExpr !== undefined && side !== undefined && side.kind !== "csv") {
      ck.report("wrongType", sideExpr.span, ["side", "a `csv(…)` source", describeExpr(sideExpr)], 'e.g. `side: csv("meta.csv")`');
      return undefined;
    }
    if (side?.kind === "csv" && (side.missing === "drop" || side.label !== undefined || side.text !== undefined)) {
      ck.report("conflictingSettings", side.span, ["the side columns are read row for row beside the images"], "every column is a feature and no row may be dropped: remove `label`, `text` and `missing: drop`");
      return undefined;
    }
    if (images === undefined || labels === undefined || limit === undefined || (sideExpr !== undefined && side === undefined)) return undefined;
    return { kind: "idx", images, labels, limit, ...(side?.kind === "csv" ? { side } : {}), span };
  }
  const kind = name === "text" ? "text" : name === "tagged" ? "tagged" : "json";
  const pathExpr = get("path");
  if (pathExpr === undefined) {
    ck.report("missingRequired", span, [kind, "a file path"], kind === "text" ? 'e.g. `text("data/book.txt")`' : kind === "tagged" ? 'e.g. `tagged("data/pos/train.txt")`' : 'e.g. `json("data/points.json")`');
    return undefined;
  }
  const path = ck.path(pathExpr, "path");
  return path === undefined ? undefined : { kind, path, span };
}

/** A source or a percentage of the training data. */
function sourceOrShare(ck: Checker, e: Expr, what: string): DataSource | number | undefined {
  if (e.kind === "percent" || e.kind === "number" || e.kind === "binary" || e.kind === "paren") {
    const v = ck.ranged(e, what, 0, 1, "a share from 0% to less than 100%", { hiOpen: true });
    return v;
  }
  return checkDataSource(ck, e);
}

export function checkData(ck: Checker, s: Statement): Data | undefined {
  const section = openSection(ck, s, DATA_SETTINGS, "e.g. `data { train spiral(size: 500) }`");
  if (section === undefined) return undefined;
  const { st, value } = section;
  const trainB = value("train", "a data source, e.g. `train spiral(size: 500)`");
  const trainE = trainB?.get("source")?.expr;
  if (trainE === undefined && !st.has("train")) {
    ck.report("missingRequired", s.keyword.span, ["data", "a `train` source"], 'e.g. `train csv("data.csv")` or `train spiral(size: 500)`');
    return undefined;
  }
  const train = trainE === undefined ? undefined : checkDataSource(ck, trainE);
  const testE = value("test", "a data source or a share")?.get("source")?.expr;
  const test = testE === undefined ? 0 : sourceOrShare(ck, testE, "test");
  const valE = value("validation", "a data source or a share")?.get("source")?.expr;
  const validation = valE === undefined ? 0 : sourceOrShare(ck, valE, "validation");
  const normE = value("normalize", "a method")?.get("method")?.expr;
  const normalize = normE === undefined ? "none" : ck.choice(normE, "normalize", argValues(DATA_SETTINGS, "normalize", "method") as readonly Normalization[]);
  const scaleE = value("scale", "a factor")?.get("factor")?.expr;
  let scale: number | undefined = 1;
  if (scaleE !== undefined) {
    scale = ck.number(scaleE, "scale");
    if (scale === 0) {
      ck.report("outOfRange", scaleE.span, ["scale", "a non-zero number", "0"]);
      scale = undefined;
    }
  }
  let shuffle = true;
  let shuffleSeed = 0;
  const sh = st.get("shuffle");
  if (sh !== undefined) {
    expectNoBlock(ck, sh);
    const b = ck.bind(sh.keyword, word(DATA_SETTINGS, "shuffle"), sh.args);
    const en = b.get("enabled");
    if (en !== undefined) shuffle = ck.bool(en.expr, "shuffle") ?? true;
    const sd = b.get("seed");
    if (sd !== undefined) shuffleSeed = ck.seed(sd.expr, "seed") ?? 0;
  }
  const inputs = st.has("inputs") ? inputColumns(ck, st.get("inputs") as Statement) : undefined;
  const tokenize = st.has("tokenize") ? checkTokenize(ck, st.get("tokenize") as Statement) : undefined;
  const texts = [train, test, validation].filter((d): d is CsvSource | TextSource | TaggedSource => typeof d === "object" && ((d.kind === "csv" && d.text !== undefined) || d.kind === "text" || d.kind === "tagged"));
  const sources = [train, test, validation].filter((d): d is DataSource => typeof d === "object");
  const lm = sources.filter((d) => d.kind === "text");
  if (lm.length > 0 && lm.length < sources.length) {
    // A language model's text and labelled samples do not mix: point at the odd one out.
    const odd = train !== undefined && typeof train === "object" && train.kind === "text" ? sources.find((d) => d.kind !== "text") : lm[0];
    ck.report("conflictingSettings", odd?.span ?? s.span, ["a `text(…)` source holds a language model's text, and the others labelled samples"], "read every split as `text(…)`, or give the held-out splits as shares (`test 10%`)");
    return undefined;
  }
  if (!checkTagged(ck, sources, tokenize, train)) return undefined;
  if (tokenize !== undefined && tokenize !== null && texts.length === 0) {
    ck.report("ignoredSetting", tokenize.span, ["`tokenize` reads a text column, and no `csv` source names one"], 'name it: `train csv("reviews.csv", label: sentiment, text: review)`');
  }
  if (tokenize === undefined && texts[0] !== undefined) {
    const tagged = texts[0].kind === "tagged";
    ck.report("missingRequired", texts[0].span, [tagged ? "tagged(…)" : "a text column", "a `tokenize` setting in the data block"], tagged ? "e.g. `tokenize words, length: 48`: each word an id, each step its tag" : "e.g. `tokenize words, length: 64`");
    return undefined;
  }
  if (tokenize !== undefined && tokenize !== null && normalize !== "none") {
    ck.report("conflictingSettings", st.get("normalize")?.span ?? s.span, ["token ids are not normalized"], "remove `normalize`");
    return undefined;
  }
  const targetE = value("normalize_target", "a method")?.get("method")?.expr;
  const normalizeTarget = targetE === undefined ? "none" : ck.choice(targetE, "normalize_target", ["standard", "none"] as const);
  const classesE = value("classes", "a list of names, e.g. `classes [\"cat\", \"dog\"]`")?.get("names")?.expr;
  const classes = classesE === undefined ? undefined : classNames(ck, classesE);
  if (section.failed || train === undefined || test === undefined || validation === undefined || normalize === undefined || scale === undefined || inputs === null || tokenize === null || normalizeTarget === undefined || classes === null) return undefined;
  return {
    train, test, validation, normalize, scale, shuffle, shuffleSeed, inputs, tokenize,
    ...(normalizeTarget === "standard" ? { normalizeTarget: { method: normalizeTarget, span: st.get("normalize_target")!.span } } : {}),
    ...(classes !== undefined ? { classes: { names: classes, span: st.get("classes")!.span } } : {}),
    span: s.span,
  };
}

/** `classes ["a", "b", …]`: two or more distinct names (null after reporting). */
function classNames(ck: Checker, e: Expr): string[] | null {
  if (e.kind !== "list" || e.items.length < 2) {
    if (e.kind !== "missing") ck.report("wrongType", e.span, ["classes", "a list of two or more names", e.kind === "list" ? `a list of ${e.items.length}` : "one value"], 'e.g. `classes ["cat", "dog"]`');
    return null;
  }
  const names = e.items.map((item) => ck.text(item, "a class name"));
  if (!names.every((n): n is string => n !== undefined)) return null;
  const dup = names.findIndex((n, i) => names.indexOf(n) !== i);
  if (dup >= 0) {
    ck.report("outOfRange", e.items[dup]!.span, ["classes", "distinct names", `\`${names[dup]}\` twice`]);
    return null;
  }
  return names;
}

/** `tokenize chars, length: 16, lowercase: true, vocabulary: 64`; null after a problem. */
function checkTokenize(ck: Checker, st: Statement): Tokenize | null {
  expectNoBlock(ck, st);
  const b = ck.bind(st.keyword, word(DATA_SETTINGS, "tokenize"), st.args);
  const kindE = b.get("kind")?.expr;
  const kind = kindE === undefined ? "words" : ck.choice(kindE, "tokenize", ["chars", "words"] as const);
  const lengthE = b.get("length")?.expr;
  if (lengthE === undefined) {
    ck.report("missingRequired", st.keyword.span, ["tokenize", "a `length` (ids per sample)"], "e.g. `tokenize words, length: 64`");
    return null;
  }
  const length = ck.posInt(lengthE, "length", 1 << 16);
  const lowercaseE = b.get("lowercase")?.expr;
  const lowercase = lowercaseE === undefined ? true : ck.bool(lowercaseE, "lowercase");
  const vocabE = b.get("vocabulary")?.expr;
  const vocabulary = vocabE === undefined ? 10000 : ck.ranged(vocabE, "vocabulary", 3, 1 << 22, "a whole number from 3 (padding, unknown and one token)", { int: true });
  if (kind === undefined || length === undefined || lowercase === undefined || vocabulary === undefined) return null;
  return { kind, length, lowercase, vocabulary, span: st.span };
}

/** `inputs measures: [...], place: [...]`: each named argument an input and its columns; null after a problem. */
function inputColumns(ck: Checker, st: Statement): InputColumns[] | null {
  expectNoBlock(ck, st);
  const out: InputColumns[] = [];
  let ok = true;
  if (st.args.length === 0) {
    ck.report("missingRequired", st.keyword.span, ["inputs", "each input's columns"], 'e.g. `inputs measures: ["length", "depth"], place: ["island"]`');
    return null;
  }
  for (const a of st.args) {
    if (a.name === undefined) {
      ck.report("wrongType", a.span, ["inputs", "`name: [columns]`", describeExpr(a.value)], 'name the input: `inputs measures: ["length", "depth"]`');
      ok = false;
      continue;
    }
    if (out.some((o) => o.name === a.name?.name)) {
      ck.report("duplicateArgument", a.name.span, [a.name.name]);
      ok = false;
      continue;
    }
    const columns = ck.columns(a.value, a.name.name);
    if (columns === undefined || columns.length === 0) {
      ok = false;
      continue;
    }
    out.push({ name: a.name.name, columns, span: a.span });
  }
  return ok ? out : null;
}


/**
 * A model with several inputs reads each from its own CSV columns: `inputs` must name every
 * input of the model (and nothing else), and the CSV sources' features become the inputs'
 * columns in the model's input order, so that each row is packed as the generated code expects.
 */
export function linkInputs(ck: Checker, model: Model, data: Data, dataStatement: Statement): Data | undefined {
  const names = model.inputs.map((i) => i.name).filter((n): n is string => n !== undefined);
  const csvSources = [data.train, data.test, data.validation].filter((d): d is CsvSource => typeof d === "object" && d.kind === "csv");
  if (data.inputs === undefined) {
    if (model.inputs.length > 1 && csvSources.length > 0) {
      ck.report("missingRequired", dataStatement.keyword.span, ["data", `the columns of each input (${names.map((n) => `\`${n}\``).join(", ")})`], `add e.g. \`inputs ${names.map((n) => `${n}: [...]`).join(", ")}\``);
      return undefined;
    }
    return data;
  }
  let ok = true;
  for (const i of data.inputs) {
    if (!names.includes(i.name)) {
      ck.report("unknownInputName", i.span, [i.name], model.inputs.length === 1 && names.length === 0 ? "the model's one input is unnamed: name it (`x = input …`) or remove `inputs`" : didYouMean(i.name, names, "the model's inputs"));
      ok = false;
    }
  }
  const missing = names.filter((n) => !data.inputs?.some((i) => i.name === n));
  if (missing.length > 0) {
    ck.report("missingRequired", data.inputs[0]?.span ?? dataStatement.span, ["inputs", `the columns of ${missing.map((n) => `\`${n}\``).join(", ")}`], "every input of the model reads its own columns");
    ok = false;
  }
  if (csvSources.length === 0) {
    ck.report("ignoredSetting", data.inputs[0]?.span ?? dataStatement.span, ["`inputs` maps CSV columns, and this data has no CSV source"], "remove `inputs`, or read a `csv(…)`");
  }
  for (const c of csvSources) {
    if (c.features !== undefined) {
      ck.report("conflictingSettings", c.span, ["`features` and `inputs` both choose the columns"], "keep `inputs` (each input's columns) and remove `features`");
      ok = false;
    }
  }
  if (!ok) return undefined;
  const ordered: InputColumns[] = names.map((n) => data.inputs?.find((i) => i.name === n) as InputColumns);
  const features = ordered.flatMap((i) => i.columns);
  const withFeatures = <T extends DataSource | number>(d: T): T => (typeof d === "object" && d.kind === "csv" ? { ...d, features } : d);
  return { ...data, inputs: ordered, train: withFeatures(data.train), test: withFeatures(data.test), validation: withFeatures(data.validation) };
}


/**
 * A generator makes samples of a known width (`sine` 1 feature, the others 2): a model whose
 * input needs another width is told here, at its `input`, rather than when it trains.
 */
export function checkGeneratorFits(ck: Checker, model: Model, data: Data): void {
  if (model.inputs.length !== 1) return;
  const size = model.input.reduce((a, b) => a * b, 1);
  for (const src of [data.train, data.test, data.validation]) {
    if (typeof src !== "object" || src.kind !== "generator") continue;
    const features = src.generator === "sine" ? 1 : 2;
    if (features === size) continue;
    ck.report("dataShapeMismatch", model.inputSpan, [features, `[${model.input.join(", ")}]`, size], `\`${src.generator}\` gives ${features} feature${features === 1 ? "" : "s"} per sample: write \`input ${features}\``, [{ message: "the data", span: src.span }]);
    return;
  }
}

/**
 * An embedding that reads the token ids must have a row for every id the tokenizer can give
 * (ids past its table would silently read zeros).
 */
export function checkEmbeddingFits(ck: Checker, model: Model, data: Data): void {
  const tok = data.tokenize;
  if (tok === undefined) return;
  for (const node of model.nodes) {
    const l = node.layer as { kind: string; vocabulary?: number; span: Model["span"] };
    if (l.kind !== "embedding" || l.vocabulary === undefined || !node.inputs.some((v) => v < model.inputs.length)) continue;
    if (l.vocabulary < tok.vocabulary) {
      ck.report("conflictingSettings", l.span, [`the embedding has ${l.vocabulary} rows, but the tokenizer gives ids up to ${tok.vocabulary - 1}`], `write \`embedding ${tok.vocabulary}, …\`, or \`tokenize …, vocabulary: ${l.vocabulary}\``, [{ message: "the tokenizer", span: tok.span }]);
    }
  }
}

/**
 * A language model (a `text(…)` source) predicts each step's next token, so no layer may read a
 * later step: attention without `causal: true`, a `bidirectional` recurrent layer, a `conv1d`
 * whose window reaches past the step (`padding: same` with a window over 1), the global pools
 * and `flatten`. Such a model learns to copy its target and writes nonsense: a warning at the
 * layer.
 */
export function checkCausal(ck: Checker, model: Model, data: Data): void {
  if (typeof data.train !== "object" || data.train.kind !== "text") return;
  for (const node of model.nodes) {
    const l = node.layer as { kind: string; causal?: boolean; bidirectional?: boolean; padding?: string; kernel?: number; span: Model["span"] };
    const why =
      l.kind === "attention" && l.causal !== true ? ["`attention` without `causal: true` lets each step see the steps after it", "write `attention …, causal: true`"]
      : (l.kind === "lstm" || l.kind === "gru") && l.bidirectional === true ? [`a bidirectional \`${l.kind}\` reads the steps backwards too`, "leave out `bidirectional`"]
      : l.kind === "conv1d" && l.padding === "same" && (l.kernel ?? 1) > 1 ? ["`conv1d` with `padding: same` centres its window, so it reads later steps", "use a window of 1, or recurrent or causal attention layers"]
      : ["globalmaxpool1d", "globalavgpool1d", "flatten"].includes(l.kind) ? [`\`${l.kind}\` mixes every step into each output`, "a language model keeps the steps to the end: `dense <tokens>, softmax` at every step"]
      : undefined;
    if (why !== undefined) ck.report("looksAhead", l.span, [why[0] as string], why[1] as string, [{ message: "the text source", span: data.train.span }]);
  }
}
