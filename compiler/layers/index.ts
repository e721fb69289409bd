/**
 * Every layer kind, by word. Adding one = one file in this folder (its `defineLayer` record)
 * + one line in `LAYER_DEFS` (+ its gradient-check test): the checker, the vocabulary (docs,
 * completion, hover), the lowering and the network diagram all read that record.
 */
import { arg, type ArgSchema } from "../schema.js";
import type { LayerDef } from "./types.js";
import { dense } from "./dense.js";
import { dropout } from "./dropout.js";
import { flatten } from "./flatten.js";
import { activation } from "./activation.js";
import { conv2d } from "./conv2d.js";
import { avgpool2d, maxpool2d } from "./pooling.js";
import { batchnorm } from "./batchnorm.js";
import { layernorm } from "./layernorm.js";
import { add, concat } from "./merge.js";
import { conv1d, embedding, globalavgpool1d, globalmaxpool1d } from "./sequence.js";
import { gru, lstm } from "./recurrent.js";
import { attention, positional } from "./attention.js";

export const LAYER_DEFS: readonly LayerDef[] = [dense, dropout, flatten, activation, conv2d, maxpool2d, avgpool2d, batchnorm, layernorm, add, concat, embedding, conv1d, globalmaxpool1d, globalavgpool1d, lstm, gru, attention, positional];

const BY_WORD = new Map(LAYER_DEFS.map((d) => [d.word, d]));

export function layerDef(word: string): LayerDef {
  const d = BY_WORD.get(word);
  if (d === undefined) throw new Error(`bug: unknown layer ${word}`);
  return d;
}

/** A layer's whole schema: its own arguments, then `name`, which every layer takes. */
export function layerArgs(d: LayerDef): readonly ArgSchema[] {
  const nameDoc = d.word === "dense" ? "the kind and a number: `dense_1`, `dense_2`, …" : `the kind and a number, e.g. \`${d.word}_1\``;
  return [...d.args, arg.text("name", "a name for the layer, used in the parameter layout", nameDoc)];
}
