/**
 * Test helper for the ONNX target: a program exported with `exportOnnx`, run in ONNX Runtime
 * (onnxruntime-web's wasm backend, in Node), against nnc's own `predict` (the generated module,
 * float32) on the same weights and random inputs.
 *
 * Weights: the seeded initialization, then every bias, batchnorm γ/β and running mean moved off
 * its initial value and every running variance drawn in [0.5, 2], so that each term of the
 * inference formulas is exercised (a freshly initialized batchnorm is the identity).
 * Inputs: uniform in [−1, 1); token ids (an input read by an `embedding`) whole numbers in
 * [0, V), plus an id below 0, one ≥ V and a fractional one, which nnc reads as zeros / rounds.
 */
import { mulberry32 } from "../../bench/data.js";
import * as ort from "onnxruntime-web";
import { compileToModule } from "../../compiler/load.js";
import type { Program } from "../../compiler/program.js";
import { exportOnnx, type OnnxExport } from "../../compiler/codegen/onnx/model.js";
import { shapeSize } from "../../compiler/ir.js";

ort.env.wasm.numThreads = 1;

/** The tolerance: |onnx − nnc| ≤ ATOL + RTOL·|nnc| for every output value. */
export const ATOL = 1e-5;
export const RTOL = 1e-5;

const rng = mulberry32;

export interface Parity {
  /** Largest |onnx − nnc| over every output value. */
  readonly maxAbs: number;
  /** Values outside ATOL + RTOL·|nnc|. */
  readonly outside: number;
  readonly values: number;
  readonly exported: OnnxExport;
  readonly outputDims: readonly number[];
}

/** Runs `program` both ways on `n` random samples. */
export async function parity(program: Program, n = 3, seed = 7): Promise<Parity> {
  const compiled = compileToModule(program, { maxBatch: n, kernels: "js", dtype: "float32" });
  if (compiled.value === undefined) throw new Error(`does not compile: ${compiled.diagnostics.map((d) => `${d.code} ${d.message}`).join("; ")}`);
  const model = compiled.value.createModel();
  model.init(program.model.seed);
  const draw = rng(seed);
  for (const e of model.layout) {
    const tensor = e.name.slice(e.name.lastIndexOf(".") + 1);
    for (let i = e.offset; i < e.offset + e.size; i++) {
      if (tensor === "running_var") model.params[i] = 0.5 + 1.5 * draw();
      else if (tensor === "gamma") model.params[i] = 0.5 + draw();
      else if (tensor === "running_mean" || tensor === "beta" || tensor.includes("bias")) model.params[i] = draw() - 0.5;
    }
  }
  const exported = exportOnnx(program, { layout: model.layout, params: model.params });
  if (exported.value === undefined) throw new Error(`does not export: ${exported.diagnostics.map((d) => `${d.code} ${d.message}`).join("; ")}`);

  const vocabulary = program.model.layers.find((l) => l.kind === "embedding") as { vocabulary?: number } | undefined;
  const feeds: Record<string, ort.Tensor> = {};
  const perInput = program.model.inputs.map((inp) => {
    const size = shapeSize(inp.shape);
    const v = new Float32Array(n * size);
    for (let i = 0; i < v.length; i++) v[i] = vocabulary?.vocabulary !== undefined ? Math.floor(draw() * vocabulary.vocabulary) : 2 * draw() - 1;
    if (vocabulary?.vocabulary !== undefined && v.length >= 4) {
      v[0] = 0; // padding first: a masked layer starts from the zero state
      v[1] = -1;
      v[2] = vocabulary.vocabulary + 2;
      v[3] = 2.4;
    }
    return { size, v, inp };
  });
  const session = await ort.InferenceSession.create(exported.value.bytes);
  perInput.forEach(({ v, inp }, k) => {
    feeds[session.inputNames[k] as string] = new ort.Tensor("float32", v, [n, ...inp.shape]);
  });
  const total = perInput.reduce((t, p) => t + p.size, 0);
  const packed = new Float32Array(n * total);
  for (let r = 0; r < n; r++) {
    let at = r * total;
    for (const p of perInput) {
      packed.set(p.v.subarray(r * p.size, (r + 1) * p.size), at);
      at += p.size;
    }
  }
  const expected = Float32Array.from(model.predict(packed, n));
  const result = await session.run(feeds);
  const out = result[session.outputNames[0] as string] as ort.Tensor;
  const got = out.data as Float32Array;
  if (got.length !== expected.length) throw new Error(`ONNX gives ${got.length} values (${out.dims.join("×")}), nnc ${expected.length}`);
  let maxAbs = 0;
  let outside = 0;
  for (let i = 0; i < got.length; i++) {
    const d = Math.abs((got[i] as number) - (expected[i] as number));
    if (!(d <= maxAbs)) maxAbs = d;
    if (!(d <= ATOL + RTOL * Math.abs(expected[i] as number))) outside++;
  }
  await session.release();
  return { maxAbs, outside, values: got.length, exported: exported.value, outputDims: out.dims };
}
