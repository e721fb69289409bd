/**
 * CST → AST. Reports the structural problems the grammar tolerates on purpose (a missing `}`,
 * `)` or `]`, a missing or trailing comma, stray tokens, bad string escapes), so every broken
 * file still yields a tree and all of its problems at once.
 */
import type { CstElement, CstNode, IToken } from "chevrotain";
import type { Arg, Block, Expr, Name, SourceFile, Statement } from "./ast.js";
import { diag, type Diagnostic } from "./diagnostics.js";
import { afterToken, tokenSpan } from "./lexer.js";
import { printArg } from "./print.js";
import { joinSpans, type Span } from "./span.js";
import { MalformedNumber, RBrace, Semicolon, UnterminatedString } from "./tokens.js";

type Children = Record<string, CstElement[] | undefined>;

function isToken(e: CstElement): e is IToken {
  return (e as IToken).image !== undefined;
}
function nodes(c: Children, key: string): CstNode[] {
  return (c[key] ?? []).filter((e): e is CstNode => !isToken(e));
}
function tokens(c: Children, key: string): IToken[] {
  return (c[key] ?? []).filter(isToken).filter((t) => !isNaN(t.startOffset));
}
function node(c: Children, key: string): CstNode | undefined {
  return nodes(c, key)[0];
}
function token(c: Children, key: string): IToken | undefined {
  return tokens(c, key)[0];
}

/** Every real token under a CST element, in order. */
function allTokens(e: CstElement, out: IToken[] = []): IToken[] {
  if (isToken(e)) {
    if (!isNaN(e.startOffset)) out.push(e);
    return out;
  }
  for (const list of Object.values(e.children)) for (const child of list ?? []) allTokens(child, out);
  return out;
}

/** The span of a CST element, from the location Chevrotain tracks for every node. */
function spanOf(e: CstElement): Span | undefined {
  if (isToken(e)) return isNaN(e.startOffset) ? undefined : tokenSpan(e);
  const l = e.location;
  if (l === undefined || isNaN(l.startOffset) || l.endOffset === undefined || isNaN(l.endOffset)) {
    // a node that recovery left without tokens, or with a partial location: walk it
    const ts = allTokens(e).sort((a, b) => a.startOffset - b.startOffset);
    const first = ts[0];
    const last = ts[ts.length - 1];
    return first === undefined || last === undefined ? undefined : joinSpans(tokenSpan(first), tokenSpan(last));
  }
  return {
    start: l.startOffset,
    end: l.endOffset + 1,
    line: l.startLine ?? 1,
    column: l.startColumn ?? 1,
    endLine: l.endLine ?? l.startLine ?? 1,
    endColumn: (l.endColumn ?? l.startColumn ?? 0) + 1,
  };
}

function describe(t: IToken): string {
  return t.image.length > 20 ? `\`${t.image.slice(0, 20)}…\`` : `\`${t.image}\``;
}

const ESCAPES: Record<string, string> = { n: "\n", t: "\t", r: "\r", '"': '"', "\\": "\\", "0": "\0" };

class Builder {
  readonly diagnostics: Diagnostic[] = [];
  private readonly comments: IToken[];
  private commentIndex = 0;

  constructor(comments: readonly IToken[]) {
    this.comments = [...comments].sort((a, b) => a.startOffset - b.startOffset);
  }

  /** Comments that end before `offset`, consumed. */
  private commentsBefore(offset: number): string[] {
    const out: string[] = [];
    while (this.commentIndex < this.comments.length) {
      const c = this.comments[this.commentIndex];
      if (c === undefined || c.startOffset >= offset) break;
      out.push(commentText(c));
      this.commentIndex++;
    }
    return out;
  }

  /** A comment on `line` after `offset`, consumed. */
  private commentOnLine(line: number, offset: number): string | undefined {
    const c = this.comments[this.commentIndex];
    if (c !== undefined && c.startLine === line && c.startOffset >= offset) {
      this.commentIndex++;
      return commentText(c);
    }
    return undefined;
  }

