/**
 * The words of the language, with one line of documentation each.
 *
 * One table feeds the checker's name checks and "did you mean" hints, the playground's
 * highlighting, completion and hover, and `docs/reference.md`. Layers and optimizers are not
 * listed here: each is one definition (`layers/`, `optimizers/`) whose typed argument schema
 * becomes its entry below (`LAYERS`, `OPTIMIZERS`).
 */
import { BLOCK_WORDS, type BlockWord } from "../grammar/tokens.js";
import { LAYER_DEFS, layerArgs } from "./layers/index.js";
import { OPTIMIZER_DEFS, optimizerArgs } from "./optimizers/index.js";
import { defaultText, type ArgSchema } from "./schema.js";

export interface Word {
  readonly name: string;
  readonly doc: string;
}

export interface ArgSpec {
  readonly name: string;
  readonly doc: string;
  /** Printed default, for docs and hover; undefined when the argument is required. */
  readonly default?: string;
  /** The words it accepts, when they are a fixed set (completion offers them). */
  readonly values?: readonly string[];
}

export interface CallableWord extends Word {
  /** Arguments in positional order; every one may also be given by name. */
  readonly args: readonly ArgSpec[];
}

const w = (name: string, doc: string): Word => ({ name, doc });
const a = (name: string, doc: string, dflt?: string): ArgSpec =>
  dflt === undefined ? { name, doc } : { name, doc, default: dflt };
const c = (name: string, doc: string, args: readonly ArgSpec[]): CallableWord => ({ name, doc, args });
/** An argument that takes one of a fixed set of words (the checker and completion read `values`). */
const oneOf = (name: string, doc: string, values: readonly string[], dflt: string): ArgSpec => ({ ...a(name, doc, dflt), values });

/** An argument schema as a documented argument. */
function fromSchema(a: ArgSchema): ArgSpec {
  const dflt = defaultText(a);
  const values = a.type.kind === "choice" ? a.type.values : a.type.kind === "bool" ? ["true", "false"] : undefined;
  return { name: a.name, doc: a.doc, ...(dflt !== undefined ? { default: dflt } : {}), ...(values !== undefined ? { values } : {}) };
}

const BLOCK_DOCS: Readonly<Record<BlockWord, string>> = {
  model: "The network: `model Name {`, then `input [...]` and one layer per line, then `}`.",
  block: "A reusable part of a model: `block residual(width) {`, its layers one per line, then `}`; used as a layer (`residual 64`).",
  loss: "The loss to minimize, e.g. `loss cross_entropy`.",
  optimizer: "How weights are updated, e.g. `optimizer adam(lr: 1e-3)`.",
  metrics: "What to report while training and evaluating, e.g. `metrics accuracy, loss`.",
  data: "Where samples come from and how they are prepared: `data { train … }`.",
  train: "Training settings, one per line inside `train { … }`: `epochs 10`, `batch 32`, …",
  search: "How `nnc search` explores the file's ranges (`loguniform(1e-4, 1e-1)`, `choice(…)`, …): `search { metric accuracy  trials 20 }`; other commands check it and ignore it.",
};

/** Top-level blocks and settings (the grammar's block keywords). */
export const TOP_LEVEL: readonly Word[] = BLOCK_WORDS.map((name) => w(name, BLOCK_DOCS[name]));

/** Settings inside `model { … }` that are not layers. */
export const MODEL_SETTINGS: readonly CallableWord[] = [
  c("input", "Shape of one sample: `input 2`, `input [28, 28]` or `input [32, 32, 3]`; several inputs are named: `image = input [28, 28]`.", [
    a("shape", "a feature count or a list of dimensions"),
  ]),
  c("repeat", "The layers of its block, N times in a row: `repeat 3 { residual 64 }`.", [a("count", "how many times")]),
  c("seed", "Seed of the weight initializers; the same seed gives the same initial weights.", [
    a("value", "a whole number", "0"),
  ]),
  c("init", "Default weight initializer of every layer (a layer's `init:` overrides it).", [
    a("initializer", "he, xavier, lecun, normal, uniform, zeros, …", "he for relu-family layers, xavier otherwise"),
  ]),
];

