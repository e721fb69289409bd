/**
 * Hostile `.nn` text for the front end, as fast-check arbitraries: random text, token soups
 * built from the language's own vocabulary, and mutations of every example. Shared by the
 * suite and the long campaign.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { ALIASES, ALL_WORDS, LAYERS, OPTIMIZERS, SOURCES } from "../../compiler/vocabulary.js";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");

/** Every `examples/*.nn`, by file name. */
export function exampleSources(): ReadonlyMap<string, string> {
  const dir = join(ROOT, "examples");
  const files = readdirSync(dir).filter((f) => f.endsWith(".nn")).sort();
  return new Map(files.map((f) => [f, readFileSync(join(dir, f), "utf8")]));
}

/** Characters that have broken lexers before: controls, separators, BOM, surrogates, RTL. */
export const NASTY_CHARS: readonly string[] = [
  "\u0000", "\u0001", "\u0007", "\b", "\t", "\v", "\f", "\r", "\n", "\r\n", "\u001b", "\u007f", "\u0085",
  "\u00a0", "\u2028", "\u2029", "\ufeff", "\ufffd", "\ufffe", "\uffff", "\ud800", "\udfff", "\ud83d\ude00",
  "\u200b", "\u200d", "\u202e", "\u0301", "é", "ß", "İ", "ﬁ", "π", "×", "→", "…", "“", "”", "‘", "’", "；", "＃",
  "\\", "'", "`", "${", "/*", "*/", "<!--", "-->", "</script>", "@", "$", "!", "?", "^", "&", "|", "~", ";", ".", "..",
];

/** Numbers at and beyond every limit. */
export const NASTY_NUMBERS: readonly string[] = [
  "0", "-0", "1", "-1", "0.5", ".5", "5.", "1e308", "1e309", "2e308", "-1e309", "1e-324", "1e-400", "4.9e-324",
  "9007199254740993", "99999999999999999999999999999999", "4294967295", "4294967296", "2147483648", "1e9", "1e10",
  "0.0000000000000000000000000000001", "1" + "0".repeat(400), "0." + "0".repeat(400) + "1", "1e+", "1e-", "1.2.3",
  "12px", "0x10", "0b1", "1_000", "NaN", "Infinity", "-Infinity", "1e99999", "00000001", "100%", "1000%", "-5%",
];

const PUNCT = ["{", "}", "(", ")", "[", "]", ",", ":", "=", "+", "-", "*", "/", "%", "#", "//"];
const STRINGS = ['""', '"a"', '"data/iris.csv"', '"\\n"', '"\\u{1F600}"', '"\\uD800"', '"\\q"', '"unterminated', '"\\', '"a\\"b"', '"${x}"', '"`"', '"*/"'];
const WORDS = [...ALL_WORDS.keys(), ...Object.keys(ALIASES), "Net", "x", "_", "name", "lr", "label", "seed", "every", "monitor", "patience"];

/** One lexical piece: a word, a number, a string, punctuation, a nasty character, or space. */
export const piece: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...WORDS) },
  { weight: 3, arbitrary: fc.constantFrom(...NASTY_NUMBERS) },
  { weight: 1, arbitrary: fc.constantFrom(...STRINGS) },
  { weight: 5, arbitrary: fc.constantFrom(...PUNCT) },
  { weight: 1, arbitrary: fc.constantFrom(...NASTY_CHARS) },
  { weight: 4, arbitrary: fc.constantFrom(" ", "  ", "\n", "\n  ", "\t") },
);

/** A soup of the language's own tokens, joined by spaces, newlines or nothing. */
export const tokenSoup: fc.Arbitrary<string> = fc
  .tuple(fc.array(piece, { maxLength: 120 }), fc.constantFrom(" ", "\n", "", " \n "))
  .map(([ps, sep]) => ps.join(sep));

/** Statement-shaped soups: `keyword args… { … }` lines with random words in every slot. */
const layerNames = LAYERS.map((l) => l.name);
const argValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...NASTY_NUMBERS),
  fc.constantFrom(...WORDS),
  fc.constantFrom(...STRINGS),
  fc.constantFrom("[28, 28]", "[]", "[1, [2]]", "20%", "1 / 255", "-(3)", "adam(lr: 1)", "(", ")"),
);
const arg: fc.Arbitrary<string> = fc.oneof(argValue, fc.tuple(fc.constantFrom(...WORDS), argValue).map(([k, v]) => `${k}: ${v}`));
const call: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom(...OPTIMIZERS.map((o) => o.name), ...SOURCES.map((s) => s.name)), fc.array(arg, { maxLength: 4 }))
  .map(([f, as]) => `${f}(${as.join(", ")})`);
const statementLine: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom(...WORDS, ...layerNames, ...layerNames), fc.array(fc.oneof(arg, call), { maxLength: 4 }))
  .map(([k, as]) => `${k} ${as.join(", ")}`);
