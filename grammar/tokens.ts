/**
 * The token vocabulary: one module for the lexer, the parser and editor highlighting.
 *
 * The block keywords are tokens of their own but belong to the `Identifier` category, so the
 * parser accepts them wherever a name may stand: the grammar stays small and the checker
 * decides what a word means in its place.
 */
import { createToken, Lexer, type TokenType } from "chevrotain";

// ── trivia ─────────────────────────────────────────────────────────────────────
export const WhiteSpace = createToken({
  name: "WhiteSpace",
  pattern: /[ \t\r\n\f\v\u00a0\u2028\u2029\ufeff]+/,
  group: Lexer.SKIPPED,
  line_breaks: true,
});
/** `#` or `//` to the end of the line. */
export const Comment = createToken({
  name: "Comment",
  pattern: /(?:#|\/\/)[^\n\r\u2028\u2029]*/,
  group: "comments",
});

// ── names ──────────────────────────────────────────────────────────────────────
export const Identifier = createToken({ name: "Identifier", pattern: /[A-Za-z_][A-Za-z0-9_]*/ });

const wordBoundary = "(?![A-Za-z0-9_])";
function keywordToken(name: string, words: readonly string[]): TokenType {
  const unique = [...new Set(words)].sort((x, y) => y.length - x.length);
  return createToken({
    name,
    pattern: new RegExp(`(?:${unique.join("|")})${wordBoundary}`),
    categories: [Identifier],
    longer_alt: Identifier,
    start_chars_hint: [...new Set(unique.map((u) => u.charCodeAt(0)))].map((code) => String.fromCharCode(code)),
  });
}

/**
 * The words that open a top-level statement: the only keywords the syntax needs (a statement
 * starting with one on a new line starts a new statement). Every other word of the language
 * (layers, activations, settings, …) is an `Identifier` here: what it means is the checker's
 * business (`compiler/vocabulary.ts`), and editors colour it from the same vocabulary.
 */
export const BLOCK_WORDS = ["model", "block", "loss", "optimizer", "metrics", "data", "train", "search"] as const;
export type BlockWord = (typeof BLOCK_WORDS)[number];

export const BlockKeyword = keywordToken("BlockKeyword", BLOCK_WORDS);

// ── literals ───────────────────────────────────────────────────────────────────
/** 12, 0.5, .5, 1e-3, 2.5E+4 — not followed by a letter, digit, `_` or `.`. */
export const NumberLiteral = createToken({
  name: "NumberLiteral",
  pattern: /(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?(?![A-Za-z0-9_.])/,
  start_chars_hint: [..."0123456789."],
});
/** Something that starts like a number but is not one: `1.2.3`, `12px`, `1e`. Reported NN1004. */
export const MalformedNumber = createToken({
  name: "MalformedNumber",
  pattern: /(?:\d|\.\d)[A-Za-z0-9_.]*(?:[eE][+-]\d*[A-Za-z0-9_.]*)?/,
  start_chars_hint: [..."0123456789."],
});
const LINE_END = new Set(["\n", "\r", "\u2028", "\u2029"]);

/**
 * Scans a string literal opening at `offset` with `quote`: the end offset and whether the
 * closing quote was found. A plain loop, because a regular expression over a multi-megabyte
 * string overflows V8's backtracking stack.
 */
function scanString(text: string, offset: number, quote: string): { end: number; closed: boolean } | undefined {
  if (text[offset] !== quote) return undefined;
  let i = offset + 1;
  while (i < text.length) {
    const ch = text[i] as string;
    if (ch === quote) return { end: i + 1, closed: true };
    if (LINE_END.has(ch)) break;
    if (ch === "\\") {
      const next = text[i + 1];
      if (next === undefined || LINE_END.has(next)) {
        i++;
        break;
      }
      i += 2;
      continue;
    }
    i++;
  }
  return { end: Math.min(i, text.length), closed: false };
}

function stringMatcher(quote: string, wantClosed: boolean) {
  return (text: string, offset: number): RegExpExecArray | null => {
    const r = scanString(text, offset, quote);
    if (r === undefined || r.closed !== wantClosed) return null;
    const m = [text.slice(offset, r.end)] as unknown as RegExpExecArray;
    return m;
  };
}

/** A double-quoted string with escapes `\" \\ \n \t \r \u{…} \uXXXX`. */
export const StringLiteral = createToken({
  name: "StringLiteral",
  pattern: { exec: stringMatcher('"', true) },
  line_breaks: false,
  start_chars_hint: ['"'],
});
/** 'single-quoted': read as a string so parsing goes on, and reported NN1020. */
export const SingleQuotedString = createToken({
  name: "SingleQuotedString",
  pattern: { exec: stringMatcher("'", true) },
  line_breaks: false,
  start_chars_hint: ["'"],
  categories: [StringLiteral],
});
/** A string that runs to the end of the line. Reported NN1002. */
export const UnterminatedString = createToken({
  name: "UnterminatedString",
  pattern: { exec: stringMatcher('"', false) },
  line_breaks: false,
  start_chars_hint: ['"'],
});

// ── punctuation ────────────────────────────────────────────────────────────────
export const LBrace = createToken({ name: "LBrace", pattern: "{", label: "`{`" });
export const RBrace = createToken({ name: "RBrace", pattern: "}", label: "`}`" });
export const LParen = createToken({ name: "LParen", pattern: "(", label: "`(`" });
export const RParen = createToken({ name: "RParen", pattern: ")", label: "`)`" });
export const LBracket = createToken({ name: "LBracket", pattern: "[", label: "`[`" });
export const RBracket = createToken({ name: "RBracket", pattern: "]", label: "`]`" });
export const Comma = createToken({ name: "Comma", pattern: ",", label: "`,`" });
/** `lr: 0.1` and, for Python hands, `lr = 0.1` (an `Equals` is a `Colon` to the argument rule). */
export const Colon = createToken({ name: "Colon", pattern: ":", label: "`:`" });
/** `skip = dense 64` names a value in a graph body; elsewhere it is a `:` (`lr = 0.1`). */
export const Equals = createToken({ name: "Equals", pattern: "=", label: "`=`", categories: [Colon] });
/** `side -> dense 16`: the values a statement takes, when not the one before it. */
export const Arrow = createToken({ name: "Arrow", pattern: "->", label: "`->`" });
export const Plus = createToken({ name: "Plus", pattern: "+", label: "`+`" });
export const Minus = createToken({ name: "Minus", pattern: "-", label: "`-`" });
export const Star = createToken({ name: "Star", pattern: "*", label: "`*`" });
export const Slash = createToken({ name: "Slash", pattern: "/", label: "`/`" });
export const PercentSign = createToken({ name: "PercentSign", pattern: "%", label: "`%`" });
/** Not needed (statements end at the end of the line) but tolerated, with a warning. */
export const Semicolon = createToken({ name: "Semicolon", pattern: ";", label: "`;`" });

/** In lexer order: trivia, keywords before `Identifier`, numbers before malformed ones. */
export const ALL_TOKENS: readonly TokenType[] = [
  WhiteSpace,
  Comment,
  BlockKeyword,
  Identifier,
  NumberLiteral,
  MalformedNumber,
  StringLiteral,
  SingleQuotedString,
  UnterminatedString,
  LBrace,
  RBrace,
  LParen,
  RParen,
  LBracket,
  RBracket,
  Comma,
  Colon,
  Equals,
  Plus,
  Arrow,
  Minus,
  Star,
  Slash,
  PercentSign,
  Semicolon,
];

/** How an editor should colour each token (Monaco token classes). */
export const HIGHLIGHT: Readonly<Record<string, string>> = {
  Comment: "comment",
  BlockKeyword: "keyword",
  Identifier: "identifier",
  NumberLiteral: "number",
  MalformedNumber: "invalid",
  StringLiteral: "string",
  SingleQuotedString: "string",
  UnterminatedString: "invalid",
  LBrace: "delimiter.curly",
  RBrace: "delimiter.curly",
  LParen: "delimiter.parenthesis",
  RParen: "delimiter.parenthesis",
  LBracket: "delimiter.square",
  RBracket: "delimiter.square",
  Comma: "delimiter",
  Colon: "delimiter",
  Equals: "operator",
  Arrow: "operator",
  Plus: "operator",
  Minus: "operator",
  Star: "operator",
  Slash: "operator",
  PercentSign: "operator",
  Semicolon: "delimiter",
};
