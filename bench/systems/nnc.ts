/**
 * nnc as a bench system: each workload's network is written as a `.nn` source string, checked
 * and compiled in-process (`checkSource` → `compileToModule`), and started from the shared
 * initial weights by writing them into `params` at the offsets of `layout`.
 *
 * The compiler modules are loaded with a dynamic `import()` so the bench still builds and runs
 * (with nnc skipped, and a message) while they do not exist yet.
 */
import type { CompiledModel, GeneratedModule } from "../../compiler/model-api.js";
import type { Program } from "../../compiler/program.js";
import type { DenseInit } from "../data.js";
import type { OptKind, Trainer, TrainSetup } from "../harness.js";
import { ShardedStepper } from "../../runtime/node/shards.js";

interface Diag {
  readonly code: string;
  readonly severity: string;
  readonly message: string;
}
interface ResultLike<T> {
  readonly value: T | undefined;
  readonly diagnostics: readonly Diag[];
}
type CheckSource = (source: string) => ResultLike<Program>;
type CompileToModule = (program: Program, opts?: Record<string, unknown>) => ResultLike<GeneratedModule> | GeneratedModule;

interface Compiler {
  checkSource: CheckSource;
  compileToModule: CompileToModule;
}

let compiler: Compiler | string | undefined;

/** The compiler's entry points, or why they cannot be loaded. */
export async function loadCompiler(): Promise<Compiler | string> {
  if (compiler !== undefined) return compiler;
  const base = new URL("../../compiler/", import.meta.url);
  try {
    const check = (await import(new URL("check.js", base).href)) as { checkSource?: CheckSource };
    const load = (await import(new URL("load.js", base).href)) as { compileToModule?: CompileToModule };
    if (typeof check.checkSource !== "function") compiler = "compiler/check.ts has no checkSource yet";
    else if (typeof load.compileToModule !== "function") compiler = "compiler/load.ts has no compileToModule yet";
    else compiler = { checkSource: check.checkSource, compileToModule: load.compileToModule };
  } catch (e) {
    compiler = `nnc's compiler is not built yet (${(e as Error).message.split("\n")[0]})`;
  }
  return compiler;
}

/** Undefined when nnc can run, else the reason it is skipped. */
export async function nncStatus(): Promise<string | undefined> {
  const c = await loadCompiler();
  return typeof c === "string" ? c : undefined;
}

const errors = (ds: readonly Diag[]): string =>
  ds.filter((d) => d.severity === "error").map((d) => `${d.code} ${d.message}`).join("; ");

/** `.nn` source of an MLP workload: hidden layers, the head, the optimizer, the batch. */
export function mlpSource(setup: TrainSetup, opt: OptKind): string {
  const hidden = setup.sizes.slice(1, -1).map((u) => `  dense ${u}, ${setup.hidden}`);
  const out = setup.sizes[setup.sizes.length - 1]!;
  const head = setup.head === "softmax_ce" ? `  dense ${out}, softmax` : `  dense ${out}, sigmoid`;
  const optimizer = opt === "sgd" ? `sgd(lr: ${setup.lr.sgd})` : `adam(lr: ${setup.lr.adam}, beta1: 0.9, beta2: 0.999, epsilon: 1e-7)`;
  return [
    `model Bench {`,
    `  input ${setup.sizes[0]}`,
    ...hidden,
    head,
    `}`,
    ``,
    `loss      ${setup.head === "softmax_ce" ? "cross_entropy" : "binary_cross_entropy"}`,
    `optimizer ${optimizer}`,
    ``,
    `train {`,
    `  batch ${setup.batch}`,
    `}`,
    ``,
  ].join("\n");
}

/** Compile a source string to a module, in-process; throws with the diagnostics on failure. */
export function compileSource(c: Compiler, source: string, opts: Record<string, unknown> = {}): GeneratedModule {
  const checked = c.checkSource(source);
  if (!checked.value) throw new Error(`nnc check failed: ${errors(checked.diagnostics)}`);
  const compiled = c.compileToModule(checked.value, opts);
  if ("createModel" in compiled) return compiled;
  if (!compiled.value) throw new Error(`nnc compile failed: ${errors(compiled.diagnostics)}`);
  return compiled.value;
}

/**
 * Write the shared weights into a model's `params`. Our weights are [in][out]; a layout entry of
 * shape [out, in] gets the transpose. Which convention the model uses is read from a layer
 * whose two sizes differ (a square layer alone cannot tell).
 */
