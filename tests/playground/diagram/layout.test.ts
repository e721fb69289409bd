/**
 * The network diagram's data (`playground/src/diagram/build.ts`, from a checked and compiled
 * program) and its layout (`layout.ts`, pure): a chain stays one row of columns, branches stand
 * side by side, a block use is framed and folds into one box.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { checkSource } from "../../../compiler/check.js";
import { compileProgram } from "../../../compiler/compile.js";
import { buildDiagram } from "../../../playground/src/diagram/build.js";
import { COL_W, layoutDiagram, ROW_H } from "../../../playground/src/diagram/layout.js";
import type { Diagram, DiagramNode } from "../../../playground/src/protocol.js";
import { RESIDUAL } from "../residual.js";

function diagramOf(source: string): Diagram {
  const checked = checkSource(source);
  expect(checked.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  const compiled = compileProgram(checked.value!, {});
  expect(compiled.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return buildDiagram(checked.value!, compiled.value!.graph, source);
}

const example = (name: string): string => readFileSync(new URL(`../../../examples/${name}.nn`, import.meta.url), "utf8");

/** A hand-made diagram: `inputs` per value (values with none are inputs), `groups` per value. */
function handMade(inputs: number[][], groups: string[][] = []): Diagram {
  const nodes: DiagramNode[] = inputs.map((ins, id) => ({
    id,
    label: `v${id}`,
    name: [...(groups[id] ?? []).slice(-1), `layer_${id}`].join("."),
    kind: ins.length === 0 ? "input" : ins.length > 1 ? "add" : "dense",
    color: "#000",
    connects: "all",
    merge: ins.length > 1,
    inputs: ins,
    shape: [4],
    params: ins.length === 1 ? 20 : 0,
    line: id + 1,
    groups: groups[id] ?? [],
  }));
  const keys = [...new Set(groups.flat())];
  return {
    nodes,
    groups: keys.map((key) => ({ key, block: "b", label: `${key}: b`, parent: key.includes(".") ? key.slice(0, key.lastIndexOf(".")) : undefined, line: 1, params: 0 })),
    output: nodes.length - 1,
  };
}

describe("diagram data from a program", () => {
  it("gives every input a node, every layer its values, shapes and parameters", () => {
    const d = diagramOf(example("penguins"));
    expect(d.nodes.map((n) => n.name)).toEqual(["body", "place", "dense_1", "dense_2", "dense_3", "dense_4", "concat_1", "dense_5"]);
    expect(d.nodes.map((n) => n.inputs)).toEqual([[], [], [0], [2], [1], [4], [3, 5], [6]]);
    expect(d.nodes.map((n) => n.shape)).toEqual([[4], [5], [16], [16], [8], [8], [24], [3]]);
    expect(d.nodes.map((n) => n.params)).toEqual([0, 0, 80, 272, 48, 72, 0, 75]);
    expect(d.nodes.filter((n) => n.merge).map((n) => n.kind)).toEqual(["concat"]);
    expect(d.groups).toEqual([]);
    expect(d.output).toBe(7);
  });

  it("tells the uses of one block apart: a group per use, its layers' shapes and parameters", () => {
    const d = diagramOf(RESIDUAL);
    expect(d.groups.map((g) => [g.key, g.label, g.block, g.params])).toEqual([
      ["residual_1", "residual_1: residual 16", "residual", 544],
      ["residual_2", "residual_2: residual 16", "residual", 544],
      ["r", "r: residual 16", "residual", 544],
    ]);
    expect(d.nodes.filter((n) => n.groups.includes("residual_2")).map((n) => n.name)).toEqual(["residual_2.dense_1", "residual_2.dense_2", "residual_2.add_1"]);
    expect(d.nodes.map((n) => n.shape)).toEqual([[2], ...Array.from({ length: 10 }, () => [16]), [3]]);
    // Three uses of the same lines, each with its own parameters.
    expect(d.nodes.filter((n) => n.name.endsWith(".dense_1")).map((n) => n.params)).toEqual([272, 272, 272]);
  });
});

