/**
 * Random graph programs (`random-dags.ts`: fan-out, residual adds, concats of branches of
 * different widths, several inputs, an image input with conv2d branches, blocks used several
 * times, `repeat`), written as `.nn` text so the parser and checker see them too. Each one must
 * check without a diagnostic, compile in float64 to exactly the parameter tensors the generator
 * predicts (block uses prefixed `<block>_<k>.`), and have every parameter's gradient agree with
 * central finite differences; fusion must not change its loss or gradients.
 */
import { describe, expect, it } from "vitest";
import { checkSource } from "../../compiler/check.js";
import { compileToModule } from "../../compiler/load.js";
import { compileProgram } from "../../compiler/compile.js";
import type { GeneratedModule } from "../../compiler/model-api.js";
import type { Program } from "../../compiler/program.js";
import { GRADCHECK_TOLERANCE, gradcheck, randomLabels } from "../../cli/commands/gradcheck.js";
import { generate, rng, type Feature, type GeneratedProgram } from "./random-dags.js";

const COUNT = 128;
/** Entries checked one by one per tensor (`gradcheck`); every entry is checked by `directional`. */
const PER_TENSOR = 3;
/** Finite-difference step: with 1e-5, O(h²) truncation alone reaches 1e-6 on a few of these deeper nets. */
const H = 1e-6;
const FIRST_SEED = 1;
const programs: GeneratedProgram[] = Array.from({ length: COUNT }, (_, i) => generate(FIRST_SEED + i));

function checked(g: GeneratedProgram): Program {
  const r = checkSource(g.source);
  expect(r.diagnostics.map((d) => `${d.span.line}:${d.span.column} ${d.code} ${d.message}`), g.source).toEqual([]);
  expect(r.value).toBeDefined();
  return r.value as Program;
}

function compiled(p: Program, fuse = true): GeneratedModule {
  const r = compileToModule(p, { dtype: "float64", fuse });
  expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return r.value as GeneratedModule;
}

/**
 * Every entry of every trainable tensor at once: the loss along a random ±1 direction d over the
 * tensor, by central differences, against the analytic gradient · d. Kinks between the two
 * sides are detected as `gradcheck` does, and skipped. Returns the worst relative error and the
 * tensors skipped.
 */
function directional(mod: GeneratedModule, seed: number): { worst: number; failing: string[]; skipped: number } {
  const model = mod.createModel();
  model.init(seed);
  const rand = rng(seed * 7919 + 13);
  const n = 3;
  const x = new Float64Array(n * model.meta.inputSize).map(() => 2 * rand() - 1);
  const y = randomLabels(model.meta.loss, n, model.meta.outputSize, rand);
  const state = model.getState();
  const params = model.params;
  const evaluate = (): number => {
    model.setState({ params, optimizer: state.optimizer, step: state.step, rng: state.rng });
    return model.lossAndGrad(x, y, n);
  };
  const mid = evaluate();
  const grads = Float64Array.from(model.grads);
  let worst = 0;
  let skipped = 0;
  const failing: string[] = [];
  for (const e of model.layout) {
    if (!e.trainable) continue;
    const d = Array.from({ length: e.size }, () => (rand() < 0.5 ? -1 : 1));
    const saved = params.slice(e.offset, e.offset + e.size);
    const at = (t: number): number => {
      for (let k = 0; k < e.size; k++) params[e.offset + k] = (saved[k] as number) + t * (d[k] as number);
      return evaluate();
    };
    const plus = at(H);
    const minus = at(-H);
    params.set(saved, e.offset);
    const numeric = (plus - minus) / (2 * H);
    if (Math.abs((plus - mid) / H - (mid - minus) / H) > 1e-3 * Math.max(1e-2, Math.abs(numeric))) {
      skipped++;
      continue;
    }
    const analytic = d.reduce((a, dk, k) => a + dk * (grads[e.offset + k] as number), 0);
    const rel = Math.abs(analytic - numeric) / Math.max(Math.abs(analytic), Math.abs(numeric), 1e-3);
    if (!(rel < GRADCHECK_TOLERANCE)) failing.push(`${e.name}: analytic ${analytic}, numeric ${numeric}`);
    worst = Math.max(worst, rel);
  }
  return { worst, failing, skipped };
}

