/**
 * `nnc compile FILE --target onnx -o model.onnx [--weights W]`, run as a user runs it: the file
 * of a trained model gives in ONNX Runtime what the generated module gives with the same
 * weights (within 1e-5), carries the class names; without weights it warns (NN5040); bad
 * options and weights of another model are one diagnostic and a non-zero exit, never a trace.
 */
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import onnx from "onnx-proto";
import * as ort from "onnxruntime-web";
import { checkSource } from "../../compiler/check.js";
import { compileToModule } from "../../compiler/load.js";
import { nnc, ROOT } from "./run-cli.js";

ort.env.wasm.numThreads = 1;
const tmp = mkdtempSync(join(tmpdir(), "nnc-onnx-cli-"));
const iris = join(ROOT, "examples", "iris.nn");
const weights = join(tmp, "iris", "weights.json");

beforeAll(() => {
  const r = nnc(["train", iris, "--out", join(tmp, "iris"), "--epochs", "3", "--quiet"]);
  expect(r.code, r.stderr).toBe(0);
}, 120_000);

describe("nnc compile --target onnx", () => {
  it("writes the trained model, which ONNX Runtime runs as the module does, with its class names", async () => {
    const out = join(tmp, "iris.onnx");
    const r = nnc(["compile", iris, "--target", "onnx", "--weights", weights, "-o", out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/wrote .*iris\.onnx \(ONNX opset 17: \d+ nodes, 131 parameters\)/);
    const bytes = readFileSync(out);

    const w = JSON.parse(readFileSync(weights, "utf8")) as { params: number[]; preprocess: { classes: string[] } };
    const model = compileToModule(checkSource(readFileSync(iris, "utf8")).value!, { maxBatch: 5, kernels: "js" }).value!.createModel();
    model.params.set(w.params);
    const x = Float32Array.from({ length: 20 }, (_, i) => Math.sin(i * 1.7) * 2);
    const expected = model.predict(x, 5);
    const session = await ort.InferenceSession.create(bytes);
    const got = (await session.run({ input: new ort.Tensor("float32", x, [5, 4]) }))["output"]!.data as Float32Array;
    expect(got.length).toBe(15);
    for (let i = 0; i < 15; i++) expect(Math.abs(got[i]! - expected[i]!)).toBeLessThanOrEqual(1e-5 + 1e-5 * Math.abs(expected[i]!));
    await session.release();

    const decoded = onnx.onnx.ModelProto.decode(bytes);
    expect(JSON.parse(decoded.metadataProps.find((m) => m.key === "classes")!.value!)).toEqual(w.preprocess.classes.map(String));
  });

  it("without --weights, writes the initial weights and says so (NN5040)", () => {
    const out = join(tmp, "untrained.onnx");
    const r = nnc(["compile", iris, "--target", "onnx", "-o", out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("NN5040");
    expect(r.stderr).toMatch(/iris\.nn:\d+:\d+/);
    expect(existsSync(out)).toBe(true);
  });

  it("refuses a missing -o, an --emit, and --weights for another target, with NN3013 and no trace", () => {
    for (const args of [
      ["--target", "onnx"],
      ["--target", "onnx", "-o", join(tmp, "x.onnx"), "--emit", "ir"],
      ["--target", "ts", "--weights", weights],
    ]) {
      const r = nnc(["compile", iris, ...args]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain("NN3013");
      expect(r.stderr).not.toMatch(/\bat .*\.(ts|mjs|js):\d+/);
    }
    expect(existsSync(join(tmp, "x.onnx"))).toBe(false);
  });

  it("refuses the weights of another model (NN5004) and writes nothing", () => {
    const out = join(tmp, "xor.onnx");
    const r = nnc(["compile", join(ROOT, "examples", "xor.nn"), "--target", "onnx", "--weights", weights, "-o", out]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("NN5004");
    expect(existsSync(out)).toBe(false);
  });
});
