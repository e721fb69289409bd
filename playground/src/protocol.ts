/**
 * Messages between the page and its two workers. Everything is plain, structured-cloneable
 * data: diagnostics travel as the compiler produced them, numbers as typed arrays.
 *
 *   language worker (check.worker.ts): source → diagnostics, generated TypeScript, IR, diagram
 *   training worker (train.worker.ts): source + data choice → a model training on the generated code
 */
import type { Diagnostic } from "../../grammar/diagnostics.js";
import type { ImagePick, ImageStrip } from "./images.js";
import type { SearchRequest, SearchResponse } from "./search-messages.js";

// ── language worker ────────────────────────────────────────────────────────────
export type LangRequest =
  /** `csv`: a dropped file replaces the source's `train` data (see `trainOnFile`). */
  | { readonly type: "check"; readonly id: number; readonly source: string; readonly csv: boolean }
  /** Prettier-format the TypeScript of check `id` (loaded on demand). */
  | { readonly type: "format"; readonly id: number };

/**
 * One value of the network diagram: a model input or a layer's output. Values are numbered as
 * in the checked program (`compiler/program.ts`): inputs first, then one per layer.
 */
export interface DiagramNode {
  /** The value's number: its index in `Diagram.nodes`. */
  readonly id: number;
  /** e.g. `dense 32, relu`, `input` or `image` (a named input). */
  readonly label: string;
  /** The layer's name (`residual_2.dense_1`), or the input's name (`input` when unnamed). */
  readonly name: string;
  /** A layer word, or `input`. */
  readonly kind: string;
  /** From the layer's definition (`compiler/layers/`): its colour, and whether every unit reads every input. */
  readonly color: string;
  readonly connects: "all" | "local";
  /** True for `add` and `concat`: the layers that join branches. */
  readonly merge: boolean;
  /** The values it takes. */
  readonly inputs: readonly number[];
  /** Output shape, without the batch dimension. */
  readonly shape: readonly number[];
  readonly params: number;
  /** Line of the statement that made it (inside a block: the block's line). */
  readonly line: number;
  /** The block uses it was expanded from, outermost first: keys of `Diagram.groups`. */
  readonly groups: readonly string[];
}

/** One use of a block: the layers expanded from it are drawn in a box that folds. */
export interface DiagramGroup {
  /** The layer-name prefix of the use, without its dot: `residual_2`, `outer_1.inner_1`. */
  readonly key: string;
  /** The block's name: `residual`. */
  readonly block: string;
  /** e.g. `residual_2: residual 16`. */
  readonly label: string;
  /** The enclosing use, when blocks nest. */
  readonly parent: string | undefined;
  /** Line of the use. */
  readonly line: number;
  /** Parameters of every layer in it. */
  readonly params: number;
}

export interface Diagram {
  readonly nodes: readonly DiagramNode[];
  readonly groups: readonly DiagramGroup[];
  /** The value the model outputs. */
  readonly output: number;
}

export type LangResponse =
  | {
      readonly type: "checked";
      readonly id: number;
      readonly diagnostics: readonly Diagnostic[];
      /** Generated TypeScript, when the program compiled. */
      readonly code: string | undefined;
      readonly ir: string | undefined;
      readonly diagram: Diagram | undefined;
      /** Generator name of the training data (`spiral`, …), `csv`, or undefined. */
      readonly dataKind: string | undefined;
      readonly millis: number;
    }
  | { readonly type: "formatted"; readonly id: number; readonly code: string };

// ── training worker ────────────────────────────────────────────────────────────
export interface CsvChoice {
  readonly name: string;
  readonly text: string;
  /** Label column: a header name. */
  readonly label: string;
}