/** Every layer, from its definition (`layers/`). */
export const LAYERS: readonly CallableWord[] = LAYER_DEFS.map((d) => c(d.word, d.doc, layerArgs(d).map(fromSchema)));

export const ACTIVATIONS: readonly CallableWord[] = [
  c("linear", "Identity: f(x) = x.", []),
  c("sigmoid", "f(x) = 1 / (1 + e^-x), in (0, 1). For binary outputs.", []),
  c("tanh", "Hyperbolic tangent, in (-1, 1).", []),
  c("relu", "f(x) = max(0, x). The usual choice for hidden layers.", []),
  c("leaky_relu", "f(x) = x for x > 0, alpha·x otherwise.", [a("alpha", "slope for x < 0", "0.01")]),
  c("elu", "f(x) = x for x > 0, alpha·(e^x − 1) otherwise.", [a("alpha", "scale of the negative part", "1")]),
  c("gelu", "Gaussian error linear unit (tanh approximation), as in transformers.", []),
  c("softmax", "Turns the outputs into probabilities that sum to 1. Last layer only; pairs with cross_entropy.", []),
];

export const LOSSES: readonly CallableWord[] = [
  c("mse", "Mean squared error, for regression.", []),
  c("mae", "Mean absolute error, for regression; less sensitive to outliers.", []),
  c("huber", "Squared error near 0, absolute error beyond delta.", [a("delta", "where the loss turns linear", "1")]),
  c("binary_cross_entropy", "For 0/1 labels; pairs with a sigmoid output.", []),
  c("cross_entropy", "For one of N classes; pairs with a softmax output. Labels are class indices.", []),
];

/** Every optimizer, from its definition (`optimizers/`). */
export const OPTIMIZERS: readonly CallableWord[] = OPTIMIZER_DEFS.map((d) => c(d.word, d.doc, optimizerArgs(d).map(fromSchema)));

export const METRICS: readonly Word[] = [
  w("loss", "The loss, as minimized."),
  w("accuracy", "Fraction of samples whose predicted class is right."),
  w("mse", "Mean squared error."),
  w("rmse", "Root mean squared error: √mse over every output (Keras' RootMeanSquaredError)."),
  w("mae", "Mean absolute error."),
  w("r2", "Coefficient of determination, 1 − SS_res / SS_tot, averaged over the outputs (scikit-learn's r2_score); higher is better."),
  w("precision", "Of the samples predicted as a class, the fraction that are (macro average)."),
  w("recall", "Of the samples of a class, the fraction found (macro average)."),
  w("f1", "Harmonic mean of precision and recall (macro average)."),
  w("confusion_matrix", "Counts of (true class, predicted class) pairs; printed by `nnc eval`."),
  w("auc", "Area under the ROC curve, exact with ties as average ranks: the positive class's probability for two classes, the one-vs-rest macro average for more."),
];

export const INITIALIZERS: readonly Word[] = [
  w("he", "Normal with std √(2 / fan_in); for ReLU layers (Keras' he_normal)."),
  w("he_uniform", "Uniform in ±√(6 / fan_in)."),
  w("xavier", "Uniform in ±√(6 / (fan_in + fan_out)); for tanh/sigmoid (Keras' glorot_uniform)."),
  w("xavier_normal", "Normal with std √(2 / (fan_in + fan_out))."),
  w("lecun", "Normal with std √(1 / fan_in); for SELU-style layers."),
  w("normal", "Normal with std 0.05."),
  w("uniform", "Uniform in ±0.05."),
  w("zeros", "All zeros (the default for biases)."),
  w("ones", "All ones."),
];

