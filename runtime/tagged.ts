/**
 * Tagged sentences for a sequence tagger (`tagged(…)` in the data block): a file of one
 * sentence a line, each token `word/TAG` (split at its last `/`, so `1/2/NUM` is the word `1/2`),
 * read into words and tags; then the splits a tagger trains on. Browser-safe.
 *
 * - Held-out shares are whole sentences, drawn by the same seeded permutation as any other
 *   file's rows; the tokenizer (`tokenize words`) and the tag classes (in code-point order) are
 *   fitted on the training sentences alone, and saved with the weights.
 * - A sentence becomes `length` ids padded with 0 at the end; a longer one goes on in the next
 *   sample, so every word is tagged and counted (none is cut).
 * - The targets stay ids (`Split.ids`), −1 at a padded step. A batch's padded steps get no target
 *   row, which gives them no loss and no gradient (the fused softmax + cross-entropy weighs a row
 *   by its targets' sum), and the real steps' rows are scaled so the mean over every row is the
 *   mean over the real steps (`realStepsWeight`), as PyTorch's `ignore_index` and Keras 3's
 *   masked losses do; the metrics leave the padded steps out (`RealSteps`).
 */
import type { Data } from "../compiler/program.js";
import type { Diagnostic, Result } from "../grammar/diagnostics.js";
import { hasErrors } from "../grammar/diagnostics.js";
import type { Span } from "../grammar/span.js";
import { FILE_START } from "../grammar/span.js";
import type { Dataset, TaggedSentences } from "./dataset.js";
import type { LoadedData, ModelShape, PreparedData, Split } from "./prepare.js";
import { fitPreprocess, type Preprocess } from "./preprocess.js";
import { deriveSeed, Rng } from "./rng.js";
import { dataDiag, lineSpan, listNames } from "./span.js";
import { fitTokens, PAD_ID, UNKNOWN_ID, type TokenizerState } from "./text.js";

/** The target id of a padded step: no tag. */
export const NO_TAG = -1;

/** A tagged file → its sentences (blank lines skipped); a token without a word or a tag is an error at its line and column. */
export function parseTagged(text: string, file: string | undefined): Result<Dataset | undefined> {
  const words: string[][] = [];
  const tags: string[][] = [];
  const lines: number[] = [];
  let bad: { token: string; line: number; column: number; offset: number } | undefined;
  let badCount = 0;
  let offset = 0;
  const rows = text.split("\n");
  rows.forEach((row, r) => {
    const ws: string[] = [];
    const ts: string[] = [];
    for (const m of row.matchAll(/\S+/gu)) {
      const token = m[0];
      const k = token.lastIndexOf("/");
      if (k <= 0 || k === token.length - 1) {
        badCount++;
        bad ??= { token, line: r + 1, column: Array.from(row.slice(0, m.index)).length + 1, offset: offset + m.index };
        continue;
      }
      ws.push(token.slice(0, k));
      ts.push(token.slice(k + 1));
    }
    offset += row.length + 1;
    if (ws.length === 0) return;
    words.push(ws);
    tags.push(ts);
    lines.push(r + 1);
  });
  if (bad !== undefined) {
    const more = badCount > 1 ? ` (${badCount} tokens in all)` : "";
    const shown = bad.token.length > 40 ? `${bad.token.slice(0, 40)}…` : bad.token;
    return { value: undefined, diagnostics: [dataDiag(file, "taggedNoTag", lineSpan(bad.line, bad.column, bad.token.length, bad.offset), [shown], `write the word, a \`/\`, then its tag, e.g. \`dog/NOUN\`${more}`)] };
  }
  const dataset: Dataset = {
    n: words.length, features: 0, x: new Float32Array(0), labelWidth: 0, y: new Float32Array(0),
    ...(file !== undefined ? { file } : {}),
    tagged: { words, tags, lines: Int32Array.from(lines) },
  };
  return { value: dataset, diagnostics: [] };
}

/** The sentences at `indices`. */
function pick(s: TaggedSentences, indices: ArrayLike<number>): TaggedSentences {
  const at = Array.from(indices);
  return { words: at.map((i) => s.words[i]!), tags: at.map((i) => s.tags[i]!), lines: Int32Array.from(at, (i) => s.lines[i]!) };
}

const lower = (tok: TokenizerState | { lowercase: boolean }, w: string): string => (tok.lowercase ? w.toLowerCase() : w);