export type TrainRequest =
  /** The Search panel's messages (`search-messages.ts`). */
  | SearchRequest
  | {
      readonly type: "load";
      readonly source: string;
      /** Replaces the model's and the shuffle's seed when set. */
      readonly seed: number | undefined;
      /** Train on this CSV instead of the file's `data { train … }` source. */
      readonly csv: CsvChoice | undefined;
      /** Text of the CSV files shipped with the examples, by path relative to examples/. */
      readonly files: Readonly<Record<string, string>>;
      /** Replaces the file's `epochs` when set (a run until paused). */
      readonly epochs: number | undefined;
      /** Workers that train (the training worker and helpers), or "auto" (`pageWorkers`); one without cross-origin isolation. */
      readonly workers: number | "auto";
    }
  /** Least time per epoch while running (0: as fast as it goes), so a run can be watched. */
  | { readonly type: "speed"; readonly msPerEpoch: number }
  | { readonly type: "run" }
  | { readonly type: "pause" }
  /** One epoch, then pause. */
  | { readonly type: "step" }
  | { readonly type: "weights" }
  /**
   * A weights file (`nnc-weights` JSON, `name` the file's name) for the loaded model: checked
   * with `decodeWeights` as `nnc eval` checks it; on success the model takes its parameters and
   * the data their saved preprocessing (`weightsLoaded`), else nothing changes (`weightsRefused`).
   */
  | { readonly type: "setWeights"; readonly name: string; readonly text: string }
  /** A hash of the parameters' bytes (for the tests: equal weights bit for bit). */
  | { readonly type: "hash" }
  /** An image model's test image `test` (a row of the test split), explained now and again with each picture while it trains; undefined: none. */
  | { readonly type: "pickImage"; readonly test: number | undefined }
  /** A text classifier's prediction for `text` (typed into the page), again with each picture while it trains. */
  | { readonly type: "predict"; readonly text: string }
  /**
   * Explain one input (`x`, in the model's units: a point of the 2-D picture) or test sample
   * `test`; the worker answers with an `attribution` now and again with each picture while it
   * trains. Neither: forget the selection.
   */
  | { readonly type: "explain"; readonly x: readonly number[] | undefined; readonly test: number | undefined };

export interface ModelInfo {
  readonly name: string;
  readonly inputSize: number;
  readonly outputSize: number;
  readonly paramCount: number;
  readonly epochs: number;
  readonly batches: number;
  readonly trainSamples: number;
  readonly validationSamples: number;
  readonly testSamples: number;
  readonly task: string;
  readonly classes: number;
  /** Class names, when the labels were text. */
  readonly classNames: readonly string[] | undefined;
  /** Whether the model was compiled with the explain methods (attributions, unit maps). */
  readonly explain: boolean;
  /** A classifier of one text column (its input is the tokenizer's ids): predictions as you type. */
  readonly text: boolean;
  /** Workers that train, and the fixed shards each batch is cut into. */
  readonly workers: number;
  readonly shards: number;
}

/** The decision boundary of a 2-D classifier, or the fitted curve of a 1-D regression. */
export type Picture =
  | {
      readonly kind: "boundary";
      /** Grid extent in the model's (preprocessed) input space. */
      readonly x0: number;
      readonly x1: number;
      readonly y0: number;
      readonly y1: number;
      readonly res: number;
      readonly classes: number;
      /** res × res × classes probabilities, row 0 at the top (y1). */
      readonly probs: Float32Array;
      /** Points: x, y pairs and their class. */
      readonly px: Float32Array;
      readonly pc: Uint8Array;
      /** Test points, drawn hollow. */
      readonly tx: Float32Array;
      readonly tc: Uint8Array;
    }
  | {
      /** Classifiers on more than two features: the confusion matrix of the held-out (or training) split. */
      readonly kind: "confusion";
      readonly split: string;
      /** matrix[true][predicted] */
      readonly matrix: readonly (readonly number[])[];
    }
  | {
      readonly kind: "curve";
      readonly xs: Float32Array;
      readonly ys: Float32Array;
      readonly px: Float32Array;
      readonly py: Float32Array;
    };

