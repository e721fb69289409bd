/** Test helpers: `.nn` sources for small networks, checked into `Program`s. */
import { checkSource } from "../../compiler/check.js";
import type { Program } from "../../compiler/program.js";
import { compileToModule } from "../../compiler/load.js";
import type { CompileOptions } from "../../compiler/compile.js";
import type { GeneratedModule } from "../../compiler/model-api.js";

export function program(source: string): Program {
  const r = checkSource(source);
  if (r.value === undefined) throw new Error(`test source does not check:\n${r.diagnostics.map((d) => `${d.code} ${d.message}`).join("\n")}\n${source}`);
  return r.value;
}

export interface NetSpec {
  readonly input?: string;
  /** Layer lines, e.g. `dense 4, relu`. */
  readonly layers: readonly string[];
  readonly loss: string;
  readonly optimizer?: string;
  readonly batch?: number;
  readonly seed?: number;
}

export function source(spec: NetSpec): string {
  return [
    "model Net {",
    `  seed ${spec.seed ?? 1}`,
    `  input ${spec.input ?? "3"}`,
    ...spec.layers.map((l) => `  ${l}`),
    "}",
    `loss ${spec.loss}`,
    `optimizer ${spec.optimizer ?? "sgd(lr: 0.1)"}`,
    `train { batch ${spec.batch ?? 8} }`,
    "",
  ].join("\n");
}

export function compileNet(spec: NetSpec, options: Omit<CompileOptions, "target" | "emit"> = {}): GeneratedModule {
  const r = compileToModule(program(source(spec)), { dtype: "float64", ...options });
  if (r.value === undefined) throw new Error(`does not compile: ${r.diagnostics.map((d) => `${d.code} ${d.message}`).join("; ")}`);
  return r.value;
}
