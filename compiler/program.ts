/**
 * The checked program: what a `.nn` file means, with every default filled in.
 *
 * The checker (`check.ts`) builds it from the AST; the compiler lowers `model`, `loss` and
 * `optimizer` to IR; the runtime reads `data`, `train` and `metrics`. Every node keeps the
 * span of the text it came from, so later stages can point back at the source.
 */
import type { Span } from "../grammar/span.js";
import type { ActivationValue } from "./schema.js";

export type Shape = readonly number[];

// ── activations ────────────────────────────────────────────────────────────────
/** An activation as written (`relu`, `leaky_relu(alpha: 0.2)`); its kind is a word of `ACTIVATIONS`. */
export type Activation = ActivationValue;

// ── initializers ───────────────────────────────────────────────────────────────
export type InitializerKind =
  | "he" // normal, std sqrt(2 / fan_in)
  | "he_uniform" // uniform, limit sqrt(6 / fan_in)
  | "xavier" // uniform, limit sqrt(6 / (fan_in + fan_out)) (Keras' glorot_uniform)
  | "xavier_normal" // normal, std sqrt(2 / (fan_in + fan_out))
  | "lecun" // normal, std sqrt(1 / fan_in)
  | "normal" // normal, std 0.05
  | "uniform" // uniform, limit 0.05
  | "zeros"
  | "ones";

// ── layers ─────────────────────────────────────────────────────────────────────
/**
 * What every checked layer has. Each layer kind extends it with its own settings, in its one
 * definition under `layers/` (`DenseLayer` in `layers/dense.ts`, …).
 */
export interface LayerBase {
  /** A word of the layer registry (`layers/index.ts`). */
  readonly kind: string;
  /** The name the user gave, or a generated one such as `dense_2`. */
  readonly name: string;
  /** True when the name came from the file. */
  readonly named: boolean;
  readonly span: Span;
  /** The activation applied to the layer's output, for layers that have one. */
  readonly activation?: Activation;
}

export type Layer = LayerBase;

export type Padding = "same" | "valid";

/** A named input of the model: `image = input [28, 28]`. */
export interface ModelInput {
  /** The name given, or undefined for a model's one unnamed `input`. */
  readonly name: string | undefined;
  /** Shape of one sample, without the batch dimension: [features], [h, w] or [h, w, c]. */
  readonly shape: Shape;
  readonly span: Span;
}

/**
 * One layer of the graph and the values it takes. Values are numbered: the model's inputs
 * first (0 … inputs − 1), then each node's output in order (node i makes value inputs + i).
 */
export interface GraphNode {
  readonly layer: Layer;
  readonly inputs: readonly number[];
  /** The uses of the blocks this layer was expanded from, outermost first (for messages). */
  readonly via: readonly Span[];
}

export interface Model {
  readonly name: string;
  readonly inputs: readonly ModelInput[];
  /**
   * Shape of one sample as the generated code takes it: the one input's shape, or with several
   * inputs [total], each input's values side by side in the order declared.
   */
  readonly input: Shape;
  readonly inputSpan: Span;
  /** The layers in order, each after the values it takes. */
  readonly nodes: readonly GraphNode[];
  /** `nodes`' layers. */
  readonly layers: readonly Layer[];
  /** The value the model outputs: its last statement's. */
  readonly output: number;
  /** Seed of the weight initializers. */
  readonly seed: number;
  readonly span: Span;
}

// ── loss ───────────────────────────────────────────────────────────────────────
export type LossKind = "mse" | "mae" | "huber" | "binary_cross_entropy" | "cross_entropy";

export interface Loss {
  readonly kind: LossKind;
  /** Huber threshold (default 1). */
  readonly delta: number;
  readonly span: Span;
}

// ── optimizer ──────────────────────────────────────────────────────────────────
/** A checked optimizer: its kind is a word of the optimizer registry (`optimizers/index.ts`). */
export interface Optimizer {
  readonly kind: string;
  /** Base learning rate; a schedule scales it per step. */
  readonly lr: number;
  /** L2 penalty added to the gradient, or decoupled decay (as the optimizer's definition says). */
  readonly weightDecay: number;
  /** Clip the global gradient norm to this value; 0 = off. */
  readonly clipNorm: number;
  /** Clip every gradient element to [-v, v]; 0 = off. */
  readonly clipValue: number;
  /** The optimizer's own settings by argument name (`momentum`, `beta1`, …), defaults filled in. */
  readonly settings: Readonly<Record<string, number | boolean>>;
  readonly span: Span;
}

// ── metrics ────────────────────────────────────────────────────────────────────
export type MetricKind =
  | "loss"
  | "accuracy"
  | "mse"
  | "rmse"
  | "mae"
  | "r2"
  | "precision"
  | "recall"
  | "f1"
  | "confusion_matrix"
  | "auc";