  file(cst: CstNode, sourceLength: number, end: Span): SourceFile {
    const c = cst.children;
    const statements: Statement[] = [];
    const items = [...nodes(c, "statement"), ...nodes(c, "stray"), ...tokens(c, "strayClose")].sort(
      (a, b) => startOf(a) - startOf(b),
    );
    this.items(items, statements, false);
    const comments = this.commentsBefore(sourceLength + 1);
    return {
      statements,
      comments,
      span: { start: 0, end: sourceLength, line: 1, column: 1, endLine: end.endLine, endColumn: end.endColumn },
    };
  }

  /** Statements, stray tokens and stray `}` in source order. */
  private items(items: readonly CstElement[], statements: Statement[], inBlock: boolean): void {
    let strayRun: IToken[] = [];
    let previousEnd: number | undefined;
    const flush = (): void => {
      const first = strayRun[0];
      const last = strayRun[strayRun.length - 1];
      if (first !== undefined && last !== undefined) {
        const hint =
          first.tokenType === MalformedNumber || first.tokenType === UnterminatedString
            ? undefined
            : "a statement starts with a name, e.g. `dense 64, relu` or `epochs 10`";
        this.diagnostics.push(
          diag("unexpectedToken", joinSpans(tokenSpan(first), tokenSpan(last)), [describe(first)], hint === undefined ? {} : { hint }),
        );
      }
      strayRun = [];
    };
    for (const item of items) {
      if (isToken(item)) {
        flush();
        if (item.tokenType === RBrace) {
          this.diagnostics.push(
            diag("unmatchedCloseBrace", tokenSpan(item), [], { hint: "remove it, or add the `{` it should close" }),
          );
        }
      } else if (item.name === "stray") {
        const ts = allTokens(item);
        const only = ts[0];
        if (ts.length === 1 && only !== undefined && only.tokenType === Semicolon) {
          this.diagnostics.push(diag("semicolon", tokenSpan(only), [], { hint: "remove the `;`" }));
          continue;
        }
        const prev = strayRun[strayRun.length - 1];
        const t = ts[0];
        if (t !== undefined && prev !== undefined && prev.startLine !== t.startLine) flush();
        for (const t of ts) strayRun.push(t);
      } else {
        flush();
        // A blank line before the statement (or before the comments above it) is kept by `nnc fmt`.
        const next = this.comments[this.commentIndex];
        const start = (next !== undefined && next.startOffset < startOf(item) ? next.startLine : item.location?.startLine) ?? 0;
        const st = this.statement(item);
        // Inside a block, as `nnc fmt` prints it: a blank line as written, and one before a nested block.
        const blank = inBlock && previousEnd !== undefined && (start > previousEnd + 1 || st.block !== undefined);
        statements.push(blank ? { ...st, blankBefore: true } : st);
        previousEnd = st.span.endLine;
      }
    }
    flush();
  }

  private statement(cst: CstNode): Statement {
    const c = cst.children;
    const kw = token(c, "keyword");
    const keyword: Name = kw === undefined ? { name: "", span: spanOf(cst) ?? ZERO } : { name: kw.image, span: tokenSpan(kw) };
    const targetTok = token(c, "target");
    const target: Name | undefined = targetTok === undefined ? undefined : { name: targetTok.image, span: tokenSpan(targetTok) };
    const sources: Name[] = tokens(c, "sources").map((t) => ({ name: t.image, span: tokenSpan(t) }));
    const first = targetTok ?? tokens(c, "sources")[0] ?? kw;
    const comments = this.commentsBefore(first?.startOffset ?? 0);
    const argsNode = node(c, "arguments");
    const args = argsNode === undefined ? [] : this.arguments(argsNode);
    const colon = token(c, "colon");
    if (colon !== undefined) {
      const fixed = [keyword.name, args.map(printArg).join(", ")].filter((x) => x !== "").join(" ");
      this.diagnostics.push(diag("colonAfterSetting", tokenSpan(colon), [colon.image, keyword.name], { hint: `write \`${fixed}\`` }));
    }
    const semicolon = token(c, "semicolon");
    if (semicolon !== undefined) this.diagnostics.push(diag("semicolon", tokenSpan(semicolon), [], { hint: "remove the `;`" }));
    const blockNode = node(c, "block");
    const headerEnd = argsNode === undefined ? keyword.span : (spanOf(argsNode) ?? keyword.span);
    const trailingComment = blockNode === undefined ? undefined : this.commentOnLine(headerEnd.endLine, headerEnd.end);
    const block = blockNode === undefined ? undefined : this.block(blockNode, keyword.name);
    const span = spanOf(cst) ?? keyword.span;
    const trailing = trailingComment ?? (blockNode === undefined ? this.commentOnLine(span.endLine, span.end) : undefined);
    if (block !== undefined && block.closed) {
      const after = this.commentOnLine(block.span.endLine, block.span.end);
      if (after !== undefined) block.comments.push(after);
    }
    return { kind: "statement", target, sources, keyword, args, block, comments, trailingComment: trailing, blankBefore: false, span };
  }