export type TrainResponse =
  | SearchResponse
  | { readonly type: "ready"; readonly info: ModelInfo; readonly diagnostics: readonly Diagnostic[] }
  | { readonly type: "failed"; readonly diagnostics: readonly Diagnostic[]; readonly message: string }
  | {
      readonly type: "epoch";
      readonly epoch: number;
      readonly lr: number;
      readonly seconds: number;
      readonly samplesPerSecond: number;
      readonly values: Readonly<Record<string, number>>;
    }
  | { readonly type: "progress"; readonly epoch: number; readonly batch: number; readonly batches: number; readonly loss: number }
  | { readonly type: "picture"; readonly picture: Picture }
  | { readonly type: "state"; readonly running: boolean; readonly epoch: number; readonly done: boolean; readonly reason: string | undefined }
  | { readonly type: "test"; readonly values: Readonly<Record<string, number>> }
  | { readonly type: "weights"; readonly text: string }
  /** The weights of file `name` (trained `epochs` epochs) replaced the model's; a fresh run from them, at epoch 0. */
  | { readonly type: "weightsLoaded"; readonly name: string; readonly epochs: number; readonly info: ModelInfo }
  /** The weights file does not fit the model or its data: why (NN5004, or a data problem); the model is as it was. */
  | { readonly type: "weightsRefused"; readonly name: string; readonly diagnostics: readonly Diagnostic[] }
  | { readonly type: "filters"; readonly filters: Filters }
  | { readonly type: "attribution"; readonly attribution: Attribution }
  /** An image model's strip of test images to pick (undefined: the input is not an image), and the picked one explained. */
  | { readonly type: "images"; readonly strip: ImageStrip | undefined }
  | { readonly type: "imagePick"; readonly pick: ImagePick }
  | { readonly type: "insight"; readonly insight: Insight }
  | { readonly type: "hash"; readonly hash: string }
  | { readonly type: "prediction"; readonly prediction: TextPrediction };

/** What a text classifier makes of a typed text. */
export interface TextPrediction {
  readonly text: string;
  /** The tokens it read (after lower-casing), up to the model's length; unknown ones as `?`. */
  readonly tokens: readonly string[];
  /** Each class's probability, in class order, and the class names. */
  readonly probs: readonly number[];
  readonly classes: readonly string[];
  readonly epoch: number;
}

/** One input's attributions for its predicted class (`runtime/explain.ts`), as `nnc explain` computes them. */
export interface Attribution {
  /** The input, in the model's (preprocessed) units. */
  readonly x: readonly number[];
  /** e.g. `the point (0.12, -0.5)` or `test sample 3`. */
  readonly from: string;
  readonly features: readonly string[];
  /** The predicted class (the target) and its name. */
  readonly target: number;
  readonly targetName: string;
  /** F(x) and F(0): the target's score (its logit) at the input and at the all-zero baseline. */
  readonly score: number;
  readonly baselineScore: number;
  /** Integrated gradients' Σ attributions − (F(x) − F(0)). */
  readonly delta: number;
  readonly saliency: readonly number[];
  readonly gradxinput: readonly number[];
  readonly ig: readonly number[];
  readonly steps: number;
  /** Epochs finished when it was computed. */
  readonly epoch: number;
}

/** The inside of the network for the diagram: each unit's output over the input plane, and the dense layers' weights. */
export interface Insight {
  readonly epoch: number;
  /** 2-D inputs only: per layer with a flat output, each unit's values on a res × res grid (row 0 at the top, y1). */
  readonly maps:
    | {
        readonly x0: number;
        readonly x1: number;
        readonly y0: number;
        readonly y1: number;
        readonly res: number;
        readonly layers: readonly { readonly name: string; readonly units: number; readonly values: Float32Array }[];
      }
    | undefined;
  /** Dense layers' weights, [out, in] row-major (the layout's `NAME.weight`). */
  readonly weights: readonly { readonly name: string; readonly out: number; readonly in: number; readonly values: Float32Array }[];
  /** Time the worker spent on it. */
  readonly millis: number;
}

/** The first convolution's filters (layout entry `conv2d_1.weight`), for the Filters view. */
export interface Filters {
  readonly name: string;
  /** [F, kh, kw, c]: filter f at f·kh·kw·c, pixel (ky, kx) channel ch at (ky·kw + kx)·c + ch. */
  readonly shape: readonly number[];
  readonly weights: Float32Array;
  /** Epochs finished when the snapshot was taken. */
  readonly epoch: number;
}
