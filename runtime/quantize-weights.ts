/**
 * `weights.int8.json`: the int8 products of a quantized model, as `nnc train` writes them beside
 * `weights.json` when the file says `quantize` — per product its int8 weights, float32 channel
 * scales and bias (base64 of little-endian bytes) and its input's 8-bit parameters, with the
 * calibration that set them and a fingerprint of the float weights they came from. `nnc eval`
 * and `nnc export --quantized` read it and write the int8 module again from it (the module text
 * is never read back), so a file that was edited is one NN5004; one that belongs to other float
 * weights (`--weights` from elsewhere) is NN5004 as a warning, and the comparison is left out.
 */
import type { Result } from "../grammar/diagnostics.js";
import { FILE_START } from "../grammar/span.js";
import type { Plan, ProductStep, Step } from "../compiler/quantize/plan.js";
import { base64 } from "../compiler/quantize/helpers.js";
import { CALIBRATIONS, type Calibration, type Int8Layer } from "../compiler/quantize/scheme.js";
import { hashFloats } from "./hash.js";
import { dataDiag } from "./span.js";

export const INT8_FORMAT = "nnc-int8-weights";
export const INT8_FILE = "weights.int8.json";
export const INT8_MODULE_FILE = "model.q.js";

export interface Int8Weights {
  readonly layers: readonly Int8Layer[];
  readonly calibration: Calibration;
  readonly samples: number;
}

const bytesOf = (a: Int8Array | Float32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** The file's text: one product per line. */
export function encodeInt8Weights(plan: Plan, floatParams: Float32Array, w: Int8Weights): string {
  const products = productsOf(plan);
  const lines = w.layers.map((l, p) =>
    JSON.stringify({
      layer: products[p]!.layer,
      k: products[p]!.k,
      m: products[p]!.m,
      input: { scale: l.input.scale, zero: l.input.zero },
      weights: base64(bytesOf(l.q)),
      scales: base64(bytesOf(l.scales)),
      bias: base64(bytesOf(l.bias)),
    }),
  );
  const head = { format: INT8_FORMAT, version: 1, model: plan.name, float: hashFloats([floatParams]), calibration: { method: w.calibration, samples: w.samples } };
  return `${JSON.stringify(head, null, 1).slice(0, -2)},\n "products": [\n  ${lines.join(",\n  ")}\n ]\n}\n`;
}

/** Parses and checks the file against the plan and the float weights it must come from. */
export function decodeInt8Weights(text: string, plan: Plan, floatParams: Float32Array, file: string, floatFile: string): Result<Int8Weights | undefined> {
  const bad = (why: string, hint = "the file was edited or damaged; train again (or remove it)"): Result<undefined> => ({
    value: undefined,
    diagnostics: [dataDiag(file, "weightsMismatch", FILE_START, [file, why], hint)],
  });
  let w: Record<string, unknown>;
  try {
    w = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    return bad(`it is not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (w === null || typeof w !== "object" || w["format"] !== INT8_FORMAT || !Array.isArray(w["products"])) return bad("it is not an nnc int8 weights file");
  if (w["model"] !== plan.name) return bad(`it belongs to model ${JSON.stringify(w["model"])}, not ${plan.name}`);
  if (w["float"] !== hashFloats([floatParams])) {
    // Not damage: the float weights were given from elsewhere (`--weights`). A warning, and no comparison.
    const d = bad(`it was quantized from other weights than ${floatFile}`, `the int8 comparison is left out; train again with \`quantize\` in train { … }, so that both files come from the same run`);
    return { value: undefined, diagnostics: d.diagnostics.map((x) => ({ ...x, severity: "warning" as const })) };
  }
  const cal = w["calibration"] as Record<string, unknown> | null;
  const method = cal?.["method"];
  const samples = cal?.["samples"];
  if (typeof method !== "string" || !(CALIBRATIONS as readonly string[]).includes(method) || typeof samples !== "number" || !Number.isInteger(samples) || samples < 1)
    return bad("its `calibration` is damaged");
  const products = productsOf(plan);
  const given = w["products"] as unknown[];
  if (given.length !== products.length) return bad(`it holds ${given.length} products, the model has ${products.length}`);
  const layers: Int8Layer[] = [];
  for (let p = 0; p < products.length; p++) {
    const s = products[p]!;
    const g = given[p] as Record<string, unknown> | null;
    if (g === null || typeof g !== "object" || g["layer"] !== s.layer || g["k"] !== s.k || g["m"] !== s.m) return bad(`product ${p} is not layer ${s.layer} [${s.k}] → [${s.m}]`, "the model changed since training; train again");
    const input = g["input"] as Record<string, unknown> | null;
    const scale = input?.["scale"];
    const zero = input?.["zero"];
    if (typeof scale !== "number" || !(scale > 0) || !Number.isFinite(scale) || typeof zero !== "number" || !Number.isInteger(zero) || zero < 0 || zero > 255)
      return bad(`the input parameters of ${s.layer} are damaged`);
    const q = decode(g["weights"], s.m * s.k);
    const scales = decode(g["scales"], 4 * s.m);
    const bias = decode(g["bias"], s.bias !== undefined ? 4 * s.m : 0);
    if (q === undefined || scales === undefined || bias === undefined) return bad(`the weights, scales or bias of ${s.layer} are damaged (base64 of ${s.m * s.k}, ${4 * s.m} and ${s.bias !== undefined ? 4 * s.m : 0} bytes expected)`);
    const layer: Int8Layer = { q: new Int8Array(q.buffer), scales: new Float32Array(scales.buffer), bias: new Float32Array(bias.buffer), input: { scale, zero } };
    if (layer.q.some((v) => v < -127)) return bad(`a weight of ${s.layer} is −128, outside the symmetric range`);
    if (!layer.scales.every((v) => v > 0 && Number.isFinite(v)) || !layer.bias.every(Number.isFinite)) return bad(`a scale or bias of ${s.layer} is not a finite number (scales above 0)`);
    layers.push(layer);
  }
  return { value: { layers, calibration: method as Calibration, samples }, diagnostics: [] };
}

function productsOf(plan: Plan): (Step & ProductStep)[] {
  return plan.steps.filter((s): s is Step & ProductStep => s.kind === "product");
}

const DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Strict base64 of exactly `size` bytes, into a fresh (aligned) buffer; undefined when it is not. */
function decode(text: unknown, size: number): Uint8Array | undefined {
  if (typeof text !== "string" || text.length !== 4 * Math.ceil(size / 3) || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  const out = new Uint8Array(size);
  for (let i = 0, o = 0; i < text.length; i += 4) {
    const d = [0, 1, 2, 3].map((j) => DIGITS.indexOf(text[i + j]!));
    const n = ((d[0]! & 63) << 18) | ((d[1]! & 63) << 12) | ((Math.max(0, d[2]!) & 63) << 6) | (Math.max(0, d[3]!) & 63);
    for (const b of [n >> 16, (n >> 8) & 255, n & 255]) if (o < size) out[o++] = b;
  }
  return out;
}
