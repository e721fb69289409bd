/**
 * The playground's test images to pick (issue 17), as the training worker computes them
 * (`playground/src/images.ts`) and the page paints them (`playground/src/image-paint.ts`): which
 * inputs are images, the strip of a few test images per class, and the picked image of a trained
 * digits-cnn explained — its prediction and probabilities the model's forward pass, its maps the
 * shape of the image (Grad-CAM: of the conv layer, never negative) and equal to `runtime/explain.ts`.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { compileProgram } from "../../compiler/compile.js";
import { defaultKernels, loadModule } from "../../compiler/load.js";
import { attribute, isExplainModel, type ExplainModel } from "../../runtime/explain.js";
import { argmax } from "../../runtime/metrics.js";
import type { Session } from "../../runtime/session.js";
import { paintImage, paintOverlay } from "../../playground/src/image-paint.js";
import { classOf, imagePick, imageShapeOf, imageStrip, PER_CLASS, stripRows, type ImageShape } from "../../playground/src/images.js";
import { example, programOf, session } from "../runtime/helpers.js";

/** An example compiled as the training worker compiles an image model (explain methods, batch limit 512), with its data. */
async function load(name: string): Promise<{ model: ExplainModel; s: Session }> {
  const program = programOf(example(name));
  const compiled = compileProgram(program, { target: "js", maxBatch: 512, kernels: defaultKernels(), explain: true });
  const model = loadModule(compiled.value!.code).createModel();
  if (!isExplainModel(model)) throw new Error("no explain methods");
  const s = await session(program, model);
  s.trainer.init();
  return { model, s };
}

describe("which inputs are drawn as images", () => {
  it("[h, w] and [h, w, c ≤ 4] inputs, and flat inputs of k² numeric columns from 36 to 4096 values; nothing else", () => {
    expect(imageShapeOf([8, 8], true, false)).toEqual([8, 8, 1]);
    expect(imageShapeOf([28, 28, 3], true, false)).toEqual([28, 28, 3]);
    expect(imageShapeOf([64], true, false)).toEqual([8, 8, 1]);
    expect(imageShapeOf([4096], true, false)).toEqual([64, 64, 1]);
    // Tabular data: few values (the attribution table's), a non-square count, categorical columns.
    expect(imageShapeOf([16], true, false)).toBeUndefined();
    expect(imageShapeOf([48], true, false)).toBeUndefined();
    expect(imageShapeOf([64], true, true)).toBeUndefined();
    // A sequence [steps, features] is 2-D too, but several inputs, many channels or huge images are not drawn.
    expect(imageShapeOf([8, 8], false, false)).toBeUndefined();
    expect(imageShapeOf([8, 8, 16], true, false)).toBeUndefined();
    expect(imageShapeOf([128, 128], true, false)).toBeUndefined();
  });
});

