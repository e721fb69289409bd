/**
 * Whole modules with `kernels: "wasm"`: the SIMD kernels must change nothing but float32
 * rounding. Each example and a set of networks that exercise every kernel epilogue (bias,
 * ReLU, dropout mask, ReLU derivative, odd batch sizes) is trained side by side with the
 * all-TypeScript module from the same weights; losses, gradients and weights must agree. The
 * gradients of the wasm module are also checked against central finite differences.
 */
import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { compileProgram } from "../../compiler/compile.js";
import { compileToModule, defaultKernels, simdSupported } from "../../compiler/load.js";
import type { CompiledModel } from "../../compiler/model-api.js";
import { program, source, type NetSpec } from "./programs.js";

const root = join(import.meta.dirname, "..", "..");

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/** A batch of n samples: inputs with some exact zeros, one-hot (or 0/1) targets. */
function batch(m: CompiledModel, n: number, seed: number): { x: Float32Array; y: Float32Array } {
  const r = rng(seed);
  const x = new Float32Array(n * m.meta.inputSize).map(() => (r() < 0.3 ? 0 : r() * 2 - 1));
  const k = m.meta.outputSize;
  const y = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    if (m.meta.loss === "cross_entropy") y[i * k + Math.floor(r() * k)] = 1;
    else for (let j = 0; j < k; j++) y[i * k + j] = r() < 0.5 ? 1 : 0;
  }
  return { x, y };
}

function models(src: string): { js: CompiledModel; wasm: CompiledModel; code: string } {
  const p = program(src);
  const js = compileToModule(p, { kernels: "js" }).value!.createModel();
  const wasm = compileToModule(p, { kernels: "wasm" }).value!.createModel();
  return { js, wasm, code: compileProgram(p, { target: "js", kernels: "wasm" }).value!.code };
}

/** max |a − b| / (max |a| + tiny) */
function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs((a[i] as number) - (b[i] as number)));
    m = Math.max(m, Math.abs(a[i] as number));
  }
  return d / (m + 1e-12);
}

/** Trains both side by side (batches of every size up to the largest) and compares. */
function sideBySide(js: CompiledModel, wasm: CompiledModel, o: { weightScale?: number; gradTol?: number } = {}): void {
  if (o.weightScale !== undefined) for (let i = 0; i < js.params.length; i++) js.params[i] = (js.params[i] as number) * o.weightScale;
  const gradTol = o.gradTol ?? 1e-5;
  const sizes = [...new Set([js.meta.maxBatch, 1, Math.min(5, js.meta.maxBatch), Math.min(7, js.meta.maxBatch)])];
  for (const [step, n] of sizes.entries()) {
    const { x, y } = batch(js, n, 100 + step);
    wasm.setState(js.getState()); // each batch size from the same weights and optimizer state
    const lj = js.lossAndGrad(x, y, n);
    const lw = wasm.lossAndGrad(x, y, n);
    expect(Math.abs(lj - lw) / (Math.abs(lj) + 1e-6), `loss at n = ${n}`).toBeLessThan(1e-4);
    // Each tensor's gradient on its own scale (a whole-vector ratio would hide a small layer).
    for (const e of js.layout) {
      const [gj, gw] = [js.grads.subarray(e.offset, e.offset + e.size), wasm.grads.subarray(e.offset, e.offset + e.size)];
      if (gj.some((v) => v !== 0)) expect(relDiff(gj, gw), `gradient of ${e.name} at n = ${n}`).toBeLessThan(gradTol);
    }
    expect(relDiff(js.forward(x, n), wasm.forward(x, n)), `forward at n = ${n}`).toBeLessThan(1e-4);
    const before = js.params.slice();
    js.trainStep(x, y, n, 0.05);
    wasm.trainStep(x, y, n, 0.05);
    const grads = js.grads; // this step's gradient (a dropout mask was drawn again)
    if (js.meta.optimizer === "sgd") expect(relDiff(js.params, wasm.params), `weights after a step at n = ${n}`).toBeLessThan(1e-4);
    else {
      // Adam and RMSprop divide by √v: a gradient within rounding of 0 may step either way.
      // Every other parameter must take the same step (gradients near ε = 1e-7 excepted: there
      // the step depends on the gradient's last digits).
      let gmax = 0;
      for (const v of grads) gmax = Math.max(gmax, Math.abs(v));
      for (let i = 0; i < before.length; i++) {
        if (Math.abs(grads[i] as number) < Math.max(1e-2 * gmax, 1e-5)) continue;
        const dj = (js.params[i] as number) - (before[i] as number);
        const dw = (wasm.params[i] as number) - (before[i] as number);
        if (!(Math.abs(dj - dw) <= 2e-3 * Math.abs(dj) + 1e-7)) throw new Error(`parameter ${i} at n = ${n}: step ${dw} with wasm kernels, ${dj} without`);
      }
    }
    // Moments (and batchnorm's running statistics, frozen: untouched by the update kernel).
    const [sj, sw] = [js.getState(), wasm.getState()];
    if (sj.optimizer.length > 0) expect(relDiff(sj.optimizer, sw.optimizer), `optimizer state after a step at n = ${n}`).toBeLessThan(1e-3);
    for (const e of js.layout.filter((t) => !t.trainable)) {
      expect(relDiff(js.params.subarray(e.offset, e.offset + e.size), wasm.params.subarray(e.offset, e.offset + e.size)), e.name).toBeLessThan(1e-5);
    }
  }
}

