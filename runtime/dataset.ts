/**
 * A loaded data set: features and raw labels, row-major, with where each sample came from so
 * that later checks (a label outside the classes, a shape that does not fit) can name the file
 * and the line or record.
 */
/** The largest finite float32. */
export const FLOAT32_MAX = 3.4028234663852886e38;

/** Whether `v` becomes a finite float32 (what every tensor nnc trains holds). */
export function fitsFloat32(v: number): boolean {
  return Number.isFinite(v) && Math.abs(v) <= FLOAT32_MAX;
}

export interface Dataset {
  /** Number of samples. */
  readonly n: number;
  /** Features per sample. */
  readonly features: number;
  /** n × features. */
  readonly x: Float32Array;
  /** Values per label: 1 for a class index or a single target, k for k targets. */
  readonly labelWidth: number;
  /** n × labelWidth: class indices (classification) or target values (regression). */
  readonly y: Float32Array;
  /** Class names, index = class, when the labels were text (e.g. `setosa`). */
  readonly classes?: readonly string[];
  /** Names of the feature columns after one-hot expansion, when known. */
  readonly featureNames?: readonly string[];
  /** The file the samples came from (as given), for messages. */
  readonly file?: string;
  /** Where sample i came from: its 1-based line (CSV, JSON arrays) or 0-based record (IDX). */
  readonly origin?: Int32Array;
  /** What `origin` counts. */
  readonly originKind?: "line" | "record";
  /** The raw text of each sample, for a text model (`csv(…, text: …)`): the tokenizer makes `x` from it. */
  readonly texts?: readonly string[];
  /** One running text for a language model (`text(…)`): `texts[0]`, cut into windows once tokenized. */
  readonly stream?: boolean;
  /** Tagged sentences for a tagger (`tagged(…)`): `runtime/tagged.ts` makes the samples. */
  readonly tagged?: TaggedSentences;
}

/** The sentences of a tagged file, each its words and their tags. */
export interface TaggedSentences {
  readonly words: readonly (readonly string[])[];
  readonly tags: readonly (readonly string[])[];
  /** The 1-based line of each sentence. */
  readonly lines: Int32Array;
}

/** A copy of the samples at `indices`, keeping provenance. */
export function subset(d: Dataset, indices: ArrayLike<number>): Dataset {
  const n = indices.length;
  const x = new Float32Array(n * d.features);
  const y = new Float32Array(n * d.labelWidth);
  const origin = d.origin ? new Int32Array(n) : undefined;
  for (let i = 0; i < n; i++) {
    const s = indices[i]!;
    x.set(d.x.subarray(s * d.features, (s + 1) * d.features), i * d.features);
    y.set(d.y.subarray(s * d.labelWidth, (s + 1) * d.labelWidth), i * d.labelWidth);
    if (origin) origin[i] = d.origin![s]!;
  }
  const texts = d.texts !== undefined ? Array.from(indices, (s) => d.texts![s]!) : undefined;
  return { ...d, n, x, y, ...(origin ? { origin } : {}), ...(texts ? { texts } : {}) };
}
