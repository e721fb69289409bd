/**
 * The playground's Search panel (pure parts): the space it searches — the file's own ranges,
 * or, in a file without any, the learning rate and the first hidden width around the file's
 * values, each starting at them — and the table it shows, with the best trial marked and
 * everything from the file kept as text.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "../../grammar/index.js";
import { checkSource } from "../../compiler/check.js";
import { prepareSearch } from "../../runtime/search-trial.js";
import type { TrialRecord } from "../../runtime/search.js";
import { pageSpace } from "../../playground/src/search-space.js";
import { searchTable } from "../../playground/src/search-table.js";

const ROOT = join(import.meta.dirname, "../..");
const example = (name: string): string => readFileSync(join(ROOT, "examples", `${name}.nn`), "utf8");

function prepared(source: string) {
  const s = prepareSearch(parse(source).value);
  expect(s.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return s.value!;
}

describe("the page's search space", () => {
  it("a file without ranges: the learning rate and the first hidden width, starting at the file's values", () => {
    const r = pageSpace(example("spiral"));
    if ("error" in r) throw new Error(r.error);
    expect(r.source).toContain("optimizer adam(lr: loguniform(0.001, 0.1, start: 0.01))");
    expect(r.source).toContain("dense int(8, 64, start: 32), relu");
    // The second hidden layer and the output keep their widths.
    expect(r.source).toMatch(/dense int\(8, 64, start: 32\), relu(, l2: 1e-4)?\n\s+dense 32, relu(, l2: 1e-4)?\n\s+dense 2, softmax/);
    const line = example("spiral").split("\n").findIndex((l) => /^\s*dense /.test(l)) + 1;
    expect(r.note).toContain(`no ranges: searching the learning rate over loguniform(0.001, 0.1, start: 0.01) and the width of the first dense layer (line ${line}) over int(8, 64, start: 32), by random search of 6 trials`);
    const s = prepared(r.source);
    expect(new Set(s.plan.dims.map((d) => d.label))).toEqual(new Set(["dense.units", "adam.lr"]));
    expect(s.plan.algorithm).toBe("random");
    expect(s.plan.trials).toBe(6);
    // Everything else is the file as written: the plain file of the starts checks as the original does.
    expect(checkSource(r.source.replace(/loguniform\([^)]*\)/, "0.01").replace(/int\([^)]*\)/, "32")).diagnostics).toEqual([]);
  });

  it("an optimizer written as a word gets an lr; one with other settings keeps them", () => {
    const base = example("spiral");
    const word = pageSpace(base.replace("optimizer adam(lr: 0.01)", "optimizer adam"));
    if ("error" in word) throw new Error(word.error);
    expect(word.source).toContain("optimizer adam(lr: loguniform(0.001, 0.1, start: 0.001))");
    const sgd = pageSpace(base.replace("optimizer adam(lr: 0.01)", "optimizer sgd(momentum: 0.9)"));
    if ("error" in sgd) throw new Error(sgd.error);
    expect(sgd.source).toContain("optimizer sgd(lr: loguniform(0.001, 0.1, start: 0.01), momentum: 0.9)");
    prepared(sgd.source);
  });

  it("the file's own ranges as written, with a small search block when it has none", () => {
    const own = example("search/iris-search");
    const r = pageSpace(own);
    if ("error" in r) throw new Error(r.error);
    expect(r).toEqual({ source: own, note: undefined });
    const noBlock = own.replace(/search \{[^}]*\}\n?/, "");
    const added = pageSpace(noBlock);
    if ("error" in added) throw new Error(added.error);
    expect(added.source.startsWith(noBlock)).toBe(true);
    expect(prepared(added.source).plan.trials).toBe(6);
  });

  it("says why when there is nothing to vary, or the file has errors", () => {
    expect(pageSpace("model M {\n  input 2\n  dense 2, softmax\n}\nloss cross_entropy\n")).toMatchObject({ error: expect.stringMatching(/no ranges/) });
    expect(pageSpace(example("spiral").replace("dense 32, relu", "dense 32, relux"))).toMatchObject({ error: expect.stringMatching(/errors/) });
  });
});

describe("the table of trials", () => {
  const rec = (trial: number, score: number | null, rung = 0, values = ["16", "0.01"]): TrialRecord => ({ trial, config: trial - 1, rung, epochs: rung === 0 ? undefined : 9, values, status: score === null ? "failed" : "ok", score, curve: [], seconds: 0.5, ...(score === null ? { message: "NN3001 <b>bad</b>" } : {}) });

  it("a row per trial in order, the best of the highest rung marked", () => {
    const t = searchTable(["dense.units", "adam.lr"], "val_accuracy", "maximize", [rec(1, 0.8), rec(2, 0.9), rec(3, null), rec(4, 0.85, 1)]);
    expect(t.head).toEqual(["trial", "epochs", "dense.units", "adam.lr", "val_accuracy", "seconds"]);
    expect(t.rows.map((r) => r.cells[0])).toEqual(["1", "2", "3", "4"]);
    expect(t.best).toBe(4);
    expect(t.rows.find((r) => r.trial === 4)!.best).toBe(true);
    expect(t.rows.filter((r) => r.best)).toHaveLength(1);
    // A failed trial shows its status; its message (text from the file) is a cell's text, not markup.
    expect(t.rows[2]!.cells[4]).toBe("failed");
    expect(t.rows[2]!.title).toBe("NN3001 <b>bad</b>");
  });

  it("minimizes when asked; no best before a trial finishes", () => {
    expect(searchTable(["x"], "val_loss", "minimize", [rec(1, 0.8, 0, ["a"]), rec(2, 0.3, 0, ["b"])]).best).toBe(2);
    expect(searchTable(["x"], "val_loss", "minimize", [rec(1, null, 0, ["a"])]).best).toBeUndefined();
  });
});