const NETS: Record<string, NetSpec> = {
  relu: { input: "12", layers: ["dense 16, relu", "dense 8, relu", "dense 4, softmax"], loss: "cross_entropy", batch: 9 },
  dropout: { input: "8", layers: ["dense 12, relu", "dropout 0.25", "dense 20, relu", "dropout 0.5", "dense 3, softmax"], loss: "cross_entropy", batch: 6 },
  noBias: { input: "16", layers: ["dense 8, relu, bias: false", "dense 2, sigmoid"], loss: "binary_cross_entropy", batch: 4, optimizer: "adam(lr: 0.01)" },
  momentum: { input: "8", layers: ["dense 12, relu", "dense 3, softmax"], loss: "cross_entropy", batch: 5, optimizer: "sgd(lr: 0.1, momentum: 0.9, weight_decay: 0.01)" },
  nesterov: { input: "8", layers: ["dense 12, relu", "dense 3, softmax"], loss: "cross_entropy", batch: 5, optimizer: "sgd(lr: 0.1, momentum: 0.8, nesterov: true)" },
  adamw: { input: "8", layers: ["dense 12, relu", "dense 3, softmax"], loss: "cross_entropy", batch: 5, optimizer: "adamw(lr: 0.01, weight_decay: 0.1)" },
  adamL2: { input: "8", layers: ["dense 12, relu", "dense 3, softmax"], loss: "cross_entropy", batch: 5, optimizer: "adam(lr: 0.01, weight_decay: 0.05)" },
  // Clipping and RMSprop keep the TypeScript optimizer loop next to wasm matrix kernels.
  clipped: { input: "8", layers: ["dense 12, relu", "dense 3, softmax"], loss: "cross_entropy", batch: 5, optimizer: "adam(lr: 0.01, clip_norm: 0.5)" },
  rmsprop: { input: "8", layers: ["dense 12, relu", "dense 3, softmax"], loss: "cross_entropy", batch: 5, optimizer: "rmsprop(lr: 0.01, momentum: 0.5)" },
  // Convolution geometry: valid and same padding, strides, overlapping pooling windows, 4 and 8 channels.
  convValid: { input: "[9, 9, 4]", layers: ["conv2d 8, 3, relu, stride: 2", "maxpool2d 2, stride: 1", "flatten", "dense 3, softmax"], loss: "cross_entropy", batch: 3, optimizer: "adam(lr: 0.01)" },
  convSame: { input: "[7, 6, 4]", layers: ["conv2d 4, 3, relu, padding: same", "conv2d 8, 2, padding: same", "maxpool2d 3, stride: 1", "flatten", "dense 2, sigmoid"], loss: "binary_cross_entropy", batch: 4 },
  // A convolution's input gradient through a strided, unpadded second convolution (col2im).
  convStride: { input: "[9, 9, 4]", layers: ["conv2d 4, 3, relu, padding: same", "conv2d 8, 3, tanh, stride: 2", "flatten", "dense 3, softmax"], loss: "cross_entropy", batch: 3, optimizer: "adam(lr: 0.01)" },
  // Pointwise (1×1) convolutions read their image as rows (the first one: the input's copy), then the kernel's row count is n·pixels.
  pointwise: { input: "[5, 5, 4]", layers: ["conv2d 8, 1, relu", "conv2d 4, 1, tanh", "conv2d 4, 3, relu, padding: same", "flatten", "dense 3, softmax"], loss: "cross_entropy", batch: 3, optimizer: "adam(lr: 0.01)" },
  // Channels not a multiple of 4: the windows are unfolded and folded back 4 channels at a time, the rest one by one.
  convOddChannels: { input: "[7, 7, 3]", layers: ["conv2d 5, 3, relu, padding: same", "conv2d 6, 3, relu, stride: 2", "maxpool2d 3", "flatten", "dense 3, softmax"], loss: "cross_entropy", batch: 3, optimizer: "adam(lr: 0.01)" },
  // Frozen parameters: batchnorm's running statistics are outside the update kernel's ranges.
  // (No bias before a batchnorm: its exactly-zero gradient would make Adam's step a coin toss.)
  batchnorm: { input: "6", layers: ["dense 8, bias: false", "batchnorm momentum: 0.9", "activation relu", "dense 3, softmax"], loss: "cross_entropy", batch: 5, optimizer: "adamw(lr: 0.01, weight_decay: 0.01)" },
  batchnormConv: { input: "[4, 4]", layers: ["batchnorm", "conv2d 4, 3, relu", "flatten", "dense 3, softmax"], loss: "cross_entropy", batch: 5, optimizer: "sgd(lr: 0.1, momentum: 0.9)" },
  // ELU and sigmoid have no wasm epilogue: their layers keep the TypeScript kernel next to wasm ones.
  mixed: { input: "4", layers: ["dense 8, elu", "dense 12, relu", "dense 6, sigmoid", "dense 1"], loss: "mse", batch: 3 },
  // Also run with its weights ×30 below (saturated tanh).
  tanhWide: { input: "6", layers: ["dense 16, tanh", "dense 8, tanh", "dense 2, softmax"], loss: "cross_entropy", batch: 4 },
};

