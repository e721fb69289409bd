/**
 * Post-training quantization end to end on small real models trained in the test: the plan's
 * float module computes what the compiled float model computes (so the plan reads the layers
 * and the weights' layout right), the int8 module keeps the test accuracy within a stated
 * tolerance, weights and activations come back from their 8 bits within half a step, and the
 * layers the module cannot run are named.
 */
import { describe, expect, it } from "vitest";
import { predictAll } from "../../runtime/batches.js";
import { instantiate, quantize, throughput } from "../../runtime/quantize.js";
import { activationParams, fakeQuantize, Observer, quantizeWeights } from "../../compiler/quantize/scheme.js";
import { planOf } from "../../compiler/quantize/plan.js";
import { example, model, programOf, session } from "../runtime/helpers.js";
import type { Split } from "../../runtime/prepare.js";

function accuracy(out: Float32Array, split: Split, classes: number): number {
  let right = 0;
  for (let i = 0; i < split.n; i++) {
    let best = 0;
    let truth = 0;
    for (let c = 1; c < classes; c++) {
      if ((out[i * classes + c] as number) > (out[i * classes + best] as number)) best = c;
      if ((split.y[i * classes + c] as number) > (split.y[i * classes + truth] as number)) truth = c;
    }
    if (best === truth) right++;
  }
  return right / split.n;
}

const MLP = `
model DigitsTanh {
  seed 1
  input 64
  dense 48, tanh
  dropout 0.1
  dense 24, relu
  dense 10, softmax
}
loss cross_entropy
optimizer adam(lr: 0.005)
metrics accuracy
data {
  train csv("data/digits.csv", label: label)
  scale 1 / 16
  test 20%
  shuffle seed 1
}
train {
  epochs 12
  batch 32
}
`;

async function trainedAndQuantized(source: string, calibration: "minmax" | "percentile") {
  const p = programOf(source);
  const s = await session(p, model(p));
  s.trainer.init();
  s.trainer.run();
  const test = s.data.test!;
  const q = quantize(p.model, s.model, s.data.train, { calibrate: 300, calibration });
  expect(q.diagnostics).toEqual([]);
  const floatOut = predictAll(s.model, test.x, test.n);
  return { p, s, test, q: q.value!, floatOut };
}

describe("nnc quantize on trained models", () => {
  for (const [name, source, calibration] of [
    ["digits-cnn (conv2d, maxpool2d, dense)", example("digits-cnn"), "minmax"],
    ["an MLP with tanh, dropout and relu", MLP, "percentile"],
  ] as const) {
    it(`${name}: the float plan matches the model, int8 keeps the accuracy within 2 points`, async () => {
      const { test, q, floatOut } = await trainedAndQuantized(source, calibration);
      const reference = instantiate(q.float.js).forward(test.x, test.n);
      let worst = 0;
      for (let i = 0; i < floatOut.length; i++) worst = Math.max(worst, Math.abs((reference[i] as number) - (floatOut[i] as number)));
      expect(worst).toBeLessThan(1e-4);
      const int8Out = instantiate(q.int8.js).forward(test.x, test.n);
      const before = accuracy(floatOut, test, 10);
      const after = accuracy(int8Out, test, 10);
      expect(before).toBeGreaterThan(0.85);
      expect(Math.abs(before - after)).toBeLessThanOrEqual(0.02);
      // The weights embedded: one byte per weight, four per channel scale and bias.
      const weights = q.plan.steps.reduce((a, s) => a + (s.kind === "product" ? s.weight.size : 0), 0);
      expect(q.int8.payloadBytes).toBeLessThan(q.float.payloadBytes / 3.5);
      expect(q.int8.payloadBytes).toBeGreaterThanOrEqual(weights);
    }, 120_000);
  }

  it("names the layer it cannot run (NN5052) at its line", () => {
    const p = programOf(example("digits-mlp"));
    const r = planOf(p.model, model(p).layout);
    expect(r.value).toBeUndefined();
    expect(r.diagnostics.map((d) => d.code)).toEqual(["NN5052"]);
    expect(r.diagnostics[0]!.message).toContain("layernorm");
    expect(r.diagnostics[0]!.span.line).toBe(8);
  });
});

describe("the quantization scheme", () => {
  it("weights come back within half a step of their channel, and the largest exactly", () => {
    const m = 5;
    const k = 37;
    const w = Float32Array.from({ length: m * k }, (_, i) => Math.sin(i * 1.7) * (1 + (i % m)));
    const q = quantizeWeights(w, m, k);
    for (let o = 0; o < m; o++) {
      const s = q.scales[o]!;
      let amax = 0;
      for (let i = 0; i < k; i++) amax = Math.max(amax, Math.abs(w[o * k + i]!));
      expect(s).toBeCloseTo(amax / 127, 6);
      for (let i = 0; i < k; i++) {
        expect(Math.abs(q.q[o * k + i]!)).toBeLessThanOrEqual(127);
        expect(Math.abs(q.q[o * k + i]! * s - w[o * k + i]!)).toBeLessThanOrEqual(s / 2 + 1e-7);
      }
    }
  });

  it("activations inside the range come back within half a step; 0 is exact; outside values clamp", () => {
    const p = activationParams(-0.5, 3);
    expect(fakeQuantize(0, p)).toBe(0);
    for (let x = -0.5; x <= 3; x += 0.01) expect(Math.abs(fakeQuantize(x, p) - x)).toBeLessThanOrEqual(p.scale / 2 + 1e-9);
    expect(fakeQuantize(10, p)).toBeCloseTo((255 - p.zero) * p.scale, 9);
    // A range entirely above 0 is widened to hold it: relu outputs get zero point 0.
    expect(activationParams(0.2, 4).zero).toBe(0);
  });

  it("percentile calibration ignores rare outliers that minmax keeps", () => {
    const ob = new Observer();
    const values = Float32Array.from({ length: 100_000 }, (_, i) => (i % 1000) / 1000);
    values[5] = 50;
    ob.add(values, 0, values.length);
    expect(ob.range("minmax")[1]).toBe(50);
    expect(ob.range("percentile")[1]).toBeLessThan(1);
  });
});

describe("throughput", () => {
  it("times a split smaller than one batch as one partial batch (it timed nothing and said 0 samples/s)", () => {
    const sizes: number[] = [];
    const x = new Float32Array(50 * 3);
    const perSecond = throughput((_x, n) => sizes.push(n), x, 50, 3, 64, 20);
    expect(perSecond).toBeGreaterThan(0);
    expect(new Set(sizes)).toEqual(new Set([50]));
    sizes.length = 0;
    throughput((_x, n) => sizes.push(n), new Float32Array(150 * 3), 150, 3, 64, 5);
    expect(sizes.slice(0, 3)).toEqual([64, 64, 22]);
    expect(throughput(() => 0, x, 0, 3, 64)).toBe(0);
  });
});
