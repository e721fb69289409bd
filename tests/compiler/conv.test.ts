/**
 * The convolutional family (issue 8): conv2d, maxpool2d, avgpool2d compiled like the dense
 * layers. Gradients against central finite differences in float64 (fixed and random
 * configurations), forward values against a plain reference implementation, the shape
 * diagnostics with their spans, and the example's generated TypeScript under `tsc --strict`.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { typeCheckModules } from "../fuzz/typecheck.js";
import { checkSource } from "../../compiler/check.js";
import { compileProgram } from "../../compiler/compile.js";
import { loadModule } from "../../compiler/load.js";
import type { CompiledModel } from "../../compiler/model-api.js";
import type { Diagnostic } from "../../grammar/diagnostics.js";
import { hasErrors } from "../../grammar/diagnostics.js";
import { gradcheck } from "../../cli/commands/gradcheck.js";
import { axis } from "../../compiler/ops/conv_geometry.js";

const TOLERANCE = 1e-6;

function program(src: string) {
  const checked = checkSource(src);
  expect(checked.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return checked.value!;
}

/** Compiles `src` (float64, JS); returns the module or the diagnostics. */
function compile(src: string, maxBatch = 4): { model?: CompiledModel; diagnostics: readonly Diagnostic[] } {
  const out = compileProgram(program(src), { target: "js", dtype: "float64", maxBatch });
  if (out.value === undefined) return { diagnostics: out.diagnostics };
  return { model: loadModule(out.value.code).createModel(), diagnostics: out.diagnostics };
}