describe("kernels: wasm", () => {
  it("runs here, and is the default for float32 only", () => {
    expect(simdSupported()).toBe(true);
    expect(defaultKernels("float32")).toBe("wasm");
    expect(defaultKernels("float64")).toBe("js");
  });

  const examples = readdirSync(join(root, "examples")).filter((f) => f.endsWith(".nn"));
  for (const f of examples) {
    it(`${basename(f, ".nn")}: same losses, gradients and weights as the TypeScript kernels`, () => {
      const { js, wasm } = models(readFileSync(join(root, "examples", f), "utf8"));
      // The residual network's batchnorm gradients (sums over a batch of 64 × 196 positions
      // that nearly cancel) differ by 1–2e-5 from float32 rounding alone, whichever loop form
      // its convolutions take (dot or axpy: both measured up to 2.0e-5 on another batch).
      sideBySide(js, wasm, f === "fashion-resnet.nn" ? { gradTol: 3e-5 } : {});
    });
  }

  for (const [name, spec] of Object.entries(NETS)) {
    it(`${name}: same losses, gradients and weights as the TypeScript kernels`, () => {
      const { js, wasm, code } = models(source(spec));
      expect(code).toMatch(/kernels\.\w+\(n\)/);
      sideBySide(js, wasm);
    });
  }

  it("saturated tanh (weights ×30: pre-activations far past ±7.9): same outputs and loss", () => {
    const { js, wasm } = models(source(NETS["tanhWide"]!));
    // 1 − y² at y ≈ ±1 is all rounding: the gradients are compared loosely here.
    sideBySide(js, wasm, { weightScale: 30, gradTol: 5e-2 });
  });

  it("convolutions run as one kernel each, over the batch (a pointwise one over its n·pixels rows)", () => {
    const { code } = models(source(NETS["pointwise"]!));
    expect(code).toMatch(/kernels\.h1\(n \* 25\);/);
    expect(code).toMatch(/kernels\.h3\(n\);/);
    expect(code).not.toMatch(/let s00 = 0/); // no TypeScript tile left
    const odd = models(source(NETS["convOddChannels"]!)).code;
    for (const k of ["h1", "h2", "dw1", "dw2", "dh1"]) expect(odd, k).toMatch(new RegExp(`kernels\\.${k}\\(n\\);`));
  });

  it("the MLP example's products all run as kernels (none falls back)", () => {
    const { code } = models(readFileSync(join(root, "examples", "fashion-mnist.nn"), "utf8"));
    const products = code.match(/= (dense|matmul_tn|matmul_nn)\(.*\n\s*\{\n\s*kernels\.\w+\(n\);/g) ?? [];
    expect(products.length).toBe(8); // 3 forward, 3 weight gradients, 2 input gradients
    expect(code.match(/= sum_rows\(.*\n\s*\{\n\s*kernels\.\w+\(n\);/g)?.length).toBe(3); // the bias gradients: pointwise kernels
    expect(code).not.toMatch(/let s00 = 0/); // no TypeScript tile left
  });

  it("prepareKernels() compiles the kernels asynchronously (a browser's main thread), then createModel runs", async () => {
    const p = program(source(NETS["relu"]!));
    const code = compileProgram(p, { target: "js", kernels: "wasm" }).value!.code;
    const body = code.replace(/^export (const|function) /gm, "$1 ") + "\nreturn { prepareKernels, createModel };\n";
    const mod = new Function(body)() as { prepareKernels(): Promise<void>; createModel(): CompiledModel };
    await mod.prepareKernels();
    await mod.prepareKernels(); // a second call is a no-op
    const m = mod.createModel();
    const js = compileToModule(p, { kernels: "js" }).value!.createModel();
    const { x } = batch(m, 3, 5);
    expect(relDiff(js.forward(x, 3), m.forward(x, 3))).toBeLessThan(1e-5);
  });

  it("a model whose wasm memory would pass 2 GiB gets the TypeScript kernels and an NN3014 warning", () => {
    const p = program(source({ input: "3072", layers: ["dense 4, relu", "dense 3"], loss: "mse", batch: 8 }));
    const big = compileProgram(p, { target: "js", kernels: "wasm", maxBatch: 200_000 });
    expect(big.diagnostics.map((d) => `${d.code} ${d.severity}`)).toEqual(["NN3014 warning"]);
    expect(big.diagnostics[0]!.message).toMatch(/the wasm kernels would need \d+ MiB of memory at batch 200000; the limit is 2048 MiB/);
    expect(big.value!.code).not.toContain("WebAssembly");
    const small = compileToModule(p, { kernels: "wasm", maxBatch: 64 });
    expect(small.diagnostics).toEqual([]);
    const m = small.value!.createModel();
    // meta.bytes is the kernels' whole memory, input copy included.
    expect(m.meta.bytes % 65536).toBe(0);
    expect(m.meta.bytes).toBeGreaterThanOrEqual(4 * (2 * m.meta.paramCount + 64 * 3072));
  });

  it("gradients match central finite differences (float32, through the kernels)", () => {
    const { wasm } = models(source({ input: "8", layers: ["dense 12, relu", "dense 8, relu", "dense 4, softmax"], loss: "cross_entropy", batch: 5, seed: 3 }));
    const n = 5;
    const { x, y } = batch(wasm, n, 7);
    wasm.lossAndGrad(x, y, n);
    const g = wasm.grads.slice();
    const p = wasm.params;
    const r = rng(11);
    let checked = 0;
    for (let t = 0; t < 60; t++) {
      const i = Math.floor(r() * p.length);
      const old = p[i] as number;
      const h = 1e-2;
      p[i] = old + h;
      const up = wasm.loss(x, y, n);
      p[i] = old - h;
      const down = wasm.loss(x, y, n);
      p[i] = old;
      const fd = (up - down) / (2 * h);
      // ReLU kinks inside ±h make the difference quotient meaningless there; skip those.
      if (Math.abs(fd) < 1e-4 && Math.abs(g[i] as number) < 1e-4) continue;
      expect(Math.abs(fd - (g[i] as number)), `parameter ${i}: finite difference ${fd}, gradient ${g[i]}`).toBeLessThan(2e-3 + 0.02 * Math.abs(fd));
      checked++;
    }
    expect(checked).toBeGreaterThan(30);
  });
});
