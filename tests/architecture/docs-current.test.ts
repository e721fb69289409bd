/** Generated docs are kept current: regenerate with `npm run docs`. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { grammarHtml } from "../../scripts/grammar-diagrams.js";
import { referenceMarkdown } from "../../scripts/reference-doc.js";

const docs = join(import.meta.dirname, "../../docs");

it("docs/grammar.html matches the parser", () => {
  expect(readFileSync(join(docs, "grammar.html"), "utf8") === grammarHtml()).toBe(true);
});

it("docs/reference.md matches the vocabulary and the message table", () => {
  expect(readFileSync(join(docs, "reference.md"), "utf8")).toBe(referenceMarkdown());
});
