/** In-process type-checking of generated modules (TypeScript compiler API). */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { ROOT } from "./text-gen.js";

/**
 * Type-checks generated modules together, each on its own under `strict` and `noUnused*` and
 * against the GeneratedModule contract. Modules are named (errors read `/gen/<name>.ts:<line>`),
 * or numbered when given as a list. Returns the errors.
 */
export function typeCheckModules(modules: readonly string[] | ReadonlyMap<string, string>): string[] {
  const named = Array.isArray(modules) ? modules.map((code, i) => [`m${i}`, code] as const) : [...(modules as ReadonlyMap<string, string>)];
  const files = new Map<string, string>();
  files.set("/gen/model-api.ts", readFileSync(join(ROOT, "compiler", "model-api.ts"), "utf8"));
  const checks = [`import type { GeneratedModule } from "./model-api";`];
  for (const [name, code] of named) {
    const id = name.replace(/[^A-Za-z0-9]/g, "_");
    files.set(`/gen/${id}.ts`, code);
    checks.push(`import * as ${id} from "./${id}";`, `export const check_${id}: GeneratedModule = ${id};`);
  }
  files.set("/gen/check.ts", checks.join("\n") + "\n");
  const options: ts.CompilerOptions = {
    strict: true,
    noUnusedLocals: true,
    noUnusedParameters: true,
    noImplicitReturns: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ES2022,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ["lib.es2022.d.ts"],
    types: [],
    skipLibCheck: true,
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, onError, create) => {
    const text = files.get(name);
    return text !== undefined ? ts.createSourceFile(name, text, lang) : getSourceFile(name, lang, onError, create);
  };
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => files.has(name) || fileExists(name);
  const directoryExists = host.directoryExists?.bind(host);
  host.directoryExists = (dir) => dir === "/gen" || (directoryExists?.(dir) ?? false);
  const readFile = host.readFile.bind(host);
  host.readFile = (name) => files.get(name) ?? readFile(name);
  const prog = ts.createProgram([...files.keys()], options, host);
  return ts.getPreEmitDiagnostics(prog).map((d) => {
    const where = d.file && d.start !== undefined ? `${d.file.fileName}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}` : "";
    return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
  });
}

