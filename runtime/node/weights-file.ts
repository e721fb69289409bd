/** Reading a weights file for `eval` and `predict` (NN4001 when missing, NN5004 when it does not fit). */
import type { CompiledModel } from "../../compiler/model-api.js";
import { diag, type Result } from "../../grammar/diagnostics.js";
import { FILE_START } from "../../grammar/span.js";
import { decodeWeights, type WeightsFile } from "../weights.js";
import { readBoundedText } from "./read.js";

export function readWeights(path: string, model: CompiledModel): Result<WeightsFile | undefined> {
  const read = readBoundedText(path);
  if (!("text" in read)) {
    return {
      value: undefined,
      diagnostics: [{ ...diag("fileNotFound", FILE_START, [path, read.why], { hint: read.hint ?? "`nnc train` writes runs/<name>/weights.json" }), file: path }],
    };
  }
  const r = decodeWeights(read.text, model, path);
  if (r.value) model.params.set(r.value.params);
  return r;
}
