/**
 * A small slice of the real Fashion-MNIST (Debian's dataset-fashion-mnist; skipped when it is
 * not installed): the gzipped IDX files stream in with a record limit, and the example's MLP
 * learns well above chance in two epochs on 2,000 images. The full run is a documented command
 * (docs/training.md), not a test.
 */
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compileModel } from "../../runtime/node/model.js";
import { evaluate } from "../../runtime/batches.js";
import { example, programOf, session } from "./helpers.js";

const DIR = "/usr/share/datasets/fashion-mnist";

describe.skipIf(!existsSync(`${DIR}/train-images-idx3-ubyte.gz`))("Fashion-MNIST slice", () => {
  it("loads 2,000 + 500 records and trains above 65% test accuracy in 2 epochs", async () => {
    const src = example("fashion-mnist")
      .replace(/(train\s+idx\("[^"]+", "[^"]+")\)/, "$1, limit: 2000)")
      .replace(/(test\s+idx\("[^"]+", "[^"]+")\)/, "$1, limit: 500)")
      .replace(/epochs\s+\d+/, "epochs 2");
    const p = programOf(src);
    const s = await session(p, compileModel(p).value!);
    expect([s.data.train.n, s.data.validation!.n, s.data.test!.n]).toEqual([1800, 200, 500]);
    expect(s.data.train.features).toBe(784);
    expect(s.data.train.x.reduce((a, b) => Math.max(a, b), 0)).toBe(1);
    s.trainer.init();
    s.trainer.run();
    const test = evaluate(s.model, s.data.test!, s.task, ["accuracy"]);
    expect(test.accuracy).toBeGreaterThan(0.65);
  });
});
