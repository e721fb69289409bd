/**
 * A tagger as a user runs it: `nnc train` on tagged sentences, `nnc eval` on the test file,
 * `nnc predict` tagging plain sentences (`word/TAG` lines, or JSON), `nnc sample` refused, and a
 * tagged file with a token that has no tag: NN4050 at its line and column, exit 1.
 */
import { describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nncInProcess } from "./in-process.js";
import { ROOT } from "./run-cli.js";

const excerpt = (f: string): string => JSON.stringify(join(ROOT, "examples/data/brown-excerpt", f));

describe("a tagger through the CLI", () => {
  it("trains, evaluates, tags plain sentences, and is refused by `nnc sample`", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nnc-tagger-"));
    const nn = join(dir, "pos.nn");
    writeFileSync(
      nn,
      readFileSync(join(ROOT, "examples/brown-pos.nn"), "utf8")
        .replace('tagged("data/brown/train.txt")', `tagged(${excerpt("train.txt")})`)
        .replace('tagged("data/brown/test.txt")', `tagged(${excerpt("test.txt")})`)
        .replace("embedding 20000", "embedding 2000")
        .replace("vocabulary: 20000", "vocabulary: 2000")
        .replace("gru       64", "gru       16")
        .replace("epochs 3", "epochs 1"),
    );
    const train = await nncInProcess("train", nn, "--quiet", "--out", join(dir, "run"));
    expect(train.code, train.err).toBe(0);
    const weights = join(dir, "run", "weights.json");
    const ev = await nncInProcess("eval", nn, "--weights", weights);
    expect(ev.code, ev.err).toBe(0);
    expect(ev.out).toMatch(/accuracy/);

    const input = join(dir, "sentences.txt");
    writeFileSync(input, "The jury said it .\n\nShe saw the dog in the park\n");
    const p = await nncInProcess("predict", nn, "--weights", weights, "--input", input);
    expect(p.code, p.err).toBe(0);
    const lines = p.out.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^The\/DET jury\/\S+ said\/\S+ it\/\S+ \.\/\.$/);
    const tags = new Set(["ADJ", "ADP", "ADV", "CONJ", "DET", "NOUN", "NUM", "PRON", "PRT", "VERB", "X", "."]);
    expect(lines.flatMap((l) => l.split(" ").map((t) => t.slice(t.lastIndexOf("/") + 1))).every((t) => tags.has(t))).toBe(true);
    const j = await nncInProcess("predict", nn, "--weights", weights, "--input", input, "--format", "json");
    const parsed = JSON.parse(j.out) as { words: string[]; tags: string[] }[];
    expect(parsed[1]!.words).toEqual(["She", "saw", "the", "dog", "in", "the", "park"]);
    expect(parsed[1]!.tags).toHaveLength(7);

    // An input with no sentence is NN4011, not a blank line and exit 0.
    writeFileSync(input, "\n  \n");
    const empty = await nncInProcess("predict", nn, "--weights", weights, "--input", input);
    expect(empty.code).toBe(1);
    expect(empty.err).toMatch(/NN4011.*\n.*hint: give one sentence a line/);

    const s = await nncInProcess("sample", nn, "--weights", weights, "--prompt", "The");
    expect(s.code).toBe(1);
    expect(s.err).toMatch(/NN5014/);
  }, 120_000);

  it("a token without a tag is NN4050 at the data file's line and column", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nnc-tagger-"));
    writeFileSync(join(dir, "pos.txt"), "The/DET dog/NOUN barked/VERB\nA/DET cat sat/VERB\n");
    const nn = join(dir, "pos.nn");
    writeFileSync(nn, readFileSync(join(ROOT, "examples/brown-pos.nn"), "utf8").replace('tagged("data/brown/train.txt")', 'tagged("pos.txt")').replace('  test       tagged("data/brown/test.txt")\n', ""));
    const r = await nncInProcess("train", nn, "--quiet", "--out", join(dir, "run"));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/pos\.txt:2:7 - error NN4050: `cat` has no tag/);
  });
});
