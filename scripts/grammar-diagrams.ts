/**
 * Writes `docs/grammar.html`: railroad diagrams of the parser's grammar, generated from the
 * parser itself, with Chevrotain's diagram scripts inlined so the page works offline.
 *
 *   npm run docs:grammar            rewrite docs/grammar.html
 *   npm run docs:grammar -- --check exit 1 if docs/grammar.html is out of date
 */
import { createSyntaxDiagramsCode } from "chevrotain";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { grammarProductions } from "../grammar/parser.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

export function grammarHtml(): string {
  const base = join(root, "node_modules", "chevrotain", "diagrams");
  const html = createSyntaxDiagramsCode(grammarProductions(), { resourceBase: "RESOURCE/", css: "RESOURCE/diagrams.css" });
  const inline = (file: string): string => readFileSync(join(base, file), "utf8").replace(/<\/script/gi, "<\\/script");
  return html
    .replace(/<link rel='stylesheet' href='RESOURCE\/diagrams.css'>/, () => `<style>\n${readFileSync(join(base, "diagrams.css"), "utf8")}\n</style>`)
    .replace(/<script src='RESOURCE\/([^']+)'><\/script>/g, (_, file: string) => `<script>\n${inline(file)}\n</script>`)
    .replace("<head>", "<head>\n<title>nnc grammar</title>");
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const target = join(root, "docs", "grammar.html");
  const html = grammarHtml();
  if (process.argv.includes("--check")) {
    const current = readFileSync(target, "utf8");
    if (current !== html) {
      process.stderr.write("docs/grammar.html is out of date: run `npm run docs:grammar`\n");
      process.exitCode = 1;
    }
  } else {
    writeFileSync(target, html);
    process.stdout.write(`wrote ${target}\n`);
  }
}
