/**
 * No injection, end to end from `.nn` text: hostile layer names (as `.nn` string literals,
 * escapes and all), model names that are reserved or generated identifiers, and extreme
 * numbers go through the checker and the compiler; the generated TypeScript parses cleanly,
 * the module behaves exactly like the same model with plain names, names survive only as data,
 * and nothing leaks into the global scope. (The compiler's own test builds hostile `Program`s
 * directly; this one starts from source text and adds random names.)
 */
import fc from "fast-check";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { checkSource } from "../../compiler/check.js";
import { compileProgram } from "../../compiler/compile.js";
import { loadModule } from "../../compiler/load.js";

/** Any text as a `.nn` string literal: quotes, backslashes, controls, separators, surrogates escaped. */
export function nnString(text: string): string {
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    const c = text.charCodeAt(i);
    if (ch === '"' || ch === "\\") out += "\\" + ch;
    else if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0x2028 || c === 0x2029 || (c >= 0xd800 && c <= 0xdfff) || c === 0xfeff) {
      out += "\\u" + c.toString(16).padStart(4, "0");
    } else out += ch;
  }
  return out + '"';
}

const HOSTILE_NAMES = [
  'x"; process.exit(1); //',
  "x'; globalThis.__pwned = 1; //",
  "`${globalThis.__pwned = 1}`",
  "${globalThis.__pwned = 1}",
  "*/ globalThis.__pwned = 1; /*",
  "/* unclosed",
  "// line comment",
  "<!-- html comment",
  "--> html close",
  "a\nglobalThis.__pwned = 1;//",
  "a\rglobalThis.__pwned = 1;//",
  "a\u2028globalThis.__pwned = 1;//",
  "a\u2029globalThis.__pwned = 1;//",
  "</script><script>globalThis.__pwned = 1</script>",
  "\\u0022; globalThis.__pwned = 1; //",
  "\\\\\"); globalThis.__pwned = 1; (\"",
  "\u0000nul",
  "\ufeffbom",
  "\ud800 lone surrogate",
  "\udc00",
  "😀 emoji",
  "constructor",
  "__proto__",
  "prototype",
  "toString",
  "hasOwnProperty",
  "w1",
  "h1",
  "params",
  "createModel",
  "layout",
  "meta",
  "x".repeat(64),
];

const MODEL_NAMES = ["constructor", "__proto__", "prototype", "toString", "valueOf", "eval", "arguments", "undefined", "NaN", "Infinity", "globalThis", "process", "require", "layout", "meta", "createModel", "x", "y", "w1", "loss", "class", "function", "return", "await", "yield", "let"];

function source(modelName: string, names: readonly (string | undefined)[], lr = "0.05"): string {
  const named = (i: number): string => (names[i] === undefined ? "" : `, name: ${nnString(names[i] as string)}`);
  return `model ${modelName} {
  seed 3
  input 3
  dense 5, relu${named(0)}
  dropout 0.2${named(1)}
  activation tanh${named(2)}
  dense 3, softmax${named(3)}
}
loss cross_entropy
optimizer adam(lr: ${lr})
train { batch 4 }
`;
}

const N = 4;
const X = new Float32Array(N * 3).map((_, i) => Math.sin(i + 1));
const Y = new Float32Array(N * 3).map((_, i) => (i % 3 === (i / 3) % 3 ? 1 : 0));

/** Behaviour: two training steps (dropout included) and a prediction. */
function behaviour(src: string): { numbers: number[]; names: string[]; model: string; ts: string } {
  const checked = checkSource(src);
  if (checked.value === undefined) throw new Error(`refused: ${checked.diagnostics.map((d) => `${d.code} ${d.message}`).join("; ")}\n${src}`);
  const tsOut = compileProgram(checked.value, { target: "ts" });
  const jsOut = compileProgram(checked.value, { target: "js" });
  if (tsOut.value === undefined || jsOut.value === undefined) throw new Error(`does not compile: ${tsOut.diagnostics.map((d) => d.message).join("; ")}`);
  const mod = loadModule(jsOut.value.code);
  const m = mod.createModel();
  m.init(3);
  const numbers = [m.trainStep(X, Y, N, 0.05), m.trainStep(X, Y, N, 0.05), ...m.predict(X, N)];
  return { numbers, names: mod.layout.map((e) => e.name), model: mod.meta.name, ts: tsOut.value.code };
}

const PLAIN = behaviour(source("Net", []));

function expectHarmless(src: string, names: readonly (string | undefined)[], modelName: string): void {
  const b = behaviour(src);
  expect(b.numbers).toEqual(PLAIN.numbers);
  expect(b.model).toBe(modelName);
  // The dense layers' names reach the layout as data, exactly.
  if (names[0] !== undefined) expect(b.names[0]).toBe(`${names[0]}.weight`);
  if (names[3] !== undefined) expect(b.names.at(-1)).toBe(`${names[3]}.bias`);
  const parsed = ts.transpileModule(b.ts, { reportDiagnostics: true, compilerOptions: { target: ts.ScriptTarget.ES2022 } });
  expect(parsed.diagnostics ?? []).toEqual([]);
  // Same code shape: the hostile module has exactly the plain module's code tokens, once
  // string literals and comments are set aside.
  expect(codeTokens(b.ts)).toEqual(codeTokens(PLAIN.ts));
  expect((globalThis as { __pwned?: number }).__pwned).toBeUndefined();
}

/** The token stream of a module with string literals, template text and comments removed. */
function codeTokens(code: string): string[] {
  const scanner = ts.createScanner(ts.ScriptTarget.ES2022, true, ts.LanguageVariant.Standard, code);
  const out: string[] = [];
  for (let tok = scanner.scan(); tok !== ts.SyntaxKind.EndOfFileToken; tok = scanner.scan()) {
    if (tok === ts.SyntaxKind.StringLiteral || tok === ts.SyntaxKind.NoSubstitutionTemplateLiteral) out.push("<string>");
    else out.push(scanner.getTokenText());
  }
  return out;
}

describe("no injection from .nn text", () => {
  it.each(HOSTILE_NAMES.map((n) => [JSON.stringify(n), n] as const))("layer name %s", (_, name) => {
    const names = [name, `${name.slice(0, 60)}-drp`, `${name.slice(0, 60)}-act`, `${name.slice(0, 60)}-out`];
    expectHarmless(source("Net", names), names, "Net");
  });

  it("model names that are reserved words, globals or generated identifiers", () => {
    for (const m of MODEL_NAMES) {
      const r = checkSource(source(m, []));
      if (r.value === undefined) continue; // the checker may refuse some; refusing is harmless
      expectHarmless(source(m, []), [], m);
    }
  });

  it("random names of any UTF-16 code units", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: "binary", minLength: 1, maxLength: 64 }), { minLength: 4, maxLength: 4 }), (names) => {
        fc.pre(names.every((n) => n.length >= 1 && n.length <= 64) && new Set(names).size === 4);
        expectHarmless(source("Net", names), names, "Net");
      }),
      { numRuns: 20, seed: 7301 },
    );
  });

  it("numbers written in extreme ways compile to the same constant", () => {
    for (const lr of ["0.05", "5e-2", "0.0500000000000000000000000001", "50e-3", "0.5e-1", "00.05", "5E-2", "5%"]) {
      const src = source("Net", [], lr);
      const r = checkSource(src);
      if (r.value === undefined) continue; // `5%` may be refused as a learning rate
      expect(behaviour(src).numbers).toEqual(PLAIN.numbers);
    }
  });
});
