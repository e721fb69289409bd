/**
 * Architecture invariants on the project's own imports:
 *
 * - **Layering.** Relative imports between top-level folders go only the way `MAY_IMPORT`
 *   allows: the core (`grammar/` ← `compiler/` ← `runtime/` ← `runtime/node/`) never reaches
 *   up, and nothing but the tests, the benchmark and the scripts imports `cli/`, `bench/`,
 *   `tests/` or `scripts/`.
 * - **No import cycles** among the modules of `grammar/`, `compiler/` and `runtime/`.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fromRoot, importsOf, resolveRelative, root, sourceFiles } from "./imports.js";

/** A top-level folder, with `runtime/` split into its browser half and its Node half. */
type Layer = "grammar" | "compiler" | "runtime" | "runtime/node" | "cli" | "playground" | "bench" | "scripts" | "tests";

/** Which other layers each layer may import (relatively); a layer may always import itself. */
const MAY_IMPORT: Readonly<Record<Layer, readonly Layer[]>> = {
  grammar: [],
  compiler: ["grammar"],
  // The browser half: data, sessions and the training loop over compiled models.
  runtime: ["grammar", "compiler"],
  "runtime/node": ["grammar", "compiler", "runtime"],
  cli: ["grammar", "compiler", "runtime", "runtime/node"],
  // The web app runs the browser-safe layers in Web Workers.
  playground: ["grammar", "compiler", "runtime"],
  bench: ["grammar", "compiler", "runtime", "runtime/node", "cli", "scripts", "tests"],
  scripts: ["grammar", "compiler", "runtime", "runtime/node", "cli", "bench", "tests"],
  tests: ["grammar", "compiler", "runtime", "runtime/node", "cli", "playground", "bench", "scripts"],
};

const LAYERS = Object.keys(MAY_IMPORT) as Layer[];

/** The layer of a path from the root (`runtime/node/…` before `runtime/…`), or its first folder. */
function layerOf(path: string): string {
  if (path.startsWith("runtime/node/")) return "runtime/node";
  const slash = path.indexOf("/");
  return slash < 0 ? "(root)" : path.slice(0, slash);
}

/** A layer's files: `runtime` does not include `runtime/node`. */
function filesOf(layer: Layer): string[] {
  return sourceFiles(join(root, layer), (p) => layer === "runtime" && fromRoot(p) === "runtime/node");
}

describe("layering", () => {
  it("every top-level source folder is in the table", () => {
    for (const layer of LAYERS) expect(filesOf(layer).length, layer).toBeGreaterThan(0);
  });

  it.each(LAYERS.map((l) => [l, MAY_IMPORT[l].length > 0 ? MAY_IMPORT[l].join(", ") : "nothing else"]))("%s/ imports %s", (layer) => {
    const allowed = new Set<string>([layer, ...MAY_IMPORT[layer as Layer]]);
    const bad: string[] = [];
    for (const file of filesOf(layer as Layer)) {
      for (const { spec } of importsOf(file)) {
        const target = resolveRelative(file, spec);
        if (target !== undefined && !allowed.has(layerOf(target))) bad.push(`${fromRoot(file)} → ${spec} (${layerOf(target)})`);
      }
    }
    expect(bad).toEqual([]);
  });
});

/**
 * The module graph of `grammar/`, `compiler/` and `runtime/` (with `runtime/node/`): an edge for
 * every relative `import … from`, `export … from` and bare `import "…"`.
 *
 * `import type` and `export type` are left out: they are erased from the JavaScript
 * (`verbatimModuleSyntax` guarantees it), so they cannot make one module run before another
 * has finished initializing — the failure a cycle causes (a `const` or class read in its
 * temporal dead zone, an `undefined` from a half-evaluated module, an order that depends on
 * which file was imported first). A type named in both directions (a shared interface) is
 * ordinary, and the layering test above already keeps the folders pointing one way. Dynamic
 * `import()` is left out for the same reason: it runs after the importer is evaluated.
 */
function moduleGraph(): Map<string, string[]> {
  const files = ["grammar", "compiler", "runtime"].flatMap((d) => sourceFiles(join(root, d)));
  const modules = new Set(files.map(fromRoot));
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const out = new Set<string>();
    for (const { spec, kind } of importsOf(file)) {
      const target = kind === "static" ? resolveRelative(file, spec) : undefined;
      if (target !== undefined && modules.has(target)) out.add(target);
    }
    graph.set(fromRoot(file), [...out].sort());
  }
  return graph;
}

/** The strongly connected components with a cycle (Tarjan), each as its modules in sorted order. */
function cyclicComponents(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return found;
}

/** A shortest cycle through `start` inside its component, as the chain [a, b, …, a]. */
function cycleThrough(graph: ReadonlyMap<string, readonly string[]>, component: readonly string[], start: string): string[] {
  const inside = new Set(component);
  const from = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const v = queue[i]!;
    for (const w of graph.get(v) ?? []) {
      if (!inside.has(w)) continue;
      if (w === start) {
        const chain = [v];
        while (chain[0] !== start) chain.unshift(from.get(chain[0]!)!);
        return [...chain, start];
      }
      if (!from.has(w)) {
        from.set(w, v);
        queue.push(w);
      }
    }
  }
  throw new Error(`bug: no cycle through ${start}`);
}

describe("import cycles", () => {
  const graph = moduleGraph();

  it("the graph holds the core's modules and their imports", () => {
    expect(graph.size).toBeGreaterThan(50);
    expect([...graph.values()].flat().length).toBeGreaterThan(100);
  });

  it("grammar/, compiler/ and runtime/ import each other without a cycle", () => {
    // One chain per tangle (strongly connected component); more modules caught in it are listed after.
    const cycles = cyclicComponents(graph).map((component) => {
      const chain = cycleThrough(graph, component, component[0]!);
      const rest = component.filter((m) => !chain.includes(m));
      const text = chain.join(" → ");
      return rest.length > 0 ? `${text} (the tangle also holds ${rest.join(", ")})` : text;
    });
    expect(cycles).toEqual([]);
  });
});
