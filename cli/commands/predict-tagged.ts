/**
 * `nnc predict` for a tagger (a `tagged(…)` source): the input is plain sentences, one a line,
 * words split at white space; the output each sentence as `word/TAG` tokens (the format
 * `tagged(…)` reads), or with `--format json` `[{"words": […], "tags": […]}, …]`.
 */
import type { CompiledModel } from "../../compiler/model-api.js";
import type { Preprocess } from "../../runtime/preprocess.js";
import { inert } from "../../runtime/inert.js";
import { tagSentences } from "../../runtime/tagged.js";
import { predictAll } from "../../runtime/batches.js";
import { FILE_START } from "../../grammar/span.js";
import { dataDiag } from "../../runtime/span.js";
import { CliError } from "../errors.js";
import { failOnErrors } from "../session.js";

export function predictTags(model: CompiledModel, preprocess: Preprocess, text: string, format: string, shown: string, nnPath: string, nnSource: string): void {
  const tok = preprocess.tokenizer;
  const classes = preprocess.classes;
  if (tok === undefined || classes === undefined) throw new CliError("nnc predict: the weights hold no tokenizer and tags: train the tagger again with this version of nnc");
  const tagged = tagSentences(text, tok, classes, (x, n) => predictAll(model, x, n));
  if (tagged.length === 0) failOnErrors([dataDiag(shown, "emptyData", FILE_START, [], "give one sentence a line, its words separated by spaces")], nnPath, nnSource);
  const out = format === "json" ? JSON.stringify(tagged) : tagged.map((s) => s.words.map((w, j) => `${w}/${s.tags[j]}`).join(" ")).join("\n");
  // Words come from the input file: on a terminal they are made inert (in a pipe, the bytes are the data).
  process.stdout.write((process.stdout.isTTY ? inert(out, { keepNewlines: true }) : out) + "\n");
}
