/**
 * What the architecture tests read from the source tree: the source files under a folder and
 * the imports of a file, found with regular expressions over its text (enough for this
 * project's one-import-per-statement style; no TypeScript program needed).
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";

/** The repository's root. */
export const root = join(import.meta.dirname, "../..");

const SOURCE = /\.(ts|mts|js|mjs)$/;

/** Source files under `dir` (recursively; none if it does not exist), skipping `node_modules` and `dist`. */
export function sourceFiles(dir: string, skip: (path: string) => boolean = () => false): string[] {
  const out: string[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const e of entries.sort()) {
    const p = join(dir, e);
    if (e === "node_modules" || e === "dist" || skip(p)) continue;
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p, skip));
    else if (SOURCE.test(p)) out.push(p);
  }
  return out;
}

export interface Import {
  /** The module specifier as written. */
  readonly spec: string;
  /**
   * "static": `import … from`, `export … from` and the bare `import "…"`; "type": `import type`
   * and `export type … from` (erased from the JavaScript: with `verbatimModuleSyntax`, an
   * `import { type A }` still loads its module, so it counts as static); "dynamic": `import("…")`
   * and `require("…")`, which run after the importing module has been evaluated.
   */
  readonly kind: "static" | "type" | "dynamic";
}

// The clause between `import`/`export` and `from`: an optional default name, then a name,
// `{ … }` (possibly over several lines) or `* as name`. Anchored at a line start, so lines of
// doc comments (` * import …`) do not count.
const FROM = /^[ \t]*(import|export)\s+(type\s+)?(?:[\w$]+\s*,\s*)?(?:[\w$]+|\{[^}]*\}|\*(?:\s+as\s+[\w$]+)?)\s*from\s*["']([^"']+)["']/gm;
const BARE = /^[ \t]*import\s*["']([^"']+)["']/gm;
const DYNAMIC = /\b(?:import|require)\s*\(\s*["']([^"']+)["']\s*\)/g;

/** Every import of a file, in the order: static and type (in file order), bare, dynamic. */
export function importsOf(file: string): Import[] {
  const text = readFileSync(file, "utf8");
  const found: Import[] = [];
  for (const m of text.matchAll(FROM)) found.push({ spec: m[3] ?? "", kind: m[2] === undefined ? "static" : "type" });
  for (const m of text.matchAll(BARE)) found.push({ spec: m[1] ?? "", kind: "static" });
  for (const m of text.matchAll(DYNAMIC)) found.push({ spec: m[1] ?? "", kind: "dynamic" });
  return found;
}

/** The module specifiers a file imports, of every kind. */
export function imports(file: string): string[] {
  return importsOf(file).map((i) => i.spec);
}

/**
 * The file a relative specifier of `file` names, as a path from the root with `/` separators
 * (`./x.js` is the source `./x.ts` when that exists); undefined for a package or `node:` name.
 */
export function resolveRelative(file: string, spec: string): string | undefined {
  if (!spec.startsWith(".")) return undefined;
  let target = join(file, "..", spec);
  if (/\.m?js$/.test(target)) {
    const ts = target.replace(/\.js$/, ".ts").replace(/\.mjs$/, ".mts");
    if (!existsSync(target) || existsSync(ts)) target = ts;
  }
  return fromRoot(target);
}

/** A path from the root with `/` separators. */
export function fromRoot(path: string): string {
  return relative(root, path).split(sep).join("/");
}