  private block(cst: CstNode, owner: string): Block & { comments: string[] } {
    const c = cst.children;
    const open = token(c, "open");
    const close = token(c, "close");
    const statements: Statement[] = [];
    const items = [...nodes(c, "statement"), ...nodes(c, "stray")].sort((a, b) => startOf(a) - startOf(b));
    this.items(items, statements, true);
    const comments = close === undefined ? [] : this.commentsBefore(close.startOffset);
    const openSpan = open === undefined ? (spanOf(cst) ?? ZERO) : tokenSpan(open);
    if (close === undefined) {
      const last = statements[statements.length - 1];
      const afterLine = last?.span.endLine ?? openSpan.line;
      this.diagnostics.push(
        diag("missingCloseBrace", openSpan, [owner], { hint: `add \`}\` after line ${afterLine}` }),
      );
    }
    return { statements, comments, closed: close !== undefined, span: spanOf(cst) ?? openSpan };
  }


  private arguments(cst: CstNode): Arg[] {
    const c = cst.children;
    const args = nodes(c, "argument").map((a) => this.argument(a));
    const commas = tokens(c, "Comma").sort((a, b) => a.startOffset - b.startOffset);
    // A comma between every two arguments; none after the last.
    for (let i = 1; i < args.length; i++) {
      const prev = args[i - 1];
      const cur = args[i];
      if (prev === undefined || cur === undefined) continue;
      const between = commas.some((t) => t.startOffset >= prev.span.end && t.startOffset < cur.span.start);
      if (!between) {
        this.diagnostics.push(
          diag("missingComma", { ...prev.span, start: prev.span.end, column: prev.span.endColumn, line: prev.span.endLine }, [], {
            hint: "separate arguments with `,`",
          }),
        );
      }
    }
    const last = args[args.length - 1];
    for (const t of commas) {
      if (last !== undefined && t.startOffset > last.span.start) {
        this.diagnostics.push(diag("trailingComma", tokenSpan(t), [], { hint: "remove the `,` or add the missing argument" }));
      }
    }
    return args;
  }

  private argument(cst: CstNode): Arg {
    const c = cst.children;
    const nameTok = token(c, "name");
    const valueNode = node(c, "value");
    const colon = token(c, "Colon");
    let value: Expr;
    if (valueNode === undefined) {
      const at = colon ?? nameTok;
      const span = at === undefined ? ZERO : afterToken(at);
      this.diagnostics.push(diag("expectedValue", span, [at === undefined ? "the name" : `\`${at.image}\``]));
      value = { kind: "missing", span };
    } else {
      value = this.expression(valueNode);
    }
    const name: Name | undefined = nameTok === undefined ? undefined : { name: nameTok.image, span: tokenSpan(nameTok) };
    const span = name === undefined ? value.span : joinSpans(name.span, value.span);
    return { name, colon: colon !== undefined, value, span };
  }

  private expression(cst: CstNode): Expr {
    return this.binary(cst, (n) => this.term(n));
  }

  private term(cst: CstNode): Expr {
    return this.binary(cst, (n) => this.unary(n));
  }

