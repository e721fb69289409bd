/** Reading a weights file for `eval` and `predict` (NN4001 when missing, NN5004 when it does not fit). */
import { readFileSync } from "node:fs";
import type { CompiledModel } from "../../compiler/model-api.js";
import { diag, type Result } from "../../grammar/diagnostics.js";
import { FILE_START } from "../../grammar/span.js";
import { decodeWeights, type WeightsFile } from "../weights.js";

export function readWeights(path: string, model: CompiledModel): Result<WeightsFile | undefined> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const why = (e as { code?: string }).code === "ENOENT" ? "no such file" : String(e);
    return {
      value: undefined,
      diagnostics: [{ ...diag("fileNotFound", FILE_START, [path, why], { hint: "`nnc train` writes runs/<name>/weights.json" }), file: path }],
    };
  }
  const r = decodeWeights(text, model, path);
  if (r.value) model.params.set(r.value.params);
  return r;
}
