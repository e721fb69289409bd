/**
 * Text → token ids, as Keras' `TextVectorization` with `output_sequence_length`: a tokenizer
 * fitted on the training split only (the most frequent tokens, ties in code-point order), saved
 * with the weights, and applied alike to every split and to predictions. Ids: 0 is padding (at
 * the end of a short text), 1 an unknown token, 2 … the vocabulary in order. Browser-safe.
 */
import { WORD_PATTERN, type Tokenize } from "../compiler/program.js";

/** A fitted tokenizer, as saved with the weights. */
export interface TokenizerState {
  readonly kind: "chars" | "words";
  readonly length: number;
  readonly lowercase: boolean;
  /** Token of id k + 2. */
  readonly tokens: readonly string[];
}

export const PAD_ID = 0;
export const UNKNOWN_ID = 1;

const WORD = new RegExp(WORD_PATTERN, "gu");

/** The tokens of one text. */
export function tokens(text: string, kind: "chars" | "words", lowercase: boolean): string[] {
  const t = lowercase ? text.toLowerCase() : text;
  return kind === "chars" ? Array.from(t) : (t.match(WORD) ?? []);
}

/** The vocabulary of the training texts: the `vocabulary − 2` most frequent tokens. */
export function fitTokenizer(texts: readonly string[], settings: Tokenize): TokenizerState {
  return fitTokens(
    texts.map((t) => tokens(t, settings.kind, settings.lowercase)),
    settings,
  );
}

/** The vocabulary of texts already split into tokens. */
export function fitTokens(texts: readonly (readonly string[])[], settings: Tokenize): TokenizerState {
  const counts = new Map<string, number>();
  for (const text of texts) for (const tok of text) counts.set(tok, (counts.get(tok) ?? 0) + 1);
  const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return { kind: settings.kind, length: settings.length, lowercase: settings.lowercase, tokens: ranked.slice(0, Math.max(0, settings.vocabulary - 2)).map(([tok]) => tok) };
}

/** n × length ids of the texts (as floats, the type of every feature). */
export function encodeTexts(texts: readonly string[], tok: TokenizerState): Float32Array {
  const id = idsOf(tok);
  const out = new Float32Array(texts.length * tok.length);
  texts.forEach((text, i) => {
    const ts = tokens(text, tok.kind, tok.lowercase);
    const m = Math.min(ts.length, tok.length);
    for (let j = 0; j < m; j++) out[i * tok.length + j] = id.get(ts[j]!) ?? UNKNOWN_ID;
  });
  return out;
}

/** Token → id: the vocabulary from id 2 (0 pads, 1 is unknown). */
function idsOf(tok: TokenizerState): Map<string, number> {
  return new Map(tok.tokens.map((t, k) => [t, k + 2]));
}

/** The ids of a running text's tokens (no padding, no cut). */
export function tokenIds(toks: readonly string[], tok: TokenizerState): Uint32Array {
  const id = idsOf(tok);
  return Uint32Array.from(toks, (t) => id.get(t) ?? UNKNOWN_ID);
}

/**
 * A language model's samples from a running text: windows of `steps` + 1 ids, one after the
 * other (not overlapping); `x` is each window's first `steps` ids and `y` the `steps` ids after
 * each of them (the targets). Ids left over at the end make no window.
 */
export function windows(ids: Uint32Array, steps: number): { n: number; x: Float32Array; y: Float32Array } {
  const n = Math.max(0, Math.floor((ids.length - 1) / steps));
  const x = new Float32Array(n * steps);
  const y = new Float32Array(n * steps);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < steps; t++) {
      x[i * steps + t] = ids[i * steps + t]!;
      y[i * steps + t] = ids[i * steps + t + 1]!;
    }
  }
  return { n, x, y };
}
