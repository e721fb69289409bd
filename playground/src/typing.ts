/**
 * Predictions as you type (issue 14), in the training worker: a classifier whose input is one
 * text column's token ids (`tokenize` in the data block, fitted on the training split) reads
 * the typed text through the same fitted tokenizer (`runtime/text.ts`) and the model's forward
 * pass, as `nnc predict` would.
 */
import type { CompiledModel } from "../../compiler/model-api.js";
import type { Task } from "../../runtime/metrics.js";
import type { Preprocess } from "../../runtime/preprocess.js";
import { encodeTexts, tokens } from "../../runtime/text.js";
import type { TextPrediction } from "./protocol.js";

/** Whether the model classifies one text column and nothing else. */
export function isTextClassifier(model: CompiledModel, preprocess: Preprocess, task: Task): boolean {
  const tok = preprocess.tokenizer;
  const csv = preprocess.csv;
  const classifier = (task.kind === "multiclass" && task.steps === undefined) || task.kind === "binary";
  return classifier && tok !== undefined && csv?.textColumn !== undefined && csv.featureColumns.length === 0 && tok.length === model.meta.inputSize;
}

export function predictText(model: CompiledModel, preprocess: Preprocess, task: Task, text: string, epoch: number): TextPrediction {
  const tok = preprocess.tokenizer!;
  const x = encodeTexts([text], tok);
  const out = model.forward(x, 1);
  let probs: number[];
  if (task.kind === "binary") {
    const v = out[0]!;
    const p = task.threshold === 0 ? 1 / (1 + Math.exp(-v)) : v;
    probs = [1 - p, p];
  } else probs = Array.from(out.subarray(0, model.meta.outputSize));
  const known = new Set(tok.tokens);
  const read = tokens(text, tok.kind, tok.lowercase)
    .slice(0, tok.length)
    .map((t) => (known.has(t) ? t : "?"));
  return { text, tokens: read, probs, classes: probs.map((_, k) => preprocess.classes?.[k] ?? `class ${k}`), epoch };
}