  private binary(cst: CstNode, operand: (n: CstNode) => Expr): Expr {
    const c = cst.children;
    const operandNodes = nodes(c, "operands");
    if (operandNodes.length > MAX_OPERATORS) return this.tooLong(cst);
    const operands = operandNodes.map(operand);
    const operators = tokens(c, "operators").sort((a, b) => a.startOffset - b.startOffset);
    if (operators.length >= operands.length && operators.length > 0) {
      const op = operators[operands.length - 1] ?? operators[operators.length - 1];
      if (op !== undefined) this.diagnostics.push(diag("expectedValue", afterToken(op), [`\`${op.image}\``], { hint: "finish the expression or remove the operator" }));
      return { kind: "missing", span: spanOf(cst) ?? ZERO };
    }
    let result = operands[0] ?? this.missing(cst);
    for (let i = 1; i < operands.length; i++) {
      const right = operands[i];
      const op = operators[i - 1];
      if (right === undefined || op === undefined) break;
      result = {
        kind: "binary",
        op: op.image as "+" | "-" | "*" | "/",
        left: result,
        right,
        span: joinSpans(result.span, right.span),
      };
    }
    return result;
  }

  private unary(cst: CstNode): Expr {
    const c = cst.children;
    const primaryNode = node(c, "primary");
    let result = primaryNode === undefined ? this.missing(cst) : this.primary(primaryNode);
    const percent = token(c, "percent");
    if (percent !== undefined) result = { kind: "percent", operand: result, span: joinSpans(result.span, tokenSpan(percent)) };
    const signs = tokens(c, "signs").sort((a, b) => b.startOffset - a.startOffset);
    if (signs.length > MAX_OPERATORS) return this.tooLong(cst);
    for (const s of signs) {
      result = { kind: "unary", op: s.image as "-" | "+", operand: result, span: joinSpans(tokenSpan(s), result.span) };
    }
    return result;
  }

  private primary(cst: CstNode): Expr {
    const c = cst.children;
    const num = token(c, "number");
    if (num !== undefined) {
      const value = num.tokenType === MalformedNumber ? NaN : Number(num.image);
      return { kind: "number", value, text: num.image, span: tokenSpan(num) };
    }
    const str = token(c, "string");
    if (str !== undefined) return { kind: "string", value: this.unescape(str), span: tokenSpan(str) };
    const name = token(c, "name");
    if (name !== undefined) {
      const callNode = node(c, "call");
      if (callNode === undefined) return { kind: "name", name: name.image, span: tokenSpan(name) };
      return this.call({ name: name.image, span: tokenSpan(name) }, callNode);
    }
    const listNode = node(c, "list");
    if (listNode !== undefined) return this.list(listNode);
    const paren = node(c, "parenthesized");
    if (paren !== undefined) return this.parenthesized(paren);
    return this.missing(cst);
  }

  private call(callee: Name, cst: CstNode): Expr {
    const c = cst.children;
    const argsNode = node(c, "arguments");
    const args = argsNode === undefined ? [] : this.arguments(argsNode);
    const open = token(c, "open");
    const unterminated = allTokens(cst).some((t) => t.tokenType === UnterminatedString); // already reported
    if (token(c, "close") === undefined && open !== undefined && !unterminated) {
      this.diagnostics.push(
        diag("missingCloseParen", tokenSpan(open), [callee.name], { hint: "add `)` after the last argument" }),
      );
    }
    return { kind: "call", callee, args, span: joinSpans(callee.span, spanOf(cst) ?? callee.span) };
  }

  private list(cst: CstNode): Expr {
    const c = cst.children;
    const items = nodes(c, "items").map((n) => this.expression(n));
    const open = token(c, "open");
    const span = spanOf(cst) ?? ZERO;
    if (token(c, "close") === undefined && open !== undefined) {
      this.diagnostics.push(diag("missingCloseBracket", tokenSpan(open), [], { hint: "add `]` after the last item" }));
    }
    const commas = tokens(c, "Comma");
    const last = items[items.length - 1];
    for (const t of commas) {
      if (last !== undefined && t.startOffset > last.span.start) {
        this.diagnostics.push(diag("trailingComma", tokenSpan(t), [], { hint: "remove the `,` or add the missing item" }));
      }
    }
    return { kind: "list", items, span };
  }