function worstGradError(src: string, seed = 1): number {
  const out = compileProgram(program(src), { target: "js", dtype: "float64", maxBatch: 3 });
  expect(out.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  const result = gradcheck(loadModule(out.value!.code), { batch: 3, perTensor: 40, seed });
  for (const t of result.tensors) expect(t.checked, `${t.name}: every entry skipped`).toBeGreaterThan(0);
  return result.worst;
}

const model = (input: string, layers: string, loss = "cross_entropy", head = "flatten\n  dense 3, softmax"): string =>
  `model T {\n  seed 7\n  input ${input}\n  ${layers}\n  ${head}\n}\nloss ${loss}\noptimizer sgd(lr: 0.1)\ntrain { batch 4 }\n`;

describe("gradients match central finite differences (float64)", () => {
  const cases: [string, string, string][] = [
    ["conv2d valid, one channel", "[6, 5]", "conv2d 2, 3, tanh"],
    ["conv2d same, several channels", "[5, 4, 3]", "conv2d 3, 3, sigmoid, padding: same"],
    ["conv2d stride 2, same, rectangular kernel", "[7, 6, 2]", "conv2d 2, [3, 2], elu, stride: 2, padding: same"],
    ["conv2d 1×1 kernel (no im2col)", "[4, 4, 3]", "conv2d 2, 1, tanh"],
    ["conv2d without bias, gelu (separate activation)", "[5, 5]", "conv2d 2, 2, gelu, bias: false"],
    ["conv2d relu + maxpool + conv2d", "[6, 6, 2]", "conv2d 3, 3, relu, padding: same\n  maxpool2d 2\n  conv2d 2, 2, leaky_relu"],
    ["maxpool2d same, stride 2 on odd sizes", "[5, 7, 2]", "conv2d 2, 2, tanh\n  maxpool2d 2, padding: same"],
    ["maxpool2d overlapping windows", "[5, 5, 2]", "conv2d 2, 1, linear\n  maxpool2d 3, stride: 1"],
    ["avgpool2d valid", "[6, 4, 2]", "conv2d 2, 3, tanh, padding: same\n  avgpool2d 2"],
    ["avgpool2d same, overlapping", "[5, 5, 2]", "conv2d 2, 2, sigmoid\n  avgpool2d 3, stride: 2, padding: same"],
  ];
  for (const [name, input, layers] of cases) {
    it(name, () => {
      expect(worstGradError(model(input, layers))).toBeLessThan(TOLERANCE);
    });
  }

  it("batchnorm on an image, between conv and pool", () => {
    expect(worstGradError(model("[5, 5, 2]", "conv2d 3, 3, linear, padding: same\n  batchnorm\n  activation tanh\n  maxpool2d 2, padding: same"))).toBeLessThan(TOLERANCE);
  });

  it("batchnorm on a flat value, after dense (and on the input itself)", () => {
    expect(worstGradError(model("[6]", "dense 4, linear\n  batchnorm momentum: 0.9\n  activation sigmoid", "cross_entropy", "dense 3, softmax"))).toBeLessThan(TOLERANCE);
    expect(worstGradError(model("[4, 4]", "batchnorm\n  conv2d 2, 3, tanh"))).toBeLessThan(TOLERANCE);
  });

  it("through a regression head (mse) and a flat conv output", () => {
    expect(worstGradError(model("[4, 4, 2]", "conv2d 2, 3, tanh, padding: same", "mse", "flatten"))).toBeLessThan(TOLERANCE);
  });

  it("for random configurations (fast-check)", () => {
    const acts = ["linear", "relu", "tanh", "sigmoid", "elu", "leaky_relu", "gelu"];
    fc.assert(
      fc.property(
        fc.record({
          h: fc.integer({ min: 3, max: 7 }),
          w: fc.integer({ min: 3, max: 7 }),
          c: fc.integer({ min: 1, max: 3 }),
          filters: fc.integer({ min: 1, max: 3 }),
          kh: fc.integer({ min: 1, max: 3 }),
          kw: fc.integer({ min: 1, max: 3 }),
          sh: fc.integer({ min: 1, max: 2 }),
          sw: fc.integer({ min: 1, max: 2 }),
          same: fc.boolean(),
          act: fc.constantFrom(...acts),
          pool: fc.constantFrom("none", "maxpool2d", "avgpool2d"),
          size: fc.integer({ min: 1, max: 3 }),
          second: fc.boolean(),
          act2: fc.constantFrom(...acts),
          seed: fc.integer({ min: 1, max: 1000 }),
        }),
        (r) => {
          const pad = r.same ? "same" : "valid";
          const layers = [`conv2d ${r.filters}, [${r.kh}, ${r.kw}], ${r.act}, stride: [${r.sh}, ${r.sw}], padding: ${pad}`];
          if (r.pool !== "none") layers.push(`${r.pool} ${r.size}, padding: same`);
          if (r.second) layers.push(`conv2d 2, 2, ${r.act2}, padding: same`);
          const src = model(`[${r.h}, ${r.w}, ${r.c}]`, layers.join("\n  "));
          const out = compileProgram(program(src), { target: "js", dtype: "float64", maxBatch: 3 });
          if (out.value === undefined) {
            // Only a window/stride mismatch of `valid` padding may refuse a configuration.
            expect(out.diagnostics.map((d) => d.code).every((c) => c === "NN3003" || c === "NN3004")).toBe(true);
            expect(pad).toBe("valid");
            return;
          }
          const result = gradcheck(loadModule(out.value.code), { batch: 3, perTensor: 12, seed: r.seed });
          expect(result.worst).toBeLessThan(TOLERANCE);
        },
      ),
      { numRuns: 30, seed: 8 },
    );
  });
});

/** Plain NHWC convolution / pooling, the obvious way. */
function reference(
  kind: "conv2d" | "maxpool2d" | "avgpool2d",
  x: Float64Array,
  n: number,
  [h, w, c]: [number, number, number],
  [kh, kw]: [number, number],
  [sh, sw]: [number, number],
  padding: "same" | "valid",
  weights?: { w: Float64Array; b: Float64Array; f: number },
): Float64Array {
  const ay = axis(h, kh, sh, padding);
  const ax = axis(w, kw, sw, padding);
  const f = weights?.f ?? c;
  const out = new Float64Array(n * ay.out * ax.out * f);
  let o = 0;
  for (let r = 0; r < n; r++) {
    for (let oy = 0; oy < ay.out; oy++) {
      for (let ox = 0; ox < ax.out; ox++) {
        for (let j = 0; j < f; j++) {
          let acc = kind === "maxpool2d" ? -Infinity : kind === "conv2d" ? (weights!.b[j] as number) : 0;
          let count = 0;
          for (let ky = 0; ky < kh; ky++) {
            for (let kx = 0; kx < kw; kx++) {
              const iy = oy * sh - ay.pad + ky;
              const ix = ox * sw - ax.pad + kx;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              count++;
              if (kind === "conv2d") {
                for (let ch = 0; ch < c; ch++) acc += (x[((r * h + iy) * w + ix) * c + ch] as number) * (weights!.w[((j * kh + ky) * kw + kx) * c + ch] as number);
              } else {
                const v = x[((r * h + iy) * w + ix) * c + j] as number;
                acc = kind === "maxpool2d" ? Math.max(acc, v) : acc + v;
              }
            }
          }
          out[o++] = kind === "avgpool2d" ? acc / count : acc;
        }
      }
    }
  }
  return out;
}

function random(count: number, seed: number): Float64Array {
  let s = seed;
  return Float64Array.from({ length: count }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return (s / 2147483648) * 2 - 1;
  });
}

