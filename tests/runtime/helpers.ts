/** Shared helpers for runtime tests: check an example, build a session on the fixture model. */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { CompiledModel } from "../../compiler/model-api.js";
import type { Program } from "../../compiler/program.js";
import { checkSource } from "../../compiler/check.js";
import { FileReader } from "../../runtime/node/files.js";
import { createSession, type RunOverrides, type Session } from "../../runtime/session.js";
import { compileModel } from "../../runtime/node/model.js";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");

export function programOf(source: string): Program {
  const r = checkSource(source);
  const errors = r.diagnostics.filter((d) => d.severity === "error");
  if (!r.value || errors.length > 0) throw new Error(errors.map((d) => `${d.code} ${d.message}`).join("\n"));
  return r.value;
}

export function example(name: string): string {
  return readFileSync(join(ROOT, "examples", `${name}.nn`), "utf8");
}

export async function session(
  program: Program,
  model: CompiledModel,
  baseDir = join(ROOT, "examples"),
  overrides: RunOverrides = {},
): Promise<Session> {
  const r = await createSession(program, model, new FileReader(baseDir), overrides);
  if (!r.value) throw new Error(r.diagnostics.map((d) => `${d.file ?? ""}:${d.span.line} ${d.code} ${d.message}`).join("\n"));
  return r.value;
}

/** The compiled model of a checked program (float32, the default kernels); throws on errors. */
export function model(p: Program): CompiledModel {
  const m = compileModel(p);
  if (!m.value) throw new Error(m.diagnostics.map((d) => d.message).join("\n"));
  return m.value;
}