export interface Metric {
  readonly kind: MetricKind;
  readonly span: Span;
}

// ── data ───────────────────────────────────────────────────────────────────────
export type GeneratorKind = "xor" | "circles" | "spiral" | "moons" | "gaussian" | "sine";

export interface GeneratorSource {
  readonly kind: "generator";
  readonly generator: GeneratorKind;
  /** Number of samples. */
  readonly size: number;
  /** Standard deviation of the noise added to each point. */
  readonly noise: number;
  readonly seed: number;
  /** Number of classes (spiral arms, gaussian blobs); ignored by the others. */
  readonly classes: number;
  readonly span: Span;
}

export interface CsvSource {
  readonly kind: "csv";
  /** As written in the file; resolved relative to the `.nn` file by the runtime. */
  readonly path: string;
  /** Whether the first row names the columns (default true). */
  readonly header: boolean;
  /** The label column: a header name or a 0-based index. Default: the last column. */
  readonly label: string | number | undefined;
  /** Feature columns; undefined = every column but the label. */
  readonly features: readonly (string | number)[] | undefined;
  /** A column of text for the tokenizer (`tokenize` in the data block): then the model reads token ids. */
  readonly text?: string | number;
  /** Feature columns holding categories, one-hot encoded. */
  readonly categorical: readonly (string | number)[];
  /** What to do with an empty or `NA` cell. */
  readonly missing: "error" | "drop" | "mean" | "zero";
  readonly delimiter: string;
  readonly span: Span;
}

export interface IdxSource {
  readonly kind: "idx";
  readonly images: string;
  readonly labels: string;
  /** Read only the first N samples (0 = all). */
  readonly limit: number;
  /**
   * Columns beside each image (`side: csv("meta.csv")`): one row per record, in the same order,
   * every column a feature; each sample is the image's pixels, then these columns.
   */
  readonly side?: CsvSource;
  readonly span: Span;
}

export interface JsonSource {
  readonly kind: "json";
  /** A file holding `[{"x": [...], "y": ...}, ...]` or `{"x": [[...]], "y": [...]}`. */
  readonly path: string;
  readonly span: Span;
}

/**
 * `text("moby-dick.txt")`: one plain text for a language model. With `tokenize`, its tokens are
 * cut into windows of `length` + 1: a window's first `length` ids are a sample, and each step's
 * target is the id after it. Held-out shares are the end of the text (the test last), so no
 * window of them overlaps the training text.
 */
export interface TextSource {
  readonly kind: "text";
  readonly path: string;
  readonly span: Span;
}

/**
 * `tagged("brown/train.txt")`: sentences tagged word by word, one a line, each token `word/TAG`
 * (split at its last `/`). With `tokenize words`, the words become ids and each step's target is
 * its tag; padded steps have none (`runtime/tagged.ts`).
 */
export interface TaggedSource {
  readonly kind: "tagged";
  readonly path: string;
  readonly span: Span;
}

export type DataSource = GeneratorSource | CsvSource | IdxSource | JsonSource | TextSource | TaggedSource;

export type Normalization = "none" | "standard" | "minmax";

/**
 * A word of `tokenize words`: a run of letters and digits in any script, an inner apostrophe kept
 * (`don't`). One pattern for the runtime's tokenizer and the module `nnc export` writes.
 */
export const WORD_PATTERN = "[\\p{L}\\p{N}]+(?:['’][\\p{L}\\p{N}]+)*";

/**
 * `tokenize chars, length: 16`: text → `length` token ids (0 = padding at the end, 1 = unknown,
 * then the vocabulary by frequency in the training split), as Keras' `TextVectorization`.
 */
export interface Tokenize {
  readonly kind: "chars" | "words";
  /** Ids per sample: longer texts are cut, shorter ones padded with 0 at the end. */
  readonly length: number;
  readonly lowercase: boolean;
  /** Largest number of ids, padding and unknown included. */
  readonly vocabulary: number;
  readonly span: Span;
}

/** The columns of one named input (`inputs side: ["age", "city"]`). */
export interface InputColumns {
  readonly name: string;
  readonly columns: readonly (string | number)[];
  readonly span: Span;
}