describe("forward values match a plain implementation (NHWC)", () => {
  const shapes: { input: [number, number, number]; k: [number, number]; s: [number, number]; pad: "same" | "valid" }[] = [
    { input: [5, 6, 2], k: [3, 3], s: [1, 1], pad: "valid" },
    { input: [5, 6, 2], k: [3, 2], s: [2, 2], pad: "same" },
    { input: [7, 5, 1], k: [2, 2], s: [2, 1], pad: "same" },
    { input: [4, 4, 3], k: [1, 1], s: [1, 1], pad: "valid" },
    { input: [6, 6, 2], k: [3, 3], s: [3, 3], pad: "valid" },
  ];
  const n = 3;
  for (const { input, k, s, pad } of shapes) {
    const dims = `[${input.join(", ")}]`;
    const geometry = `[${k.join(", ")}], stride: [${s.join(", ")}], padding: ${pad}`;
    it(`conv2d ${dims} kernel ${k.join("×")} stride ${s.join("×")} ${pad}`, () => {
      const { model: m } = compile(model(dims, `conv2d 3, ${geometry}, linear`, "mse", "flatten"));
      const params = random(m!.params.length, 3);
      m!.params.set(params);
      const [wEntry, bEntry] = m!.layout as unknown as [{ offset: number; size: number }, { offset: number; size: number }];
      const weights = { w: params.subarray(wEntry.offset, wEntry.offset + wEntry.size), b: params.subarray(bEntry.offset, bEntry.offset + bEntry.size), f: 3 };
      const x = random(n * input[0] * input[1] * input[2], 5);
      const got = m!.forward(x, n);
      const want = reference("conv2d", x, n, input, k, s, pad, weights);
      expect(got.length).toBe(want.length);
      for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i] as number, 12);
    });
    for (const kind of ["maxpool2d", "avgpool2d"] as const) {
      it(`${kind} ${dims} size ${k.join("×")} stride ${s.join("×")} ${pad}`, () => {
        const { model: m } = compile(model(dims, `${kind} ${geometry}`, "mse", "flatten"));
        const x = random(n * input[0] * input[1] * input[2], 9);
        const got = m!.forward(x, n);
        const want = reference(kind, x, n, input, k, s, pad);
        expect(got.length).toBe(want.length);
        for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i] as number, 12);
      });
    }
  }
});

