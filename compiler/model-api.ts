/**
 * The contract between the code nnc generates and everything that uses it (the runtime, the
 * CLI, the playground, an application that copied the generated module).
 *
 * A generated module (TypeScript or JavaScript) has no imports and exports:
 *
 *     export const layout: readonly ParamEntry[];   // where each tensor lives in `params`
 *     export const meta: ModelMeta;                 // sizes and settings, all constants
 *     export function createModel(): CompiledModel; // a fresh instance with its own buffers
 *
 * Every buffer is allocated once by `createModel`; no method allocates afterwards, except
 * `getState`, which returns copies.
 */

/** One tensor in the flat parameter array. */
export interface ParamEntry {
  /** `<layer>.<tensor>`, e.g. `dense_1.weight`, `dense_1.bias`, `bn_1.running_mean`. */
  readonly name: string;
  readonly shape: readonly number[];
  readonly offset: number;
  readonly size: number;
  /** False for statistics that the optimizer never updates (batchnorm running mean/var). */
  readonly trainable: boolean;
}

export interface ModelMeta {
  readonly name: string;
  /** Shape of one input sample, e.g. [28, 28]. */
  readonly inputShape: readonly number[];
  /** Product of `inputShape`. */
  readonly inputSize: number;
  readonly outputShape: readonly number[];
  readonly outputSize: number;
  /** Largest `n` that `forward`, `lossAndGrad` and `trainStep` accept. */
  readonly maxBatch: number;
  readonly paramCount: number;
  readonly loss: string;
  readonly optimizer: string;
  /** "float32" normally; "float64" for gradient checks. */
  readonly dtype: "float32" | "float64";
  /**
   * Bytes held by every preallocated buffer of one instance; with WebAssembly kernels, the
   * size of the kernels' memory, which holds them all (and a copy of the input).
   */
  readonly bytes: number;
  /** With several named inputs: where each sits in a packed row of `x` (absent with one input). */
  readonly inputs?: readonly InputEntry[];
  /** What `CompiledModel.explain` offers (a module compiled with `explain: true` only). */
  readonly explain?: ExplainMeta;
}

/** A layer whose values an explain module keeps: its name in the `.nn` file and one sample's shape. */
export interface LayerEntry {
  readonly name: string;
  /** The layer's kind: `conv2d`, `dense`, `maxpool2d`, … */
  readonly kind: string;
  readonly shape: readonly number[];
  /** Whether `activationGradient` has its gradient (false when the scores do not depend on it). */
  readonly gradient: boolean;
}

export interface ExplainMeta {
  /** What the scores are: the output's logits (softmax or sigmoid outputs) or the output itself. */
  readonly scores: "logits" | "output";
  /** Whether `inputGradient` works (false when the input is read only as integer tokens). */
  readonly inputGradient: boolean;
  /** Whether `lossGradient` is there (softmax + cross_entropy, sigmoid + binary_cross_entropy, mse or mae on a linear output). */
  readonly lossGradient: boolean;
  /** Every layer of the model in order (a layer that hands on the input unchanged is left out). */
  readonly layers: readonly LayerEntry[];
}

/**
 * The methods of a module compiled with `explain: true` (`nnc compile --explain`;
 * `codegen/api-explain.ts`). Each runs a forward pass in inference mode; a gradient method then
 * runs the explain pass (`compiler/explain.ts`). Every result is a view, valid until the next
 * call, and no call allocates (a view per batch size is made once and kept).
 */
export interface ExplainMethods {
  /**
   * The gradient of each sample's target with respect to its input, n × inputSize (with several
   * named inputs, packed as `meta.inputs` says). `target`: a class (output unit) for every
   * sample, or one per sample. `of`: its score (the logit; default) or its probability.
   */
  inputGradient(x: Inputs, n: number, target: number | Int32Array, of?: "score" | "probability"): Floats;
  /** The gradient of Σ seed·scores with respect to the input: `seed` is n × outputSize. */
  gradientOf(x: Inputs, n: number, seed: Floats): Floats;
  /** The gradient of the mean loss over the n samples with respect to the input (when `meta.explain.lossGradient`). */
  lossGradient?(x: Inputs, y: Floats, n: number): Floats;
  /** The scores of the last call, n × outputSize: the logits, or the output. */
  scores(): Floats;
  /** A layer's values from the last call (or the last `forward`), n × its size; a RangeError for an unknown name. */
  activations(layer: string): Floats;
  /** The gradient of the last gradient call's target with respect to a layer's values, n × its size. */
  activationGradient(layer: string): Floats;
}

