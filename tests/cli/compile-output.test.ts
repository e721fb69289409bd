/**
 * `nnc compile FILE -o OUT` never overwrites its own source: OUT naming FILE (as written, through
 * `./`, or through a link) is refused before anything is written, and FILE keeps its bytes.
 */
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { nncInProcess as nnc } from "./in-process.js";

afterEach(() => vi.restoreAllMocks());

const SOURCE = "model M {\n  input 2\n  dense 1, sigmoid\n}\nloss binary_cross_entropy\n";

describe("compile -o", () => {
  it("refuses to write over the .nn source, by any path that names it", async () => {
    const d = mkdtempSync(join(tmpdir(), "nnc-compile-out-"));
    const src = join(d, "m.nn");
    writeFileSync(src, SOURCE);
    symlinkSync(src, join(d, "link.ts"));
    for (const out of [src, join(d, ".", "m.nn"), join(d, "link.ts")]) {
      const r = await nnc("compile", src, "-o", out);
      expect(r.code).not.toBe(0);
      expect(r.err).toContain("NN3013");
      expect(r.err).toContain("a file other than the .nn source");
      expect(readFileSync(src, "utf8")).toBe(SOURCE);
    }
  });

  it("still writes another file", async () => {
    const d = mkdtempSync(join(tmpdir(), "nnc-compile-out-"));
    const src = join(d, "m.nn");
    writeFileSync(src, SOURCE);
    const r = await nnc("compile", src, "-o", join(d, "m.ts"));
    expect(r.code).toBe(0);
    expect(readFileSync(join(d, "m.ts"), "utf8")).toContain("export function createModel");
  });
});