describe("layoutDiagram", () => {
  it("keeps a plain chain one row of columns, as a chain was always drawn", () => {
    const l = layoutDiagram(diagramOf(example("spiral")));
    expect(l.chain).toBe(true);
    expect(l.frames).toEqual([]);
    expect(l.boxes.map((b) => [b.rank, b.row, b.x, b.top])).toEqual([0, 1, 2, 3].map((r) => [r, 0, COL_W * r + COL_W / 2, 0]));
    expect(l.edges.every((e) => e.straight)).toBe(true);
    expect([l.width, l.height, l.dotsTop]).toEqual([Math.max(4 * COL_W, 300), ROW_H, 16]);
  });

  it("ranks by the longest path from the inputs and puts branches side by side", () => {
    const l = layoutDiagram(diagramOf(example("penguins")));
    expect(l.chain).toBe(false);
    const at = Object.fromEntries(l.boxes.map((b) => [b.key, [b.rank, b.row]]));
    expect(at).toEqual({ v0: [0, 0], v1: [0, 1], v2: [1, 0], v3: [2, 0], v4: [1, 1], v5: [2, 1], v6: [3, 0.5], v7: [4, 0.5] });
    expect(l.edges.map((e) => `${e.from}>${e.to}${e.straight ? "" : "~"}`)).toEqual(["v0>v2", "v2>v3", "v1>v4", "v4>v5", "v3>v6~", "v5>v6~", "v6>v7"]);
  });

  it("draws a skip over the columns it skips, and a frame around each block use", () => {
    const d = diagramOf(RESIDUAL);
    const l = layoutDiagram(d);
    expect(l.boxes).toHaveLength(12);
    expect(l.boxes.every((b) => b.row === 0)).toBe(true);
    expect(l.boxes.map((b) => b.rank)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(l.edges).toHaveLength(14);
    expect(l.edges.filter((e) => !e.straight).map((e) => `${e.from}>${e.to}`)).toEqual(["v1>v4", "v4>v7", "v7>v10"]);
    expect(l.frames.map((f) => f.group.key)).toEqual(["residual_1", "residual_2", "r"]);
    // Each frame holds its use's three columns and no other.
    for (const [i, f] of l.frames.entries()) {
      const inside = l.boxes.filter((b) => b.x > f.x0 && b.x < f.x1).map((b) => b.key);
      expect(inside).toEqual([2, 3, 4].map((k) => `v${k + 3 * i}`));
    }
    // Room for the headers above the dots.
    expect(l.dotsTop).toBeGreaterThan(16);
  });

  it("folds a block use into one box, with the edges into and out of its layers", () => {
    const l = layoutDiagram(diagramOf(RESIDUAL), new Set(["residual_2"]));
    expect(l.boxes).toHaveLength(10);
    const box = l.boxes.find((b) => b.key === "g:residual_2")!;
    expect(box.type).toBe("group");
    if (box.type === "group") {
      expect(box.members.map((m) => m.id)).toEqual([5, 6, 7]);
      expect(box.output.id).toBe(7);
    }
    expect(l.edges.filter((e) => e.to === "g:residual_2").map((e) => e.from)).toEqual(["v4"]);
    expect(l.edges.filter((e) => e.from === "g:residual_2").map((e) => e.to)).toEqual(["v8", "v10"]);
    expect(l.frames.map((f) => f.group.key)).toEqual(["residual_1", "r"]);
    expect(l.boxes.map((b) => b.rank)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("nests frames, and folds an outer use with everything inside it", () => {
    // input → [outer: dense → [outer.inner: dense → add] → dense] → dense
    const d = handMade([[], [0], [1], [2], [3, 1], [4], [5]], [[], ["outer"], ["outer", "outer.inner"], ["outer", "outer.inner"], ["outer", "outer.inner"], ["outer"], []]);
    const open = layoutDiagram(d);
    expect(open.frames.map((f) => [f.group.key, f.depth])).toEqual([
      ["outer", 0],
      ["outer.inner", 1],
    ]);
    const [outer, inner] = open.frames;
    expect(inner!.x0).toBeGreaterThan(outer!.x0);
    expect(inner!.y0).toBeGreaterThan(outer!.y0);
    const innerFolded = layoutDiagram(d, new Set(["outer.inner"]));
    expect(innerFolded.boxes.map((b) => b.key)).toEqual(["v0", "v1", "g:outer.inner", "v5", "v6"]);
    expect(innerFolded.frames.map((f) => f.group.key)).toEqual(["outer"]);
    const both = layoutDiagram(d, new Set(["outer", "outer.inner"]));
    expect(both.boxes.map((b) => b.key)).toEqual(["v0", "g:outer", "v6"]);
    expect(both.edges.map((e) => `${e.from}>${e.to}`)).toEqual(["v0>g:outer", "g:outer>v6"]);
    expect(both.frames).toEqual([]);
  });
});
