/**
 * What one optimizer declares, in one record (`defineOptimizer`): its word, docs and typed
 * arguments, the moment arrays it keeps, its description, its TypeScript update (the per-step
 * scalars and the per-parameter body of the one fused loop that `codegen/update.ts` writes),
 * and — opt-in — the WebAssembly update kernel it runs on (`codegen/wasm/update.ts`). An
 * optimizer without `wasm` updates in TypeScript under `--kernels wasm` too, and the compiler
 * says so (NN3016): never silently as another optimizer.
 */
import type { Optimizer } from "../program.js";
import type { ArgSchema } from "../schema.js";
import type { UpdateSpec } from "../codegen/wasm/update.js";

/** What an update template may ask of the code generator. */
export interface UpdateWriter {
  /** A numeric literal, safe to paste into code. */
  num(x: number): string;
  /** Moment array `k` (0-based) at parameter `i`: `moments[i]`, `moments[i + 1234]`, … */
  moment(k: number): string;
}

/** The TypeScript update: lines run once per step (after `step++`), and the loop body per parameter `i`. */
export interface UpdateCode {
  readonly pre: readonly string[];
  /** Reads `g` (the gradient, clipped and with any L2 term added) and `lr`; writes `params[i]`. */
  readonly loop: readonly string[];
}

/** The wasm form of an update: the kernel's settings and the TypeScript that computes its three scalars and calls it. */
export interface WasmUpdate {
  readonly kernel: Pick<UpdateSpec, "kind" | "momentum" | "nesterov" | "beta1" | "beta2" | "epsilon">;
  /** Lines run once per step (after `step++`), before the call. */
  readonly pre: readonly string[];
  /** The kernel's three f32 arguments (see `UpdateSpec`), as expressions. */
  readonly args: readonly [string, string, string];
}

export interface OptimizerDef {
  readonly word: string;
  /** One line of docs (reference, hover, completion). */
  readonly doc: string;
  /** Own arguments, `lr` first (its default differs per optimizer); `weight_decay`, `clip_norm` and `clip_value` are added by the registry. */
  readonly args: readonly ArgSchema[];
  /** `weight_decay` as an L2 term added to the gradient, or decoupled (the weights shrink by lr·wd). */
  readonly decay: "l2" | "decoupled";
  /** Default `weight_decay` (0 unless stated). */
  readonly defaultDecay?: number;
  /** A problem across settings, in words with a hint (e.g. Nesterov without momentum), or undefined. */
  conflict?(o: Optimizer): { readonly arg: string; readonly message: string; readonly hint: string } | undefined;
  /** Moment arrays, each the size of the parameters. */
  moments(o: Optimizer): number;
  /** Its settings for the one-line description, after `lr` (e.g. `momentum 0.9, nesterov`). */
  describe(o: Optimizer): readonly string[];
  update(o: Optimizer, w: UpdateWriter): UpdateCode;
  /**
   * Opt-in: the update as a wasm SIMD kernel, or undefined for settings the kernel does not
   * cover (then the TypeScript loop runs). Absent: this optimizer has no kernel.
   */
  wasm?(o: Optimizer, num: (x: number) => string): WasmUpdate | undefined;
}

export function defineOptimizer(def: OptimizerDef): OptimizerDef {
  return def;
}

/** A setting of `o` by argument name (defaults are filled in by the checker). */
export function setting(o: Optimizer, name: string): number {
  const v = o.settings[name];
  if (typeof v !== "number") throw new Error(`bug: optimizer setting ${name} is not a number`);
  return v;
}
