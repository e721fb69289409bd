/**
 * The names of a graph, read from the text with the real lexer (the editor has no checker):
 * the values named before the cursor (`skip = dense 64`, `image = input [28, 28]`) in the body
 * it is in (a `repeat` body also sees its enclosing body's names; a `block` body only its own,
 * as the checker scopes them), and the blocks a file declares (`block residual(width) {`).
 * With the language worker's latest diagram it tells what made a value and its shape.
 */
import type { IToken } from "chevrotain";
import { tokenize } from "../../../grammar/lexer.js";
import type { Diagram } from "../protocol.js";

/** A named value: where it is defined and what the statement after `=` says. */
export interface ValueDef {
  readonly name: string;
  /** 1-based line of its statement. */
  readonly line: number;
  /** The statement after `name =`, as written: `dense 16, relu`, `input [4]`, `residual 16`. */
  readonly text: string;
}

/** A `block name(params) {` declaration. */
export interface BlockDecl {
  readonly name: string;
  /** `block residual(width)`, as written. */
  readonly header: string;
  readonly line: number;
  /** Comment lines right above it, without `#`. */
  readonly doc: string;
}

const lines = (text: string): string[] => text.split(/\r\n?|\n/);

/** The text of a statement from its `i`-th token to the end of its line (comments dropped). */
function restOfLine(text: string, t: IToken): string {
  const line = lines(text)[(t.startLine ?? 1) - 1] ?? "";
  return line
    .slice((t.startColumn ?? 1) - 1)
    .replace(/\s*(?:#|\/\/).*$/, "")
    .replace(/\s*\{.*$/, "")
    .trim();
}

/** The blocks `text` declares, in order. */
export function blocksIn(text: string): BlockDecl[] {
  const { tokens } = tokenize(text);
  const all = lines(text);
  const out: BlockDecl[] = [];
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const kind = t.tokenType.name;
    if (kind === "LBrace") depth++;
    else if (kind === "RBrace") depth = Math.max(0, depth - 1);
    else if (depth === 0 && kind === "BlockKeyword" && t.image === "block") {
      const name = tokens[i + 1];
      if (name === undefined || name.startLine !== t.startLine || !/^[A-Za-z_]/.test(name.image)) continue;
      const line = t.startLine ?? 1;
      const doc: string[] = [];
      for (let k = line - 2; k >= 0 && /^\s*(#|\/\/)/.test(all[k] ?? ""); k--) doc.unshift((all[k] ?? "").replace(/^\s*(#|\/\/)\s?/, ""));
      out.push({ name: name.image, header: restOfLine(text, t), line, doc: doc.join("\n") });
    }
  }
  return out;
}

/** Words that open a graph body. */
export const GRAPH_BODIES = new Set(["model", "block", "repeat"]);

/**
 * The values named in the graph body enclosing the end of `textBefore`, innermost scope first
 * (names defined on the cursor's own line included).
 */
export function valuesBefore(textBefore: string): ValueDef[] {
  const { tokens } = tokenize(textBefore);
  interface Scope {
    readonly head: string;
    readonly values: ValueDef[];
  }
  const stack: Scope[] = [];
  let statement: IToken[] = [];
  let line = -1;
  let parens = 0;
  for (const t of tokens) {
    const kind = t.tokenType.name;
    if (t.startLine !== line && parens === 0) {
      statement = [];
      line = t.startLine ?? -1;
    }
    if (kind === "LBrace") {
      // `r = repeat 3 {` is not written, but a head after a target is still the head.
      const head = statement[1]?.tokenType.name === "Equals" ? statement[2] : statement[0];
      stack.push({ head: head?.image ?? "", values: [] });
      statement = [];
      continue;
    }
    if (kind === "RBrace") {
      stack.pop();
      statement = [];
      continue;
    }
    if (kind === "LParen") parens++;
    else if (kind === "RParen") parens = Math.max(0, parens - 1);
    statement.push(t);
    const scope = stack[stack.length - 1];
    if (statement.length === 2 && kind === "Equals" && scope !== undefined && GRAPH_BODIES.has(scope.head) && /^[A-Za-z_]/.test(statement[0]!.image)) {
      const next = tokens[tokens.indexOf(t) + 1];
      const text = next !== undefined && next.startLine === t.startLine ? restOfLine(textBefore, next) : "";
      scope.values.push({ name: statement[0]!.image, line: t.startLine ?? 1, text });
    }
  }
  const out: ValueDef[] = [];
  for (let i = stack.length - 1; i >= 0; i--) {
    const s = stack[i]!;
    if (!GRAPH_BODIES.has(s.head)) break;
    out.push(...[...s.values].reverse());
    if (s.head !== "repeat") break;
  }
  // Innermost and latest first; a name defined twice is its latest definition.
  const seen = new Set<string>();
  return out.filter((v) => (seen.has(v.name) ? false : (seen.add(v.name), true)));
}

// ── what the language worker knows ────────────────────────────────────────────
let info: { source: string; diagram: Diagram } | undefined;

/** The latest diagram from the language worker, and the text it was made from. */
export function setGraphInfo(source: string, diagram: Diagram): void {
  info = { source, diagram };
}

/**
 * What the statement on `line` makes, when the worker's latest diagram is of `source`: one
 * entry for a statement of the model, one per use for a statement inside a block (`residual_2.dense_1`).
 */
export function madeOnLine(source: string, line: number): { readonly name: string; readonly label: string; readonly shape: readonly number[] }[] {
  if (info === undefined || info.source !== source) return [];
  const d = info.diagram;
  const direct = d.nodes.filter((n) => n.line === line);
  if (direct.length > 0) return direct.map((n) => ({ name: n.name, label: n.label, shape: n.shape }));
  // A block use: the value of its last layer.
  return d.groups
    .filter((g) => g.line === line)
    .flatMap((g) => {
      const members = d.nodes.filter((n) => n.groups.includes(g.key));
      const last = members[members.length - 1];
      return last === undefined ? [] : [{ name: g.key, label: g.label, shape: last.shape }];
    });
}
