/**
 * A new user who mistypes any word of an example gets a message at that word's line and
 * column, with the fix: for every vocabulary word in every example, swap two of its letters
 * and check the diagnostics.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkSource } from "../../compiler/check.js";
import { tokenize, tokenSpan } from "../../grammar/lexer.js";
import { ALL_WORDS } from "../../compiler/vocabulary.js";

const dir = join(import.meta.dirname, "../../examples");
const examples = readdirSync(dir).filter((f) => f.endsWith(".nn"));

/** `dense` → `desne`: a transposition in the middle, the commonest typo. */
function typo(word: string): string {
  const i = Math.floor(word.length / 2) - 1;
  return word.slice(0, i) + (word[i + 1] ?? "") + (word[i] ?? "") + word.slice(i + 2);
}

describe.each(examples)("typos in examples/%s", (file) => {
  const source = readFileSync(join(dir, file), "utf8");
  const words = tokenize(source).tokens.filter((t) => ALL_WORDS.has(t.image) && t.image.length >= 4 && !["true", "false"].includes(t.image));
  it("has words to mistype", () => {
    expect(words.length).toBeGreaterThan(5);
  });
  it.each(words.map((t) => [`${t.image} at ${t.startLine}:${t.startColumn}`, t] as const))("%s", (_, t) => {
    const wrong = typo(t.image);
    if (wrong === t.image || ALL_WORDS.has(wrong)) return;
    const broken = source.slice(0, t.startOffset) + wrong + source.slice((t.endOffset ?? t.startOffset) + 1);
    const r = checkSource(broken);
    expect(r.value).toBeUndefined();
    const at = r.diagnostics.find((d) => d.span.start === t.startOffset);
    const span = tokenSpan(t);
    expect(at, `no diagnostic at ${span.line}:${span.column}: ${JSON.stringify(r.diagnostics.map((d) => [d.code, d.span.line, d.span.column, d.message]))}`).toBeDefined();
    expect(at?.span.line).toBe(span.line);
    expect(at?.span.column).toBe(span.column);
    expect(at?.hint).toContain(`did you mean \`${t.image}\``);
  });
});
