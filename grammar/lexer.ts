/** Text → tokens. Never throws: every problem is a diagnostic, and lexing goes on after it. */
import { Lexer, type IToken } from "chevrotain";
import { diag, type Diagnostic } from "./diagnostics.js";
import type { Span } from "./span.js";
import {
  ALL_TOKENS,
  LBrace,
  LBracket,
  LParen,
  MalformedNumber,
  RBrace,
  RBracket,
  RParen,
  SingleQuotedString,
  UnterminatedString,
} from "./tokens.js";

/** Brackets nested deeper than this are reported and dropped, so no input can exhaust the stack. */
export const MAX_NESTING = 64;

const lexer = new Lexer([...ALL_TOKENS], {
  positionTracking: "full",
  ensureOptimizations: false,
  lineTerminatorCharacters: ["\n", "\r", "\u2028", "\u2029"],
  lineTerminatorsPattern: /\n|\r\n?|\u2028|\u2029/g,
});

export interface LexResult {
  readonly tokens: readonly IToken[];
  readonly comments: readonly IToken[];
  readonly diagnostics: readonly Diagnostic[];
}

export function tokenSpan(t: IToken): Span {
  const line = t.startLine ?? 1;
  const column = t.startColumn ?? 1;
  return {
    start: t.startOffset,
    end: (t.endOffset ?? t.startOffset) + 1,
    line,
    column,
    endLine: t.endLine ?? line,
    endColumn: (t.endColumn ?? column) + 1,
  };
}

/** A span at the position just after `t` (where something is missing). */
export function afterToken(t: IToken): Span {
  const s = tokenSpan(t);
  return { start: s.end, end: s.end, line: s.endLine, column: s.endColumn, endLine: s.endLine, endColumn: s.endColumn };
}

function showChar(ch: string): string {
  const code = ch.codePointAt(0) ?? 0;
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
  return code < 0x20 || code === 0x7f || (code >= 0x80 && code < 0xa0) || code === 0xfeff ? hex : `\`${ch}\` (${hex})`;
}

const OPENERS = new Set([LBrace, LParen, LBracket]);
const CLOSERS = new Set([RBrace, RParen, RBracket]);

export function tokenize(source: string): LexResult {
  const out = lexer.tokenize(source);
  const diagnostics: Diagnostic[] = [];
  for (const e of out.errors) {
    const ch = source.slice(e.offset, e.offset + e.length);
    const first = String.fromCodePoint(ch.codePointAt(0) ?? 0xfffd);
    const span: Span = {
      start: e.offset,
      end: e.offset + e.length,
      line: e.line ?? 1,
      column: e.column ?? 1,
      endLine: e.line ?? 1,
      endColumn: (e.column ?? 1) + e.length,
    };
    const hint =
      first === "'" ? 'strings use double quotes: "like this"' : undefined;
    diagnostics.push(diag("unexpectedCharacter", span, [showChar(first)], hint === undefined ? {} : { hint }));
  }
  const kept: IToken[] = [];
  let depth = 0;
  let dropping = 0; // > 0 while skipping tokens nested too deep
  for (const t of out.tokens) {
    if (t.tokenType === MalformedNumber) {
      diagnostics.push(
        diag("badNumber", tokenSpan(t), [`\`${t.image}\``], {
          hint: "numbers look like 12, 0.5, 1e-3 or 10%",
        }),
      );
    } else if (t.tokenType === SingleQuotedString) {
      diagnostics.push(diag("singleQuoted", tokenSpan(t), [], { hint: `write "${t.image.slice(1, -1).replace(/"/g, '\\"')}"` }));
    } else if (t.tokenType === UnterminatedString) {
      diagnostics.push(diag("unterminatedString", tokenSpan(t), [], { hint: 'add the closing `"` before the end of the line' }));
    }
    if (OPENERS.has(t.tokenType)) {
      depth++;
      if (depth > MAX_NESTING) {
        if (dropping === 0) diagnostics.push(diag("nestingTooDeep", tokenSpan(t), [MAX_NESTING]));
        dropping++;
        continue;
      }
    } else if (CLOSERS.has(t.tokenType)) {
      depth = Math.max(0, depth - 1);
      if (dropping > 0) {
        dropping--;
        continue;
      }
    } else if (dropping > 0) {
      continue;
    }
    kept.push(t);
  }
  return { tokens: kept, comments: out.groups["comments"] ?? [], diagnostics };
}
