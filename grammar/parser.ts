/**
 * Tokens → CST. The grammar has no actions; `build-ast.ts` turns its CST into the AST.
 *
 *   file       := (statement | "}" | stray)*
 *   statement  := (Identifier "=")? (Identifier ("," Identifier)* "->")? Identifier arguments? block?
 *                                                    `skip = a, b -> concat` in a graph body;
 *                                                    arguments start on the keyword's line
 *   block      := "{" (statement | stray)* "}"?       a missing "}" is reported, not fatal
 *   arguments  := argument ("," argument?)*           a line may end in "," to continue
 *   argument   := Identifier ":" expression           lr: 1e-3   (or lr = 1e-3)
 *               | Identifier expression              seed 42    (name and value on one line)
 *               | expression
 *   expression := term (("+" | "-") term)*
 *   term       := unary (("*" | "/") unary)*
 *   unary      := ("-" | "+")* postfix
 *   postfix    := primary "%"?
 *   primary    := Number | String | Identifier call? | list | "(" expression ")"
 *   call       := "(" arguments? ")"?
 *   list       := "[" (expression ("," expression)*)? "]"?
 *
 * Statements end at the end of their line: no `;`. Closing brackets the user forgot are
 * optional in the grammar and reported by the AST builder, so a broken file still yields a
 * tree. The parser is built once and reused.
 */
import { CstParser, EOF, type CstNode, type IToken, type TokenType } from "chevrotain";
import {
  ALL_TOKENS,
  BlockKeyword,
  Arrow,
  Colon,
  Comma,
  Equals,
  Identifier,
  LBrace,
  LBracket,
  LParen,
  MalformedNumber,
  Minus,
  NumberLiteral,
  PercentSign,
  Plus,
  RBrace,
  RBracket,
  RParen,
  Semicolon,
  Slash,
  Star,
  SingleQuotedString,
  StringLiteral,
  UnterminatedString,
} from "./tokens.js";

/** Tokens that can begin a value. */
const VALUE_START = new Set<TokenType>([
  NumberLiteral,
  MalformedNumber,
  StringLiteral,
  SingleQuotedString,
  UnterminatedString,
  LBracket,
  LParen,
  Minus,
  Plus,
]);

function isIdentifier(t: IToken): boolean {
  return t.tokenType === Identifier || (t.tokenType.CATEGORIES?.includes(Identifier) ?? false);
}

/** `:` or `=` (an `Equals` is a `Colon` by category). */
function isColon(t: IToken): boolean {
  return t.tokenType === Colon || t.tokenType === Equals;
}

function canStartValue(t: IToken): boolean {
  return VALUE_START.has(t.tokenType) || isIdentifier(t);
}

function sameLine(a: IToken, b: IToken): boolean {
  return b.tokenType !== EOF && a.endLine === b.startLine;
}

class NnParser extends CstParser {
  constructor() {
    super([...ALL_TOKENS], { recoveryEnabled: true, maxLookahead: 3, nodeLocationTracking: "full" });
    this.performSelfAnalysis();
  }

  /** Offsets of the `{` that no `}` closes; set by `parseTokens` before each parse. */
  unclosed: ReadonlySet<number> = new Set();
  /** For each block being parsed, whether its `{` is unclosed. */
  private readonly blocks: boolean[] = [];
  /** For each block being parsed, the keyword of the statement that owns it. */
  private readonly owners: string[] = [];

  reset(): void {
    super.reset();
    this.blocks.length = 0;
    this.owners.length = 0;
  }

  /** Inside the body of a `model`, a `block` or a `repeat`, where values can be named. */
  private inGraphBody(): boolean {
    const owner = this.owners[this.owners.length - 1];
    return owner === "model" || owner === "block" || owner === "repeat";
  }

  /** `name = word …` on one line, in a graph body. */
  private assignmentAhead(): boolean {
    const [a, eq, w] = [this.LA(1), this.LA(2), this.LA(3)];
    return this.inGraphBody() && isIdentifier(a) && eq.tokenType === Equals && sameLine(a, eq) && sameLine(eq, w) && isIdentifier(w);
  }

