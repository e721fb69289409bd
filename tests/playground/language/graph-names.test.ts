/**
 * The editor's view of a graph (`playground/src/language/graph-names.ts` and `nn-language.ts`):
 * value names and blocks read with the lexer, completion after `add `/`concat `/before `->`,
 * block names as first words, hover on values and block uses, and `=` as a value's name or an
 * argument's `name =`.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { checkSource } from "../../../compiler/check.js";
import { compileProgram } from "../../../compiler/compile.js";
import { buildDiagram } from "../../../playground/src/diagram/build.js";
import { blocksIn, setGraphInfo, valuesBefore } from "../../../playground/src/language/graph-names.js";
import { hoverGraphName, offersAt, tokenClass } from "../../../playground/src/nn-language.js";
import { tokenize } from "../../../grammar/lexer.js";
import { RESIDUAL } from "../residual.js";

const PENGUINS = readFileSync(new URL("../../../examples/penguins.nn", import.meta.url), "utf8");
const upTo = (text: string, marker: string): string => text.slice(0, text.indexOf(marker) + marker.length);
const offered = (textBefore: string, full?: string): string[][] => offersAt(textBefore, full).map((o) => o.words.map((w) => w.name));
const lineOf = (text: string, marker: string): number => text.slice(0, text.indexOf(marker)).split("\n").length;

describe("value names and blocks from the text", () => {
  it("reads the values named above the cursor, in the body it is in", () => {
    expect(valuesBefore(upTo(PENGUINS, "concat b, p")).map((v) => v.name)).toEqual(["p", "b", "place", "body"]);
    expect(valuesBefore(upTo(PENGUINS, "concat b, p")).find((v) => v.name === "b")).toMatchObject({ text: "dense 16, relu", line: lineOf(PENGUINS, "b = dense") });
    // A block's body sees its own names only; after the block, none of them.
    expect(valuesBefore(upTo(RESIDUAL, "add x")).map((v) => v.name)).toEqual(["x"]);
    expect(valuesBefore(upTo(RESIDUAL, "input 2")).map((v) => v.name)).toEqual([]);
    // A repeat body sees its enclosing body's names.
    const nested = "model M {\n  input 2\n  h = dense 4\n  repeat 2 {\n    g = dense 4\n    add ";
    expect(valuesBefore(nested).map((v) => v.name)).toEqual(["g", "h"]);
  });

  it("reads the blocks a file declares, with their headers and comments", () => {
    expect(blocksIn(RESIDUAL)).toEqual([{ name: "residual", header: "block residual(width)", line: 2, doc: "A residual MLP: one block, used three times." }]);
    expect(blocksIn(PENGUINS)).toEqual([]);
  });
});

describe("completion in a graph", () => {
  it("offers the values named above after `add ` and `concat `, and before `->`", () => {
    const before = upTo(PENGUINS, "  p = dense 8, relu\n");
    expect(offered(`${before}  concat `)).toEqual([["p", "b", "place", "body"]]);
    expect(offered(`${before}  add `)).toEqual([["p", "b", "place", "body"]]);
    expect(offered(`${before}  h = add `)).toEqual([["p", "b", "place", "body"]]);
    expect(offered(`${before}  b, `)).toEqual([["p", "b", "place", "body"]]);
    // A statement's first word: layers, blocks, settings, and the values a `->` may take.
    const first = offersAt(`${before}  `);
    expect(first.map((o) => o.kind)).toEqual(["layer", "use", "setting", "value"]);
    expect(first[3]!.words.map((w) => w.name)).toContain("body");
    // After `->`: a layer or a block.
    expect(offersAt(`${before}  b -> `).map((o) => o.kind)).toEqual(["layer", "use"]);
    // After `name =`: the layer word, with its arguments after it.
    expect(offered(`${before}  h = dense 8, `)[0]).toContain("relu");
  });

  it("offers the declared blocks as a statement's first word, in the model and in a block", () => {
    const inModel = upTo(RESIDUAL, "  dense 16, relu\n");
    const names = offered(inModel, RESIDUAL);
    expect(names[1]).toEqual(["residual"]);
    expect(names[0]).toContain("dense");
    const inBlock = upTo(RESIDUAL, "  dense width\n");
    const kinds = offersAt(inBlock, RESIDUAL).map((o) => o.kind);
    expect(kinds).toEqual(["layer", "use", "setting", "value"]);
    expect(offersAt(inBlock, RESIDUAL)[2]!.words.map((w) => w.name).sort()).toEqual(["input", "repeat"]);
  });

  it("reads `=` after an argument name as `:`, and after a statement's first word as a value's name", () => {
    expect(offered("optimizer adam(lr = ")).toEqual(offered("optimizer adam(lr: "));
    expect(offered("optimizer sgd(momentum: 0.9, nesterov = ")[0]).toEqual(["true", "false"]);
    expect(offered("model M {\n  input 2\n  dense 4, activation = ")[0]).toContain("relu");
    expect(offered("model M {\n  input 2\n  dense 4, init = ")[0]).toContain("he");
    // `h = ` is not an argument `h`.
    expect(offersAt("model M {\n  input 2\n  h = ").map((o) => o.kind)).toContain("layer");
  });
});

describe("hover in a graph", () => {
  it("shows what made a value, and its shape once the worker has checked the same text", () => {
    const checked = checkSource(PENGUINS);
    const compiled = compileProgram(checked.value!, {});
    setGraphInfo(PENGUINS, buildDiagram(checked.value!, compiled.value!.graph, PENGUINS));
    const at = PENGUINS.indexOf("concat b, p") + "concat b, ".length;
    const lineEnd = PENGUINS.indexOf("\n", at);
    const text = hoverGraphName(PENGUINS.slice(0, at), PENGUINS.slice(0, lineEnd), "p", PENGUINS)!;
    expect(text).toContain("dense 8, relu");
    expect(text).toContain("dense_4");
    expect(text).toContain("[8]");
    // An input named before `->`.
    const src = PENGUINS.indexOf("place -> dense");
    const input = hoverGraphName(PENGUINS.slice(0, src), PENGUINS.slice(0, PENGUINS.indexOf("\n", src)), "place", PENGUINS)!;
    expect(input).toContain("input 5");
    expect(input).toContain("[5]");
    // Another text: no shapes.
    const edited = `${PENGUINS}\n`;
    expect(hoverGraphName(edited.slice(0, at), edited.slice(0, lineEnd), "p", edited)).not.toContain("[8]");
  });

  it("shows a block use's header, and leaves vocabulary words to the vocabulary", () => {
    const at = RESIDUAL.indexOf("r = residual") + "r = ".length;
    const through = RESIDUAL.slice(0, RESIDUAL.indexOf("\n", at));
    expect(hoverGraphName(RESIDUAL.slice(0, at), through, "residual", RESIDUAL)).toContain("block residual(width)");
    const dense = RESIDUAL.indexOf("dense 16, relu");
    expect(hoverGraphName(RESIDUAL.slice(0, dense), RESIDUAL.slice(0, RESIDUAL.indexOf("\n", dense)), "dense", RESIDUAL)).toBeUndefined();
  });
});

describe("highlighting", () => {
  it("colours `=` and `->` as operators", () => {
    const classes = tokenize("  b = a -> dense 4").tokens.map((t) => [t.image, tokenClass(t)]);
    expect(classes).toEqual([
      ["b", "identifier"],
      ["=", "operator"],
      ["a", "identifier"],
      ["->", "operator"],
      ["dense", "type"],
      ["4", "number"],
    ]);
  });
});
