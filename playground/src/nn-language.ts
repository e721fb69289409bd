/**
 * The `.nn` language for Monaco, derived from the grammar and the vocabulary: highlighting runs
 * the real lexer (`grammar/lexer.ts`), colours each token by `HIGHLIGHT` and each word by what
 * it is in `compiler/vocabulary.ts` (a layer, a setting, a function, a constant); completion
 * and hover read the same vocabulary, so argument values come from each layer's and
 * optimizer's schema. Nothing here lists a keyword or an argument of its own.
 */
import type * as Monaco from "monaco-editor/editor";
import type { IToken } from "chevrotain";
import { tokenize } from "../../grammar/lexer.js";
import { HIGHLIGHT } from "../../grammar/tokens.js";
import {
  ACTIVATIONS,
  ALIASES,
  ALL_WORDS,
  CONSTANTS,
  DATA_SETTINGS,
  INITIALIZERS,
  LAYERS,
  LOSSES,
  METRICS,
  MODEL_SETTINGS,
  OPTIMIZERS,
  SCHEDULES,
  SOURCES,
  TOP_LEVEL,
  TRAIN_SETTINGS,
  argValues,
  type CallableWord,
  type Word,
} from "../../compiler/vocabulary.js";

export const LANGUAGE_ID = "nn";

type Kind = "block" | "setting" | "layer" | "function" | "constant" | "argument";

/** What a word means where it stands: the words allowed at a position, and their kind. */
interface Offer {
  readonly words: readonly Word[];
  readonly kind: Kind;
}

const isCallable = (w: Word): w is CallableWord => "args" in w;

/** Words written as `name(args…)`. */
const CALLS: ReadonlyMap<string, CallableWord> = new Map(
  [...ACTIVATIONS, ...LOSSES, ...OPTIMIZERS, ...SOURCES, ...SCHEDULES].map((w) => [w.name, w]),
);
const BLOCK_STATEMENTS: Readonly<Record<string, readonly CallableWord[]>> = {
  model: [...MODEL_SETTINGS, ...LAYERS],
  data: DATA_SETTINGS,
  train: TRAIN_SETTINGS,
};
const byName = (ws: readonly Word[]): ReadonlyMap<string, Word> => new Map(ws.map((w) => [w.name, w]));
const INIT_WORDS = INITIALIZERS;
const CONSTANT_WORDS = byName(CONSTANTS);
/** The constants among `names`, documented. */
const constants = (names: readonly string[]): Word[] => names.map((n) => CONSTANT_WORDS.get(n) ?? { name: n, doc: "" });
const NORMALIZE_WORDS = constants(argValues(DATA_SETTINGS, "normalize", "method"));
const BOOL_WORDS = constants(["true", "false"]);

/** How the editor colours a word that the lexer sees as a plain identifier. */
const WORD_CLASS: ReadonlyMap<string, string> = new Map([
  ...[...MODEL_SETTINGS, ...DATA_SETTINGS, ...TRAIN_SETTINGS].map((w) => [w.name, "keyword.setting"] as const),
  ...LAYERS.map((w) => [w.name, "type"] as const),
  ...[...ACTIVATIONS, ...LOSSES, ...OPTIMIZERS, ...INITIALIZERS, ...SOURCES, ...SCHEDULES, ...METRICS].map((w) => [w.name, "predefined"] as const),
  ...CONSTANTS.map((w) => [w.name, "constant"] as const),
]);

/** The Monaco token class of a lexed token. */
export function tokenClass(t: IToken): string {
  if (t.tokenType.name === "Identifier") return WORD_CLASS.get(t.image) ?? HIGHLIGHT["Identifier"] ?? "";
  return HIGHLIGHT[t.tokenType.name] ?? "";
}

/** Where the cursor is: enclosing blocks, the call whose parentheses it is in, the statement so far. */
interface Place {
  readonly block: string | undefined;
  readonly call: string | undefined;
  /** Argument name before `:` in the current call or statement, if the cursor is after it. */
  readonly argName: string | undefined;
  /** Tokens of the current statement (current line) before the cursor, outside parentheses. */
  readonly statement: readonly IToken[];
}

function placeOf(textBefore: string): Place {
  const { tokens } = tokenize(textBefore);
  // The word being typed is not context.
  let toks = [...tokens];
  const lastTok = toks[toks.length - 1];
  if (lastTok && (lastTok.endOffset ?? 0) + 1 === textBefore.length && /^[A-Za-z_]/.test(lastTok.image)) toks = toks.slice(0, -1);
  const blocks: string[] = [];
  const calls: string[] = [];
  let statement: IToken[] = [];
  let lineOf = -1;
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    const name = t.tokenType.name;
    if (t.startLine !== lineOf && calls.length === 0) {
      statement = [];
      lineOf = t.startLine ?? -1;
    }
    if (name === "LBrace") {
      blocks.push(statement[0]?.image ?? "");
      statement = [];
    } else if (name === "RBrace") {
      blocks.pop();
      statement = [];
    } else if (name === "LParen") {
      calls.push(toks[i - 1]?.image ?? "");
    } else if (name === "RParen") {
      calls.pop();
    } else if (calls.length === 0) {
      statement.push(t);
    }
  }
  const cursorLine = textBefore.split(/\r\n?|\n/).length;
  if (lineOf !== cursorLine && calls.length === 0) statement = [];
  // `name:` just before the cursor (inside a call or a statement)
  const n = toks.length;
  const argName = n >= 2 && toks[n - 1]!.tokenType.name === "Colon" ? toks[n - 2]!.image : undefined;
  return { block: blocks[blocks.length - 1], call: calls[calls.length - 1], argName, statement };
}

