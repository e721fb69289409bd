/**
 * `nnc sample` as a user runs it: a language model trained on a text writes seeded text; a
 * classifier's weights get NN5014 with a hint; bad flags exit with 2 before anything loads.
 */
import { describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nnc, ROOT } from "./run-cli.js";

describe("nnc sample", () => {
  it("writes text with a trained character model, the same for the same seed; a classifier is refused with NN5014", () => {
    const dir = mkdtempSync(join(tmpdir(), "nnc-sample-"));
    // A small character model of the committed excerpt, trained one epoch.
    const nn = join(dir, "lm.nn");
    writeFileSync(
      nn,
      readFileSync(join(ROOT, "examples/moby-dick.nn"), "utf8")
        .replace('text("data/moby-dick/train.txt")', `text(${JSON.stringify(join(ROOT, "examples/data/moby-dick-1-3.txt"))})`)
        .replace('  test       text("data/moby-dick/test.txt")\n', "")
        .replace("repeat 2", "repeat 1")
        .replace("epochs 4", "epochs 1"),
    );
    expect(nnc(["train", nn, "--quiet", "--out", join(dir, "run")]).code).toBe(0);
    const weights = join(dir, "run", "weights.json");
    const run = (seed: string): string => {
      const r = nnc(["sample", nn, "--weights", weights, "--prompt", "The whale", "--length", "40", "--seed", seed]);
      expect(r.code, r.stderr).toBe(0);
      return r.stdout;
    };
    const a = run("4");
    const drawn = Array.from(a.slice("The whale".length).replace(/\n$/, ""));
    expect(drawn.length).toBe(40);
    // Only characters of the training text (lower-cased, as the tokenizer reads it).
    const seen = new Set(Array.from(readFileSync(join(ROOT, "examples/data/moby-dick-1-3.txt"), "utf8").toLowerCase()));
    expect(drawn.every((c) => seen.has(c))).toBe(true);
    expect(run("4")).toBe(a);
    expect(run("5")).not.toBe(a);
    // `nnc predict` on a language model points at `nnc sample`.
    const p = nnc(["predict", nn, "--weights", weights, "--input", join(ROOT, "examples/data/names.csv")]);
    expect(p.code).toBe(1);
    expect(p.stderr).toMatch(/error NN5015: `nnc predict` reads samples .* this is a language model/);
    expect(p.stderr).toMatch(/hint: write with it: `nnc sample /);

    const iris = join(dir, "iris");
    expect(nnc(["train", join(ROOT, "examples/iris.nn"), "--epochs", "1", "--quiet", "--out", iris]).code).toBe(0);
    const r = nnc(["sample", join(ROOT, "examples/iris.nn"), "--weights", join(iris, "weights.json"), "--prompt", "x"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/iris\.nn:1:1 - error NN5014: `nnc sample` needs a language model .* this model's output is \[3\]/);
    expect(r.stderr).toMatch(/hint: train it on a `text\(…\)` source/);
  });

  it("refuses a bad temperature or length with exit code 2", () => {
    for (const args of [["--temperature", "-1"], ["--length", "0"], ["--length", "2.5"], ["--seed", "x"]]) {
      const r = nnc(["sample", "examples/moby-dick.nn", "--weights", "none.json", "--prompt", "a", ...args]);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`--${args[0]!.slice(2)} must be`));
    }
  });
});
