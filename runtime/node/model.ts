/**
 * Compiling a checked program to a live model through the compiler's loader
 * (`compiler/load.ts`: `compileToModule(program, options)`).
 */
import type { CompiledModel, GeneratedModule } from "../../compiler/model-api.js";
import type { Program } from "../../compiler/program.js";
import type { Diagnostic, Result } from "../../grammar/diagnostics.js";

interface Loader {
  compileToModule(
    program: Program,
    options?: { maxBatch?: number; dtype?: "float32" | "float64" },
  ): Result<GeneratedModule | undefined> | Promise<Result<GeneratedModule | undefined>>;
}

/** The batch the generated code is sized for: the training batch, and at least 256 for evaluation. */
export function maxBatchFor(p: Program): number {
  return Math.max(p.train.batch, 256);
}

export async function compileModel(program: Program): Promise<Result<CompiledModel | undefined>> {
  const spec = "../../compiler/load.js";
  const loader = (await import(spec)) as Loader;
  const r = await loader.compileToModule(program, { maxBatch: maxBatchFor(program), dtype: "float32" });
  const diagnostics: readonly Diagnostic[] = r.diagnostics;
  if (!r.value) return { value: undefined, diagnostics };
  return { value: r.value.createModel(), diagnostics };
}
