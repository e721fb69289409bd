/**
 * The front end never throws: `tokenize`, `parse` and `checkSource` turn any text into
 * diagnostics or a program, and every diagnostic has a code from the table and a span inside
 * the source whose line and column agree with its offset (see `frontend-oracle.ts`).
 *
 * This is the short run (a few hundred cases per family, fixed seed, so a failure reproduces);
 * the long one is `npx tsx scripts/fuzz-campaign.ts --cases 300000`.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { expectContract } from "./frontend-oracle.js";
import { exampleSources, mutatedExample, randomText, statementSoup, tokenSoup, NASTY_CHARS, NASTY_NUMBERS } from "./text-gen.js";

const EXAMPLES = exampleSources();
const SOURCES = [...EXAMPLES.values()];

const property = (arb: fc.Arbitrary<string>, numRuns: number, seed: number): void =>
  fc.assert(
    fc.property(arb, (s) => {
      expectContract(s);
    }),
    { numRuns, seed, endOnFailure: true },
  );

describe("the front end on the examples", () => {
  it.each([...EXAMPLES.keys()])("%s is accepted with no diagnostics", (name) => {
    const r = expectContract(EXAMPLES.get(name) as string);
    expect(r.accepted).toBe(true);
    expect(r.diagnostics).toBe(0);
  });
});

describe("the front end never throws", () => {
  it("on random text (any UTF-16 code unit, lone surrogates included)", () => property(randomText, 150, 7001));
  it("on soups of the language's own tokens", () => property(tokenSoup, 150, 7002));
  it("on statement-shaped soups", () => property(statementSoup, 40, 7003));
  it("on mutated examples (deleted, duplicated, swapped tokens, truncation, huge numbers, nesting)", () =>
    property(mutatedExample(SOURCES), 120, 7004));

  it("on every truncation of every example", () => {
    for (const src of SOURCES) for (let i = 0; i <= src.length; i += 7) expectContract(src.slice(0, i));
  });

  it("on every nasty character and number at the start, middle and end of an example", () => {
    const src = EXAMPLES.get("iris.nn") as string;
    const mid = src.indexOf("dense");
    for (const x of [...NASTY_CHARS, ...NASTY_NUMBERS]) {
      expectContract(x + src);
      expectContract(src.slice(0, mid) + x + src.slice(mid));
      expectContract(src + x);
    }
    for (const n of NASTY_NUMBERS) expectContract(src.replace("16, relu", `${n}, relu`).replace("lr: 0.01", `lr: ${n}`));
  });

  it("on line separators U+2028/U+2029 and CR/CRLF line ends: positions still agree", () => {
    const src = EXAMPLES.get("xor.nn") as string;
    for (const nl of ["\r\n", "\r", "\u2028", "\u2029"]) {
      const r = expectContract(src.replaceAll("\n", nl));
      expect(r.accepted).toBe(true);
      expectContract(src.replaceAll("\n", nl).replace("dense 8", "dense 8x"));
    }
  });

  it("on deep bracket nesting (reported once, no stack overflow)", () => {
    for (const open of ["[", "(", "{"]) {
      const close = { "[": "]", "(": ")", "{": "}" }[open] as string;
      expectContract(`model M { input ${open.repeat(5000)}1${close.repeat(5000)} }`);
      expectContract(`model M { input ${open.repeat(5000)}`);
    }
  });
});