  /** `a, b -> word …` on one line, in a graph body. */
  private arrowAhead(): boolean {
    if (!this.inGraphBody()) return false;
    for (let k = 1; k < 64; k += 2) {
      const name = this.LA(k);
      const next = this.LA(k + 1);
      if (!isIdentifier(name) || !sameLine(name, next)) return false;
      if (next.tokenType === Arrow) return true;
      if (next.tokenType !== Comma) return false;
    }
    return false;
  }

  /** The token before LA(1). */
  private prev(): IToken {
    return this.LA(0);
  }

  /**
   * Inside a block whose `{` no `}` closes, a top-level keyword at the start of a line
   * (`loss`, `optimizer`, `metrics`, `model`, `data`, or `train {`) ends the block: the user
   * forgot its `}` there. The AST builder reports it. In a closed block the word is just a
   * misplaced statement, for the checker to report.
   */
  private startsTopLevel(): boolean {
    if (this.blocks[this.blocks.length - 1] !== true) return false; // the block has its `}`
    const t = this.LA(1);
    if (t.tokenType !== BlockKeyword || sameLine(this.prev(), t)) return false;
    return t.image !== "train" || this.LA(2).tokenType === LBrace;
  }

  public file = this.RULE("file", () => {
    this.MANY(() => {
      this.OR([
        { ALT: () => this.SUBRULE(this.statement) },
        { ALT: () => this.CONSUME(RBrace, { LABEL: "strayClose" }) },
        { ALT: () => this.SUBRULE(this.stray) },
      ]);
    });
  });

  public statement = this.RULE("statement", () => {
    this.OPTION5({
      GATE: () => this.assignmentAhead(),
      DEF: () => {
        this.CONSUME2(Identifier, { LABEL: "target" });
        this.CONSUME(Equals, { LABEL: "assign" });
      },
    });
    this.OPTION6({
      GATE: () => this.arrowAhead(),
      DEF: () => {
        this.CONSUME3(Identifier, { LABEL: "sources" });
        this.MANY(() => {
          this.CONSUME(Comma);
          this.CONSUME4(Identifier, { LABEL: "sources" });
        });
        this.CONSUME(Arrow, { LABEL: "arrow" });
      },
    });
    const keyword = this.CONSUME(Identifier, { LABEL: "keyword" });
    // `loss: mse`, `epochs = 10`: a habit from YAML and Python, reported by the AST builder
    this.OPTION3({
      GATE: () => sameLine(keyword, this.LA(1)) && isColon(this.LA(1)),
      DEF: () => this.CONSUME(Colon, { LABEL: "colon" }),
    });
    this.OPTION({
      GATE: () => sameLine(keyword, this.LA(1)) && canStartValue(this.LA(1)),
      DEF: () => this.SUBRULE(this.arguments),
    });
    this.OPTION2({
      GATE: () => this.LA(1).tokenType === LBrace,
      DEF: () => {
        this.ACTION(() => this.owners.push(keyword.image));
        this.SUBRULE(this.block);
        this.ACTION(() => this.owners.pop());
      },
    });
    this.OPTION4(() => this.CONSUME(Semicolon, { LABEL: "semicolon" }));
  });

  public block = this.RULE("block", () => {
    const open = this.CONSUME(LBrace, { LABEL: "open" });
    this.ACTION(() => this.blocks.push(this.unclosed.has(open.startOffset)));
    this.MANY({
      GATE: () => !this.startsTopLevel(),
      DEF: () => {
        this.OR([{ ALT: () => this.SUBRULE(this.statement) }, { ALT: () => this.SUBRULE(this.stray) }]);
      },
    });
    this.OPTION({ GATE: () => this.LA(1).tokenType === RBrace, DEF: () => this.CONSUME(RBrace, { LABEL: "close" }) });
    this.ACTION(() => this.blocks.pop());
  });

