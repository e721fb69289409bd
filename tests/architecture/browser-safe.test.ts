/**
 * Architecture invariant: `grammar/` and `compiler/` (and the browser half of `runtime/`) import
 * nothing from Node, because the playground runs them in a Web Worker.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../..");
const NODE = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

function tsFiles(dir: string, skip: (path: string) => boolean = () => false): string[] {
  const out: string[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = join(dir, e);
    if (skip(p)) continue;
    if (statSync(p).isDirectory()) out.push(...tsFiles(p, skip));
    else if (p.endsWith(".ts")) out.push(p);
  }
  return out;
}

function imports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const found: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s*["']([^"']+)["']/g)) found.push(m[1] ?? "");
  for (const m of text.matchAll(/\bimport\s*\(\s*["']([^"']+)["']\s*\)/g)) found.push(m[1] ?? "");
  for (const m of text.matchAll(/\brequire\s*\(\s*["']([^"']+)["']\s*\)/g)) found.push(m[1] ?? "");
  return found;
}

const browserSafe = [
  ...tsFiles(join(root, "grammar")),
  ...tsFiles(join(root, "compiler")),
  ...tsFiles(join(root, "runtime"), (p) => p.includes(`${join("runtime", "node")}`)),
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
