/**
 * The syntax tree of a `.nn` file: readonly, span-carrying, and generic — a file is a list of
 * statements, each a keyword with arguments and maybe a block. What a keyword means is the
 * checker's business (`compiler/check.ts`), which keeps the grammar small and lets every
 * misspelling get a "did you mean" instead of a parse error.
 */
import type { Span } from "./span.js";

export interface Name {
  readonly name: string;
  readonly span: Span;
}

export interface NumberExpr {
  readonly kind: "number";
  readonly value: number;
  /** As written, for messages and the printer. */
  readonly text: string;
  readonly span: Span;
}

export interface StringExpr {
  readonly kind: "string";
  readonly value: string;
  readonly span: Span;
}

export interface NameExpr {
  readonly kind: "name";
  readonly name: string;
  readonly span: Span;
}

export interface CallExpr {
  readonly kind: "call";
  readonly callee: Name;
  readonly args: readonly Arg[];
  readonly span: Span;
}

export interface ListExpr {
  readonly kind: "list";
  readonly items: readonly Expr[];
  readonly span: Span;
}

export interface UnaryExpr {
  readonly kind: "unary";
  readonly op: "-" | "+";
  readonly operand: Expr;
  readonly span: Span;
}

/** `10%` */
export interface PercentExpr {
  readonly kind: "percent";
  readonly operand: Expr;
  readonly span: Span;
}

export interface BinaryExpr {
  readonly kind: "binary";
  readonly op: "+" | "-" | "*" | "/";
  readonly left: Expr;
  readonly right: Expr;
  readonly span: Span;
}

export interface ParenExpr {
  readonly kind: "paren";
  readonly inner: Expr;
  readonly span: Span;
}

/** A hole where a syntax error left no value. Later stages skip it silently. */
export interface MissingExpr {
  readonly kind: "missing";
  readonly span: Span;
}

export type Expr =
  | NumberExpr
  | StringExpr
  | NameExpr
  | CallExpr
  | ListExpr
  | UnaryExpr
  | PercentExpr
  | BinaryExpr
  | ParenExpr
  | MissingExpr;

/** `value` or `name: value`. */
export interface Arg {
  readonly name: Name | undefined;
  /** `name: value` (true) or `name value` (false); kept so `nnc fmt` preserves the style. */
  readonly colon: boolean;
  readonly value: Expr;
  readonly span: Span;
}

export interface Statement {
  readonly kind: "statement";
  /** `skip = …`: the name the statement's value is given (graph bodies only). */
  readonly target: Name | undefined;
  /** `a, b -> …`: the values the statement takes, when not the one before it (graph bodies only). */
  readonly sources: readonly Name[];
  readonly keyword: Name;
  readonly args: readonly Arg[];
  readonly block: Block | undefined;
  /** Comment lines right above the statement, as written (`# …` or `// …`). */
  readonly comments: readonly string[];
  /** A comment at the end of the statement's line. */
  readonly trailingComment: string | undefined;
  /** Whether a blank line separates it from the statement before it (kept inside blocks). */
  readonly blankBefore: boolean;
  readonly span: Span;
}

export interface Block {
  readonly statements: readonly Statement[];
  /** Comments after the last statement, before `}` (and one on the `}` line). */
  readonly comments: readonly string[];
  /** False when the `}` is missing (already reported). */
  readonly closed: boolean;
  readonly span: Span;
}

export interface SourceFile {
  readonly statements: readonly Statement[];
  /** Comments after the last statement. */
  readonly comments: readonly string[];
  readonly span: Span;
}