export interface Data {
  readonly train: DataSource;
  /** A separate source, or a fraction of `train` held out (0 = none). */
  readonly test: DataSource | number;
  /** A separate source, or a fraction of the training data held out (0 = none). */
  readonly validation: DataSource | number;
  /** Fitted on the training split only. */
  readonly normalize: Normalization;
  /** Multiplier applied to every feature before normalization (1 = none). */
  readonly scale: number;
  /** Shuffle the training split every epoch. */
  readonly shuffle: boolean;
  readonly shuffleSeed: number;
  /**
   * `inputs image: […], side: […]`: the CSV columns of each named input, in the model's input
   * order (the check also makes them the CSV sources' `features`, so rows are packed alike).
   */
  readonly inputs: readonly InputColumns[] | undefined;
  /** How a text column becomes token ids; fitted on the training split only. */
  readonly tokenize: Tokenize | undefined;
  /** `normalize_target standard`: regression targets standardized (fitted on the training split, saved with the weights). */
  readonly normalizeTarget?: { readonly method: "standard"; readonly span: Span };
  /** `classes [...]`: names of numbered labels (IDX, numeric CSV labels). */
  readonly classes?: { readonly names: readonly string[]; readonly span: Span };
  /** Labels are class indices (classification) or values (regression); decided by the loss. */
  readonly span: Span;
}

// ── training ───────────────────────────────────────────────────────────────────
export type Schedule =
  | { readonly kind: "constant"; readonly span: Span | undefined }
  | { readonly kind: "step"; readonly every: number; readonly gamma: number; readonly span: Span }
  | { readonly kind: "exponential"; readonly gamma: number; readonly span: Span }
  | { readonly kind: "cosine"; readonly minLr: number; readonly span: Span }
  | PlateauSchedule;

/** `reduce_on_plateau`: Keras' ReduceLROnPlateau, per epoch after warm-up (`runtime/schedule.ts`). */
export interface PlateauSchedule {
  readonly kind: "reduce_on_plateau";
  /** A metric name, e.g. `val_loss` (without validation data, the training metric). */
  readonly monitor: string;
  /** The rate is multiplied by this (< 1) when the monitor has not improved for `patience` epochs. */
  readonly factor: number;
  readonly patience: number;
  /** The rate never goes below this. */
  readonly minLr: number;
  /** The smallest change that counts as an improvement (absolute, as Keras). */
  readonly minDelta: number;
  /** Epochs after a reduction during which no epoch counts as without improvement. */
  readonly cooldown: number;
  readonly span: Span;
}

export interface EarlyStop {
  readonly patience: number;
  /** A metric name, e.g. `val_loss`, `val_accuracy`, `loss`. */
  readonly monitor: string;
  readonly minDelta: number;
  /** Restore the best weights when stopping (default true). */
  readonly restoreBest: boolean;
  readonly span: Span;
}

/** `prune`: magnitude pruning of the weight matrices on a polynomial schedule over epochs (`runtime/prune.ts`). */
export interface Prune {
  /** The share of weights zero at the end of epoch `end`. */
  readonly sparsity: number;
  /** 1-based epochs: the first whose end prunes, and the one whose end reaches the sparsity. */
  readonly start: number;
  readonly end: number;
  /** Rank weights across all layers, or within each. */
  readonly scope: "global" | "layer";
  readonly span: Span;
}

/** `quantize`: post-training int8 after the run, as `nnc quantize` (`runtime/quantize.ts`, `docs/compression.md`). */
export interface QuantizeSetting {
  /** Training samples (the first ones) whose activations set the 8-bit ranges. */
  readonly calibrate: number;
  readonly calibration: "minmax" | "percentile";
  readonly span: Span;
}

export interface Train {
  readonly epochs: number;
  readonly batch: number;
  /** Learning-rate schedule, applied per epoch after warm-up. */
  readonly schedule: Schedule;
  /** Epochs of linear warm-up from 0 to the base rate (0 = none). */
  readonly warmup: number;
  readonly earlyStop: EarlyStop | undefined;
  /** Write a checkpoint every N epochs (0 = only at the end). */
  readonly checkpointEvery: number;
  /** Magnitude pruning (absent: none). */
  readonly prune?: Prune;
  /** `quantize`: the run also writes the int8 module and its weights. */
  readonly quantize?: QuantizeSetting;
  /** `class_weight`: each training sample's loss weighed by its class (Keras' class_weight); absent: 1 each. */
  readonly classWeight?: ClassWeight;
  /** `print every N`: an epoch line every N epochs and at the last (absent: every epoch). */
  readonly printEvery?: number;
  /** `keep_best`: the best epoch's weights restored at the end of the run, without early stopping. */
  readonly keepBest?: KeepBest;
  readonly span: Span | undefined;
}

/** `balanced` (n / (k · count of the class) on the training split) or one weight per class. */
export interface ClassWeight {
  readonly weights: "balanced" | readonly number[];
  readonly span: Span;
}

export interface KeepBest {
  /** A metric name, e.g. `val_loss`, `val_accuracy`, `loss`. */
  readonly monitor: string;
  readonly minDelta: number;
  readonly span: Span;
}

// ── the whole file ─────────────────────────────────────────────────────────────
export interface Program {
  readonly model: Model;
  readonly loss: Loss;
  readonly optimizer: Optimizer;
  readonly metrics: readonly Metric[];
  readonly data: Data | undefined;
  readonly train: Train;
}