  /** A token that cannot start a statement, kept so the AST builder can report it. */
  public stray = this.RULE("stray", () => {
    this.OR([
      { ALT: () => this.CONSUME(NumberLiteral) },
      { ALT: () => this.CONSUME(MalformedNumber) },
      { ALT: () => this.CONSUME(StringLiteral) },
      { ALT: () => this.CONSUME(UnterminatedString) },
      { ALT: () => this.CONSUME(LParen) },
      { ALT: () => this.CONSUME(RParen) },
      { ALT: () => this.CONSUME(LBracket) },
      { ALT: () => this.CONSUME(RBracket) },
      { ALT: () => this.CONSUME(LBrace) },
      { ALT: () => this.CONSUME(Comma) },
      { ALT: () => this.CONSUME(Colon) },
      { ALT: () => this.CONSUME(Arrow) },
      { ALT: () => this.CONSUME(Plus) },
      { ALT: () => this.CONSUME(Minus) },
      { ALT: () => this.CONSUME(Star) },
      { ALT: () => this.CONSUME(Slash) },
      { ALT: () => this.CONSUME(PercentSign) },
      { ALT: () => this.CONSUME(Semicolon) },
    ]);
  });

  public arguments = this.RULE("arguments", () => {
    this.SUBRULE(this.argument);
    this.MANY({
      GATE: () => this.LA(1).tokenType === Comma || this.missingComma(),
      DEF: () => {
      this.OR([
        {
          ALT: () => {
            this.CONSUME(Comma);
            this.OPTION({
              GATE: () => canStartValue(this.LA(1)) && !this.startsTopLevel(),
              DEF: () => this.SUBRULE2(this.argument),
            });
          },
        },
        {
          // `dense 64 relu`: a missing comma, reported by the AST builder.
          GATE: () => this.missingComma(),
          ALT: () => this.SUBRULE3(this.argument),
        },
      ]);
      },
    });
  });

  /** Another argument on the same line without a `,` before it. */
  private missingComma(): boolean {
    const t = this.LA(1);
    return sameLine(this.prev(), t) && canStartValue(t) && t.tokenType !== LParen && !this.startsTopLevel();
  }

  public argument = this.RULE("argument", () => {
    this.OR({
      IGNORE_AMBIGUITIES: true,
      DEF: [
        {
          GATE: () => isIdentifier(this.LA(1)) && isColon(this.LA(2)),
          ALT: () => {
            this.CONSUME(Identifier, { LABEL: "name" });
            this.CONSUME(Colon);
            this.SUBRULE(this.expression, { LABEL: "value" });
          },
        },
        {
          GATE: () =>
            isIdentifier(this.LA(1)) &&
            sameLine(this.LA(1), this.LA(2)) &&
            canStartValue(this.LA(2)) &&
            this.LA(2).tokenType !== LParen,
          ALT: () => {
            this.CONSUME2(Identifier, { LABEL: "name" });
            this.SUBRULE2(this.expression, { LABEL: "value" });
          },
        },
        { ALT: () => this.SUBRULE3(this.expression, { LABEL: "value" }) },
      ],
    });
  });

  /** An operator continues an expression only on its line; a missing operand is reported later. */
  public expression = this.RULE("expression", () => {
    this.SUBRULE(this.term, { LABEL: "operands" });
    this.MANY({
      GATE: () => sameLine(this.prev(), this.LA(1)),
      DEF: () => {
        this.OR([
          { ALT: () => this.CONSUME(Plus, { LABEL: "operators" }) },
          { ALT: () => this.CONSUME(Minus, { LABEL: "operators" }) },
        ]);
        this.OPTION({ GATE: () => this.operandFollows(), DEF: () => this.SUBRULE2(this.term, { LABEL: "operands" }) });
      },
    });
  });

  public term = this.RULE("term", () => {
    this.SUBRULE(this.unary, { LABEL: "operands" });
    this.MANY({
      GATE: () => sameLine(this.prev(), this.LA(1)),
      DEF: () => {
        this.OR([
          { ALT: () => this.CONSUME(Star, { LABEL: "operators" }) },
          { ALT: () => this.CONSUME(Slash, { LABEL: "operators" }) },
        ]);
        this.OPTION({ GATE: () => this.operandFollows(), DEF: () => this.SUBRULE2(this.unary, { LABEL: "operands" }) });
      },
    });
  });

