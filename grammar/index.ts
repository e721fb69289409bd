/**
 * The front end's facade: text → tokens → CST → AST. Never throws on user input; returns the
 * tree (with holes where the text was broken) and every problem found.
 */
import type { SourceFile } from "./ast.js";
import { buildAst } from "./build-ast.js";
import { diag, sortDiagnostics, type Diagnostic, type Result } from "./diagnostics.js";
import { tokenize, tokenSpan } from "./lexer.js";
import { parseTokens } from "./parser.js";

export function parse(source: string): Result<SourceFile> {
  const lexed = tokenize(source);
  const parsed = parseTokens(lexed.tokens);
  const built = buildAst(parsed.cst, lexed.comments, source);
  const diagnostics: Diagnostic[] = [...lexed.diagnostics, ...built.diagnostics];
  for (const e of parsed.errors) {
    const t = e.token;
    if (isNaN(t.startOffset)) continue; // at EOF: the builder reported what is missing
    const span = tokenSpan(t);
    if (diagnostics.some((d) => d.span.start <= span.start && span.start < Math.max(d.span.end, d.span.start + 1))) continue;
    diagnostics.push(diag("unexpectedToken", span, [`\`${t.image}\``]));
  }
  return { value: built.value, diagnostics: sortDiagnostics(diagnostics) };
}

export type * from "./ast.js";
export { type Diagnostic, type Result } from "./diagnostics.js";
