/**
 * `nnc compile --max-batch N` reads N as every whole-number option is read (`intOption`): a text
 * that is not a whole number in 1..MAX_BATCH_LIMIT is refused with the option's name and the
 * text as given, exit 2, and nothing printed on stdout; a good N is the module's batch limit.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { MAX_BATCH_LIMIT } from "../../compiler/compile.js";
import { nncInProcess as nnc } from "./in-process.js";

afterEach(() => vi.restoreAllMocks());

const SOURCE = "model M {\n  input 2\n  dense 1, sigmoid\n}\nloss binary_cross_entropy\n";

function source(): string {
  const d = mkdtempSync(join(tmpdir(), "nnc-compile-options-"));
  const src = join(d, "m.nn");
  writeFileSync(src, SOURCE);
  return src;
}

describe("compile --max-batch", () => {
  it.each(["abc", "2.5", "0", "", `${MAX_BATCH_LIMIT + 1}`])("refuses %j as other whole-number options are refused", async (value) => {
    const r = await nnc("compile", source(), "--max-batch", value);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`nnc: --max-batch must be a whole number in 1..${MAX_BATCH_LIMIT}, but is \`${value}\``);
    expect(r.err).not.toContain("NaN");
    expect(r.out).toBe("");
  });

  it("takes a whole number as the module's largest batch", async () => {
    const r = await nnc("compile", source(), "--max-batch", "7");
    expect(r.code).toBe(0);
    expect(r.out).toContain("maxBatch: 7,");
    expect(r.out).toContain("is not a whole number in 1..7");
  });
});