describe("random graph programs", () => {
  it("cover every graph feature, each many times", () => {
    const counts = new Map<Feature, number>();
    for (const g of programs) for (const f of g.features) counts.set(f, (counts.get(f) ?? 0) + 1);
    const all: Feature[] = ["fanOut", "add", "concat", "concatWidths", "inputs", "image", "block", "blockTwice", "blockTwoInputs", "repeat", "namedUse"];
    for (const f of all) expect(counts.get(f) ?? 0, f).toBeGreaterThanOrEqual(10);
    expect(new Set(programs.map((g) => g.loss))).toEqual(new Set(["cross_entropy", "binary_cross_entropy", "mse"]));
    // Second and later uses of a block, numbered per block: `residual_2.`, `residual_3.`, …
    expect(programs.filter((g) => g.blockPrefixes.some((p) => /^[a-z]+_[2-9]\.$/.test(p))).length).toBeGreaterThanOrEqual(10);
  });

  for (const g of programs) {
    it(`seed ${g.seed}: checks clean, has the predicted tensors, gradients match`, () => {
      const p = checked(g);
      const mod = compiled(p);
      const model = mod.createModel();
      const trainable = model.layout.filter((e) => e.trainable).map((e) => e.name);
      // The generator's own count of tensors, and their names: `<block>_<k>.<layer>` for block uses.
      expect(trainable.length, g.source).toBe(g.tensors.length);
      expect([...trainable].sort(), g.source).toEqual(g.tensors);
      for (const prefix of g.blockPrefixes) expect(trainable.some((n) => n.startsWith(prefix)), `${prefix} in\n${g.source}`).toBe(true);
      expect(model.meta.inputs?.length ?? 1).toBe(Math.max(1, p.model.inputs.length));

      const result = gradcheck(mod, { seed: g.seed, batch: 3, perTensor: PER_TENSOR, h: H });
      const checkedCount = result.tensors.reduce((a, t) => a + t.checked, 0);
      const skipped = result.tensors.reduce((a, t) => a + t.skipped, 0);
      const bad = result.tensors.filter((t) => !(t.maxRelError < GRADCHECK_TOLERANCE));
      expect(bad, g.source).toEqual([]);
      // Kinks (relu, max pooling) are skipped, but they are rare.
      expect(skipped, g.source).toBeLessThanOrEqual(checkedCount / 4);
      const along = directional(mod, g.seed);
      expect(along.failing, g.source).toEqual([]);
      expect(along.skipped, g.source).toBeLessThanOrEqual(g.tensors.length / 4);

      // Fusion changes no number (every eighth program: compiling twice costs time).
      if (g.seed % 8 !== 0) return;
      const plain = compiled(p, false).createModel();
      const fused = mod.createModel();
      fused.init(g.seed);
      plain.init(g.seed);
      const n = 3;
      const x = new Float64Array(n * fused.meta.inputSize).map((_, i) => Math.sin(1.7 * i + g.seed));
      const y = randomLabels(fused.meta.loss, n, fused.meta.outputSize, () => 0.37);
      expect(plain.lossAndGrad(x, y, n)).toBeCloseTo(fused.lossAndGrad(x, y, n), 12);
      for (let i = 0; i < fused.grads.length; i++) expect(plain.grads[i], g.source).toBeCloseTo(fused.grads[i] as number, 12);
    });
  }
});

/**
 * Shape errors of graphs come from lowering, which the golden diagnostics (checker only) do not
 * run: a merge names every branch's shape and line; an error inside a block points at the
 * block's layer and, as a related span, at the use.
 */
describe("shape errors in graphs", () => {
  const lowered = (src: string) => {
    const p = checkSource(src);
    expect(p.diagnostics).toEqual([]);
    return compileProgram(p.value as Program, { target: "ts" }).diagnostics;
  };
  const at = (span: { line: number; column: number }): string => `${span.line}:${span.column}`;

  it("add of [16] and [8], concat of an image and a flat value: both branches, with their lines", () => {
    const ds = lowered(
      ["model Net {", "  image = input [4, 4, 2]", "  side = input 3", "  side -> dense 16, relu", "  wide = dense 16, relu", "  narrow = dense 8, relu", "  add wide, narrow", "  h = dense 4", "  image -> conv2d 2, 3, relu, padding: same", "  concat h", "  flatten", "  dense 2, softmax", "}", "loss cross_entropy", ""].join("\n"),
    );
    expect(ds.map((d) => [d.code, at(d.span), d.message])).toEqual([
      ["NN3017", "7:3", "`add` cannot merge [16] (line 5) and [8] (line 6)"],
      ["NN3017", "10:3", "`concat` cannot merge [4,4,2] (line 9) and [4] (line 8)"],
    ]);
    expect(ds.map((d) => (d.related ?? []).map((r) => `${r.message} @${at(r.span)}`))).toEqual([
      ["branch 1: [16] @5:3", "branch 2: [8] @6:3"],
      ["branch 1: [4,4,2] @9:3", "branch 2: [4] @8:3"],
    ]);
  });

  it("an error inside a block body points at the block's layer and at the use", () => {
    const ds = lowered(["block head(units) {", "  dense units, relu", "  dense units", "}", "model Net {", "  input [4, 4, 2]", "  conv2d 2, 3, relu", "  head 4", "  dense 2, softmax", "}", "loss cross_entropy", ""].join("\n"));
    expect(ds.map((d) => [d.code, at(d.span), (d.related ?? []).map((r) => `${r.message} @${at(r.span)}`)])).toEqual([["NN3001", "2:3", ["in the block used here @8:3"]]]);
  });
});
