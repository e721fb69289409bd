/**
 * The ONNX target on every example: exported with seeded (and perturbed) weights, run in ONNX
 * Runtime, within ATOL + RTOL·|nnc| of nnc's own `predict` (float32) on random inputs; and,
 * where Debian's python3-onnx is installed, every file passes `onnx.checker` with shape inference.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkSource } from "../../compiler/check.js";
import { parity } from "./onnx-parity.js";

const root = join(import.meta.dirname, "..", "..");
const examples = readdirSync(join(root, "examples"))
  .filter((f) => f.endsWith(".nn"))
  .sort()
  .map((f) => ({ name: basename(f, ".nn"), source: readFileSync(join(root, "examples", f), "utf8") }));

const dir = mkdtempSync(join(tmpdir(), "nnc-onnx-examples-"));
const written: string[] = [];

describe("ONNX parity on the examples", () => {
  it("covers every example", () => {
    expect(examples.length).toBeGreaterThanOrEqual(16);
  });
  for (const e of examples) {
    it(`${e.name}: ONNX Runtime's output equals nnc's predict`, async () => {
      const checked = checkSource(e.source);
      expect(checked.value, checked.diagnostics.map((d) => d.message).join("; ")).toBeDefined();
      const p = await parity(checked.value!);
      console.log(`onnx parity ${e.name}: max |Δ| ${p.maxAbs.toExponential(2)} over ${p.values} values, ${p.exported.graph.nodes.length} nodes, ${p.exported.bytes.length} bytes`);
      expect(p.outside).toBe(0);
      written.push(join(dir, `${e.name}.onnx`));
      writeFileSync(written[written.length - 1]!, p.exported.bytes);
    });
  }

  it("every file passes onnx.checker with shape inference, where python3-onnx is installed", (ctx) => {
    try {
      execFileSync("/usr/bin/python3", ["-c", "import onnx"], { stdio: "ignore" });
    } catch {
      console.log("skipped: python3-onnx is not installed (apt-get install python3-onnx)");
      ctx.skip();
      return;
    }
    expect(written.length).toBe(examples.length);
    const check = "import onnx, sys\nfor f in sys.argv[1:]:\n    onnx.checker.check_model(onnx.load(f), full_check=True)\nprint(len(sys.argv) - 1)";
    expect(execFileSync("/usr/bin/python3", ["-c", check, ...written], { encoding: "utf8" }).trim()).toBe(String(examples.length));
  });
});
