/**
 * Golden diagnostics: each broken file in `golden/diagnostics/` has its exact rendered
 * diagnostics checked in beside it (`*.errors.txt`): the checker's, then (when it leaves a
 * program) the compile stage's; `expect-golden.ts` has the policy.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkSource } from "../../compiler/check.js";
import { compileProgram } from "../../compiler/compile.js";
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
      // errors leave no program; warnings alone leave one
      expect(r.value === undefined).toBe(r.diagnostics.some((d) => d.severity === "error"));
      // A checked program goes on to the compile stage, whose shape checks (NN3xxx) come next.
      const compiled = r.value === undefined ? [] : compileProgram(r.value, {}).diagnostics;
      const ds = [...r.diagnostics, ...compiled].map((d) => ({ ...d, file: f }));
      expect(ds.length).toBeGreaterThan(0);
      const text = renderDiagnostics(ds, source, { color: false });
      expectGolden(join(dir, f.replace(/\.nn$/, ".errors.txt")), text);
    });
  }
});