/**
 * Sentences → samples of `steps` ids and tag ids (`NO_TAG` where padded); a sentence longer
 * than `steps` goes on in the next sample.
 */
export function encodeTagged(s: TaggedSentences, tok: TokenizerState, tagIds: ReadonlyMap<string, number>): { n: number; x: Float32Array; y: Float32Array } {
  const steps = tok.length;
  const id = new Map(tok.tokens.map((t, k) => [t, k + 2]));
  let n = 0;
  for (const w of s.words) n += Math.max(1, Math.ceil(w.length / steps));
  const x = new Float32Array(n * steps).fill(PAD_ID);
  const y = new Float32Array(n * steps).fill(NO_TAG);
  let i = 0;
  s.words.forEach((ws, j) => {
    const ts = s.tags[j]!;
    for (let k = 0; k < ws.length; k++) {
      const at = (i + Math.floor(k / steps)) * steps + (k % steps);
      x[at] = id.get(lower(tok, ws[k]!)) ?? UNKNOWN_ID;
      y[at] = tagIds.get(ts[k]!) ?? NO_TAG;
    }
    i += Math.max(1, Math.ceil(ws.length / steps));
  });
  return { n, x, y };
}

/** A tagger's splits from `tagged(…)` sources (see the file's comment). */
export function prepareTagged(data: Data, loaded: LoadedData, shape: ModelShape, span: Span, fixed?: Preprocess): Result<PreparedData | undefined> {
  const diagnostics: Diagnostic[] = [];
  const settings = data.tokenize;
  const source = loaded.train.tagged!;
  if (settings === undefined) {
    diagnostics.push(dataDiag(loaded.train.file, "emptyData", span, [], "tagged sentences need `tokenize words, length: …` in the data block"));
    return { value: undefined, diagnostics };
  }
  if (source.words.length === 0) {
    diagnostics.push(dataDiag(loaded.train.file, "emptyData", FILE_START, [], "the file holds no sentences"));
    return { value: undefined, diagnostics };
  }
  // Held-out shares: whole sentences, test first, then validation from what remains (as `prepareData`).
  const perm = new Uint32Array(source.words.length);
  for (let i = 0; i < perm.length; i++) perm[i] = i;
  new Rng(deriveSeed(data.shuffleSeed, 0x5eed)).shuffle(perm);
  let rest: Uint32Array = perm;
  const cut = (share: number | object): TaggedSentences | undefined => {
    if (typeof share !== "number" || share <= 0) return undefined;
    const k = Math.round(rest.length * share);
    const held = pick(source, rest.subarray(0, k));
    rest = rest.subarray(k);
    return held;
  };
  const test = loaded.test?.tagged ?? cut(data.test);
  const validation = loaded.validation?.tagged ?? cut(data.validation);
  const train = rest.length === perm.length ? source : pick(source, Array.from(rest).sort((a, b) => a - b));
  if (train.words.length === 0) {
    diagnostics.push(dataDiag(loaded.train.file, "emptyData", span, [], "the held-out fractions leave no training sentences"));
    return { value: undefined, diagnostics };
  }

  const tokenizer = fixed?.tokenizer ?? fitTokens(train.words.map((ws) => ws.map((w) => lower(settings, w))), settings);
  const classes = fixed?.classes ?? [...new Set(train.tags.flat())].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const steps = tokenizer.length;
  if (steps !== shape.inputSize || shape.outputSize !== steps * classes.length) {
    diagnostics.push(
      dataDiag(loaded.train.file, "taggerShape", span, [steps, classes.length, `[${shape.inputShape.join(", ")}]`, shape.outputSize],
        `a tagger reads \`input ${steps}\` ids and ends with \`dense ${classes.length}, softmax\` at every step (its output [${steps}, ${classes.length}]); the tags are ${listNames(classes)}`),
    );
    return { value: undefined, diagnostics };
  }
  const tagIds = new Map(classes.map((c, k) => [c, k] as const));
  const make = (s: TaggedSentences | undefined, file: string | undefined): Split | undefined => {
    if (s === undefined) return undefined;
    unknownTags(s, tagIds, classes, file, diagnostics);
    const e = encodeTagged(s, tokenizer, tagIds);
    return { n: e.n, features: steps, x: e.x, y: e.y, ids: { steps, classes: classes.length } };
  };
  const value = {
    train: make(train, loaded.train.file),
    validation: make(validation, loaded.validation?.file ?? loaded.train.file),
    test: make(test, loaded.test?.file ?? loaded.train.file),
    preprocess: { ...fitPreprocess(new Float32Array(0), 0, 0, "none", 1), tokenizer, classes },
  };
  if (hasErrors(diagnostics) || value.train === undefined) return { value: undefined, diagnostics };
  return { value: value as PreparedData, diagnostics };
}