/** The values of argument `arg` of `owner` (a layer, optimizer, … or undefined when unknown). */
function valuesForArg(arg: string, owner: CallableWord | undefined): Offer | undefined {
  const spec = owner?.args.find((a) => a.name === arg);
  if (spec?.values !== undefined) return { words: constants(spec.values), kind: "constant" };
  if (arg === "activation") return { words: ACTIVATIONS, kind: "function" };
  if (arg === "init" || arg === "bias_init" || arg === "initializer") return { words: INIT_WORDS, kind: "function" };
  if (arg === "monitor") return { words: METRICS.map((m) => ({ name: `val_${m.name}`, doc: `${m.doc} (validation)` })).concat(METRICS), kind: "constant" };
  return undefined;
}

function argsOffer(w: CallableWord): Offer {
  return { words: w.args.map((a) => ({ name: a.name, doc: argDoc(a) })), kind: "argument" };
}

/** What may be written at the cursor. */
export function offersAt(textBefore: string): Offer[] {
  const p = placeOf(textBefore);
  if (p.argName !== undefined) {
    const head = p.statement[0]?.image;
    const owner = p.call !== undefined ? CALLS.get(p.call) : p.block !== undefined && head !== undefined ? BLOCK_STATEMENTS[p.block]?.find((w) => w.name === head) : undefined;
    const v = valuesForArg(p.argName, owner);
    if (v) return [v];
  }
  if (p.call !== undefined) {
    const w = CALLS.get(p.call);
    return w ? [argsOffer(w)] : [];
  }
  const head = p.statement[0]?.image;
  if (head === undefined) {
    if (p.block === undefined) return [{ words: TOP_LEVEL, kind: "block" }];
    const inBlock = BLOCK_STATEMENTS[p.block];
    if (p.block === "model") return [{ words: LAYERS, kind: "layer" }, { words: MODEL_SETTINGS, kind: "setting" }];
    return inBlock ? [{ words: inBlock, kind: "setting" }] : [];
  }
  const afterHead = p.statement.length >= 1;
  if (!afterHead) return [];
  if (p.block === undefined) {
    if (head === "loss") return [{ words: LOSSES, kind: "function" }];
    if (head === "optimizer") return [{ words: OPTIMIZERS, kind: "function" }];
    if (head === "metrics") return [{ words: METRICS, kind: "function" }];
    return [];
  }
  if (p.block === "model") {
    const layer = LAYERS.find((l) => l.name === head);
    if (layer) {
      const hasComma = p.statement.some((t) => t.tokenType.name === "Comma");
      const offers: Offer[] = [];
      if (layer.name === "activation" || (hasComma && layer.args.some((a) => a.name === "activation"))) offers.push({ words: ACTIVATIONS, kind: "function" });
      if (hasComma) offers.push(argsOffer(layer));
      return offers;
    }
    if (head === "init") return [{ words: INIT_WORDS, kind: "function" }];
    return [];
  }
  if (p.block === "data") {
    if (head === "train" || head === "test" || head === "validation") return [{ words: SOURCES, kind: "function" }];
    if (head === "normalize") return [{ words: NORMALIZE_WORDS, kind: "constant" }];
    if (head === "shuffle") return [{ words: [...BOOL_WORDS, { name: "seed", doc: "seed of the shuffle" }], kind: "constant" }];
    return [];
  }
  if (p.block === "train") {
    if (head === "schedule") return [{ words: SCHEDULES, kind: "function" }];
    const setting = TRAIN_SETTINGS.find((s) => s.name === head);
    if (setting && setting.args.length > 1) return [argsOffer(setting)];
  }
  return [];
}

function argDoc(a: CallableWord["args"][number]): string {
  return `${a.doc}${a.default === undefined ? " (required)" : ` (default: ${a.default})`}`;
}

/** Markdown documenting a word: its line of docs and, for callables, its arguments. */
export function docOf(w: Word): string {
  const parts = [`**${w.name}** — ${w.doc}`];
  if (isCallable(w) && w.args.length > 0) {
    parts.push(w.args.map((a) => `- \`${a.name}\`: ${argDoc(a)}`).join("\n"));
  }
  return parts.join("\n\n");
}

