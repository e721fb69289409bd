/**
 * Attribution methods (`runtime/explain.ts`) on trained examples (digits-cnn, iris): integrated
 * gradients' completeness at 64 Gauss–Legendre steps, the randomization sanity check (Adebayo
 * et al., 2018: a trained model's attributions differ clearly from those of the same model with
 * re-initialized weights), Grad-CAM's shape and sign, SmoothGrad's seed, occlusion against its
 * definition, the quadrature rules, and pictures that keep data text inert.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { compileToModule } from "../../compiler/load.js";
import { maxBatchFor } from "../../runtime/node/model.js";
import {
  attribute,
  gaussLegendre,
  isExplainModel,
  lastConvLayer,
  predictedTargets,
  targetScores,
  trapezoid,
  type ExplainModel,
} from "../../runtime/explain.js";
import { barsPanel, heatmapPanel, svgDocument } from "../../runtime/explain-svg.js";
import { attributionSections } from "../../runtime/explain-report.js";
import { renderReport } from "../../runtime/report.js";
import type { Split } from "../../runtime/prepare.js";
import { example, programOf, session } from "../runtime/helpers.js";

interface Trained {
  readonly model: ExplainModel;
  readonly test: Split;
}

async function train(name: string): Promise<Trained> {
  const program = programOf(example(name));
  const built = compileToModule(program, { maxBatch: maxBatchFor(program), explain: true });
  if (built.value === undefined) throw new Error(built.diagnostics.map((d) => d.message).join("; "));
  const model = built.value.createModel();
  if (!isExplainModel(model)) throw new Error("no explain methods");
  const s = await session(program, model);
  s.trainer.init();
  s.trainer.run();
  return { model, test: s.data.test as Split };
}

/** Relative completeness error per sample: |Σ attributions − (F(x) − F(x′))| / |F(x) − F(x′)|. */
function completeness(t: Trained, n: number, quadrature: "gauss" | "trapezoid", steps: number): number[] {
  const x = t.test.x.subarray(0, n * t.model.meta.inputSize);
  const a = attribute(t.model, x, n, predictedTargets(t.model, x, n), { method: "ig", steps, quadrature });
  const c = a.completeness!;
  return Array.from(c.delta, (d, i) => Math.abs(d) / Math.max(1e-3, Math.abs(a.scores[i]! - c.baselineScores[i]!)));
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Spearman's rank correlation of two equally long arrays. */
function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const rank = (v: ArrayLike<number>): Float64Array => {
    const idx = Array.from({ length: v.length }, (_, i) => i).sort((i, j) => v[i]! - v[j]!);
    const r = new Float64Array(v.length);
    idx.forEach((i, k) => (r[i] = k));
    return r;
  };
  const [ra, rb] = [rank(a), rank(b)];
  const m = (ra.length - 1) / 2;
  let num = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < ra.length; i++) {
    num += (ra[i]! - m) * (rb[i]! - m);
    da += (ra[i]! - m) ** 2;
    db += (rb[i]! - m) ** 2;
  }
  return num / Math.sqrt(da * db);
}

/** Mean over samples of the rank correlation of |attribution| maps. */
function similarity(a: Float32Array, b: Float32Array, n: number): number {
  const size = a.length / n;
  const abs = (v: Float32Array, i: number): Float32Array => v.subarray(i * size, (i + 1) * size).map(Math.abs);
  return mean(Array.from({ length: n }, (_, i) => spearman(abs(a, i), abs(b, i))));
}

function signedSimilarity(a: Float32Array, b: Float32Array, n: number): number {
  const size = a.length / n;
  return mean(Array.from({ length: n }, (_, i) => spearman(a.subarray(i * size, (i + 1) * size), b.subarray(i * size, (i + 1) * size))));
}

