/**
 * Text from a trained language model (`nnc sample`): the prompt's tokens, then one token at a
 * time drawn from the model's next-token distribution at the last step it has read, sharpened
 * or flattened by a temperature (p^(1/T), renormalized; T = 0 takes the most likely token).
 * Padding and the unknown id are never drawn. The context is the last `steps` tokens; a shorter
 * one is padded at the end, which a causal model never reads. Seeded; browser-safe.
 */
import type { CompiledModel } from "../compiler/model-api.js";
import { Rng } from "./rng.js";
import { tokenIds, tokens, type TokenizerState } from "./text.js";

export interface SampleOptions {
  readonly prompt: string;
  /** Tokens to add. */
  readonly length: number;
  readonly temperature: number;
  readonly seed: number;
}

/** The prompt followed by `length` drawn tokens (words joined by spaces, characters as they are). */
export function sample(model: CompiledModel, tok: TokenizerState, options: SampleOptions): string {
  const steps = tok.length;
  const classes = model.meta.outputSize / steps;
  const ids = Array.from(tokenIds(tokens(options.prompt, tok.kind, tok.lowercase), tok));
  const rng = new Rng(options.seed);
  const x = new Float32Array(steps);
  const weights = new Float64Array(classes);
  const drawn: string[] = [];
  for (let k = 0; k < options.length; k++) {
    const context = ids.slice(-steps);
    x.fill(0);
    x.set(context);
    const out = model.predict(x, 1);
    const row = (context.length - 1) * classes;
    const next = draw(out, row, classes, Math.min(classes, tok.tokens.length + 2), options.temperature, rng, weights);
    ids.push(next);
    drawn.push(tok.tokens[next - 2] ?? "");
  }
  return options.prompt + (tok.kind === "words" ? drawn.map((w) => ` ${w}`).join("") : drawn.join(""));
}

/** An id ≥ 2 drawn from the probabilities at `row` (ids past `known` have no token). */
function draw(p: ArrayLike<number>, row: number, classes: number, known: number, temperature: number, rng: Rng, w: Float64Array): number {
  let best = 2;
  for (let j = 2; j < known; j++) if (p[row + j]! > p[row + best]!) best = j;
  if (temperature === 0) return best;
  // p^(1/T) relative to the largest, so that a low temperature cannot underflow every weight.
  let total = 0;
  for (let j = 0; j < classes; j++) {
    w[j] = j >= 2 && j < known ? Math.pow(p[row + j]! / p[row + best]!, 1 / temperature) : 0;
    total += w[j]!;
  }
  let u = rng.next() * total;
  for (let j = 2; j < known; j++) {
    u -= w[j]!;
    if (u < 0) return j;
  }
  return best;
}