export const statementSoup: fc.Arbitrary<string> = fc
  .array(
    fc.oneof(
      statementLine,
      fc.tuple(fc.constantFrom("model Net", "data", "train", "model"), fc.array(statementLine, { maxLength: 6 })).map(([h, ls]) => `${h} {\n  ${ls.join("\n  ")}\n}`),
    ),
    { maxLength: 8 },
  )
  .map((ls) => ls.join("\n"));

/** Random text of every kind of code unit, lone surrogates included. */
export const randomText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: "binary", maxLength: 200 }),
  fc.string({ unit: "grapheme-ascii", maxLength: 300 }),
  fc.string({ unit: fc.constantFrom(..."{}[](),:=+-*/%#\"\\ \n\r0123456789.eE_aZ"), maxLength: 300 }),
  fc.string({ unit: fc.constantFrom(...NASTY_CHARS), maxLength: 80 }),
);

/** Splits text into lexical pieces (words, numbers, strings, comments, single characters, space). */
export function pieces(source: string): string[] {
  return source.match(/"(?:[^"\\\n]|\\.)*"?|#[^\n]*|[A-Za-z_][A-Za-z0-9_]*|\d[\d.eE+-]*%?|\s+|[\s\S]/g) ?? [];
}

export type Mutation =
  | { kind: "delete"; at: number }
  | { kind: "duplicate"; at: number }
  | { kind: "swap"; at: number; with: number }
  | { kind: "truncate"; at: number }
  | { kind: "replaceNumber"; at: number; value: string }
  | { kind: "insert"; at: number; text: string }
  | { kind: "nest"; at: number; open: string; depth: number }
  | { kind: "replaceWord"; at: number; word: string };

/** A mutation; positions are fractions of the piece count, resolved when applied. */
export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("duplicate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("swap" as const), at: fc.nat(), with: fc.nat() }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("replaceNumber" as const), at: fc.nat(), value: fc.constantFrom(...NASTY_NUMBERS) }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), text: fc.oneof(fc.constantFrom(...NASTY_CHARS), piece) }),
  fc.record({
    kind: fc.constant("nest" as const),
    at: fc.nat(),
    open: fc.constantFrom("[", "(", "{", "-", "(-", "[[", "model M {"),
    depth: fc.integer({ min: 1, max: 3000 }),
  }),
  fc.record({ kind: fc.constant("replaceWord" as const), at: fc.nat(), word: fc.constantFrom(...WORDS) }),
);

const CLOSE: Record<string, string> = { "[": "]", "(": ")", "{": "}", "-": "", "(-": ")", "[[": "]]", "model M {": "}" };

export function mutate(source: string, ms: readonly Mutation[]): string {
  let ps = pieces(source);
  for (const m of ms) {
    const n = ps.length;
    if (n === 0) {
      ps = m.kind === "insert" ? [m.text] : ps;
      continue;
    }
    const i = m.at % n;
    switch (m.kind) {
      case "delete":
        ps.splice(i, 1);
        break;
      case "duplicate":
        ps.splice(i, 0, ps[i] as string);
        break;
      case "swap": {
        const j = m.with % n;
        [ps[i], ps[j]] = [ps[j] as string, ps[i] as string];
        break;
      }
      case "truncate": {
        const text = ps.join("");
        ps = [text.slice(0, m.at % (text.length + 1))];
        break;
      }
      case "replaceNumber": {
        const nums = ps.map((p, k) => (/^\d/.test(p) ? k : -1)).filter((k) => k >= 0);
        if (nums.length > 0) ps[nums[m.at % nums.length] as number] = m.value;
        else ps.splice(i, 0, m.value);
        break;
      }
      case "insert":
        ps.splice(i, 0, m.text);
        break;
      case "nest": {
        const close = CLOSE[m.open] ?? "";
        ps.splice(i, 0, m.open.repeat(m.depth) + "1" + close.repeat(m.depth));
        break;
      }
      case "replaceWord": {
        const words = ps.map((p, k) => (/^[A-Za-z_]/.test(p) ? k : -1)).filter((k) => k >= 0);
        if (words.length > 0) ps[words[m.at % words.length] as number] = m.word;
        break;
      }
    }
  }
  return ps.join("");
}

/** A mutated example: 1 to 6 mutations of one of the examples. */
export function mutatedExample(examples: readonly string[]): fc.Arbitrary<string> {
  return fc
    .tuple(fc.constantFrom(...examples), fc.array(mutation, { minLength: 1, maxLength: 6 }))
    .map(([src, ms]) => mutate(src, ms));
}

/** Everything above, mixed. */
export function anyFrontEndInput(examples: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: mutatedExample(examples) },
    { weight: 2, arbitrary: tokenSoup },
    { weight: 2, arbitrary: statementSoup },
    { weight: 1, arbitrary: randomText },
  );
}
