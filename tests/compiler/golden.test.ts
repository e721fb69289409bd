/**
 * Golden tests: the IR, the fused IR and the generated TypeScript of every example, pinned in
 * `tests/golden/compiler/` (refresh with `UPDATE_GOLDEN=1 npx vitest run tests/compiler`; a
 * missing golden is written on first run). Then every generated module type-checks on its
 * own under `strict` (plus noUnused*: no dead code) and is assignable to `GeneratedModule`,
 * with the TypeScript compiler API in-process.
 */
import { describe, expect, it } from "vitest";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { checkSource } from "../../compiler/check.js";
import { compileProgram } from "../../compiler/compile.js";
import { program, source } from "./programs.js";
import { typeCheckModules } from "../fuzz/typecheck.js";

const root = join(import.meta.dirname, "..", "..");
const goldenDir = join(root, "tests", "golden", "compiler");
const update = process.env["UPDATE_GOLDEN"] === "1";

function golden(file: string, actual: string): void {
  const path = join(goldenDir, file);
  if (update || !existsSync(path)) {
    mkdirSync(goldenDir, { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  expect(actual, `${file} changed; if intended, refresh with UPDATE_GOLDEN=1`).toBe(readFileSync(path, "utf8"));
}

const examples = readdirSync(join(root, "examples"))
  .filter((f) => f.endsWith(".nn"))
  .sort()
  .map((f) => ({ name: basename(f, ".nn"), source: readFileSync(join(root, "examples", f), "utf8") }))
  // Every example the compiler accepts (a layer family still being written is left out).
  .filter((e) => {
    const p = checkSource(e.source).value;
    return p !== undefined && compileProgram(p).value !== undefined;
  });

const generated = new Map<string, string>();

describe("golden: IR, fused IR and TypeScript of the examples", () => {
  for (const e of examples) {
    it(e.name, () => {
      const program = checkSource(e.source).value;
      expect(program).toBeDefined();
      const r = compileProgram(program!, { target: "ts", emit: ["ir", "fused"] });
      expect(r.diagnostics).toEqual([]);
      const code = r.value!.code;
      generated.set(e.name, code);
      golden(`${e.name}.ir.txt`, r.value!.ir!);
      golden(`${e.name}.fused.txt`, r.value!.fused!);
      golden(`${e.name}.golden.ts`, code);
      // The same model with WebAssembly SIMD matrix kernels: pinned for the MLP, type-checked for all.
      const wasm = compileProgram(program!, { target: "ts", kernels: "wasm" });
      expect(wasm.diagnostics).toEqual([]);
      generated.set(`${e.name}_wasm`, wasm.value!.code);
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
    expect(generated.size).toBe(2 * examples.length + Object.keys(EXTRA).length);
    const errors = typeCheckModules(generated);
    expect(errors).toEqual([]);
  });
});
