/**
 * The language worker: source text → diagnostics (the CLI's codes and messages), the generated
 * TypeScript, the IR dump and the network diagram. Prettier is loaded only when the
 * TypeScript panel asks for formatted code.
 */
import { checkSource } from "../../compiler/check.js";
import { compileProgram } from "../../compiler/compile.js";
import type { Diagnostic } from "../../grammar/diagnostics.js";
import { buildDiagram } from "./diagram/build.js";
import { trainOnFile } from "./knobs/source-edits.js";
import type { Diagram, LangRequest, LangResponse } from "./protocol.js";

const scope = self as unknown as { postMessage(m: LangResponse): void; onmessage: ((e: MessageEvent<LangRequest>) => void) | null };

/** Generated code of recent checks, by id, for `format`. */
const codes = new Map<number, string>();

function check(id: number, source: string): LangResponse {
  const t0 = performance.now();
  const checked = checkSource(source);
  const diagnostics: Diagnostic[] = [...checked.diagnostics];
  let code: string | undefined;
  let ir: string | undefined;
  let diagram: Diagram | undefined;
  const program = checked.value;
  if (program) {
    try {
      const compiled = compileProgram(program, { target: "ts", emit: ["ir", "fused"] });
      diagnostics.push(...compiled.diagnostics);
      if (compiled.value) {
        code = compiled.value.code;
        ir = `${compiled.value.ir ?? ""}\n${compiled.value.fused ?? ""}`;
        diagram = buildDiagram(program, compiled.value.graph, source);
      }
    } catch (e) {
      // A compiler bug, not a user error: show it rather than leave the panel stale.
      code = `// the compiler failed: ${String(e)}`;
    }
  }
  if (code !== undefined) {
    codes.set(id, code);
    for (const k of codes.keys()) if (k < id - 4) codes.delete(k);
  }
  const train = program?.data?.train;
  const dataKind = train === undefined ? undefined : train.kind === "generator" ? train.generator : train.kind;
  return { type: "checked", id, diagnostics, code, ir, diagram, dataKind, millis: performance.now() - t0 };
}

scope.onmessage = async (e) => {
  const m = e.data;
  if (m.type === "check") {
    scope.postMessage(check(m.id, m.csv ? trainOnFile(m.source) : m.source));
  } else if (m.type === "format") {
    const code = codes.get(m.id);
    if (code === undefined) return;
    const { formatCode } = await import("../../compiler/format.js");
    let formatted = code;
    try {
      formatted = await formatCode(code);
    } catch {
      // Unformatted code is still correct code.
    }
    scope.postMessage({ type: "formatted", id: m.id, code: formatted });
  }
};
