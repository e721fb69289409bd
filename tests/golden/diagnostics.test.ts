/**
 * Golden diagnostics: each broken file in `golden/diagnostics/` has its exact rendered
 * diagnostics checked in beside it (`*.errors.txt`); `expect-golden.ts` has the policy.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkSource } from "../../compiler/check.js";
import { renderDiagnostics } from "../../cli/render.js";
import { expectGolden } from "./expect-golden.js";

const dir = join(import.meta.dirname, "diagnostics");
const files = readdirSync(dir).filter((f) => f.endsWith(".nn")).sort();

describe("golden diagnostics", () => {
  it("has a corpus", () => {
    expect(files.length).toBeGreaterThanOrEqual(20);
  });
  for (const f of files) {
    it(f, () => {
      const source = readFileSync(join(dir, f), "utf8");
      const r = checkSource(source);
      const ds = r.diagnostics.map((d) => ({ ...d, file: f }));
      expect(ds.length).toBeGreaterThan(0);
      // errors leave no program; warnings alone leave one
      expect(r.value === undefined).toBe(ds.some((d) => d.severity === "error"));
      const text = renderDiagnostics(ds, source, { color: false });
      expectGolden(join(dir, f.replace(/\.nn$/, ".errors.txt")), text);
    });
  }
});