  private operandFollows(): boolean {
    return sameLine(this.prev(), this.LA(1)) && canStartValue(this.LA(1));
  }

  public unary = this.RULE("unary", () => {
    this.MANY(() => {
      this.OR([
        { ALT: () => this.CONSUME(Minus, { LABEL: "signs" }) },
        { ALT: () => this.CONSUME(Plus, { LABEL: "signs" }) },
      ]);
    });
    this.SUBRULE(this.primary);
    this.OPTION(() => this.CONSUME(PercentSign, { LABEL: "percent" }));
  });

  public primary = this.RULE("primary", () => {
    this.OR([
      { ALT: () => this.CONSUME(NumberLiteral, { LABEL: "number" }) },
      { ALT: () => this.CONSUME(MalformedNumber, { LABEL: "number" }) },
      { ALT: () => this.CONSUME(StringLiteral, { LABEL: "string" }) },
      { ALT: () => this.CONSUME(UnterminatedString, { LABEL: "string" }) },
      {
        ALT: () => {
          this.CONSUME(Identifier, { LABEL: "name" });
          this.OPTION(() => this.SUBRULE(this.call));
        },
      },
      { ALT: () => this.SUBRULE(this.list) },
      { ALT: () => this.SUBRULE(this.parenthesized) },
    ]);
  });

  public call = this.RULE("call", () => {
    this.CONSUME(LParen, { LABEL: "open" });
    this.OPTION({
      GATE: () => canStartValue(this.LA(1)) && !this.startsTopLevel(),
      DEF: () => this.SUBRULE(this.arguments),
    });
    this.OPTION2(() => this.CONSUME(RParen, { LABEL: "close" }));
  });

  public list = this.RULE("list", () => {
    this.CONSUME(LBracket, { LABEL: "open" });
    this.OPTION({
      GATE: () => canStartValue(this.LA(1)) && !this.startsTopLevel(),
      DEF: () => {
        this.SUBRULE(this.expression, { LABEL: "items" });
        this.MANY(() => {
          this.CONSUME(Comma);
          this.OPTION2({
            GATE: () => canStartValue(this.LA(1)) && !this.startsTopLevel(),
            DEF: () => this.SUBRULE2(this.expression, { LABEL: "items" }),
          });
        });
      },
    });
    this.OPTION3(() => this.CONSUME(RBracket, { LABEL: "close" }));
  });

  public parenthesized = this.RULE("parenthesized", () => {
    this.CONSUME(LParen, { LABEL: "open" });
    this.OPTION(() => this.SUBRULE(this.expression, { LABEL: "inner" }));
    this.OPTION2(() => this.CONSUME(RParen, { LABEL: "close" }));
  });
}

/** The one parser instance; reuse it by setting `input`. */
export const parser = new NnParser();

export interface ParseResult {
  readonly cst: CstNode;
  /** Chevrotain's own errors (recovery events); the AST builder turns them into diagnostics. */
  readonly errors: readonly { message: string; token: IToken }[];
}

/** Offsets of every `{` that no later `}` closes. */
function unclosedBraces(tokens: readonly IToken[]): Set<number> {
  const open: number[] = [];
  for (const t of tokens) {
    if (t.tokenType === LBrace) open.push(t.startOffset);
    else if (t.tokenType === RBrace) open.pop();
  }
  return new Set(open);
}

export function parseTokens(tokens: readonly IToken[]): ParseResult {
  parser.unclosed = unclosedBraces(tokens);
  parser.input = [...tokens];
  const cst = parser.file();
  return { cst, errors: parser.errors.map((e) => ({ message: e.message, token: e.token })) };
}

/** Productions, for the railroad diagrams in docs/. */
export function grammarProductions(): ReturnType<NnParser["getSerializedGastProductions"]> {
  return parser.getSerializedGastProductions();
}
