/**
 * AST → text. `printFile` writes canonical `.nn` source (what `nnc fmt` prints): one statement
 * per line, two-space indentation, aligned values within a block, comments kept. Parsing its
 * output gives the same tree. `dumpAst` writes the tree itself as stable text
 * (`nnc compile --emit ast`).
 */
import type { Arg, Block, Expr, SourceFile, Statement } from "./ast.js";

const PRECEDENCE: Record<string, number> = { "+": 1, "-": 1, "*": 2, "/": 2 };

function quote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\r") out += "\\r";
    else if (code < 0x20 || code === 0x7f || code === 0x2028 || code === 0x2029) out += `\\u{${code.toString(16)}}`;
    else out += ch;
  }
  return out + '"';
}

export function printExpr(e: Expr, parentPrecedence = 0): string {
  switch (e.kind) {
    case "number":
      return e.text;
    case "string":
      return quote(e.value);
    case "name":
      return e.name;
    case "call":
      return `${e.callee.name}(${e.args.map(printArg).join(", ")})`;
    case "list":
      return `[${e.items.map((i) => printExpr(i)).join(", ")}]`;
    case "unary":
      return `${e.op}${printExpr(e.operand, 3)}`;
    case "percent":
      return `${printExpr(e.operand, 3)}%`;
    case "paren":
      return `(${printExpr(e.inner)})`;
    case "binary": {
      const p = PRECEDENCE[e.op] ?? 1;
      const text = `${printExpr(e.left, p)} ${e.op} ${printExpr(e.right, p + 1)}`;
      return p < parentPrecedence ? `(${text})` : text;
    }
    case "missing":
      return "";
  }
}

export function printArg(a: Arg): string {
  return a.name === undefined ? printExpr(a.value) : `${a.name.name}${a.colon ? ":" : ""} ${printExpr(a.value)}`;
}

function printComment(text: string): string {
  return text;
}

/**
 * What comes before the arguments. A plain statement's keyword is padded so that the arguments
 * of a run of settings line up; in a graph body, names are padded so that the `=` line up
 * (`image = input [28, 28]` / `side  = input [4]`).
 */
function printHead(s: Statement, targetWidth = 0): string {
  const target = s.target === undefined ? "" : `${s.target.name.padEnd(targetWidth)} = `;
  const sources = s.sources.length === 0 ? "" : `${s.sources.map((x) => x.name).join(", ")} -> `;
  return target + sources + s.keyword.name;
}

const plain = (s: Statement): boolean => s.target === undefined && s.sources.length === 0;

function printStatements(statements: readonly Statement[], indent: string, out: string[]): void {
  const width = Math.max(0, ...statements.filter((s) => s.args.length > 0 && s.block === undefined && plain(s)).map((s) => s.keyword.name.length));
  // `=` line up within a run of consecutive named statements (a blank line or a block ends a run).
  const targetWidths = statements.map(() => 0);
  for (let i = 0; i < statements.length; ) {
    let j = i;
    while (j < statements.length && statements[j]?.target !== undefined && statements[j]?.block === undefined && (j === i || statements[j]?.blankBefore !== true)) j++;
    const w = Math.max(0, ...statements.slice(i, j).map((s) => s.target?.name.length ?? 0));
    for (let k = i; k < j; k++) targetWidths[k] = w;
    i = Math.max(j, i + 1);
  }
  statements.forEach((s, i) => {
    const targetWidth = targetWidths[i] ?? 0;
    if (i > 0 && (indent === "" ? s.block !== undefined : s.blankBefore)) out.push("");
    for (const c of s.comments) out.push(indent + printComment(c));
    const args = s.args.map(printArg).join(", ");
    let head = printHead(s, targetWidth);
    if (args.length > 0) head = s.block === undefined && plain(s) ? `${head.padEnd(width)} ${args}` : `${head} ${args}`;
    if (s.block === undefined) {
      out.push(indent + head + (s.trailingComment === undefined ? "" : `  ${printComment(s.trailingComment)}`));
      const next = statements[i + 1];
      if (indent === "" && next !== undefined && next.block !== undefined) out.push("");
      return;
    }
    out.push(`${indent}${head} {` + (s.trailingComment === undefined ? "" : `  ${printComment(s.trailingComment)}`));
    printBlock(s.block, indent + "  ", out);
    out.push(`${indent}}`);
    const next = statements[i + 1];
    if (next !== undefined && next.block === undefined && indent === "") out.push("");
  });
}

function printBlock(b: Block, indent: string, out: string[]): void {
  printStatements(b.statements, indent, out);
  for (const c of b.comments) out.push(indent + printComment(c));
}

export function printFile(f: SourceFile): string {
  const out: string[] = [];
  printStatements(f.statements, "", out);
  for (const c of f.comments) out.push(printComment(c));
  return out.join("\n").replace(/\n{3,}/g, "\n\n") + "\n";
}

// ── tree dump ──────────────────────────────────────────────────────────────────
function dumpExpr(e: Expr): string {
  switch (e.kind) {
    case "number":
      return `Number(${e.text})`;
    case "string":
      return `String(${quote(e.value)})`;
    case "name":
      return `Name(${e.name})`;
    case "call":
      return `Call(${e.callee.name}${e.args.length > 0 ? "; " : ""}${e.args.map(dumpArg).join(", ")})`;
    case "list":
      return `List(${e.items.map(dumpExpr).join(", ")})`;
    case "unary":
      return `Unary(${e.op} ${dumpExpr(e.operand)})`;
    case "percent":
      return `Percent(${dumpExpr(e.operand)})`;
    case "paren":
      return `Paren(${dumpExpr(e.inner)})`;
    case "binary":
      return `Binary(${dumpExpr(e.left)} ${e.op} ${dumpExpr(e.right)})`;
    case "missing":
      return "Missing";
  }
}

function dumpArg(a: Arg): string {
  return a.name === undefined ? dumpExpr(a.value) : `${a.name.name}=${dumpExpr(a.value)}`;
}

export function dumpAst(f: SourceFile): string {
  const out: string[] = [];
  const walk = (statements: readonly Statement[], indent: string): void => {
    for (const s of statements) {
      const args = s.args.length === 0 ? "" : ` ${s.args.map(dumpArg).join(", ")}`;
      out.push(`${indent}${printHead(s)}${args}  @${s.span.line}:${s.span.column}`);
      if (s.block !== undefined) walk(s.block.statements, indent + "  ");
    }
  };
  walk(f.statements, "");
  return out.join("\n") + "\n";
}
