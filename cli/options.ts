/** Command-line options shared by `nnc train`, `eval` and `predict`, parsed or refused with a CliError. */
import { defaultKernels, simdSupported } from "../compiler/load.js";
import { MAX_SEED } from "../compiler/check/checker.js";
import { CliError } from "./errors.js";

/** `--kernels js|wasm` (undefined: WebAssembly SIMD where the engine runs it), or a CliError. */
export function kernelsOption(value: string | undefined, command: string): "js" | "wasm" {
  if (value === undefined) return defaultKernels();
  if (value !== "js" && value !== "wasm") throw new CliError(`nnc ${command}: --kernels must be js or wasm, but is \`${value}\``, 2);
  if (value === "wasm" && !simdSupported()) throw new CliError(`nnc ${command}: --kernels wasm needs WebAssembly SIMD, which this JavaScript engine lacks; use --kernels js`, 2);
  return value;
}

export const KERNELS_HELP = "matrix products in wasm (WebAssembly SIMD, the default where it runs) or js";

export const WORKERS_HELP = "threads that train (data parallel; the weights are bit-identical for any count). Given alone: --shards 4";
export const SHARDS_HELP = "fixed shards per batch whose gradients are summed in order (default 4 with --workers; at most 64)";

/** Parses an integer option in min..max, or throws a CliError naming it. */
export function intOption(value: string | undefined, name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value.trim() === "" ? NaN : value);
  if (!Number.isInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `in ${min}..${max}`;
    throw new CliError(`nnc: ${name} must be a whole number ${range}, but is \`${value}\``, 2);
  }
  return n;
}

/** A seed: a whole number that fits 32 bits (as `seed` in a file; 2^32 would silently equal 0). */
export function seedOption(value: string | undefined, name = "--seed"): number | undefined {
  return intOption(value, name, 0, MAX_SEED);
}
