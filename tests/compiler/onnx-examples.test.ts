/**
 * The ONNX target on every example: exported with seeded (and perturbed) weights, run in ONNX
 * Runtime, within ATOL + RTOL·|nnc| of nnc's own `predict` (float32) on random inputs.
 */
import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkSource } from "../../compiler/check.js";
import { parity } from "./onnx-parity.js";

const root = join(import.meta.dirname, "..", "..");
const examples = readdirSync(join(root, "examples"))
  .filter((f) => f.endsWith(".nn"))
  .sort()
  .map((f) => ({ name: basename(f, ".nn"), source: readFileSync(join(root, "examples", f), "utf8") }));

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
    });
  }
});
