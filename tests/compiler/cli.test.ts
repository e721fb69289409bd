/** `nnc compile` and `nnc gradcheck` as a user runs them (the built CLI, as a child process). */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { nnc } from "../cli/run-cli.js";
import { loadModule } from "../../compiler/load.js";

describe("nnc compile / gradcheck", () => {
  it("gradcheck prints the worst relative error per tensor and exits 0", () => {
    const r = nnc(["gradcheck", "examples/xor.nn"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^tensor +max rel\. error +checked +skipped \(kink\)\n/);
    expect(r.stdout).toMatch(/\ndense_1\.weight +\d\.\d\de-\d+ +16 +0\n/);
    expect(r.stdout).toMatch(/\nok: worst relative error \d\.\d\de-\d+ \(tolerance 0\.000001\)\n$/);
  });

  it("--emit fused prints the golden fused IR; --target js -o writes a loadable module", () => {
    const fused = nnc(["compile", "examples/xor.nn", "--emit", "fused"]);
    expect(fused.code).toBe(0);
    expect(fused.stdout).toBe(readFileSync("tests/golden/compiler/xor.fused.txt", "utf8"));
    const out = join(mkdtempSync(join(tmpdir(), "nnc-compile-")), "xor.js");
    const js = nnc(["compile", "examples/xor.nn", "--target", "js", "--max-batch", "3", "-o", out]);
    expect(js.code).toBe(0);
    const m = loadModule(readFileSync(out, "utf8"));
    expect(m.meta.maxBatch).toBe(3);
    expect(m.createModel().predict(new Float32Array([0, 1]), 1)).toHaveLength(1);
  });

  it("rejects a bad option with a diagnostic", () => {
    const r = nnc(["compile", "examples/xor.nn", "--target", "wasm"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error NN3013: the compile option --target must be ts, js, onnx or pytorch, but is wasm");
  });
});