/** One of several named inputs: its values sit at [offset, offset + size) of each packed row of `x`. */
export interface InputEntry {
  readonly name: string;
  readonly shape: readonly number[];
  readonly offset: number;
  readonly size: number;
}

/**
 * What the methods take as `x`: n rows of `inputSize` values (with several inputs, each row
 * holds them side by side, as `meta.inputs` says), or, with several inputs, each by name.
 */
export type Inputs = Floats | { readonly [name: string]: Floats };

export type Floats = Float32Array | Float64Array;

/** Everything needed to resume training bit-for-bit. */
export interface ModelState {
  readonly params: Floats;
  /** Optimizer moments, laid out like `params` (zero-length for plain SGD without momentum). */
  readonly optimizer: Floats;
  /** Optimizer steps taken (Adam's bias correction uses it). */
  readonly step: number;
  /** State of the generator that draws dropout masks. */
  readonly rng: number;
}

export interface CompiledModel {
  readonly meta: ModelMeta;
  readonly layout: readonly ParamEntry[];
  /**
   * All parameters, flat; views of it may be taken with `layout`. With WebAssembly kernels it
   * is a view of the kernels' memory: `params.buffer` is that whole memory and cannot be
   * transferred (post `params.slice()` to a worker, or use `getState`).
   */
  readonly params: Floats;
  /** Gradient of the last `lossAndGrad`/`trainStep`, laid out like `params`. */
  readonly grads: Floats;

  /** Seeded initialization of every parameter (weights by their initializer, biases, stats). */
  init(seed: number): void;

  /**
   * Forward pass over `n` samples of `x` (n × inputSize, row-major). Inference mode unless
   * `training` (dropout on, batchnorm on batch statistics). Returns a view of the output
   * buffer, n × outputSize, valid until the next call.
   */
  forward(x: Inputs, n: number, training?: boolean): Floats;

  /** `forward` that returns its own copy. */
  predict(x: Inputs, n: number): Floats;

  /**
   * Mean loss over `n` samples, in inference mode. `y` is n × outputSize: one-hot rows for
   * `cross_entropy`, 0/1 for `binary_cross_entropy`, target values for regression losses.
   */
  loss(x: Inputs, y: Floats, n: number): number;

  /** Mean loss in training mode, and its gradient into `grads`. */
  lossAndGrad(x: Inputs, y: Floats, n: number): number;

  /**
   * One optimizer step at learning rate `lr`: forward, backward, clipping, update.
   * Returns the batch's mean loss (before the update). Afterwards `output()` holds the
   * batch's predictions from this step's forward pass.
   */
  trainStep(x: Inputs, y: Floats, n: number, lr: number): number;

  /**
   * The optimizer step alone (clipping, weight decay, update) from whatever `grads` holds: with
   * a gradient summed from shards (`runtime/node/shards.ts`), `lossAndGrad` per shard, the
   * weighted sum into `grads`, then this. Every module nnc generates has it; optional here so a
   * hand-written model can leave it out (it then trains only through `trainStep`).
   */
  applyGradient?(lr: number): void;

  /**
   * Sets the state of the generator that draws dropout masks (`getState().rng`) without
   * copying anything: the sharded trainer seeds each shard's masks from (step, shard). A no-op
   * without dropout. Optional, as `applyGradient`.
   */
  seedDropout?(state: number): void;

  /** View of the last forward pass's output, n × outputSize of that call. */
  output(): Floats;

  getState(): ModelState;
  setState(state: ModelState): void;

  /** Attributions and activations: a module compiled with `explain: true` only. */
  readonly explain?: ExplainMethods;
}

export interface GeneratedModule {
  readonly layout: readonly ParamEntry[];
  readonly meta: ModelMeta;
  createModel(): CompiledModel;
}
