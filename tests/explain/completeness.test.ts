/**
 * Integrated gradients' completeness at 64 Gauss–Legendre steps on the other trained examples
 * whose data ships and whose input has a gradient (digits-cnn and iris: attributions.test.ts):
 * Σ attributions = F(x) − F(x′) within 1% on average over (up to 200 of) the test split, and
 * the error falls with more steps. One exception, measured and documented in docs/explain.md:
 * digits-mlp normalizes a bias-free layer with `layernorm`, which is flat along the path from
 * the all-zero baseline except within ~√ε/σ of it, so 64 steps miss most of the change; from the
 * training mean it is within 1% at 64 steps, and from zeros at 1024.
 */
import { describe, expect, it } from "vitest";
import { compileToModule } from "../../compiler/load.js";
import { attribute, featureMean, isExplainModel, predictedTargets, type ExplainModel } from "../../runtime/explain.js";
import { maxBatchFor } from "../../runtime/node/model.js";
import type { Split } from "../../runtime/prepare.js";
import { example, programOf, session } from "../runtime/helpers.js";

async function trained(name: string): Promise<{ model: ExplainModel; test: Split; train: Split }> {
  const program = programOf(example(name));
  const model = compileToModule(program, { maxBatch: maxBatchFor(program), explain: true }).value!.createModel();
  if (!isExplainModel(model)) throw new Error("no explain methods");
  const s = await session(program, model);
  s.trainer.init();
  s.trainer.run();
  return { model, test: s.data.test!, train: s.data.train };
}

/** Per sample |Σ − (F(x) − F(x′))| / |F(x) − F(x′)| over the first n test samples. */
function errors(model: ExplainModel, test: Split, n: number, steps: number, baseline?: Float32Array): number[] {
  const x = test.x.subarray(0, n * model.meta.inputSize);
  const a = attribute(model, x, n, predictedTargets(model, x, n), { method: "ig", steps, baseline });
  const c = a.completeness!;
  return Array.from(c.delta, (d, i) => Math.abs(d) / Math.max(1e-3, Math.abs(a.scores[i]! - c.baselineScores[i]!)));
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const figures = (e: readonly number[]): string => `mean ${(100 * mean(e)).toFixed(2)}%, worst ${(100 * Math.max(...e)).toFixed(1)}%, ${e.filter((v) => v >= 0.01).length} of ${e.length} above 1%`;

describe("integrated gradients' completeness on the trained examples", () => {
  it.each(["spiral", "xor", "sine", "digits-pruned", "penguins", "cars-displacement"])("%s: within 1% on average at 64 Gauss–Legendre steps, and closer at 256", async (name) => {
    const { model, test } = await trained(name);
    const n = Math.min(200, test.n);
    const at64 = errors(model, test, n, 64);
    const at256 = errors(model, test, n, 256);
    console.log(`${name}: ${n} test samples, 64 steps ${figures(at64)}; 256 steps ${figures(at256)}`);
    expect(mean(at64)).toBeLessThan(0.01);
    // (Smooth tanh networks — xor, sine — are exact to float32's rounding at either count.)
    expect(mean(at256)).toBeLessThanOrEqual(Math.max(mean(at64), 1e-4));
  });

  it("digits-mlp (layernorm after a bias-free layer): within 1% at 64 steps from the training mean; from zeros only at 1024", async () => {
    const { model, test, train } = await trained("digits-mlp");
    const n = 100;
    const fromMean = errors(model, test, n, 64, featureMean(train.x, train.n, model.meta.inputSize));
    const zeros = [64, 256, 1024].map((steps) => errors(model, test, n, steps));
    console.log(`digits-mlp: ${n} test samples; from the training mean, 64 steps ${figures(fromMean)}; from zeros, ${zeros.map((e, k) => `${[64, 256, 1024][k]} steps ${figures(e)}`).join("; ")}`);
    expect(mean(fromMean)).toBeLessThan(0.01);
    // From zeros the error is well above 1% at 64 steps (what docs/explain.md warns of) and falls with the steps.
    expect(mean(zeros[0]!)).toBeGreaterThan(0.01);
    expect(mean(zeros[1]!)).toBeLessThan(mean(zeros[0]!));
    expect(mean(zeros[2]!)).toBeLessThan(0.01);
  });
});
