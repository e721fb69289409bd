/**
 * Writes `docs/reference.md`: every word of the language with its arguments and defaults,
 * generated from `grammar/vocabulary.ts` so it can never drift from what the checker accepts.
 *
 *   npx tsx scripts/reference-doc.ts            rewrite docs/reference.md
 *   npx tsx scripts/reference-doc.ts --check    exit 1 if it is out of date
 */
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { MESSAGES } from "../grammar/diagnostics.js";
import {
  ACTIVATIONS,
  ALIASES,
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
  RANGES,
  SEARCH_SETTINGS,
  type CallableWord,
  type Word,
} from "../compiler/vocabulary.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

function cell(s: string): string {
  return s.replace(/\|/g, "\\|");
}

function callables(title: string, words: readonly CallableWord[]): string {
  const out = [`## ${title}`, ""];
  for (const w of words) {
    out.push(`### \`${w.name}\``, "", w.doc, "");
    if (w.args.length > 0) {
      out.push("| argument | meaning | default |", "|---|---|---|");
      for (const a of w.args) out.push(`| \`${a.name}\` | ${cell(a.doc)} | ${a.default === undefined ? "required" : cell(a.default)} |`);
      out.push("");
    }
  }
  return out.join("\n");
}

function plain(title: string, words: readonly Word[]): string {
  return [`## ${title}`, "", "| word | meaning |", "|---|---|", ...words.map((w) => `| \`${w.name}\` | ${cell(w.doc)} |`), ""].join("\n");
}

export function referenceMarkdown(): string {
  const messages = Object.entries(MESSAGES).map(([name, m]) => `| ${m.code} | ${m.severity} | ${cell(m.text.replace(/\{(\d)\}/g, "…"))} | \`${name}\` |`);
  return [
    "# nnc language reference",
    "",
    "Generated from `grammar/vocabulary.ts` and `grammar/diagnostics.ts` by `npx tsx scripts/reference-doc.ts`; do not edit by hand.",
    "Every argument can be given by position (in the order listed) or by name (`name: value`).",
    "See [language.md](language.md) for the language by example and [grammar.html](grammar.html) for the syntax diagrams.",
    "",
    plain("Top level", TOP_LEVEL),
    callables("Model settings", MODEL_SETTINGS),
    callables("Layers", LAYERS),
    callables("Activations", ACTIVATIONS),
    plain("Initializers", INITIALIZERS),
    callables("Losses", LOSSES),
    callables("Optimizers", OPTIMIZERS),
    plain("Metrics", METRICS),
    callables("Data settings", DATA_SETTINGS),
    callables("Data sources", SOURCES),
    callables("Training settings", TRAIN_SETTINGS),
    callables("Learning-rate schedules", SCHEDULES),
    callables("Search ranges (`nnc search`, docs/search.md)", RANGES),
    callables("Search settings", SEARCH_SETTINGS),
    plain("Constants", CONSTANTS),
    "## Names from other libraries",
    "",
    "A misspelled or foreign name gets a hint; these are recognized:",
    "",
    "| you wrote | nnc calls it |",
    "|---|---|",
    ...Object.entries(ALIASES).map(([k, v]) => `| \`${k}\` | \`${v}\` |`),
    "",
    "## Diagnostics",
    "",
    "| code | severity | message | name in `MESSAGES` |",
    "|---|---|---|---|",
    ...messages,
    "",
  ].join("\n");
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const target = join(root, "docs", "reference.md");
  const text = referenceMarkdown();
  if (process.argv.includes("--check")) {
    if (readFileSync(target, "utf8") !== text) {
      process.stderr.write("docs/reference.md is out of date: run `npx tsx scripts/reference-doc.ts`\n");
      process.exitCode = 1;
    }
  } else {
    writeFileSync(target, text);
    process.stdout.write(`wrote ${target}\n`);
  }
}
