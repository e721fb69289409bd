/**
 * Compiling a checked program to a live model through the compiler's loader. Not Node-specific
 * itself, but the CLI is its only user.
 */
import type { CompiledModel } from "../../compiler/model-api.js";
import type { Program } from "../../compiler/program.js";
import { compileToModule, defaultKernels } from "../../compiler/load.js";
import type { Result } from "../../grammar/diagnostics.js";

/** The batch the generated code is sized for: the training batch, and at least 256 for evaluation. */
export function maxBatchFor(p: Program): number {
  return Math.max(p.train.batch, 256);
}

/** `kernels`: the matrix products in WebAssembly SIMD (the default where it runs) or in TypeScript. */
export function compileModel(program: Program, dtype: "float32" | "float64" = "float32", kernels: "js" | "wasm" = defaultKernels(dtype)): Result<CompiledModel | undefined> {
  let r = compileToModule(program, { maxBatch: maxBatchFor(program), dtype, kernels });
  // A model whose buffers at 256 samples pass the limit (a long sequence's every step) still
  // trains at its own batch: evaluation then runs in batches of that size too.
  if (!r.value && maxBatchFor(program) > program.train.batch && r.diagnostics.some((d) => d.code === "NN3011")) {
    r = compileToModule(program, { maxBatch: program.train.batch, dtype, kernels });
  }
  if (!r.value) return { value: undefined, diagnostics: r.diagnostics };
  return { value: r.value.createModel(), diagnostics: r.diagnostics };
}
