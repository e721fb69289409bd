/**
 * Architecture invariant: `grammar/` and `compiler/` (and the browser half of `runtime/`) import
 * nothing from Node, because the playground runs them in a Web Worker.
 */
import { readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { imports, root, sourceFiles } from "./imports.js";

const NODE = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

const browserSafe = [
  ...sourceFiles(join(root, "grammar")),
  ...sourceFiles(join(root, "compiler")),
  ...sourceFiles(join(root, "runtime"), (p) => p.includes(`${join("runtime", "node")}`)),
];

describe("browser-safe modules", () => {
  it("exist", () => {
    expect(browserSafe.length).toBeGreaterThan(5);
  });
  it.each(browserSafe.map((f) => [relative(root, f), f]))("%s imports nothing from Node", (_, file) => {
    const bad = imports(file).filter((spec) => NODE.has(spec) || spec.startsWith("node:"));
    expect(bad).toEqual([]);
    const code = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
    expect(code).not.toMatch(/\bprocess\.(env|argv|exit|stdout|stderr)\b/);
  });
  it.each(browserSafe.map((f) => [relative(root, f), f]))("%s imports only browser-safe project code", (_, file) => {
    const rel = imports(file).filter((s) => s.startsWith("."));
    for (const spec of rel) {
      const target = relative(root, join(file, "..", spec));
      expect(target).not.toMatch(/^(cli|bench|scripts|tests)\//);
      expect(target).not.toMatch(/^runtime\/node\//);
    }
  });
});
