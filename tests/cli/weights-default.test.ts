/**
 * Commands that read trained weights find them where `nnc train FILE` wrote them
 * (`runs/<name>/weights.json`) when `--weights` is not given, say which file they use, and say
 * to train first when there is none (issue 20, item 4). `nnc predict` takes any number of rows
 * and writes every number in one format: the float32's shortest round-trip digits.
 */
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { float32Text } from "../../runtime/float-text.js";
import { nncInProcess } from "./in-process.js";

const ROOT = join(import.meta.dirname, "../..");
const DIR = mkdtempSync(join(tmpdir(), "nnc-weights-default-"));
const home = process.cwd();

/** Runs nnc in DIR, as a user in the folder of their .nn file. */
async function nnc(...args: string[]): ReturnType<typeof nncInProcess> {
  process.chdir(DIR);
  try {
    return await nncInProcess(...args);
  } finally {
    process.chdir(home);
  }
}

beforeAll(() => {
  mkdirSync(join(DIR, "data"));
  copyFileSync(join(ROOT, "examples/iris.nn"), join(DIR, "iris.nn"));
  copyFileSync(join(ROOT, "examples/data/iris.csv"), join(DIR, "data/iris.csv"));
});
afterAll(() => process.chdir(home));

describe("commands default to the weights nnc train writes", () => {
  it("before training: one NN4001 naming runs/iris/weights.json and saying to train first", async () => {
    for (const args of [["eval", "iris.nn"], ["predict", "iris.nn", "--input", "data/iris.csv"], ["export", "iris.nn", "-o", "app.js"], ["quantize", "iris.nn", "-o", "iris.q.js"]]) {
      const r = await nnc(...args);
      expect(r.code).toBe(1);
      expect(r.err).toContain("error NN4001");
      expect(r.err).toContain(join("runs", "iris", "weights.json"));
      expect(r.err).toContain("train first: `nnc train iris.nn`");
      expect(r.err).not.toMatch(/\n\s+at /); // no stack trace
    }
  });

  it("after nnc train: eval and predict read runs/iris/weights.json and say so", async () => {
    const t = await nnc("train", "iris.nn", "--epochs", "30", "--quiet");
    expect(t.code).toBe(0);
    const e = await nnc("eval", "iris.nn");
    expect(e.code).toBe(0);
    expect(e.err).toContain(`using weights ${join("runs", "iris", "weights.json")}`);
    expect(e.out).toMatch(/^test: 30 samples/);
    const acc = Number(/accuracy\s+([\d.]+)/.exec(e.out)![1]);
    expect(acc).toBeGreaterThan(0.8);
    // --weights still wins, and then nothing is announced.
    const given = await nnc("eval", "iris.nn", "--weights", join("runs", "iris", "weights.json"));
    expect(given.out).toBe(e.out);
    expect(given.err).not.toContain("using weights");
  });

  it("predict: 450 rows (many times the batch of 16), columns named by class, one number format", async () => {
    // Three copies of the 150 flowers, without their species.
    const rows = (await import("node:fs")).readFileSync(join(DIR, "data/iris.csv"), "utf8").trim().split("\n");
    const body = rows.slice(1).map((l) => l.split(",").slice(0, 4).join(","));
    writeFileSync(join(DIR, "many.csv"), [rows[0]!.split(",").slice(0, 4).join(","), ...body, ...body, ...body].join("\n") + "\n");
    const p = await nnc("predict", "iris.nn", "--input", "many.csv");
    expect(p.code).toBe(0);
    const lines = p.out.trim().split("\n");
    expect(lines[0]).toBe("prediction,p_setosa,p_versicolor,p_virginica");
    expect(lines.length).toBe(451);
    const j = await nnc("predict", "iris.nn", "--input", "many.csv", "--format", "json");
    const json = JSON.parse(j.out) as { prediction: string; scores: number[] }[];
    expect(json.length).toBe(450);
    lines.slice(1).forEach((line, i) => {
      const [pred, ...cells] = line.split(",");
      expect(pred).toBe(json[i]!.prediction);
      cells.forEach((c, k) => {
        // Canonical (written as float32Text writes it), at most 9 significant digits, and the same float32 as JSON's.
        expect(c).toBe(float32Text(Number(c)));
        expect(c.replace(/^-?0\.0*|[.-]|e.*$/g, "").length).toBeLessThanOrEqual(9);
        expect(Math.fround(Number(c))).toBe(Math.fround(json[i]!.scores[k]!));
      });
    });
    // The same flower gives the same row in each copy (chunks of the batch do not change a prediction).
    expect(lines[1]).toBe(lines[151]);
    expect(lines[150]).toBe(lines[450]);
  });
});

describe("float32Text", () => {
  it("the shortest digits that read back as the same float32, in one notation rule", () => {
    expect(float32Text(256.91278076171875)).toBe("256.91278");
    expect(float32Text(Math.fround(4.11109e-9))).toBe("4.11109e-9");
    expect(float32Text(Math.fround(1.80241e-6))).toBe("1.80241e-6");
    expect(float32Text(Math.fround(0.1))).toBe("0.1");
    expect(float32Text(Math.fround(0.0001))).toBe("0.0001");
    expect(float32Text(Math.fround(-0.00009))).toBe("-9e-5");
    expect(float32Text(Math.fround(3e20))).toBe("3e+20");
    expect(float32Text(1)).toBe("1");
    expect(float32Text(-0)).toBe("0");
  });

  it("round-trips every float32 and no shorter digits would (random bit patterns)", () => {
    const bits = new Uint32Array(1);
    const f = new Float32Array(bits.buffer);
    let s = 12345;
    for (let i = 0; i < 20000; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      bits[0] = s;
      const x = f[0]!;
      if (!Number.isFinite(x)) continue;
      const t = float32Text(x);
      expect(Math.fround(Number(t))).toBe(x);
      // Significant digits as written: the mantissa without sign, point, leading or (positional) trailing zeros.
      const mantissa = t.replace(/e.*$/, "").replace(/^-/, "").replace(".", "").replace(/^0+/, "");
      const digits = (t.includes("e") || t.includes(".") ? mantissa : mantissa.replace(/0+$/, "")).length;
      if (digits > 1) expect(Math.fround(Number(x.toPrecision(digits - 1)))).not.toBe(x);
    }
  });
});
