/**
 * The compiler's facade: checked `Program` → generated module source, in four stages that
 * each return `{ value, diagnostics }`:
 *
 *   lower (IR + shape checks) → autodiff (backward appended) → fuse → codegen
 *
 * `emit` asks for the stable text dumps of the IR before and after fusion.
 */
import type { Diagnostic, Result } from "../grammar/diagnostics.js";
import { diag, hasErrors } from "../grammar/diagnostics.js";
import { FILE_START } from "../grammar/span.js";
import type { Program } from "./program.js";
import type { Graph } from "./ir.js";
import { printGraph } from "./ir.js";
import { lower } from "./lower.js";
import { autodiff } from "./autodiff.js";
import { fuse } from "./fuse.js";
import { generate, WASM_MEMORY_LIMIT } from "./codegen/module.js";
import { describeOptimizer, optimizerDef } from "./optimizers/index.js";

const mib = (bytes: number): string => `${Math.round(bytes / 2 ** 20)} MiB`;

export interface CompileOptions {
  /** "ts" (default) for a module to read or ship; "js" to load in-process (`load.ts`). */
  readonly target?: "ts" | "js";
  /** "float64" for gradient checks. */
  readonly dtype?: "float32" | "float64";
  /** Largest batch the module accepts; default `program.train.batch`. */
  readonly maxBatch?: number;
  /** Text dumps to return alongside the code. */
  readonly emit?: readonly ("ir" | "fused" | "wat")[];
  /** Skip fusion (tests compare fused against unfused code). Default true. */
  readonly fuse?: boolean;
  /** "wasm": matrix products as WebAssembly SIMD kernels (float32 only). Default "js". */
  readonly kernels?: "js" | "wasm";
  /**
   * Also generate the explain methods (`ExplainMethods` in `model-api.ts`): input gradients and
   * every layer's activations, kept after each call. Default false: the module is unchanged.
   */
  readonly explain?: boolean;
}

export interface CompileOutput {
  readonly code: string;
  /** The IR after autodiff, before fusion (when asked for). */
  readonly ir?: string;
  /** The IR after fusion (when asked for). */
  readonly fused?: string;
  /** The wasm kernels in the WebAssembly text format (when asked for, with `kernels: "wasm"`). */
  readonly wat?: string;
  /** The graph the code was generated from. */
  readonly graph: Graph;
}

export const MAX_BATCH_LIMIT = 1_000_000;

export function compileProgram(program: Program, options: CompileOptions = {}): Result<CompileOutput | undefined> {
  const diagnostics: Diagnostic[] = [];
  const maxBatch = options.maxBatch ?? program.train.batch;
  if (!(Number.isInteger(maxBatch) && maxBatch >= 1 && maxBatch <= MAX_BATCH_LIMIT)) {
    diagnostics.push(diag("badCompileOption", FILE_START, ["max-batch", `a whole number in 1..${MAX_BATCH_LIMIT}`, String(maxBatch)]));
    return { value: undefined, diagnostics };
  }
  const dtype = options.dtype ?? "float32";
  const lowered = lower(program, { maxBatch, dtype });
  for (const d of lowered.diagnostics) diagnostics.push(d);
  if (lowered.value === undefined || hasErrors(diagnostics)) return { value: undefined, diagnostics };
  const differentiated = autodiff(lowered.value, { explain: options.explain === true });
  for (const d of differentiated.diagnostics) diagnostics.push(d);
  const fused = options.fuse === false ? differentiated : fuse(differentiated.value);
  if (fused !== differentiated) for (const d of fused.diagnostics) diagnostics.push(d);
  const emit = options.emit ?? [];
  const name = program.model.name.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, " ");
  const generated = generate(fused.value, program, { target: options.target ?? "ts", dtype, maxBatch, kernels: options.kernels ?? "js" });
  const code = generated.code;
  // No kernel for this optimizer, or none for these settings (adam's amsgrad): the update runs in TypeScript.
  const optDef = optimizerDef(program.optimizer.kind);
  if ((options.kernels ?? "js") === "wasm" && dtype === "float32" && (optDef.wasm === undefined || optDef.wasm(program.optimizer, String) === undefined)) {
    const own = optDef.wasm === undefined;
    const what = own ? program.optimizer.kind : describeOptimizer(program.optimizer);
    const hint = own ? "the matrix products still run as wasm kernels; `adam`, `adamw` and `sgd` also update in wasm" : "the matrix products still run as wasm kernels; its wasm update kernel does not cover these settings";
    diagnostics.push(diag("optimizerNotInWasm", program.optimizer.span, [what], { hint }));
  }
  if (generated.wasmMemory !== undefined) {
    diagnostics.push(diag("wasmMemoryTooLarge", FILE_START, [mib(generated.wasmMemory), maxBatch, mib(WASM_MEMORY_LIMIT)], { hint: "lower the batch size, or compile with the TypeScript kernels (--kernels js)" }));
  }
  return {
    value: {
      code,
      graph: fused.value,
      ...(emit.includes("ir") ? { ir: printGraph(differentiated.value, `model ${name}: IR after autodiff`) } : {}),
      ...(emit.includes("fused") ? { fused: printGraph(fused.value, `model ${name}: IR after fusion`) } : {}),
      ...(emit.includes("wat") && generated.wat !== undefined ? { wat: generated.wat } : {}),
    },
    diagnostics,
  };
}