const GEN_ARGS: readonly ArgSpec[] = [
  a("size", "number of samples", "1000"),
  a("noise", "standard deviation of the noise", "depends on the data set"),
  a("seed", "seed of the generator", "1"),
];

export const SOURCES: readonly CallableWord[] = [
  c("csv", "A CSV file: `csv(\"iris.csv\", label: species)`.", [
    a("path", "file path, relative to the .nn file"),
    a("label", "the label column (name or 0-based index)", "the last column"),
    a("features", "feature columns, e.g. `[sepal_length, petal_width]`", "every other column"),
    a("categorical", "feature columns to one-hot encode", "[]"),
    oneOf("header", "whether the first row names the columns", ["true", "false"], "true"),
    oneOf("missing", "`error`, `drop`, `mean` or `zero` for empty/NA cells", ["error", "drop", "mean", "zero"], "error"),
    a("delimiter", "the separator", "\",\""),
    a("text", "a column of text, turned into token ids by `tokenize` (the model's input)", "none"),
  ]),
  c("idx", "MNIST-style IDX files (gzipped or raw): `idx(\"images.gz\", \"labels.gz\")`.", [
    a("images", "the images file"),
    a("labels", "the labels file"),
    a("limit", "read only the first N samples; 0 = all", "0"),
    a("side", "a CSV of columns beside the images, one row per record in order (`side: csv(\"meta.csv\")`): each sample is the pixels, then these columns", "none"),
  ]),
  c("json", "A JSON file: `[{\"x\": [..], \"y\": ..}, …]` or `{\"x\": [[..]], \"y\": [..]}`.", [
    a("path", "file path, relative to the .nn file"),
  ]),
  c("text", "A plain text file for a language model: `text(\"book.txt\")` with `tokenize`; each step's target is the next token.", [
    a("path", "file path, relative to the .nn file"),
  ]),
  c("tagged", "Sentences tagged word by word for a sequence tagger, one a line of `word/TAG` tokens: `tagged(\"pos.txt\")` with `tokenize words`; each step's target is its word's tag.", [
    a("path", "file path, relative to the .nn file"),
  ]),
  c("xor", "Four clusters around the corners of a square labelled by XOR (2 features, 2 classes).", GEN_ARGS),
  c("circles", "A ring around a disc (2 features, 2 classes).", GEN_ARGS),
  c("spiral", "Interleaved spiral arms (2 features; one class per arm, 2 arms unless `classes:` says more).", [
    ...GEN_ARGS,
    a("classes", "number of arms", "2"),
  ]),
  c("moons", "Two interleaved half circles (2 features, 2 classes).", GEN_ARGS),
  c("gaussian", "Gaussian blobs (2 features; one class per blob, 2 blobs unless `classes:` says more).", [...GEN_ARGS, a("classes", "number of blobs", "2")]),
  c("sine", "Regression: y = sin(x) for x in [-π, π], plus noise (1 feature, 1 target).", GEN_ARGS),
];

