/**
 * Nothing from a `.nn` file reaches generated code except through the sanitizer: layers and
 * models with hostile names compile to code that parses, behaves exactly like the same model
 * with plain names, and keeps the names only as data (the layout) and in inert comments.
 */
import { describe, expect, it } from "vitest";
import ts from "typescript";
import { compileProgram } from "../../compiler/compile.js";
import { loadModule } from "../../compiler/load.js";
import type { Program } from "../../compiler/program.js";
import { commentText, stringLiteral } from "../../compiler/codegen/names.js";
import { program, source } from "./programs.js";

const HOSTILE = [
  'x"; process.exit(1); //',
  "x'; globalThis.__pwned = 1; //",
  "`${globalThis.__pwned = 1}`",
  "*/ globalThis.__pwned = 1; /*",
  "a\nglobalThis.__pwned = 1;//",
  "a\u2028globalThis.__pwned = 1;//",
  "a\u2029globalThis.__pwned = 1;//",
  "a\r\nglobalThis.__pwned = 1;",
  "</script><script>globalThis.__pwned = 1</script>",
  "\\u0022; globalThis.__pwned = 1; //",
  "constructor",
  "__proto__",
  "\ud800 lone surrogate",
];

function withNames(p: Program, name: string): Program {
  return {
    ...p,
    model: {
      ...p.model,
      name,
      layers: p.model.layers.map((l, i) => ({ ...l, name: `${name}${i}`, named: true })),
      nodes: p.model.nodes.map((nd, i) => ({ ...nd, layer: { ...nd.layer, name: `${name}${i}`, named: true } })),
    },
  };
}

describe("hostile names", () => {
  const base = program(source({ layers: ["dense 5, relu", "dropout 0.2", "dense 3, softmax"], loss: "cross_entropy", optimizer: "adam(lr: 0.01)" }));
  const plain = loadModule(compileProgram(base, { target: "js" }).value!.code).createModel();
  const n = 4;
  const x = new Float32Array(n * 3).map((_, i) => Math.sin(i));
  const y = new Float32Array(n * 3).map((_, i) => (i % 3 === 0 ? 1 : 0));
  const expected = [plain.trainStep(x, y, n, 0.01), plain.trainStep(x, y, n, 0.01), ...plain.predict(x, n)];

  for (const name of HOSTILE) {
    it(JSON.stringify(name), () => {
      const p = withNames(base, name);
      const ts_ = compileProgram(p, { target: "ts" }).value!.code;
      const parsed = ts.transpileModule(ts_, { reportDiagnostics: true, compilerOptions: { target: ts.ScriptTarget.ES2022 } });
      expect(parsed.diagnostics ?? []).toEqual([]);
      const mod = loadModule(compileProgram(p, { target: "js" }).value!.code);
      const m = mod.createModel();
      expect([m.trainStep(x, y, n, 0.01), m.trainStep(x, y, n, 0.01), ...m.predict(x, n)]).toEqual(expected);
      expect(mod.layout[0]!.name).toBe(`${name}0.weight`);
      expect(mod.meta.name).toBe(name);
      expect((globalThis as { __pwned?: number }).__pwned).toBeUndefined();
      // No token of code (outside string literals and comments) comes from the name.
      const scanner = ts.createScanner(ts.ScriptTarget.ES2022, true, ts.LanguageVariant.Standard, ts_);
      for (let tok = scanner.scan(); tok !== ts.SyntaxKind.EndOfFileToken; tok = scanner.scan()) {
        if (tok === ts.SyntaxKind.Identifier) expect(["globalThis", "__pwned", "process", "script"]).not.toContain(scanner.getTokenText());
      }
    });
  }
});

describe("sanitizer", () => {
  it("string literals read back to the same text", () => {
    for (const s of HOSTILE) expect(JSON.parse(stringLiteral(s).replace(/\\u([0-9a-f]{4})/g, (_, h: string) => `\\u${h}`))).toBe(s);
  });
  it("comments stay on one line and cannot close", () => {
    for (const s of HOSTILE) {
      const c = commentText(s);
      expect(c).not.toMatch(/[\n\r\u2028\u2029]/);
      expect(c).not.toContain("*/");
    }
  });
});
