/** One generated program through every stage after the checker (shared by the suite and the campaign). */
import { gradcheck } from "../../cli/commands/gradcheck.js";
import { checkSource } from "../../compiler/check.js";
import { compileProgram } from "../../compiler/compile.js";
import { loadModule } from "../../compiler/load.js";
import type { GeneratedModule } from "../../compiler/model-api.js";
import type { GeneratedProgram } from "./program-gen.js";

export interface CompiledCase {
  readonly source: string;
  /** TypeScript target output, or undefined when the compiler refused (NN3012 only). */
  readonly ts?: string;
  readonly refused?: string;
}

/**
 * Worst relative error of the generated gradient. A point where the loss's second derivative
 * jumps (elu exactly at 0 behind a dead relu layer) gives a central-difference error that
 * shrinks in proportion to the step; a wrong gradient gives one that does not. So a tensor that
 * fails at h = 1e-5 is re-measured at 1e-6 and 1e-7: if its error shrank at least 5× from
 * 1e-5 to 1e-6, its smaller error counts, else the first. (Per tensor, because rounding noise
 * at 1e-7 can exceed the tolerance on tensors that were fine at 1e-5.)
 */
export function gradientError(mod: GeneratedModule, seed: number): number {
  const at = (h: number): readonly number[] => gradcheck(mod, { seed, perTensor: 8, h }).tensors.map((t) => t.maxRelError);
  const e5 = at(1e-5);
  if (e5.every((e) => e < 1e-6)) return Math.max(0, ...e5);
  const e6 = at(1e-6);
  const e7 = at(1e-7);
  return Math.max(
    0,
    ...e5.map((e, i) => {
      if (e < 1e-6) return e;
      const mid = e6[i] as number;
      return mid < e / 5 ? Math.min(mid, e7[i] as number) : e;
    }),
  );
}

/**
 * One program through every later stage; throws (with the source) on any failure. Returns the
 * TypeScript for a batched type-check, or the refusal.
 */
export function compileCase(p: GeneratedProgram, seed: number): CompiledCase {
  const fail = (what: string): never => {
    throw new Error(`${what}\n--- source ---\n${p.source}`);
  };
  const checked = checkSource(p.source);
  if (checked.value === undefined) fail(`the generator made a program the checker refuses: ${checked.diagnostics.map((d) => `${d.code} ${d.message}`).join("; ")}`);
  const program = checked.value!;
  const tsOut = compileProgram(program, { target: "ts" });
  if (tsOut.value === undefined) {
    const codes = tsOut.diagnostics.map((d) => `${d.code} ${d.message}`);
    if (tsOut.diagnostics.every((d) => d.code === "NN3012" && d.message.includes("batchnorm"))) return { source: p.source, refused: codes.join("; ") };
    fail(`the checker accepted a program the compiler refuses: ${codes.join("; ")}`);
  }
  const f64 = compileProgram(program, { target: "js", dtype: "float64" }).value;
  if (f64 === undefined) fail("float64 compile refused a program the float32 compile accepted");
  const mod = loadModule(f64!.code);
  // Tiny weights (init normal/uniform, ±0.05) can put many pre-activations within 1e-6 of a
  // relu kink, where the finite difference itself is wrong and the kink detector's floor
  // misses it; such a coincidence belongs to one draw of inputs, a wrong gradient to all. So a
  // failure must repeat on a second, independent draw.
  const err = gradientError(mod, seed);
  if (!(err < 1e-6)) {
    const again = gradientError(mod, seed + 7919);
    if (!(again < 1e-6)) fail(`gradient check failed: worst relative error ${err}, and ${again} on a second draw`);
  }
  const f32 = compileProgram(program, { target: "js" }).value;
  if (f32 === undefined) fail("float32 js compile refused");
  const m = loadModule(f32!.code).createModel();
  m.init(program.model.seed);
  const n = Math.min(3, m.meta.maxBatch);
  const x = new Float32Array(n * m.meta.inputSize).map((_, i) => Math.sin(i + seed));
  const y = new Float32Array(n * m.meta.outputSize).map((_, i) => (i % m.meta.outputSize === 0 ? 1 : 0));
  for (let s = 0; s < 3; s++) {
    const loss = m.trainStep(x, y, n, 1e-3);
    if (!Number.isFinite(loss)) fail(`float32 trainStep returned ${loss}`);
  }
  if (!m.params.every(Number.isFinite)) fail("float32 training left non-finite parameters");
  return { source: p.source, ts: tsOut.value!.code };
}

