/** The hand-written, shape-specialized probes as bench systems (plain loops and register tiles). */
import type { OptKind, Trainer, TrainSetup } from "../harness.js";
import { ProbeMLP } from "../probes/mlp.js";

export function probeTrainer(
  setup: TrainSetup,
  tile: readonly [number, number],
  name: string,
  tailC = tile[1],
  /** W3 through `inferSparse` (zero inputs skipped) instead of `forward(x, 1)`. */
  sparseInfer = false,
): Trainer {
  const f = setup.sizes[0]!, k = setup.sizes[setup.sizes.length - 1]!, B = setup.batch;
  const net = new ProbeMLP(setup.sizes, setup.hidden, setup.head, B, tile, tailC);
  const xs: Float32Array[] = [], ys: Float32Array[] = [];
  for (let b = 0; b < setup.steps; b++) {
    xs.push(setup.x.subarray(b * B * f, (b + 1) * B * f));
    ys.push(setup.y.subarray(b * B * k, (b + 1) * B * k));
  }
  let lr = 0;
  return {
    name,
    reset(opt: OptKind) {
      net.load(setup.init);
      net.setOptimizer(opt);
      lr = setup.lr[opt];
    },
    step(b: number) {
      net.trainStep(xs[b]!, ys[b]!, B, lr);
    },
    sync() {},
    predict(x: Float32Array, n: number) {
      const out = new Float32Array(n * k);
      for (let s = 0; s < n; s += B) {
        const m = Math.min(B, n - s);
        out.set(net.forward(x.subarray(s * f, (s + m) * f), m).subarray(0, m * k), s * k);
      }
      return out;
    },
    infer(x: Float32Array) {
      if (sparseInfer) net.inferSparse(x);
      else net.forward(x, 1);
    },
    dispose() {},
  };
}