describe("quadrature rules on [0, 1]", () => {
  it("Gauss–Legendre with m points integrates polynomials of degree 2m − 1 exactly; the trapezoid rule only straight lines", () => {
    for (const m of [1, 2, 5, 16, 64]) {
      const { nodes, weights } = gaussLegendre(m);
      for (const k of [0, 1, 2 * m - 1]) {
        const integral = nodes.reduce((t, x, i) => t + weights[i]! * x ** k, 0);
        expect(integral).toBeCloseTo(1 / (k + 1), 12);
      }
      expect(Math.min(...nodes)).toBeGreaterThan(0);
      expect(Math.max(...nodes)).toBeLessThan(1);
    }
    const t = trapezoid(4);
    expect(t.nodes.reduce((s, x, i) => s + t.weights[i]! * x, 0)).toBeCloseTo(0.5, 14);
    expect(t.nodes.reduce((s, x, i) => s + t.weights[i]! * x * x, 0)).toBeCloseTo(1 / 3 + 1 / 96, 12);
  });
});

describe("on trained examples", () => {
  let digits: Trained;
  let iris: Trained;
  beforeAll(async () => {
    digits = await train("digits-cnn");
    iris = await train("iris");
  }, 120_000);

  it("the models learned their task (so what follows explains a working model)", () => {
    for (const t of [digits, iris]) {
      const n = t.test.n;
      const K = t.model.meta.outputSize;
      const pred = predictedTargets(t.model, t.test.x, n);
      let right = 0;
      for (let i = 0; i < n; i++) if (t.test.y[i * K + pred[i]!] === 1) right++;
      expect(right / n).toBeGreaterThan(0.9);
    }
  });

  it("integrated gradients: completeness within 1% at 64 Gauss–Legendre steps (mean over the test split), and the error falls with more steps", () => {
    for (const [t, n] of [
      [digits, 200],
      [iris, 30],
    ] as const) {
      const at64 = completeness(t, n, "gauss", 64);
      const at256 = completeness(t, n, "gauss", 256);
      expect(mean(at64)).toBeLessThan(0.01);
      // Most samples are each within 1%; those that are not sit on ReLU/max-pool kinks with little change of F.
      expect(at64.filter((e) => e < 0.01).length / n).toBeGreaterThan(0.9);
      expect(mean(at256)).toBeLessThan(mean(at64));
    }
  });

  it("the randomization sanity check: attributions of the trained model differ clearly from those of re-initialized weights", () => {
    // Rank correlation (Spearman, per sample, averaged) of the trained model's maps with the
    // re-initialized model's: of |attribution| for the gradient methods; of the signed maps for
    // the methods that multiply by the input, whose absolute maps keep the input's own structure
    // whatever the weights (zero pixels stay zero), as Adebayo et al. found.
    for (const [t, n] of [
      [digits, 64],
      [iris, 30],
    ] as const) {
      const x = t.test.x.subarray(0, n * t.model.meta.inputSize);
      const targets = predictedTargets(t.model, x, n);
      const trained = t.model.params.slice();
      type M = "saliency" | "smoothgrad" | "gradxinput" | "ig";
      const maps = (method: M) => attribute(t.model, x, n, targets, { method, steps: 32, samples: 10 }).values.slice();
      for (const [method, measure] of [
        ["saliency", similarity],
        ["smoothgrad", similarity],
        ["gradxinput", signedSimilarity],
        ["ig", signedSimilarity],
      ] as const) {
        const a = maps(method);
        const again = maps(method);
        t.model.init(12345);
        const random = maps(method);
        t.model.params.set(trained);
        expect(measure(a, again, n)).toBeCloseTo(1, 6);
        expect(measure(a, random, n), `${method}: rank correlation with re-initialized weights`).toBeLessThan(0.5);
      }
    }
  });

  it("Grad-CAM on the conv layer: one [height, width] map per sample, non-negative, and not empty", () => {
    const n = 40;
    const x = digits.test.x.subarray(0, n * 64);
    expect(lastConvLayer(digits.model)).toBe("conv2d_1");
    const targets = predictedTargets(digits.model, x, n);
    const a = attribute(digits.model, x, n, targets, { method: "gradcam" });
    expect(a.shape).toEqual([8, 8]);
    expect(a.values.length).toBe(n * 64);
    expect(Math.min(...a.values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...a.values)).toBeGreaterThan(0);
    const pooled = attribute(digits.model, x, n, targets, { method: "gradcam", layer: "maxpool2d_1" });
    expect(pooled.shape).toEqual([4, 4]);
    expect(Math.min(...pooled.values)).toBeGreaterThanOrEqual(0);
  });

  it("SmoothGrad is the same for a seed and changes with it; gradient × input is x times the gradient", () => {
    const n = 4;
    const x = iris.test.x.subarray(0, n * 4);
    const t = predictedTargets(iris.model, x, n);
    const a = attribute(iris.model, x, n, t, { method: "smoothgrad", seed: 3, samples: 10 }).values;
    expect(Array.from(attribute(iris.model, x, n, t, { method: "smoothgrad", seed: 3, samples: 10 }).values)).toEqual(Array.from(a));
    expect(Array.from(attribute(iris.model, x, n, t, { method: "smoothgrad", seed: 4, samples: 10 }).values)).not.toEqual(Array.from(a));
    const g = iris.model.explain.inputGradient(x, n, t).slice();
    const gx = attribute(iris.model, x, n, t, { method: "gradxinput" }).values;
    gx.forEach((v, i) => expect(v).toBeCloseTo(g[i]! * x[i]!, 5));
  });

  it("the training report's sections: two test samples per class, and the first conv layer's filters", () => {
    const d = attributionSections(digits.model, digits.model, digits.test, { featureNames: [] });
    expect(d.map((s) => s.title)).toEqual(["What the decisions rest on (test samples)", "The filters of conv2d_1"]);
    expect(d[0]!.svg.match(/<g transform/g)).toHaveLength(20);
    expect(d[1]!.svg.match(/<g transform/g)).toHaveLength(8);
    const names = ["sepal_length", "sepal_width", "petal_length", "<b>petal_width</b>"];
    const i = attributionSections(iris.model, iris.model, iris.test, { featureNames: names, classes: ["setosa", "versicolor", "virginica"] });
    expect(i).toHaveLength(1);
    expect(i[0]!.svg.match(/<g transform/g)).toHaveLength(6);
    expect(i[0]!.svg).toContain("setosa → setosa");
    const html = renderReport({ title: "t", history: [], summary: {}, sections: i });
    expect(html).toContain("What the decisions rest on");
    expect(html).not.toContain("<b>petal_width</b>");
  });

  it("occlusion of a tabular feature is F(x) − F(x with that feature at the baseline)", () => {
    const n = 3;
    const x = iris.test.x.slice(0, n * 4);
    const t = predictedTargets(iris.model, x, n);
    const baseline = new Float32Array([0.5, -0.25, 0, 1]);
    const a = attribute(iris.model, x, n, t, { method: "occlusion", baseline });
    const f = targetScores(iris.model, x, n, t);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < 4; j++) {
        const moved = x.slice(i * 4, i * 4 + 4);
        moved[j] = baseline[j]!;
        const g = targetScores(iris.model, moved, 1, t.subarray(i, i + 1));
        expect(a.values[i * 4 + j]).toBeCloseTo(f[i]! - g[0]!, 4);
      }
    }
  });
});

describe("pictures", () => {
  it("names from a data file stay text in the SVG", () => {
    const svg = svgDocument([barsPanel({ names: ["<script>alert(1)</script>", "a&b"], values: [1, -2], title: `"x" onload='y'` })]);
    expect(svg).not.toContain("<script>");
    expect(svg).toContain("&lt;script&gt;");
    expect(svg).toContain("a&amp;b");
    expect(svg).not.toContain(`"x" onload`);
  });

  it("a heat map draws one cell per map value over the image, and negative values in the other colour", () => {
    const image = new Float32Array(16).map((_, i) => i);
    const map = new Float32Array(4).fill(0);
    map[0] = 1;
    map[3] = -1;
    const p = heatmapPanel({ image, shape: [4, 4], map, mapShape: [2, 2], signed: true, beside: false });
    expect(p.body.match(/fill="#e6194b"/g)?.length).toBe(1);
    expect(p.body.match(/fill="#2a6fdb"/g)?.length).toBe(1);
  });
});
