/**
 * A quantized model as one dependency-free JavaScript module (`nnc quantize -o model.q.js`):
 * `meta`, and `createModel()` whose `forward(x, n)` / `predict(x, n)` run the plan's steps in
 * straight-line code. In the `int8` module every product is a WebAssembly SIMD kernel
 * (`codegen/wasm/int8.ts`) over 8-bit values, its weights embedded as int8 with a float32 scale
 * per output channel and a float32 bias (added after the requantization, in float); the float
 * steps are JavaScript. The `float` module is the same program with float products and a hook
 * that sees each product's input: the calibration runs it. Every buffer is made by `createModel`;
 * a forward pass allocates nothing.
 */
import { encodeModule } from "../codegen/wasm/encode.js";
import type { WasmFunction } from "../codegen/wasm/encode.js";
import { maxpoolFunction } from "../codegen/wasm/pooling.js";
import { describeInt8Product, int8ProductKernel, int8QuantizeKernel, int8UnfoldKernel, type Int8Product, type Int8Quantize } from "../codegen/wasm/int8.js";
import { activationCode } from "../codegen/ts/activations.js";
import { stringLiteral } from "../codegen/names.js";
import { base64, HELPERS } from "./helpers.js";
import type { Activation } from "../program.js";
import type { Plan, ProductStep, Step } from "./plan.js";
import type { Int8Layer } from "./scheme.js";

export interface EmitOptions {
  readonly mode: "int8" | "float";
  /** float: the float model's parameters, laid out as the plan's entries say. */
  readonly params?: Float32Array;
  /** int8: each product's quantized weights and input parameters, in the plan's order of products (`quantizeLayers`). */
  readonly layers?: readonly Int8Layer[];
  /** Samples per pass (larger batches are cut into passes). */
  readonly maxBatch: number;
  /** What the header says about the calibration. */
  readonly calibration?: string;
}

export interface Emitted {
  readonly js: string;
  /** Bytes of the embedded parameters (int8 values, float32 scales and biases; float32 in the float module). */
  readonly payloadBytes: number;
  /** Layers whose products run in int8, and the float steps by layer. */
  readonly int8: readonly string[];
  readonly float: readonly string[];
}