/** The word at a position, looked up where it stands (so `train` in `data { … }` is the data setting). */
export function hoverWord(textBefore: string, word: string): Word | undefined {
  const p = placeOf(textBefore);
  const tables: (readonly Word[])[] = [];
  if (p.call !== undefined) {
    const w = CALLS.get(p.call);
    if (w && w.name !== word) tables.push(w.args.map((a) => ({ name: a.name, doc: argDoc(a) })));
  }
  if (p.block && p.statement.length === 0) tables.push(BLOCK_STATEMENTS[p.block] ?? []);
  if (!p.block && p.statement.length === 0) tables.push(TOP_LEVEL);
  if (p.statement[0]?.image === "metrics") tables.push(METRICS);
  for (const t of tables) {
    const found = byName(t).get(word);
    if (found) return found;
  }
  const w = ALL_WORDS.get(word);
  if (w) return w;
  const alias = ALIASES[word];
  return alias === undefined ? undefined : { name: word, doc: `Not an nnc word; nnc calls it \`${alias}\`.` };
}

// ── Monaco wiring ─────────────────────────────────────────────────────────────
class LineState implements Monaco.languages.IState {
  clone(): Monaco.languages.IState {
    return this;
  }
  equals(other: Monaco.languages.IState): boolean {
    return other === this;
  }
}
const STATE = new LineState();

export function registerNn(monaco: typeof Monaco): void {
  monaco.languages.register({ id: LANGUAGE_ID, extensions: [".nn"], aliases: ["nnc", "nn"] });
  // Comments and strings never span lines, so each line lexes on its own.
  monaco.languages.setTokensProvider(LANGUAGE_ID, {
    getInitialState: () => STATE,
    tokenize(line) {
      const lexed = tokenize(line);
      const all = [...lexed.tokens, ...lexed.comments].sort((a, b) => a.startOffset - b.startOffset);
      const tokens: Monaco.languages.IToken[] = [];
      let at = 0;
      for (const t of all) {
        if (t.startOffset > at) tokens.push({ startIndex: at, scopes: "" });
        tokens.push({ startIndex: t.startOffset, scopes: tokenClass(t) });
        at = (t.endOffset ?? t.startOffset) + 1;
      }
      if (at < line.length) tokens.push({ startIndex: at, scopes: "" });
      return { tokens, endState: STATE };
    },
  });
  monaco.languages.setLanguageConfiguration(LANGUAGE_ID, {
    comments: { lineComment: "#" },
    brackets: [
      ["{", "}"],
      ["[", "]"],
      ["(", ")"],
    ],
    autoClosingPairs: [
      { open: "{", close: "}" },
      { open: "[", close: "]" },
      { open: "(", close: ")" },
      { open: '"', close: '"', notIn: ["string", "comment"] },
    ],
    wordPattern: /[A-Za-z_][A-Za-z0-9_]*|-?\d*\.?\d+(?:[eE][+-]?\d+)?%?/,
  });

  const K = monaco.languages.CompletionItemKind;
  const kindOf: Record<Kind, Monaco.languages.CompletionItemKind> = {
    block: K.Keyword,
    setting: K.Property,
    layer: K.Class,
    function: K.Function,
    constant: K.Constant,
    argument: K.Field,
  };
  monaco.languages.registerCompletionItemProvider(LANGUAGE_ID, {
    triggerCharacters: [" ", "(", ",", ":"],
    provideCompletionItems(model, position) {
      const before = model.getValueInRange({ startLineNumber: 1, startColumn: 1, endLineNumber: position.lineNumber, endColumn: position.column });
      const word = model.getWordUntilPosition(position);
      const range = { startLineNumber: position.lineNumber, endLineNumber: position.lineNumber, startColumn: word.startColumn, endColumn: word.endColumn };
      const seen = new Set<string>();
      const suggestions: Monaco.languages.CompletionItem[] = [];
      offersAt(before).forEach((offer, rank) => {
        for (const w of offer.words) {
          if (seen.has(w.name)) continue;
          seen.add(w.name);
          suggestions.push({
            label: w.name,
            kind: kindOf[offer.kind],
            insertText: offer.kind === "argument" ? `${w.name}: ` : w.name,
            documentation: { value: docOf(w) },
            detail: offer.kind,
            sortText: `${rank}${w.name}`,
            range,
          });
        }
      });
      return { suggestions };
    },
  });
  monaco.languages.registerHoverProvider(LANGUAGE_ID, {
    provideHover(model, position) {
      const w = model.getWordAtPosition(position);
      if (!w) return null;
      const before = model.getValueInRange({ startLineNumber: 1, startColumn: 1, endLineNumber: position.lineNumber, endColumn: w.startColumn });
      const found = hoverWord(before, w.word);
      if (!found) return null;
      return {
        range: { startLineNumber: position.lineNumber, endLineNumber: position.lineNumber, startColumn: w.startColumn, endColumn: w.endColumn },
        contents: [{ value: docOf(found) }],
      };
    },
  });
}