export const DATA_SETTINGS: readonly CallableWord[] = [
  c("train", "The training data: a source such as `csv(…)`, `idx(…)` or `spiral(…)`.", [a("source", "a data source")]),
  c("test", "Test data: a separate source, or a share of `train` held out, e.g. `test 20%`.", [
    a("source", "a data source or a percentage", "none"),
  ]),
  c("validation", "Validation data: a separate source, or a share of the training data, e.g. `validation 10%`.", [
    a("source", "a data source or a percentage", "none"),
  ]),
  c("normalize", "Feature normalization fitted on the training split only: `standard`, `minmax` or `none`.", [
    oneOf("method", "standard (zero mean, unit variance), minmax (to [0, 1]) or none", ["standard", "minmax", "none"], "none"),
  ]),
  c("normalize_target", "Regression: standardize the targets (zero mean, unit variance per output), fitted on the training split and saved with the weights; the model trains on standardized targets, predictions and metrics are in the data's units.", [
    oneOf("method", "standard or none", ["standard", "none"], "none"),
  ]),
  c("classes", "Names of the classes, in label order, for labels that are numbers (IDX files, numeric CSV labels): `classes [\"T-shirt\", \"Trouser\", …]`.", [
    a("names", "a list of distinct names, one per class", "the labels' own names, or their numbers"),
  ]),
  c("scale", "Multiply every feature by a constant before normalizing, e.g. `scale 1 / 255`.", [
    a("factor", "the multiplier", "1"),
  ]),
  c("inputs", "Which CSV columns feed each of the model's named inputs: `inputs measures: [\"bill_length\", \"bill_depth\"], place: [\"island\"]`.", [
    a("name", "a model input's name, then its columns (names or 0-based indices)"),
  ]),
  c("tokenize", "How a text column becomes token ids, fitted on the training split: `tokenize chars, length: 16` or `tokenize words, length: 64, vocabulary: 10000`.", [
    oneOf("kind", "`chars` (every character a token) or `words` (runs of letters and digits)", ["chars", "words"], "words"),
    a("length", "ids per sample: longer texts are cut, shorter ones padded with 0 at the end"),
    oneOf("lowercase", "lower-case the text first", ["true", "false"], "true"),
    a("vocabulary", "largest number of ids, padding (0) and unknown (1) included: the most frequent tokens of the training split", "10000"),
  ]),
  c("shuffle", "Shuffle the training data every epoch: `shuffle seed 42`, or `shuffle false`.", [
    oneOf("enabled", "true or false", ["true", "false"], "true"),
    a("seed", "seed of the shuffle", "0"),
  ]),
];

export const TRAIN_SETTINGS: readonly CallableWord[] = [
  c("epochs", "Passes over the training data.", [a("count", "a positive whole number", "10")]),
  c("batch", "Samples per gradient step (the last batch of an epoch may be smaller).", [
    a("size", "a positive whole number", "32"),
  ]),
  c("schedule", "How the learning rate changes per epoch: `constant`, `step(every: 10, gamma: 0.5)`, `exponential(gamma: 0.95)`, `cosine` or `reduce_on_plateau(monitor: val_loss)`.", [
    a("kind", "the schedule", "constant"),
  ]),
  c("warmup", "Epochs over which the learning rate rises linearly from 0 to its base value.", [
    a("epochs", "a whole number", "0"),
  ]),
  c("early_stop", "Stop when a metric stops improving: `early_stop patience 3, monitor val_loss`.", [
    a("patience", "epochs without improvement before stopping", "5"),
    a("monitor", "the metric watched, e.g. val_loss, val_accuracy, loss", "val_loss (loss without validation data)"),
    a("min_delta", "the smallest change that counts as improvement", "0"),
    oneOf("restore_best", "keep the best epoch's weights at the end of the run, stopped early or not", ["true", "false"], "true"),
  ]),
  c("checkpoint", "Save a checkpoint every N epochs: `checkpoint every 1`.", [a("every", "epochs between checkpoints", "0 (end only)")]),
  c("prune", "Magnitude pruning: zero the smallest weights of dense and conv layers on a polynomial schedule (TF Model Optimization's, power 3) from the end of epoch `start` to the end of epoch `end`, then keep them zero (masked fine-tuning): `prune sparsity 0.8, start 2, end 6, scope global`.", [
    a("sparsity", "the share of weights zeroed at the end, from 0 to 0.99", "0.5"),
    a("start", "the first epoch whose end prunes", "1"),
    a("end", "the epoch whose end reaches the sparsity", "half the epochs"),
    oneOf("scope", "rank weights across all layers (`global`) or within each layer (`layer`)", ["global", "layer"], "layer"),
  ]),
  c("quantize", "After training, post-training int8 quantization (as `nnc quantize`): the run folder also gets the int8 inference module `model.q.js` and its weights `weights.int8.json`; the report and `nnc eval` show size, accuracy and speed before and after: `quantize calibrate 1000, calibration percentile`.", [
    a("calibrate", "training samples (the first ones) whose activations set the 8-bit ranges", "1000"),
    oneOf("calibration", "`minmax` (the smallest and largest value seen) or `percentile` (the 0.01 % and 99.99 % quantiles)", ["minmax", "percentile"], "minmax"),
  ]),
  c("class_weight", "Weigh each sample's loss by its class (Keras' `class_weight`; cross_entropy, or binary_cross_entropy on one sigmoid unit): `class_weight balanced` (n_samples / (n_classes · count of the class) on the training split, scikit-learn's and Keras' formula) or `class_weight [1, 5]`, one weight per class.", [
    a("weights", "`balanced` or a list of one weight ≥ 0 per class", "1 for every class"),
  ]),
  c("print", "Print the epoch line every N epochs (and the last): `print every 10`.", [a("every", "epochs between lines", "1")]),
  c("keep_best", "Keep the weights of the best epoch of a metric, without stopping early: `keep_best monitor val_accuracy`.", [
    a("monitor", "the metric watched, e.g. val_loss, val_accuracy, loss", "val_loss (loss without validation data)"),
    a("min_delta", "the smallest change that counts as improvement", "0"),
  ]),
];