/** One error per file for tags the classes do not hold: the first, at its sentence's line. */
function unknownTags(s: TaggedSentences, tagIds: ReadonlyMap<string, number>, classes: readonly string[], file: string | undefined, out: Diagnostic[]): void {
  const unknown = new Map<string, number>(); // tag → its first line
  s.tags.forEach((ts, j) => {
    for (const t of ts) if (!tagIds.has(t) && !unknown.has(t)) unknown.set(t, s.lines[j]!);
  });
  if (unknown.size === 0) return;
  const [tag, line] = [...unknown][0]!;
  const others = unknown.size > 1 ? ` (also ${listNames([...unknown.keys()].slice(1))})` : "";
  out.push(dataDiag(file, "unknownTag", lineSpan(line), [tag, listNames(classes)], `a tagger can only give the tags it was trained on${others}: tag these words with those, or train on sentences that have them`));
}

/**
 * The weight of a batch's target rows when `real` of its `rows` steps have a tag: the model's
 * loss is a mean over every row, so the tagged rows, scaled by rows / real, make it the mean over
 * the tagged steps alone (and every row tagged leaves the targets as they are).
 */
export function realStepsWeight(rows: number, real: number): number {
  return real > 0 && real < rows ? rows / real : 1;
}

/**
 * The rows of a sequence's predictions and targets that have a target (a padded step of a
 * tagger has none), for the metrics: the same arrays when every row has one, else copies into
 * buffers kept between batches (grown when a batch needs more).
 */
export class RealSteps {
  private pred = new Float64Array(0);
  private target = new Float64Array(0);

  pack(pred: ArrayLike<number>, target: ArrayLike<number>, rows: number, m: number): { pred: ArrayLike<number>; target: ArrayLike<number>; rows: number } {
    let real = 0;
    for (let r = 0; r < rows; r++) if (hasTarget(target, r * m, m)) real++;
    if (real === rows) return { pred, target, rows };
    if (this.pred.length < real * m) {
      this.pred = new Float64Array(real * m);
      this.target = new Float64Array(real * m);
    }
    let k = 0;
    for (let r = 0; r < rows; r++) {
      if (!hasTarget(target, r * m, m)) continue;
      for (let j = 0; j < m; j++) {
        this.pred[k * m + j] = pred[r * m + j]!;
        this.target[k * m + j] = target[r * m + j]!;
      }
      k++;
    }
    return { pred: this.pred, target: this.target, rows: real };
  }
}

function hasTarget(t: ArrayLike<number>, o: number, m: number): boolean {
  for (let j = 0; j < m; j++) if (t[o + j] !== 0) return true;
  return false;
}

/**
 * Plain sentences (one a line, words split at white space) tagged by a trained tagger: each
 * sentence's words and their likeliest tags, read as in training (the saved tokenizer; a long
 * sentence over several samples). `predict` gives n × steps × classes probabilities.
 */
export function tagSentences(
  text: string,
  tok: TokenizerState,
  classes: readonly string[],
  predict: (x: Float32Array, n: number) => ArrayLike<number>,
): { words: string[]; tags: string[] }[] {
  const words = text.split("\n").map((line) => line.match(/\S+/gu) ?? []).filter((ws) => ws.length > 0);
  const sentences: TaggedSentences = { words, tags: words.map((ws) => ws.map(() => "")), lines: new Int32Array(words.length) };
  const e = encodeTagged(sentences, tok, new Map());
  const p = predict(e.x, e.n);
  const steps = tok.length;
  const k = classes.length;
  let i = 0;
  return words.map((ws) => {
    const tags = ws.map((_, j) => {
      const o = ((i + Math.floor(j / steps)) * steps + (j % steps)) * k;
      let best = 0;
      for (let c = 1; c < k; c++) if (p[o + c]! > p[o + best]!) best = c;
      return classes[best]!;
    });
    i += Math.max(1, Math.ceil(ws.length / steps));
    return { words: ws, tags };
  });
}
