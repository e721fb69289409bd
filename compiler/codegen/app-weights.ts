/**
 * The deployable module's weights (`nnc export`, `app.ts`): the text of `paramsOf`, which takes
 * a weights.json and checks it against the module's layout, preprocessing, classes and
 * vocabulary before its parameters are used, and, when the weights are embedded, the base64 of
 * the trained parameters with `embeddedParams`, which decodes them.
 */
import type { AppSpec } from "./app.js";

/** `paramsOf` and `samePreprocessing`, then with embedded weights `embeddedParams` and `WEIGHTS`. `t`: a type annotation in TypeScript, nothing in JavaScript. */
export function weightsFunctions(spec: AppSpec, t: (annotation: string) => string): string[] {
  const named = spec.classNames !== undefined;
  const out = [
    "",
    "/** The parameters of a weights file, checked against this module's layout and preprocessing. */",
    `function paramsOf(weights${t(": WeightsFile | string")})${t(": Float32Array")} {`,
    `  const w${t(": WeightsFile")} = typeof weights === "string" ? JSON.parse(weights) : weights;`,
    "  if (w === null || typeof w !== \"object\" || w.format !== \"nnc-weights\" || !Array.isArray(w.params))",
    "    throw new Error(\"not an nnc weights file: pass the weights.json that `nnc train` wrote\");",
    "  if (w.params.length !== meta.paramCount)",
    "    throw new Error(`the weights hold ${w.params.length} parameters; this model has ${meta.paramCount}`);",
    "  for (const e of layout) {",
    "    const f = (w.layout ?? []).find((x) => x.name === e.name);",
    "    if (f === undefined || f.offset !== e.offset || f.size !== e.size)",
    "      throw new Error(`the weights do not fit this model (tensor ${e.name}): export again with them`);",
    "  }",
    "  if (!samePreprocessing(w.preprocess))",
    "    throw new Error(\"the weights were trained with other preprocessing or classes than this module holds: export again with them\");",
    "  const params = new Float32Array(w.params.length);",
    "  for (let i = 0; i < params.length; i++) {",
    "    const v = w.params[i];",
    "    if (typeof v !== \"number\") throw new Error(`parameter ${i} of the weights is not a number`);",
    "    params[i] = v;",
    "  }",
    "  return params;",
    "}",
    "",
    "/** Whether a weights file's preprocessing is this module's (no shift and divide when nothing was fitted). */",
    `function samePreprocessing(p${t(': WeightsFile["preprocess"] | undefined')})${t(": boolean")} {`,
    "  if (p === null || typeof p !== \"object\" || p.scale !== preprocessing.scale) return false;",
    `  const fitted = p.normalize !== "none" && Array.isArray(p.shift) && p.shift.length === ${spec.inputSize} && Array.isArray(p.divide);`,
    `  for (let j = 0; j < ${spec.inputSize}; j++) {`,
    "    if ((fitted ? p.shift[j] : 0) !== preprocessing.shift[j] || (fitted ? p.divide[j] : 1) !== preprocessing.divide[j]) return false;",
    "  }",
    named
      ? `  const names${t(": readonly unknown[]")} = p.classes ?? [];`
      : `  const names${t(": readonly unknown[]")} = p.classes ?? classes;`,
    ...(spec.columns.some((c) => c.text !== undefined)
      ? [
          "  // A text model: the same vocabulary, token for token.",
          "  const vocabulary = columns.find((c) => c.text !== undefined)?.text?.tokens ?? [];",
          "  const saved = p.tokenizer?.tokens;",
          "  if (!Array.isArray(saved) || saved.length !== vocabulary.length || saved.some((tok, k) => tok !== vocabulary[k])) return false;",
        ]
      : []),
    "  return names.length === classes.length && names.every((c, k) => c === classes[k]);",
    "}",
  ];
  if (spec.embedded !== undefined) {
    out.push(
      "",
      "/** The embedded weights: base64 of the parameters as little-endian float32. */",
      `function embeddedParams()${t(": Float32Array")} {`,
      "  const digits = \"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/\";",
      "  const bytes = new Uint8Array((WEIGHTS.length / 4) * 3);",
      "  for (let i = 0, o = 0; i < WEIGHTS.length; i += 4, o += 3) {",
      "    const n =",
      "      (digits.indexOf(WEIGHTS[i]) << 18) | (digits.indexOf(WEIGHTS[i + 1]) << 12) |",
      "      (Math.max(0, digits.indexOf(WEIGHTS[i + 2])) << 6) | Math.max(0, digits.indexOf(WEIGHTS[i + 3]));",
      "    bytes[o] = n >> 16;",
      "    bytes[o + 1] = (n >> 8) & 255;",
      "    bytes[o + 2] = n & 255;",
      "  }",
      "  const view = new DataView(bytes.buffer);",
      "  const params = new Float32Array(meta.paramCount);",
      "  for (let i = 0; i < params.length; i++) params[i] = view.getFloat32(i * 4, true);",
      "  return params;",
      "}",
      "",
      `// ${spec.embedded.length} parameters, ${spec.embedded.length * 4} bytes.`,
      `const WEIGHTS = "${base64(spec.embedded)}";`,
    );
  }
  return out;
}

/** Base64 (standard alphabet, padded) of float32 values, little-endian. */
function base64(values: Float32Array): string {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  const digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  let s = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    s += digits[(n >> 18) & 63]! + digits[(n >> 12) & 63]!;
    s += i + 1 < bytes.length ? digits[(n >> 6) & 63]! : "=";
    s += i + 2 < bytes.length ? digits[n & 63]! : "=";
  }
  return s;
}
