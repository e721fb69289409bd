/**
 * Running generated code in-process (the CLI, the runtime, the playground's worker).
 * Browser-safe: no Node imports, no TypeScript compiler at run time.
 *
 *   loadModule(js)                      JS emitted with `target: "js"` → GeneratedModule
 *   compileToModule(program, options)   compile + load in one call, { value, diagnostics }
 *
 * `loadModule` evaluates the module text with `new Function` (no `import()` of a data URL, so
 * it works in Node, a page and a worker alike).
 */
import type { Result } from "../grammar/diagnostics.js";
import { diag } from "../grammar/diagnostics.js";
import { FILE_START } from "../grammar/span.js";
import type { GeneratedModule } from "./model-api.js";
import type { Program } from "./program.js";
import type { CompileOptions } from "./compile.js";
import { compileProgram } from "./compile.js";
import { Body, encodeModule } from "./codegen/wasm/encode.js";

let simd: boolean | undefined;

/** Whether this engine runs WebAssembly SIMD, which `kernels: "wasm"` needs (Node 16.4+, browsers since 2021). */
export function simdSupported(): boolean {
  if (simd === undefined) {
    const wasm = (globalThis as { WebAssembly?: { validate(bytes: Uint8Array): boolean } }).WebAssembly;
    try {
      simd = wasm !== undefined && wasm.validate(encodeModule(1, [{ name: "probe", body: new Body([]).v128Zero().drop() }]));
    } catch {
      simd = false;
    }
  }
  return simd;
}

/** The kernels to run with when nobody asked: WebAssembly SIMD where it runs (float32 only). */
export function defaultKernels(dtype: "float32" | "float64" = "float32"): "js" | "wasm" {
  return dtype === "float32" && simdSupported() ? "wasm" : "js";
}

/** Evaluates JavaScript emitted by `compileProgram(…, { target: "js" })`. */
export function loadModule(js: string): GeneratedModule {
  // The emitter puts `export` only at the start of a line, before `const` or `function`.
  const body = js.replace(/^export (const|function) /gm, "$1 ") + "\nreturn { layout, meta, createModel };\n";
  const factory = new Function(body) as () => GeneratedModule;
  return factory();
}

export function compileToModule(program: Program, options: Omit<CompileOptions, "target" | "emit"> = {}): Result<GeneratedModule | undefined> {
  // A module to run here: without WebAssembly SIMD, the TypeScript kernels (and a warning).
  const noSimd = options.kernels === "wasm" && !simdSupported();
  const compiled = compileProgram(program, { ...options, target: "js", ...(noSimd ? { kernels: "js" } : {}) });
  const diagnostics = noSimd ? [diag("noWasmSimd", FILE_START), ...compiled.diagnostics] : compiled.diagnostics;
  if (compiled.value === undefined) return { value: undefined, diagnostics };
  return { value: loadModule(compiled.value.code), diagnostics };
}
