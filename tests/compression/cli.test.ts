/**
 * `nnc quantize` as a user runs it: a trained digits CNN becomes an int8 module that prints
 * its sizes, accuracy and speed before and after and names its int8 and float layers; bad
 * options are one diagnostic each (NN5050, NN5051) with the file and a hint, exit code 2.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nncInProcess } from "../cli/in-process.js";
import { ROOT } from "../runtime/helpers.js";
import { loadQuantized } from "../../compiler/quantize/load.js";

const tmp = mkdtempSync(join(tmpdir(), "nnc-quantize-"));
const file = join(ROOT, "examples", "digits-cnn.nn");
const out = join(tmp, "run");
beforeAll(async () => {
  const trained = await nncInProcess("train", file, "--out", out, "--quiet");
  if (trained.code !== 0) throw new Error(trained.err);
}, 120_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("nnc quantize", () => {
  it("writes an int8 module and prints size, accuracy and speed before and after", async () => {
    const module = join(tmp, "digits.q.js");
    const r = await nncInProcess("quantize", file, "--weights", join(out, "weights.json"), "--calibrate", "200", "--calibration", "percentile", "-o", module);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain("int8 products (WebAssembly SIMD): conv2d_1, dense_1");
    expect(r.out).toContain("float steps:                      maxpool2d_1, dense_1 (softmax)");
    expect(r.out).toMatch(/calibrated by percentile on 200 training samples/);
    const [before, after] = [...r.out.matchAll(/(?:float32|int8): +(0\.\d+)/g)].map((m) => Number(m[1]));
    expect(before).toBeGreaterThan(0.9);
    expect(Math.abs(after! - before!)).toBeLessThan(0.02);
    expect(r.out).toMatch(/int8: +[\d.]+ samples\/s|int8: +\d+ samples\/s/);
    const times = Number(/: ([\d.]+)× smaller than float32 values/.exec(r.out)?.[1]);
    expect(times).toBeGreaterThan(3.5);
    // The module written is the one measured: it loads and predicts 10 classes that sum to 1.
    const m = loadQuantized(readFileSync(module, "utf8")).createModel();
    const p = m.predict(new Float32Array(64).fill(0.5), 1);
    expect(p.length).toBe(10);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
  }, 120_000);

  it("refuses a bad --calibrate with NN5050 and a hint", async () => {
    for (const bad of ["abc", "0", "-3", "1.5"]) {
      const r = await nncInProcess("quantize", file, "--weights", join(tmp, "none.json"), "--calibrate", bad, "-o", join(tmp, "x.js"));
      expect(r.code).toBe(2);
      expect(r.err).toContain("NN5050");
      expect(r.err).toContain(`\`${bad}\``);
      expect(r.err).toContain("digits-cnn.nn");
      expect(r.err).toContain("hint: e.g. --calibrate 1000");
      expect(r.err).not.toMatch(/at .*\.ts:\d+/);
    }
  });

  it("refuses more calibration samples than the training split holds, and an unknown --calibration", async () => {
    const weights = join(out, "weights.json");
    const many = await nncInProcess("quantize", file, "--weights", weights, "--calibrate", "999999", "-o", join(tmp, "x.js"));
    expect(many.code).toBe(2);
    expect(many.err).toMatch(/NN5050.*from 1 to 1438/);
    const how = await nncInProcess("quantize", file, "--weights", weights, "--calibration", "kl", "-o", join(tmp, "x.js"));
    expect(how.code).toBe(2);
    expect(how.err).toContain("NN5051");
  });
});