export function loadWeights(model: CompiledModel, init: readonly DenseInit[]): void {
  const weights = model.layout.filter((e) => e.name.endsWith(".weight"));
  const biases = model.layout.filter((e) => e.name.endsWith(".bias"));
  if (weights.length !== init.length || biases.length !== init.length)
    throw new Error(`unexpected layout: ${model.layout.map((e) => `${e.name}[${e.shape.join(",")}]`).join(" ")}`);
  const probe = init.findIndex((d) => d.inputs !== d.units);
  const outIn = probe >= 0 && weights[probe]!.shape[0] === init[probe]!.units;
  init.forEach((d, l) => {
    const w = weights[l]!, b = biases[l]!;
    if (w.size !== d.w.length || b.size !== d.b.length) throw new Error(`layout entry ${w.name} does not match layer ${l}`);
    const p = model.params;
    if (outIn) {
      for (let i = 0; i < d.inputs; i++) for (let j = 0; j < d.units; j++) p[w.offset + j * d.inputs + i] = d.w[i * d.units + j]!;
    } else p.set(d.w, w.offset);
    p.set(d.b, b.offset);
  });
}

/**
 * A module and its JavaScript, for sharded training (`--workers`): the worker threads load the
 * same text. Compiled through `compileProgram` directly (the bench's loader hands back modules only).
 */
async function moduleWithCode(c: Compiler, source: string, kernels: "js" | "wasm"): Promise<{ module: GeneratedModule; code: string }> {
  const { compileProgram } = (await import(new URL("../../compiler/compile.js", import.meta.url).href)) as typeof import("../../compiler/compile.js");
  const { loadModule } = (await import(new URL("../../compiler/load.js", import.meta.url).href)) as typeof import("../../compiler/load.js");
  const checked = c.checkSource(source);
  if (!checked.value) throw new Error(`nnc check failed: ${errors(checked.diagnostics)}`);
  const r = compileProgram(checked.value, { target: "js", kernels });
  if (!r.value) throw new Error(`nnc compile failed: ${errors(r.diagnostics)}`);
  return { module: loadModule(r.value.code), code: r.value.code };
}

/**
 * `kernels`: "js" for all-TypeScript code, "wasm" for the generated WebAssembly SIMD matrix kernels.
 * `workers`: train each batch as 4 fixed shards on that many threads (`runtime/node/shards.ts`,
 * `nnc train --workers`), instead of `trainStep`.
 */
export async function nncTrainer(setup: TrainSetup, _w: "W1" | "W2", kernels: "js" | "wasm" = "js", workers?: number): Promise<Trainer> {
  const c = await loadCompiler();
  if (typeof c === "string") throw new Error(c);
  const f = setup.sizes[0]!, k = setup.sizes[setup.sizes.length - 1]!, B = setup.batch;
  const sharded = workers !== undefined ? { sgd: await moduleWithCode(c, mlpSource(setup, "sgd"), kernels), adam: await moduleWithCode(c, mlpSource(setup, "adam"), kernels) } : undefined;
  const modules: Record<OptKind, GeneratedModule> = sharded
    ? { sgd: sharded.sgd.module, adam: sharded.adam.module }
    : {
        sgd: compileSource(c, mlpSource(setup, "sgd"), { kernels }),
        adam: compileSource(c, mlpSource(setup, "adam"), { kernels }),
      };
  const xs: Float32Array[] = [], ys: Float32Array[] = [];
  for (let b = 0; b < setup.steps; b++) {
    xs.push(setup.x.subarray(b * B * f, (b + 1) * B * f));
    ys.push(setup.y.subarray(b * B * k, (b + 1) * B * k));
  }
  // One model per optimizer, re-initialized by `reset` (not re-created: V8 specializes the
  // generated closures to the instance it has seen, and a fresh one would be re-optimized
  // during the timed run).
  const models: Record<OptKind, CompiledModel> = { sgd: modules.sgd.createModel(), adam: modules.adam.createModel() };
  let model: CompiledModel = models.sgd;
  let lr = setup.lr.sgd;
  const steppers = sharded && workers !== undefined
    ? { sgd: new ShardedStepper(models.sgd, { workers, shards: 4, seed: 1, code: sharded.sgd.code }), adam: new ShardedStepper(models.adam, { workers, shards: 4, seed: 1, code: sharded.adam.code }) }
    : undefined;
  let stepper = steppers?.sgd;
  return {
    name: `${kernels === "wasm" ? "nnc-wasm" : "nnc"}${workers !== undefined ? `-${workers}w` : ""}`,
    reset(opt: OptKind) {
      model = models[opt];
      stepper = steppers?.[opt];
      model.init(1); // zeroes the optimizer state and the step count too
      loadWeights(model, setup.init);
      lr = setup.lr[opt];
    },
    step(b: number) {
      if (stepper) stepper.trainStep(xs[b]!, ys[b]!, B, lr, b);
      else model.trainStep(xs[b]!, ys[b]!, B, lr);
    },
    sync() {},
    predict(x: Float32Array, n: number) {
      const out = new Float32Array(n * k);
      for (let s = 0; s < n; s += B) {
        const m = Math.min(B, n - s);
        out.set(model.forward(x.subarray(s * f, (s + m) * f), m).subarray(0, m * k), s * k);
      }
      return out;
    },
    infer(x: Float32Array) {
      model.forward(x, 1);
    },
    dispose() {
      if (steppers) void Promise.all([steppers.sgd.close(), steppers.adam.close()]);
    },
  };
}