describe("the strip and a picked image of digits-cnn", () => {
  let digits: { model: ExplainModel; s: Session };
  beforeAll(async () => {
    digits = await load("digits-cnn");
    digits.s.trainer.run();
  }, 120_000);

  it("the strip holds the first three test images of each class, in class order, with their pixels", () => {
    const { model, s } = digits;
    const test = s.data.test!;
    const shape = imageShapeOf(model.meta.inputShape, model.meta.inputs === undefined, false)!;
    const strip = imageStrip(model, test, shape, s.task, s.data.preprocess.classes);
    expect(strip.shape).toEqual([8, 8, 1]);
    expect(strip.indices).toHaveLength(10 * PER_CLASS);
    expect(strip.labels).toEqual(Array.from({ length: 30 }, (_, k) => Math.floor(k / PER_CLASS)));
    expect(strip.classNames).toEqual(Array.from({ length: 10 }, (_, k) => `class ${k}`));
    expect(strip.gradcamLayer).toBe("conv2d_1");
    strip.indices.forEach((row, k) => {
      expect(classOf(test.y, row, 10)).toBe(strip.labels[k]);
      // No earlier row of that class was passed over.
      const earlier = Array.from({ length: row }, (_, i) => i).filter((i) => classOf(test.y, i, 10) === strip.labels[k]);
      expect(earlier.length).toBe(k % PER_CLASS);
      expect(Array.from(strip.pixels.subarray(k * 64, (k + 1) * 64))).toEqual(Array.from(test.x.subarray(row * 64, (row + 1) * 64)));
    });
    // A class with fewer samples than PER_CLASS gives what it has.
    const y = Float32Array.from([1, 0, 0, 1, 1, 0, 1, 0]);
    expect(stripRows(y, 4, 2, 2, 3)).toEqual([0, 2, 3, 1]);
  });

  it("a picked image: the forward pass's probabilities and class, maps the image's shape, Grad-CAM the conv layer's and never negative", () => {
    const { model, s } = digits;
    const test = s.data.test!;
    const shape: ImageShape = [8, 8, 1];
    const strip = imageStrip(model, test, shape, s.task, undefined);
    let right = 0;
    let camNonEmpty = 0;
    for (const [k, row] of strip.indices.entries()) {
      const x = test.x.slice(row * 64, (row + 1) * 64);
      const p = imagePick(model, x, row, strip.labels[k]!, shape, s.task, s.trainer.epoch);
      const out = model.forward(x, 1).slice(0, 10);
      expect(Array.from(p.probs)).toEqual(Array.from(out));
      expect(p.predicted).toBe(argmax(out, 0, 10));
      expect(p.probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      if (p.predicted === p.label) right++;
      expect(p.index).toBe(row);
      expect(p.epoch).toBe(10);
      expect(Array.from(p.pixels)).toEqual(Array.from(x));
      // The maps: one value per pixel; saliency |∂F/∂x| and x · ∂F/∂x for the predicted class.
      expect(p.saliency).toHaveLength(64);
      expect(p.gradxinput).toHaveLength(64);
      const g = model.explain.inputGradient(x, 1, p.predicted).slice(0, 64);
      for (let j = 0; j < 64; j++) {
        expect(p.saliency[j]).toBeCloseTo(Math.abs(g[j]!), 6);
        expect(p.gradxinput[j]).toBeCloseTo(g[j]! * x[j]!, 6);
      }
      expect(Math.max(...p.saliency)).toBeGreaterThan(0);
      // Grad-CAM on conv2d_1 (padding same: 8 × 8 positions), as runtime/explain.ts gives it, never negative.
      const cam = p.gradcam!;
      expect([cam.layer, cam.height, cam.width, cam.values.length]).toEqual(["conv2d_1", 8, 8, 64]);
      expect(Math.min(...cam.values)).toBeGreaterThanOrEqual(0);
      const expected = attribute(model, x, 1, Int32Array.of(p.predicted), { method: "gradcam", layer: "conv2d_1" }).values;
      expect(Array.from(cam.values)).toEqual(Array.from(expected));
      if (Math.max(...cam.values) > 0) camNonEmpty++;
    }
    // The model learned (so the maps explain a working model), and Grad-CAM finds something on most images.
    expect(right).toBeGreaterThanOrEqual(27);
    expect(camNonEmpty).toBeGreaterThan(0);
  });

  it.each(["digits-mlp", "digits-pruned"])("a flat input (%s's 64 pixels) is explained as an 8 × 8 image without Grad-CAM", async (name) => {
    const { model, s } = await load(name);
    const shape = imageShapeOf(model.meta.inputShape, true, false)!;
    expect(shape).toEqual([8, 8, 1]);
    const strip = imageStrip(model, s.data.test!, shape, s.task, undefined);
    expect(strip.gradcamLayer).toBeUndefined();
    const row = strip.indices[7]!;
    const x = s.data.test!.x.slice(row * 64, (row + 1) * 64);
    const p = imagePick(model, x, row, strip.labels[7]!, shape, s.task, 0);
    expect(p.gradcam).toBeUndefined();
    expect(p.saliency).toHaveLength(64);
    expect(Array.from(p.probs)).toEqual(Array.from(model.forward(x, 1).slice(0, 10)));
  });
});

describe("painting an image and its map", () => {
  it("dark ink on white; the map red where positive, blue where negative, by |value| over the largest, Grad-CAM's coarser map stretched", () => {
    const shape: ImageShape = [2, 2, 1];
    const pixels = Float32Array.from([0, 1, 0, 0.5]);
    const out = new Uint8ClampedArray(16);
    paintImage(out, pixels, 0, shape);
    expect(Array.from(out)).toEqual([255, 255, 255, 255, 0, 0, 0, 255, 255, 255, 255, 255, 128, 128, 128, 255].map((v, i) => (i % 4 === 3 ? 255 : v)));
    const peak = paintOverlay(out, pixels, shape, Float32Array.from([2, -4, 0, 1]), 2, 2);
    expect(peak).toBe(4);
    const px = (p: number): number[] => Array.from(out.subarray(4 * p, 4 * p + 4));
    // Pixel 1: -4 at full opacity (0.8) over ink: mostly blue. Pixel 2: 0 on white: white.
    expect(px(1)[2]).toBeGreaterThan(px(1)[0]!);
    expect(px(2)).toEqual([255, 255, 255, 255]);
    // Pixel 0: +2, half of the peak, on white: reddish.
    expect(px(0)[0]).toBeGreaterThan(px(0)[2]!);
    // A 1 × 1 map (Grad-CAM after pooling) covers the whole image in one colour over the ink.
    paintOverlay(out, Float32Array.from([0, 0, 0, 0]), shape, Float32Array.of(3), 1, 1);
    expect(new Set([px(0), px(1), px(2), px(3)].map(String)).size).toBe(1);
    expect(px(0)[0]).toBeGreaterThan(px(0)[2]!);
  });
});