export const SCHEDULES: readonly CallableWord[] = [
  c("constant", "The learning rate never changes.", []),
  c("step", "Multiply the rate by gamma every N epochs.", [
    a("every", "epochs between drops", "10"),
    a("gamma", "the factor", "0.5"),
  ]),
  c("exponential", "Multiply the rate by gamma every epoch.", [a("gamma", "the factor", "0.95")]),
  c("cosine", "Half a cosine from the base rate down to min_lr over the run.", [a("min_lr", "the final rate", "0")]),
  c("reduce_on_plateau", "Multiply the rate by factor when a metric has not improved for patience epochs (Keras' ReduceLROnPlateau).", [
    a("monitor", "the metric watched, e.g. val_loss, val_accuracy, loss", "val_loss (loss without validation data)"),
    a("factor", "the factor, above 0 and below 1", "0.1"),
    a("patience", "epochs without improvement before the rate drops", "10"),
    a("min_lr", "the rate never drops below this", "0"),
    a("min_delta", "the smallest change that counts as improvement", "0.0001"),
    a("cooldown", "epochs after a drop before epochs without improvement count again", "0"),
  ]),
];

/** Ranges written in place of a value, for `nnc search` (`docs/search.md`). */
export const RANGES: readonly CallableWord[] = [
  c("loguniform", "A number drawn evenly on a log scale between low and high (both above 0): `lr: loguniform(1e-4, 1e-1)`.", [a("low", "the smallest value, above 0"), a("high", "the largest value")]),
  c("uniform", "A number drawn evenly between low and high: `dropout uniform(0, 0.5)`.", [a("low", "the smallest value"), a("high", "the largest value")]),
  c("int", "A whole number from low to high, both included: `dense int(8, 64)`, `repeat int(1, 4) { … }`.", [a("low", "the smallest whole number"), a("high", "the largest whole number")]),
  c("choice", "One of the values listed, any kind (numbers, words, calls): `choice(relu, tanh)`, `optimizer choice(adam, sgd(lr: 0.1))`.", [a("options", "two or more values")]),
];

