/**
 * Golden tests: the IR, the fused IR and the generated TypeScript of every example, pinned in
 * `tests/golden/compiler/` (the policy — a missing golden fails, `UPDATE_GOLDEN=1` refreshes —
 * is `tests/golden/expect-golden.ts`). Every example is compiled: one the compiler rejects
 * fails here, whether or not its data ships. Then every generated module type-checks on its
 * own under `strict` (plus noUnused*: no dead code) and is assignable to `GeneratedModule`,
 * with the TypeScript compiler API in-process. Each op's own code is pinned in
 * `op-goldens.test.ts`, so a change to one op shows there first.
 */
import { describe, expect, it } from "vitest";
import { readFileSync, readdirSync } from "node:fs";
import { basename, join } from "node:path";
import { checkSource } from "../../compiler/check.js";
import { compileProgram } from "../../compiler/compile.js";
import { program, source } from "./programs.js";
import { typeCheckModules } from "../fuzz/typecheck.js";
import { expectGolden } from "../golden/expect-golden.js";

const root = join(import.meta.dirname, "..", "..");
const goldenDir = join(root, "tests", "golden", "compiler");

function golden(file: string, actual: string): void {
  expectGolden(join(goldenDir, file), actual);
}

const examples = readdirSync(join(root, "examples"))
  .filter((f) => f.endsWith(".nn"))
  .sort()
  .map((f) => ({ name: basename(f, ".nn"), source: readFileSync(join(root, "examples", f), "utf8") }));

const generated = new Map<string, string>();

describe("golden: IR, fused IR and TypeScript of the examples", () => {
  for (const e of examples) {
    it(e.name, () => {
      const checked = checkSource(e.source);
      expect(checked.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
      const program = checked.value;
      expect(program).toBeDefined();
      const r = compileProgram(program!, { target: "ts", emit: ["ir", "fused"] });
      expect(r.diagnostics).toEqual([]);
      const code = r.value!.code;
      generated.set(e.name, code);
      // The same model with WebAssembly SIMD matrix kernels: pinned for the MLP, type-checked for all.
      const wasm = compileProgram(program!, { target: "ts", kernels: "wasm" });
      // Notes are allowed (e.g. NN3016: an optimizer without a wasm kernel updates in TypeScript).
      expect(wasm.diagnostics.filter((d) => d.severity !== "info")).toEqual([]);
      generated.set(`${e.name}_wasm`, wasm.value!.code);
      golden(`${e.name}.ir.txt`, r.value!.ir!);
      golden(`${e.name}.fused.txt`, r.value!.fused!);
      golden(`${e.name}.golden.ts`, code);
      if (e.name === "fashion-mnist") golden(`${e.name}.wasm.golden.ts`, wasm.value!.code);
    });
  }
});

/** Corner cases type-checked with the examples (not pinned as goldens). */
const EXTRA: Record<string, string> = {
  no_params: source({ layers: ["activation tanh"], loss: "mse", optimizer: "adam(lr: 0.1, clip_norm: 1)" }),
  everything: source({
    input: "[3, 4]",
    layers: ["flatten", "dropout 0.1", "dense 7, gelu", "dropout 0.2", "dense 5, leaky_relu, bias: false", "dense 3, elu", "dense 2, sigmoid"],
    loss: "binary_cross_entropy",
    optimizer: "adamw(lr: 0.01, weight_decay: 0.1, clip_norm: 1, clip_value: 0.5)",
  }),
  rmsprop: source({ layers: ["dense 3, relu", "dense 2"], loss: "huber(delta: 2)", optimizer: "rmsprop(lr: 0.01, momentum: 0.9, weight_decay: 0.01)" }),
  nesterov: source({ layers: ["dense 3, sigmoid", "dense 2, softmax"], loss: "mse", optimizer: "sgd(lr: 0.1, momentum: 0.9, nesterov: true)" }),
};

describe("generated TypeScript type-checks standalone", () => {
  for (const [name, src] of Object.entries(EXTRA)) {
    it(`compiles ${name}`, () => {
      const r = compileProgram(program(src), { target: "ts" });
      expect(r.diagnostics).toEqual([]);
      generated.set(name, r.value!.code);
    });
  }

  it("under strict, noUnusedLocals/Parameters, and fits GeneratedModule", () => {
    expect(examples.length).toBeGreaterThan(0);
    expect(generated.size).toBe(2 * examples.length + Object.keys(EXTRA).length);
    const errors = typeCheckModules(generated);
    expect(errors).toEqual([]);
  });
});