describe("batchnorm", () => {
  const src = model("[3, 2, 2]", "batchnorm momentum: 0.75, epsilon: 0.001", "mse", "flatten");

  it("keeps its running statistics as non-trainable parameters", () => {
    const { model: m } = compile(src);
    expect(m!.layout.map((e) => [e.name, e.size, e.trainable])).toEqual([
      ["batchnorm_1.gamma", 2, true],
      ["batchnorm_1.beta", 2, true],
      ["batchnorm_1.running_mean", 2, false],
      ["batchnorm_1.running_var", 2, false],
    ]);
    expect(Array.from(m!.params)).toEqual([1, 1, 0, 0, 0, 0, 1, 1]);
  });

  it("trains on batch statistics, moves the running ones, and infers with them", () => {
    const { model: m } = compile(src);
    const n = 4;
    const x = random(n * 12, 11).map((v, i) => v + (i % 2 === 0 ? 3 : -1)); // channel means ≈ 3 and −1
    // Training mode: every channel of the output has mean 0 and (biased) variance v / (v + ε).
    const out = m!.forward(x, n, true);
    for (let ch = 0; ch < 2; ch++) {
      const vals = Array.from({ length: n * 6 }, (_, i) => out[i * 2 + ch] as number);
      const mean = vals.reduce((a, b) => a + b, 0) / vals.length;
      expect(Math.abs(mean)).toBeLessThan(1e-12);
      const xs = Array.from({ length: n * 6 }, (_, i) => x[i * 2 + ch] as number);
      const xm = xs.reduce((a, b) => a + b, 0) / xs.length;
      const v = xs.reduce((a, b) => a + (b - xm) ** 2, 0) / xs.length;
      const ov = vals.reduce((a, b) => a + b * b, 0) / vals.length;
      expect(ov).toBeCloseTo(v / (v + 0.001), 12);
      // running = 0.75·initial + 0.25·batch
      expect(m!.params[4 + ch]).toBeCloseTo(0.25 * xm, 12);
      expect(m!.params[6 + ch]).toBeCloseTo(0.75 + 0.25 * v, 12);
    }
    // Inference mode reads the running statistics and leaves them alone.
    const before = Float64Array.from(m!.params);
    const inf = m!.forward(x, n);
    expect(Array.from(m!.params)).toEqual(Array.from(before));
    for (let i = 0; i < n * 12; i++) {
      const ch = i % 2;
      const want = ((x[i] as number) - (before[4 + ch] as number)) / Math.sqrt((before[6 + ch] as number) + 0.001);
      expect(inf[i]).toBeCloseTo(want, 12);
    }
  });

  it("is left alone by the optimizer (weight decay included) and saved in the state", () => {
    const decayed = src.replace("sgd(lr: 0.1)", "adamw(lr: 0.1, weight_decay: 0.5)");
    const { model: m } = compile(decayed);
    const x = random(4 * 12, 2);
    const y = random(4 * 12, 3);
    m!.trainStep(x, y, 4, 0.1);
    const stats = Array.from(m!.params.subarray(4, 8));
    for (let ch = 0; ch < 2; ch++) {
      const xs = Array.from({ length: 24 }, (_, i) => x[i * 2 + ch] as number);
      const xm = xs.reduce((a, b) => a + b, 0) / 24;
      expect(stats[ch]).toBeCloseTo(0.25 * xm, 12); // exactly the statistics update, no decay
    }
    m!.forward(x, 4); // inference: no change
    expect(Array.from(m!.params.subarray(4, 8))).toEqual(stats);
    expect(Array.from(m!.grads.subarray(4, 8))).toEqual([0, 0, 0, 0]);
    expect(Array.from(m!.getState().params.subarray(4, 8))).toEqual(stats);
  });
});