/** Settings inside `search { … }`. */
export const SEARCH_SETTINGS: readonly CallableWord[] = [
  c("metric", "What the search optimizes, measured on the validation split: `loss` or one of the file's metrics.", [a("name", "a metric", "the first of the file's metrics")]),
  c("direction", "Whether higher or lower is better.", [a("way", "maximize or minimize", "minimize for loss, mse, rmse and mae; maximize otherwise")]),
  c("algorithm", "How configurations are chosen: `random`, `grid`, `halving` (successive halving) or `asha`.", [a("kind", "the algorithm", "random")]),
  c("trials", "Configurations to try (halving and asha: configurations started at the lowest rung).", [a("count", "a positive whole number", "20")]),
  c("time", "Seconds after which no new trial starts (the trial running finishes).", [a("seconds", "a positive number", "no limit")]),
  c("seed", "Seed of the configurations drawn; the same seed gives the same trials.", [a("value", "a whole number", "0")]),
  c("points", "grid: values tried per `uniform`, `loguniform` or `int` range (evenly spaced; every whole number when fewer).", [a("count", "a whole number from 2", "3")]),
  c("eta", "halving and asha: keep the best 1/eta of each rung.", [a("factor", "a whole number from 2", "3")]),
  c("rungs", "halving and asha: budgets of epochs/eta^(rungs−1), …, epochs/eta, epochs.", [a("count", "a whole number from 1", "3")]),
  c("validation", "The share of the training data held out to measure the metric, when the data block has no validation split.", [a("share", "a share, e.g. 20%", "20%")]),
];

/** Constant words used as argument values. */
export const CONSTANTS: readonly Word[] = [
  w("true", "Yes."),
  w("false", "No."),
  w("same", "Pad so that the output is as large as the input divided by the stride."),
  w("valid", "No padding."),
  w("standard", "Zero mean, unit variance."),
  w("minmax", "Scaled to [0, 1]."),
  w("none", "Nothing."),
];

/** Names people bring from Keras or PyTorch, and what nnc calls them. */
export const ALIASES: Readonly<Record<string, string>> = {
  categorical_crossentropy: "cross_entropy",
  sparse_categorical_crossentropy: "cross_entropy",
  crossentropy: "cross_entropy",
  ce: "cross_entropy",
  binary_crossentropy: "binary_cross_entropy",
  bce: "binary_cross_entropy",
  mean_squared_error: "mse",
  mean_absolute_error: "mae",
  glorot_uniform: "xavier",
  glorot_normal: "xavier_normal",
  he_normal: "he",
  kaiming: "he",
  lecun_normal: "lecun",
  linear_layer: "dense",
  fc: "dense",
  fully_connected: "dense",
  conv: "conv2d",
  conv2D: "conv2d",
  maxpool: "maxpool2d",
  max_pool2d: "maxpool2d",
  avgpool: "avgpool2d",
  batch_norm: "batchnorm",
  batchnormalization: "batchnorm",
  identity: "linear",
  logistic: "sigmoid",
  acc: "accuracy",
  lr: "optimizer",
  batch_size: "batch",
  learning_rate: "lr",
  epoch: "epochs",
  earlystopping: "early_stop",
  early_stopping: "early_stop",
};

/** The fixed set of words that argument `arg` of `word` (one of `words`) takes. */
export function argValues(words: readonly CallableWord[], word: string, arg: string): readonly string[] {
  const values = words.find((w) => w.name === word)?.args.find((x) => x.name === arg)?.values;
  if (values === undefined) throw new Error(`bug: ${word}(${arg}) takes no fixed set of words`);
  return values;
}

export function names(words: readonly Word[]): string[] {
  return words.map((x) => x.name);
}

/** Every word of the language with its doc, for completion and hover. */
export const ALL_WORDS: ReadonlyMap<string, Word> = new Map(
  [
    ...TOP_LEVEL,
    ...MODEL_SETTINGS,
    ...LAYERS,
    ...ACTIVATIONS,
    ...LOSSES,
    ...OPTIMIZERS,
    ...METRICS,
    ...INITIALIZERS,
    ...SOURCES,
    ...DATA_SETTINGS,
    ...TRAIN_SETTINGS,
    ...RANGES,
    ...SEARCH_SETTINGS,
    ...SCHEDULES,
    ...CONSTANTS,
  ]
    .reverse()
    .map((x) => [x.name, x] as const),
);