const ALIGN = 16;
const up = (x: number, to: number): number => Math.ceil(x / to) * to;
const bytes = (a: Int8Array | Float32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

export function emitQuantized(plan: Plan, o: EmitOptions): Emitted {
  const int8 = o.mode === "int8";
  const products = plan.steps.filter((s): s is Step & ProductStep => s.kind === "product");
  const N = o.maxBatch;
  const inputSize = plan.inputShape.reduce((a, b) => a * b, 1);
  const widest = Math.max(inputSize, ...plan.steps.map((s) => s.outSize));
  // Memory: per product its i16 weights, scales, biases; two f32 buffers taking turns; the
  // quantized image of a convolution's input; the rows a product reads.
  let at = 0;
  const take = (n: number): number => ((at = up(at, ALIGN)), (at += n), at - n);
  const bufA = take(4 * N * widest);
  const bufB = take(4 * N * widest);
  const image = take(2 * N * Math.max(0, ...products.filter((p) => p.word === "conv2d").map((p) => p.inSize)));
  const rowValues = N * Math.max(8, ...products.map((p) => p.windows * up(p.k, 8)));
  const rows = take(2 * rowValues);
  const positions = int8 ? take(4 * N * Math.max(0, ...plan.steps.map((s) => (s.kind === "pool" ? s.outSize : 0)))) : 0;
  let pools = 0;
  const kernels: Int8Product[] = [];
  const payload: string[] = [];
  let payloadBytes = 0;
  const code: string[] = [];
  const used = new Set<string>();
  const call = (helper: string, args: string): void => void (used.add(helper), code.push(`${helper}(${args});`));
  let src = "A";
  let srcAt = bufA;
  const others: WasmFunction[] = [];
  const docs: string[] = [];
  const floatSteps: string[] = [];
  let p = 0;
  for (const s of plan.steps) {
    const dst = src === "A" ? "B" : "A";
    const dstAt = src === "A" ? bufB : bufA;
    if (s.kind === "product") {
      const kp = up(s.k, 8);
      const params = o.params ?? new Float32Array(0);
      const w = params.subarray(s.weight.offset, s.weight.offset + s.weight.size);
      const b = int8 ? (o.layers?.[p]?.bias ?? new Float32Array(0)) : s.bias !== undefined ? params.subarray(s.bias.offset, s.bias.offset + s.bias.size) : new Float32Array(0);
      const fused = int8 && s.activation.kind === "relu";
      code.push(`// ${s.layer}: ${s.word} [${s.k}] → [${s.m}]${s.windows > 1 ? ` at ${s.windows} positions` : ""}, ${int8 ? "int8" : "float"} product${fused ? " with relu" : ""}`);
      const g = s.g;
      const geo = g ? `${g.h}, ${g.w}, ${g.c}, ${g.kh}, ${g.kw}, ${g.sh}, ${g.sw}, ${g.pt}, ${g.pl}, ${g.oh}, ${g.ow}` : "";
      if (int8) {
        const q = o.layers?.[p];
        if (q === undefined) throw new Error(`bug: no int8 weights for ${s.layer}`);
        const a = q.input;
        const k: Int8Product = { name: `product${p}`, x: rows, w: take(2 * s.m * kp), scale: take(4 * s.m), bias: take(4 * s.m), y: dstAt, k: kp, m: s.m, relu: fused };
        kernels.push(k);
        payload.push(`{ w: ${stringLiteral(base64(bytes(q.q)))}, scales: ${stringLiteral(base64(bytes(q.scales)))}, bias: ${stringLiteral(base64(bytes(b)))}, k: ${s.k}, m: ${s.m}, kp: ${kp}, at: [${k.w}, ${k.scale}, ${k.bias}], inScale: ${a.scale}, zero: ${a.zero} },`);
        payloadBytes += q.q.length + 4 * q.scales.length + 4 * b.length;
        const inv = Math.fround(1 / a.scale);
        // The input to 8 bits: a kernel when each sample's values come in eights, else JavaScript (rows padded to kp).
        const to = g ? { at: image, name: "image", k: s.inSize, kp: s.inSize } : { at: rows, name: "rows", k: s.k, kp };
        if (to.k % 8 === 0 && to.k === to.kp) {
          const qk: Int8Quantize = { name: `quantize${p}`, src: srcAt, dst: to.at, k: to.k, inv, zero: a.zero };
          others.push(int8QuantizeKernel(qk));
          docs.push(`quantize${p}(n): [n, ${to.k}] f32 → i16 q − ${a.zero}, q = clamp(nearest(x / ${a.scale}) + ${a.zero}, 0, 255)`);
          code.push(`kernels.quantize${p}(n);`);
        } else call("quantizeRows", `${src}, n, ${to.k}, ${to.name}, ${to.kp}, ${inv}, ${a.zero}`);
        if (g) {
          others.push(int8UnfoldKernel({ ...g, name: `unfold${p}`, image, rows, kp }));
          docs.push(`unfold${p}(n): the ${g.kh}×${g.kw} windows of [n, ${g.h}, ${g.w}, ${g.c}] i16 → [n·${g.oh * g.ow}, ${kp}] i16`);
          code.push(`kernels.unfold${p}(n);`);
        }
        code.push(`kernels.${k.name}(n${s.windows > 1 ? ` * ${s.windows}` : ""});`);
      } else {
        payload.push(`{ w: ${stringLiteral(base64(bytes(w)))}, bias: ${stringLiteral(base64(bytes(b)))} },`);
        payloadBytes += 4 * (w.length + b.length);
        code.push(`observe(${p}, ${src}, n * ${s.inSize});`);
        if (g) call("unfold", `${src}, n, ${geo}, rowsF, ${s.k}`);
        call("productFloat", `${g ? "rowsF" : src}, n * ${s.windows}, ${s.k}, weights[${p}].w, weights[${p}].bias, ${s.m}, ${dst}`);
      }
      if (!fused) activate(s.activation, dst, s.outSize, s.m, s.layer);
      p++;
    } else if (s.kind === "pool") {
      const g = s.g;
      code.push(`// ${s.layer}: ${s.op}pool2d ${g.kh}×${g.kw}, float`);
      const inside = g.pt === 0 && g.pl === 0 && (g.oh - 1) * g.sh + g.kh <= g.h && (g.ow - 1) * g.sw + g.kw <= g.w;
      if (int8 && s.op === "max" && g.c % 4 === 0 && inside) {
        // The float target's max-pooling kernel (its positions go to a scratch nobody reads).
        others.push(maxpoolFunction({ ...g, name: `pool${pools}`, x: srcAt, out: dstAt, arg: positions }));
        docs.push(`pool${pools}(n): ${g.kh}×${g.kw} max pooling, stride ${g.sh}×${g.sw}, f32, 4 channels at a time`);
        code.push(`kernels.pool${pools++}(n);`);
      } else call(`${s.op}pool`, `${src}, n, ${g.h}, ${g.w}, ${g.c}, ${g.kh}, ${g.kw}, ${g.sh}, ${g.sw}, ${g.pt}, ${g.pl}, ${g.oh}, ${g.ow}, ${dst}`);
      floatSteps.push(s.layer);
    } else {
      code.push(`// ${s.layer}: activation, float`);
      code.push(`${dst}.set(${src}.subarray(0, n * ${s.inSize}));`);
      activate(s.activation, dst, s.outSize, s.outSize, s.layer);
    }
    src = dst;
    srcAt = dstAt;
  }

  /** The activation over n samples of `size` values of y, in rows of m (softmax's rows). */
  function activate(a: Activation, y: string, size: number, m: number, layer: string): void {
    if (a.kind === "linear") return;
    floatSteps.push(`${layer} (${a.kind})`);
    const count = `n * ${size}`;
    if (a.kind === "softmax") return call("softmax", `${y}, ${size === m ? "n" : `n * ${size / m}`}, ${m}`);
    const c = activationCode(a.kind);
    for (const h of c.helpers ?? []) used.add(h.replace(/: number/g, ""));
    code.push(`for (let i = 0; i < ${count}; i++) {`, `const v = ${y}[i];`, `${y}[i] = ${c.fwd("v", String(a.alpha))};`, `}`);
  }

  const pages = Math.ceil(Math.max(at, 1) / 65536);
  const out: string[] = [
    `// ${plan.name}, quantized by nnc (${int8 ? "int8" : "float calibration module"}). ${o.calibration ?? ""}`.trimEnd(),
    `// Inference only: forward(x, n) and predict(x, n) take n rows of ${inputSize} preprocessed values.`,
  ];
  if (int8) {
    const hex = Array.from(encodeModule(pages, [...kernels.map(int8ProductKernel), ...others]), (b) => b.toString(16).padStart(2, "0")).join("");
    out.push(
      `// Weights: int8, symmetric per output channel; activations: uint8 per tensor (x ≈ (q − zero)·scale).`,
      `// Each product runs in WebAssembly SIMD (i32x4.dot_i16x8_s on values widened to i16: exact int32`,
      `// sums), then float32: sum · inScale·scale[o] + bias[o]. The kernels (${hex.length / 2} bytes, memory ${pages} × 64 KiB):`,
      ...kernels.map((k) => `//   ${describeInt8Product(k)}`),
      ...docs.map((d) => `//   ${d}`),
      `const kernelHex = ${stringLiteral(hex)};`,
    );
  }
  out.push(
    HELPERS.bytesOf as string,
    `const payload = [`,
    ...payload,
    `];`,
    ...[...used].map((h) => HELPERS[h] ?? h),
    `export const meta = { name: ${stringLiteral(plan.name)}, inputShape: [${plan.inputShape.join(", ")}], inputSize: ${inputSize}, outputSize: ${plan.outputSize}, maxBatch: ${N}, bytes: ${at}, kind: ${stringLiteral(o.mode)} };`,
    `export function createModel(${int8 ? "" : "observe"}) {`,
  );
  if (int8) {
    out.push(
      `const hexBytes = new Uint8Array(kernelHex.length / 2);`,
      `for (let i = 0; i < hexBytes.length; i++) hexBytes[i] = parseInt(kernelHex.slice(2 * i, 2 * i + 2), 16);`,
      `const kernels = new WebAssembly.Instance(new WebAssembly.Module(hexBytes), {}).exports;`,
      `const heap = kernels.memory.buffer;`,
      `// Weights widened to i16 in rows of kp (zeros after k); scale = inScale · channel scale.`,
      `for (const l of payload) {`,
      `const q = new Int8Array(bytesOf(l.w).buffer);`,
      `const w = new Int16Array(heap, l.at[0], l.m * l.kp);`,
      `for (let o = 0; o < l.m; o++) for (let i = 0; i < l.k; i++) w[o * l.kp + i] = q[o * l.k + i];`,
      `const scales = new Float32Array(bytesOf(l.scales).buffer);`,
      `const scale = new Float32Array(heap, l.at[1], l.m);`,
      `for (let o = 0; o < l.m; o++) scale[o] = l.inScale * scales[o];`,
      `if (l.bias.length > 0) new Float32Array(heap, l.at[2], l.m).set(new Float32Array(bytesOf(l.bias).buffer));`,
      `}`,
      `const image = new Int16Array(heap, ${image}, ${(rows - image) / 2});`,
      `const rows = new Int16Array(heap, ${rows}, ${rowValues});`,
    );
  } else {
    out.push(
      `const heap = new ArrayBuffer(${at});`,
      `const weights = payload.map((l) => ({ w: new Float32Array(bytesOf(l.w).buffer), bias: new Float32Array(bytesOf(l.bias).buffer) }));`,
      `const rowsF = new Float32Array(${N * Math.max(1, ...products.map((p) => p.windows * p.k))});`,
    );
  }
  out.push(
    `const A = new Float32Array(heap, ${bufA}, ${N * widest});`,
    `const B = new Float32Array(heap, ${bufB}, ${N * widest});`,
    `let output = new Float32Array(0);`,
    `function pass(n) {`,
    ...code,
    `return ${src};`,
    `}`,
    `function forward(x, n) {`,
    `if (output.length < n * ${plan.outputSize}) output = new Float32Array(n * ${plan.outputSize});`,
    `for (let start = 0; start < n; start += ${N}) {`,
    `const m = Math.min(${N}, n - start);`,
    `A.set(x.subarray(start * ${inputSize}, (start + m) * ${inputSize}));`,
    `output.set(pass(m).subarray(0, m * ${plan.outputSize}), start * ${plan.outputSize});`,
    `}`,
    `return output.subarray(0, n * ${plan.outputSize});`,
    `}`,
    `return { meta, forward, predict: (x, n) => forward(x, n).slice() };`,
    `}`,
  );
  const js = out.join("\n") + "\n";
  return { js, payloadBytes, int8: products.map((s) => s.layer), float: floatSteps };
}
