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
import { LAYER_DEFS } from "../../compiler/layers/index.js";
import { blocksIn, GRAPH_BODIES, madeOnLine, valuesBefore, type BlockDecl, type ValueDef } from "./language/graph-names.js";
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

type Kind = "block" | "setting" | "layer" | "function" | "constant" | "argument" | "value" | "use";

/** What a word means where it stands: the words allowed at a position, and their kind. */
interface Offer {
  readonly words: readonly Word[];
  readonly kind: Kind;
}

const isCallable = (w: Word): w is CallableWord => "args" in w;
/** The layers that join values (`add skip`, `concat a, b`): their arguments are value names. */
const MERGES: ReadonlySet<string> = new Set(LAYER_DEFS.filter((d) => d.merge === true).map((d) => d.word));

/** Words written as `name(args…)`. */
const CALLS: ReadonlyMap<string, CallableWord> = new Map(
  [...ACTIVATIONS, ...LOSSES, ...OPTIMIZERS, ...SOURCES, ...SCHEDULES].map((w) => [w.name, w]),
);
const BLOCK_STATEMENTS: Readonly<Record<string, readonly CallableWord[]>> = {
  model: [...MODEL_SETTINGS, ...LAYERS],
  block: [...MODEL_SETTINGS, ...LAYERS],
  repeat: [...MODEL_SETTINGS, ...LAYERS],
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
  /** `statement` without its `name =` and `a, b ->` (in a graph body): what starts with the layer word. */
  readonly body: readonly IToken[];
  /** Whether the statement so far is `name =` or `a, b ->` (with or without more after it). */
  readonly prefixed: boolean;
}

