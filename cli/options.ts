/** Command-line options shared by `nnc train`, `eval` and `predict`, parsed or refused with a CliError. */
import { defaultKernels, simdSupported } from "../compiler/load.js";
import { MAX_SEED } from "../compiler/check/checker.js";
import { inert } from "../runtime/inert.js";
import { CliError } from "./errors.js";

/** `--kernels js|wasm` (undefined: WebAssembly SIMD where the engine runs it), or a CliError. */
export function kernelsOption(value: string | undefined, command: string): "js" | "wasm" {
  if (value === undefined) return defaultKernels();
  if (value !== "js" && value !== "wasm") throw new CliError(`nnc ${command}: --kernels must be js or wasm, but is \`${value}\``, 2);
  if (value === "wasm" && !simdSupported()) throw new CliError(`nnc ${command}: --kernels wasm needs WebAssembly SIMD, which this JavaScript engine lacks; use --kernels js`, 2);
  return value;
}

export const KERNELS_HELP = "matrix products in wasm (WebAssembly SIMD, the default where it runs) or js";

export const WORKERS_HELP = "threads that train (data parallel; the weights are bit-identical for any count). Default: the cores (up to 4) for a step of ≥ 100 M multiply-adds, else the plain step. Given alone: --shards 4";
export const SHARDS_HELP = "fixed shards per batch whose gradients are summed in order (default 4 with --workers; at most 64)";

/**
 * `text` as a whole number in min..max, or undefined: the one reading of every whole-number
 * option (an empty text is not 0, `2.5` and `1e400` are not whole numbers).
 */
export function wholeIn(text: string, min: number, max: number): number | undefined {
  const v = text.trim() === "" ? NaN : Number(text);
  return Number.isInteger(v) && v >= min && v <= max ? v : undefined;
}

/** `text` as a finite number in min..max, or undefined. */
export function numberIn(text: string, min: number, max: number): number | undefined {
  const v = text.trim() === "" ? NaN : Number(text);
  return Number.isFinite(v) && v >= min && v <= max ? v : undefined;
}

/** What an option must be, as its message says it: "a whole number in 1..64", "a number ≥ 0". */
export function wanted(whole: boolean, min: number, max: number): string {
  return `${whole ? "a whole number" : "a number"} ${max === Number.MAX_SAFE_INTEGER || max === Infinity ? `≥ ${min}` : `in ${min}..${max}`}`;
}

/** Parses an integer option in min..max, or throws a CliError naming it. */
export function intOption(value: string | undefined, name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  const n = wholeIn(value, min, max);
  if (n === undefined) throw new CliError(`nnc: ${name} must be ${wanted(true, min, max)}, but is \`${inert(value)}\``, 2);
  return n;
}

/** Parses a number option in min..max, or throws a CliError naming it. */
export function numberOption(value: string | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = numberIn(value, min, max);
  if (n === undefined) throw new CliError(`nnc: ${name} must be ${wanted(false, min, max)}, but is \`${inert(value)}\``, 2);
  return n;
}

/** A seed: a whole number that fits 32 bits (as `seed` in a file; 2^32 would silently equal 0). */
export function seedOption(value: string | undefined, name = "--seed"): number | undefined {
  return intOption(value, name, 0, MAX_SEED);
}
