import { describe, expect, it } from "vitest";
import { checkSource } from "../../compiler/check.js";
import { parse } from "../../grammar/index.js";
import { printFile } from "../../grammar/print.js";
import { readSearch, substitute } from "../../compiler/search/index.js";
import { prepareSearch } from "../../runtime/search-trial.js";

const BASE = (model: string, extra = "", train = "epochs 5\n  batch 8"): string => `model M {
  input 2
${model}
  dense 2, softmax
}

loss      cross_entropy
optimizer adam(lr: 0.01)
metrics   accuracy

data {
  train xor(size: 64)
}

train {
  ${train}
}
${extra}`;

function dims(source: string) {
  const r = readSearch(parse(source).value);
  return { dims: r.value?.dims ?? [], diagnostics: r.diagnostics };
}

describe("search ranges: found, named, checked", () => {
  it("finds every range in source order, named by the setting it stands in", () => {
    const src = BASE("  repeat int(1, 3) {\n    dense int(4, 16), choice(relu, tanh)\n  }\n  dropout uniform(0, 0.5)", "", "epochs 5\n  batch choice(8, 16)").replace("adam(lr: 0.01)", "adam(lr: loguniform(1e-4, 1e-1))");
    const { dims: d, diagnostics } = dims(src);
    expect(diagnostics).toEqual([]);
    expect(d.map((x) => [x.label, x.kind])).toEqual([
      ["repeat", "int"],
      ["dense.units", "int"],
      ["dense.activation", "choice"],
      ["dropout.rate", "uniform"],
      ["adam.lr", "loguniform"],
      ["batch", "choice"],
    ]);
    expect(d[4]).toMatchObject({ lo: 1e-4, hi: 0.1 });
  });

  it("names two ranges of the same setting by their lines", () => {
    const { dims: d } = dims(BASE("  dense int(4, 8), relu\n  dense int(2, 6), relu"));
    expect(d.map((x) => x.label)).toEqual(["dense.units@3", "dense.units@4"]);
  });

  it.each([
    ["loguniform(0, 1)", "NN2073", 3, 20],
    ["uniform(1, 1)", "NN2072", 3, 9],
    ["int(1.5, 4)", "NN2074", 3, 13],
    ["uniform(1)", "NN2071", 3, 9],
    ["choice()", "NN2071", 3, 9],
    ["choice(int(1, 2), 3)", "NN2075", 3, 16],
    ["int(lo: 1, hi: 2)", "NN2071", 3, 13],
  ])("dense %s: %s at its line and column", (range, code, line, column) => {
    const { diagnostics } = dims(BASE(`  dense ${range}, relu`));
    const d = diagnostics.find((x) => x.code === code);
    expect(d, JSON.stringify(diagnostics)).toBeDefined();
    expect([d!.span.line, d!.span.column]).toEqual([line, column]);
    expect(d!.hint).toBeTruthy();
  });

  it("substitutes values and prints a plain file that checks, without the search block", () => {
    const ast = parse(BASE("  dense int(4, 16), choice(relu, tanh)", "\nsearch {\n  trials 3\n}\n")).value;
    const r = readSearch(ast);
    const plain = printFile(substitute(ast, r.value!.dims, [12, 1]));
    expect(plain).toContain("dense 12, tanh");
    expect(plain).not.toContain("search");
    const checked = checkSource(plain);
    expect(checked.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  });
});

describe("a search file outside nnc search", () => {
  it("is an error at each range (NN2070), with the rest of the file still checked", () => {
    const r = checkSource(BASE("  dense int(4, 16), relu\n  dense 4, wrongact"));
    expect(r.value).toBeUndefined();
    const range = r.diagnostics.find((d) => d.code === "NN2070");
    expect(range?.message).toBe("`int(…)` is a search range: only `nnc search` chooses its value");
    expect([range?.span.line, range?.span.column]).toEqual([3, 9]);
    expect(range?.hint).toContain("nnc search");
    expect(r.diagnostics.some((d) => d.code === "NN2010" || d.message.includes("wrongact"))).toBe(true);
  });

  it("checks the search block, and a plain file with one is otherwise trained as written", () => {
    const bad = checkSource(BASE("  dense 4, relu", "\nsearch {\n  algoritm grid\n}\n"));
    expect(bad.diagnostics.find((d) => d.severity === "error")?.hint).toContain("algorithm");
    const ok = checkSource(BASE("  dense 4, relu", "\nsearch {\n  algorithm grid\n  trials 4\n}\n"));
    expect(ok.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect(ok.value).toBeDefined();
  });
});

describe("prepareSearch: every range's values are values its setting takes", () => {
  it("reports the end of a range that is out of the setting's bounds, where it is written (NN2080)", () => {
    const src = BASE("  dense 4, relu").replace("adam(lr: 0.01)", "adam(lr: loguniform(1e-3, 50))");
    const r = prepareSearch(parse(src).value);
    expect(r.value).toBeUndefined();
    const d = r.diagnostics.find((x) => x.code === "NN2080");
    expect(d?.message).toContain("adam.lr");
    expect([d?.span.line, d?.span.column]).toEqual([src.split("\n").findIndex((l) => l.includes("loguniform")) + 1, 37]);
  });

  it("reports an option of a choice that is not a value of its setting", () => {
    const r = prepareSearch(parse(BASE("  dense 4, choice(relu, tanhh)")).value);
    expect(r.diagnostics.find((x) => x.code === "NN2080")?.hint).toContain("tanh");
  });

  it("refuses a metric the file does not compute, and epochs as a range with halving", () => {
    const m = prepareSearch(parse(BASE("  dense int(2, 4), relu", "\nsearch {\n  metric mae\n}\n")).value);
    expect(m.diagnostics.find((x) => x.code === "NN2076")?.span.line).toBe(21);
    const e = prepareSearch(parse(BASE("  dense 4, relu", "\nsearch {\n  algorithm halving\n}\n", "epochs int(3, 9)")).value);
    expect(e.diagnostics.find((x) => x.code === "NN2077")?.span.line).toBe(16);
  });

  it("measures on a validation split: adds one when the data block has none", () => {
    const r = prepareSearch(parse(BASE("  dense int(2, 4), relu")).value);
    expect(r.value?.addsValidation).toBe(0.2);
    expect(r.value?.metric).toBe("accuracy");
    expect(r.value?.plan.direction).toBe("maximize");
  });
});