describe("shape checks point at the layer", () => {
  const codes = (src: string): { code: string; line: number; message: string }[] =>
    compile(src).diagnostics.map((d) => ({ code: d.code, line: d.span.line, message: d.message }));

  it("a kernel larger than its input (valid padding)", () => {
    expect(codes(model("[4, 4]", "conv2d 2, 5, relu"))).toEqual([{ code: "NN3003", line: 4, message: "kernel 5×5 is larger than its input 4×4" }]);
  });

  it("a pool larger than its input", () => {
    expect(codes(model("[6, 6]", "conv2d 2, 3, relu\n  maxpool2d 5"))).toEqual([{ code: "NN3003", line: 5, message: "pool 5×5 is larger than its input 4×4" }]);
  });

  it("a stride that does not divide with valid padding, and every such layer reported", () => {
    expect(codes(model("[28, 28]", "conv2d 4, 3, relu\n  maxpool2d 2\n  conv2d 8, 3, relu\n  maxpool2d 2"))).toEqual([
      { code: "NN3004", line: 7, message: "stride 2×2 does not divide the input 11×11 with pool 2×2 evenly" },
    ]);
    expect(codes(model("[8, 8]", "conv2d 2, 3, relu, stride: 2"))).toEqual([
      { code: "NN3004", line: 4, message: "stride 2×2 does not divide the input 8×8 with kernel 3×3 evenly" },
    ]);
  });

  it("same padding never refuses a size", () => {
    expect(codes(model("[11, 11]", "conv2d 2, 3, relu, stride: 2, padding: same\n  maxpool2d 2, padding: same"))).toEqual([]);
  });

  it("an image layer fed a flat tensor", () => {
    expect(codes(model("[16]", "conv2d 2, 3, relu"))).toEqual([{ code: "NN3002", line: 4, message: "`conv2d` needs an image input [h, w, c], but gets shape [16]" }]);
    expect(codes(model("[6, 6]", "flatten\n  maxpool2d 2", "cross_entropy", "dense 3, softmax"))).toEqual([
      { code: "NN3002", line: 5, message: "`maxpool2d` needs an image input [h, w, c], but gets shape [36]" },
    ]);
  });

  it("a dense layer fed an image without flatten", () => {
    const found = codes(model("[6, 6]", "conv2d 2, 3, relu", "cross_entropy", "dense 3, softmax"));
    expect(found).toEqual([{ code: "NN3001", line: 5, message: "`dense` needs a flat input, but gets shape [4,4,2]" }]);
  });
});

describe("examples/fashion-cnn.nn", () => {
  const src = readFileSync(new URL("../../examples/fashion-cnn.nn", import.meta.url), "utf8");

  it("lays out the first layer's filters for the playground: conv2d_1.weight [16, 3, 3, 1]", () => {
    const out = compileProgram(program(src), { target: "js" });
    const mod = loadModule(out.value!.code);
    expect(mod.layout.map((e) => [e.name, e.shape])).toEqual([
      ["conv2d_1.weight", [16, 3, 3, 1]],
      ["conv2d_1.bias", [16]],
      ["conv2d_2.weight", [32, 3, 3, 16]],
      ["conv2d_2.bias", [32]],
      ["dense_1.weight", [64, 1568]],
      ["dense_1.bias", [64]],
      ["dense_2.weight", [10, 64]],
      ["dense_2.bias", [10]],
    ]);
    expect(mod.meta.paramCount).toBe(16 * 9 + 16 + 32 * 9 * 16 + 32 + 64 * 1568 + 64 + 640 + 10);
  });

  it("generates TypeScript that passes tsc --strict (and noUnused*) on its own, batchnorm and avgpool included", () => {
    const other = model("[6, 6, 2]", "batchnorm\n  conv2d 3, 3, gelu, padding: same\n  batchnorm\n  avgpool2d 2\n  maxpool2d 3, stride: 1, padding: same");
    const modules = new Map<string, string>();
    for (const [name, text] of [["fashion-cnn", src], ["other", other]] as const) {
      const out = compileProgram(program(text), { target: "ts" });
      expect(hasErrors(out.diagnostics)).toBe(false);
      modules.set(name, out.value!.code);
    }
    expect(typeCheckModules(modules)).toEqual([]);
  });
});