  private parenthesized(cst: CstNode): Expr {
    const c = cst.children;
    const innerNode = node(c, "inner");
    const open = token(c, "open");
    const inner = innerNode === undefined ? this.missing(cst) : this.expression(innerNode);
    if (innerNode === undefined && open !== undefined) {
      this.diagnostics.push(diag("expectedValue", afterToken(open), ["`(`"]));
    }
    if (token(c, "close") === undefined && open !== undefined) {
      this.diagnostics.push(diag("expectedToken", afterToken(allTokens(cst).pop() ?? open), ["`)`", "the end of the expression"]));
    }
    return { kind: "paren", inner, span: spanOf(cst) ?? inner.span };
  }

  /** Constant expressions are short; a huge one is reported and dropped, so no later stage recurses deeply. */
  private tooLong(cst: CstNode): Expr {
    const span = spanOf(cst) ?? ZERO;
    this.diagnostics.push(diag("expressionTooLong", span, [MAX_OPERATORS], { hint: "write the value as a single number" }));
    return { kind: "missing", span };
  }

  private missing(cst: CstNode): Expr {
    return { kind: "missing", span: spanOf(cst) ?? ZERO };
  }

  private unescape(t: IToken): string {
    const body = t.tokenType === UnterminatedString ? t.image.slice(1) : t.image.slice(1, -1);
    if (!body.includes("\\")) return body;
    const span = tokenSpan(t);
    const parts: string[] = [];
    let from = 0;
    let bad: string | undefined;
    for (let i = body.indexOf("\\"); i !== -1; i = body.indexOf("\\", from)) {
      parts.push(body.slice(from, i));
      const esc = body[i + 1] ?? "";
      const simple = ESCAPES[esc];
      let length = 2;
      let value = simple;
      if (value === undefined && esc === "u") {
        const braced = /^\{([0-9A-Fa-f]{1,6})\}/.exec(body.slice(i + 2, i + 10));
        const hex = braced?.[1] ?? (/^[0-9A-Fa-f]{4}/.exec(body.slice(i + 2, i + 6))?.[0]);
        const code = hex === undefined ? NaN : parseInt(hex, 16);
        if (hex !== undefined && code <= 0x10ffff) {
          value = String.fromCodePoint(code);
          length = 2 + (braced !== null ? hex.length + 2 : 4);
        }
      }
      if (value === undefined) {
        bad ??= body.slice(i, i + 2);
        value = body.slice(i, i + 2);
      }
      parts.push(value);
      from = i + length;
    }
    parts.push(body.slice(from));
    if (bad !== undefined) this.diagnostics.push(diag("badEscape", span, [`\`${bad}\``], { hint: 'use \\" \\\\ \\n \\t \\r or \\u{…}' }));
    return parts.join("");
  }
}

/** Operators allowed in one expression (and unary signs before one value). */
export const MAX_OPERATORS = 64;

const ZERO: Span = { start: 0, end: 0, line: 1, column: 1, endLine: 1, endColumn: 1 };

function startOf(e: CstElement): number {
  return spanOf(e)?.start ?? 0;
}

/** A comment as written, marker included (`# …` or `// …`), without trailing blanks. */
function commentText(t: IToken): string {
  return t.image.trimEnd();
}

export function buildAst(
  cst: CstNode,
  comments: readonly IToken[],
  source: string,
): { value: SourceFile; diagnostics: Diagnostic[] } {
  const b = new Builder(comments);
  const lines = source.split(/\r\n?|\n|\u2028|\u2029/);
  const lastLine = lines.length;
  const end: Span = {
    start: source.length,
    end: source.length,
    line: lastLine,
    column: (lines[lastLine - 1]?.length ?? 0) + 1,
    endLine: lastLine,
    endColumn: (lines[lastLine - 1]?.length ?? 0) + 1,
  };
  const value = b.file(cst, source.length, end);
  return { value, diagnostics: b.diagnostics };
}