/** `statement` without a leading `name =` and `a, b ->`. */
function statementBody(statement: readonly IToken[]): { body: readonly IToken[]; prefixed: boolean } {
  let i = 0;
  if (statement[1]?.tokenType.name === "Equals" && statement[0]?.tokenType.name === "Identifier") i = 2;
  const arrow = statement.findIndex((t, k) => k >= i && t.tokenType.name === "Arrow");
  if (arrow >= 0 && statement.slice(i, arrow).every((t) => t.tokenType.name === "Identifier" || t.tokenType.name === "Comma")) i = arrow + 1;
  return { body: statement.slice(i), prefixed: i > 0 };
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
  // `name:` (or `name =`) just before the cursor, inside a call or a statement; an `=` right
  // after a statement's first word names the statement's value (`skip = dense 64`) instead.
  const n = toks.length;
  const last = toks[n - 1]?.tokenType.name;
  const namesValue = last === "Equals" && calls.length === 0 && statement.length === 2;
  const argName = n >= 2 && (last === "Colon" || last === "Equals") && !namesValue ? toks[n - 2]!.image : undefined;
  return { block: blocks[blocks.length - 1], call: calls[calls.length - 1], argName, statement, ...statementBody(statement) };
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

/** The named values in scope, as words. */
function valueWords(values: readonly ValueDef[]): Word[] {
  return values.map((v) => ({ name: v.name, doc: v.text === "" ? "a named value" : `the value of \`${v.text}\` (line ${v.line})` }));
}

function blockWords(blocks: readonly BlockDecl[]): Word[] {
  return blocks.map((b) => ({ name: b.name, doc: `\`${b.header}\`${b.doc === "" ? "" : ` — ${b.doc.replace(/\n/g, " ")}`}` }));
}

/**
 * What may be written at the cursor. `fullText` (the whole file) adds the blocks it declares,
 * wherever they are, to the first words of a graph statement.
 */
export function offersAt(textBefore: string, fullText: string = textBefore): Offer[] {
  const p = placeOf(textBefore);
  if (p.argName !== undefined) {
    const head = p.body[0]?.image;
    const owner = p.call !== undefined ? CALLS.get(p.call) : p.block !== undefined && head !== undefined ? BLOCK_STATEMENTS[p.block]?.find((w) => w.name === head) : undefined;
    const v = valuesForArg(p.argName, owner);
    if (v) return [v];
  }
  if (p.call !== undefined) {
    const w = CALLS.get(p.call);
    return w ? [argsOffer(w)] : [];
  }
  const graph = p.block !== undefined && GRAPH_BODIES.has(p.block);
  const head = p.body[0]?.image;
  // The values named above (not the one this statement is naming).
  const own = p.statement[1]?.tokenType.name === "Equals" ? p.statement[0]?.image : undefined;
  const values = (): Word[] => valueWords(valuesBefore(textBefore).filter((v) => v.name !== own));
  if (graph && head === undefined) {
    // A layer, a block use or a setting; before `->`, the values it may take.
    const offers: Offer[] = [{ words: LAYERS, kind: "layer" }, { words: blockWords(blocksIn(fullText)), kind: "use" }];
    const settings = p.block === "model" ? MODEL_SETTINGS : MODEL_SETTINGS.filter((w) => w.name === "repeat" || (p.block === "block" && w.name === "input"));
    if (!p.statement.some((t) => t.tokenType.name === "Arrow")) offers.push({ words: settings, kind: "setting" });
    if (!p.prefixed || p.statement[1]?.tokenType.name === "Equals") offers.push({ words: values(), kind: "value" });
    return offers;
  }
  if (graph && head !== undefined && MERGES.has(head)) {
    // `add skip`, `concat a, b`: the values named above.
    return [{ words: values(), kind: "value" }];
  }
  if (graph && !p.prefixed && p.body.length >= 2 && p.body.every((t) => t.tokenType.name === "Identifier" || t.tokenType.name === "Comma") && p.body[p.body.length - 1]!.tokenType.name === "Comma") {
    // `a, ` before `->`: more values.
    const named = values();
    if (named.some((v) => v.name === head)) return [{ words: named, kind: "value" }];
  }
  if (head === undefined) {
    if (p.block === undefined) return [{ words: TOP_LEVEL, kind: "block" }];
    const inBlock = BLOCK_STATEMENTS[p.block];
    return inBlock ? [{ words: inBlock, kind: "setting" }] : [];
  }
  const afterHead = p.body.length >= 1;
  if (!afterHead) return [];
  if (p.block === undefined) {
    if (head === "loss") return [{ words: LOSSES, kind: "function" }];
    if (head === "optimizer") return [{ words: OPTIMIZERS, kind: "function" }];
    if (head === "metrics") return [{ words: METRICS, kind: "function" }];
    return [];
  }
  if (graph) {
    const layer = LAYERS.find((l) => l.name === head);
    if (layer) {
      const hasComma = p.body.some((t) => t.tokenType.name === "Comma");
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

const showShape = (shape: readonly number[]): string => `[${shape.join(", ")}]`;

/**
 * Markdown for a name of the graph at a position: a value (what made it, and its shape when the
 * language worker's latest diagram is of `source`) or a block use (the block's header).
 * `throughLine` is the text up to the end of the word's line, `textBefore` up to the word.
 */
export function hoverGraphName(textBefore: string, throughLine: string, word: string, source: string): string | undefined {
  const p = placeOf(textBefore);
  if (p.block === undefined || !GRAPH_BODIES.has(p.block)) return undefined;
  // A vocabulary word where a statement's layer word stands is that word (`dense`), not a value.
  const atHead = p.body.length === 0;
  const value = valuesBefore(throughLine).find((v) => v.name === word);
  const isWord = ALL_WORDS.has(word);
  if (value !== undefined && !(isWord && atHead)) {
    const parts = [`**${word}** — a value: \`${value.text || "…"}\` (line ${value.line})`];
    const made = madeOnLine(source, value.line);
    if (made.length === 1) parts.push(`made by \`${made[0]!.name}\` (${made[0]!.label}), shape \`${showShape(made[0]!.shape)}\``);
    else if (made.length > 1) parts.push(made.slice(0, 6).map((m) => `- \`${m.name}\`: \`${showShape(m.shape)}\``).join("\n") + (made.length > 6 ? `\n- … ${made.length - 6} more` : ""));
    return parts.join("\n\n");
  }
  const block = blocksIn(source).find((b) => b.name === word);
  if (block !== undefined) {
    const parts = [`\`\`\`nn\n${block.header}\n\`\`\``];
    if (block.doc !== "") parts.push(block.doc);
    parts.push(`a block, declared on line ${block.line}`);
    return parts.join("\n\n");
  }
  return undefined;
}

/** The word at a position, looked up where it stands (so `train` in `data { … }` is the data setting). */
export function hoverWord(textBefore: string, word: string): Word | undefined {
  const p = placeOf(textBefore);
  const tables: (readonly Word[])[] = [];
  if (p.call !== undefined) {
    const w = CALLS.get(p.call);
    if (w && w.name !== word) tables.push(w.args.map((a) => ({ name: a.name, doc: argDoc(a) })));
  }
  if (p.block && p.body.length === 0) tables.push(BLOCK_STATEMENTS[p.block] ?? []);
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
    value: K.Variable,
    use: K.Module,
  };
  monaco.languages.registerCompletionItemProvider(LANGUAGE_ID, {
    triggerCharacters: [" ", "(", ",", ":", "="],
    provideCompletionItems(model, position) {
      const before = model.getValueInRange({ startLineNumber: 1, startColumn: 1, endLineNumber: position.lineNumber, endColumn: position.column });
      const word = model.getWordUntilPosition(position);
      const range = { startLineNumber: position.lineNumber, endLineNumber: position.lineNumber, startColumn: word.startColumn, endColumn: word.endColumn };
      const seen = new Set<string>();
      const suggestions: Monaco.languages.CompletionItem[] = [];
      offersAt(before, model.getValue()).forEach((offer, rank) => {
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
      const range = { startLineNumber: position.lineNumber, endLineNumber: position.lineNumber, startColumn: w.startColumn, endColumn: w.endColumn };
      const throughLine = model.getValueInRange({ startLineNumber: 1, startColumn: 1, endLineNumber: position.lineNumber, endColumn: model.getLineMaxColumn(position.lineNumber) });
      const graphName = hoverGraphName(before, throughLine, w.word, model.getValue());
      if (graphName !== undefined) return { range, contents: [{ value: graphName }] };
      const found = hoverWord(before, w.word);
      if (!found) return null;
      return { range, contents: [{ value: docOf(found) }] };
    },
  });
}
