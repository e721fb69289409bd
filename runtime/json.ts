/**
 * JSON text → Dataset. Two shapes are accepted:
 *
 *     [{"x": [0.1, 0.2], "y": 1}, ...]          records
 *     {"x": [[0.1, 0.2], ...], "y": [1, ...]}   columns
 *
 * `x` may be nested (an image as rows); it is flattened. `y` is a class index, a class name, a
 * number (regression) or an array (several targets, or a one-hot row). Browser-safe.
 */
import type { Diagnostic, Result } from "../grammar/diagnostics.js";
import { fitsFloat32, type Dataset } from "./dataset.js";
import { dataDiag, lineSpan } from "./span.js";

export interface JsonOptions {
  readonly labels: "class" | "value";
  /** Class names fitted on the training file, when its labels were names. */
  readonly classes?: readonly string[];
  /** Accept records without `y` (prediction input). */
  readonly labelOptional?: boolean;
  readonly file: string;
}

const MAX_ERRORS = 10;

export function parseJsonData(text: string, opts: JsonOptions): Result<Dataset | undefined> {
  const { file } = opts;
  const diagnostics: Diagnostic[] = [];
  const fail = (): Result<Dataset | undefined> => ({ value: undefined, diagnostics });
  // A byte-order mark (Windows editors write one) is not part of the JSON text.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const pos = /position (\d+)/.exec(msg);
    const at = pos ? positionOf(text, Number(pos[1])) : { line: 1, column: 1, offset: 0 };
    diagnostics.push(dataDiag(file, "jsonInvalid", lineSpan(at.line, at.column, 1, at.offset), [msg], "check the brackets, commas and quotes near this position"));
    return fail();
  }
  let xs: unknown[];
  let ys: unknown[] | undefined;
  if (Array.isArray(doc)) {
    xs = [];
    ys = [];
    for (let i = 0; i < doc.length; i++) {
      const r = doc[i] as { x?: unknown; y?: unknown } | null;
      if (r === null || typeof r !== "object" || Array.isArray(r) || !("x" in r)) {
        diagnostics.push(recordError(file, text, i, "is not an object with an `x` field"));
        if (diagnostics.length >= MAX_ERRORS) return fail();
        continue;
      }
      xs.push(r.x);
      ys.push(r.y);
    }
  } else if (doc !== null && typeof doc === "object" && Array.isArray((doc as { x?: unknown }).x)) {
    const d = doc as { x: unknown[]; y?: unknown };
    xs = d.x;
    if (d.y === undefined) ys = undefined;
    else if (!Array.isArray(d.y) || d.y.length !== xs.length) {
      diagnostics.push(
        dataDiag(file, "jsonInvalid", lineSpan(1), [`\`y\` must be an array as long as \`x\` (${xs.length})`], "give one label per sample"),
      );
      return fail();
    } else ys = d.y;
  } else {
    diagnostics.push(
      dataDiag(file, "jsonInvalid", lineSpan(1), ["expected an array of {\"x\", \"y\"} records or an object {\"x\": [...], \"y\": [...]}"],
        "see docs/training.md, section JSON"),
    );
    return fail();
  }
  if (diagnostics.length > 0) return fail();
  if (xs.length === 0) {
    diagnostics.push(dataDiag(file, "emptyData", lineSpan(1), [], "the file holds no samples"));
    return fail();
  }
  const n = xs.length;
  const first = flatten(xs[0]);
  const features = first?.length ?? 0;
  const x = new Float32Array(n * features);
  for (let i = 0; i < n && diagnostics.length < MAX_ERRORS; i++) {
    const v = i === 0 ? first : flatten(xs[i]);
    if (v === undefined) diagnostics.push(recordError(file, text, i, "`x` must be a number or a (nested) array of numbers"));
    else if (v.length !== features)
      diagnostics.push(recordError(file, text, i, `\`x\` has ${v.length} values, but the first record has ${features}`));
    else {
      const k = v.findIndex((u) => !fitsFloat32(u));
      if (k >= 0) diagnostics.push(outOfRange(file, text, i, `\`x\` (value ${k})`, v[k]!));
      else x.set(v, i * features);
    }
  }
  if (diagnostics.length > 0) return fail();

  // Labels.
  const hasLabels = ys !== undefined && ys.some((y) => y !== undefined);
  if (!hasLabels) {
    if (opts.labelOptional) return { value: { n, features, x, labelWidth: 0, y: new Float32Array(0), file }, diagnostics };
    diagnostics.push(dataDiag(file, "jsonInvalid", lineSpan(1), ["the samples have no labels (`y`)"], "add a `y` to every record"));
    return fail();
  }
  const labels = ys!;
  if (opts.labels === "class") {
    // 0 and "b" would both become class 0: a file gives its classes as numbers or as names.
    const num = labels.findIndex((y) => typeof y === "number");
    const str = labels.findIndex((y) => typeof y === "string");
    if (num >= 0 && str >= 0) {
      const later = Math.max(num, str);
      diagnostics.push(
        dataDiag(file, "mixedLabels", lineSpan(recordLine(text, later), 1), [`${labels[num]} in record ${num}`, `\`${labels[str]}\` in record ${str}`],
          `write every label as a class name (\`"${labels[num]}"\`) or every label as a class number counted from 0`),
      );
      return fail();
    }
  }
  let classes = opts.classes ? [...opts.classes] : undefined;
  if (!classes && opts.labels === "class" && labels.some((y) => typeof y === "string")) {
    classes = [...new Set(labels.filter((y): y is string => typeof y === "string"))].sort();
  }
  const w0 = Array.isArray(labels[0]) ? (labels[0] as unknown[]).length : 1;
  const y = new Float32Array(n * w0);
  for (let i = 0; i < n && diagnostics.length < MAX_ERRORS; i++) {
    const l = labels[i];
    if (typeof l === "string") {
      const k = classes ? classes.indexOf(l) : -1;
      if (opts.labels !== "class" || k < 0)
        diagnostics.push(
          recordError(file, text, i, opts.labels === "class" ? `the label \`${l}\` is not one of the classes ${classes?.join(", ") ?? ""}` : `the label \`${l}\` is not a number`),
        );
      else y[i] = k;
    } else if (typeof l === "number" && Number.isFinite(l) && w0 === 1) {
      if (!fitsFloat32(l)) diagnostics.push(outOfRange(file, text, i, "`y`", l));
      else y[i] = l;
    } else {
      const v = flatten(l);
      const bad = v?.findIndex((u) => !fitsFloat32(u)) ?? -1;
      if (v === undefined || v.length !== w0)
        diagnostics.push(recordError(file, text, i, `\`y\` must be ${w0 === 1 ? "a number" : `an array of ${w0} numbers`} like the first record's`));
      else if (bad >= 0) diagnostics.push(outOfRange(file, text, i, `\`y\` (value ${bad})`, v[bad]!));
      else y.set(v, i * w0);
    }
  }
  if (diagnostics.length > 0) return fail();
  const origin = new Int32Array(n);
  for (let i = 0; i < n; i++) origin[i] = i;
  return {
    value: { n, features, x, labelWidth: w0, y, ...(classes ? { classes } : {}), file, origin, originKind: "record" },
    diagnostics,
  };
}

/**
 * The numbers of a number or (nested) array of numbers, in order; undefined for anything else.
 * An explicit stack, not recursion: a value nested 100,000 deep (which JSON.parse accepts) is
 * walked in a loop instead of overflowing the call stack.
 */
function flatten(v: unknown): number[] | undefined {
  const out: number[] = [];
  const stack: { readonly a: readonly unknown[]; i: number }[] = [];
  let u: unknown = v;
  for (;;) {
    if (typeof u === "number") {
      if (!Number.isFinite(u)) return undefined;
      out.push(u);
    } else if (Array.isArray(u)) {
      stack.push({ a: u, i: 0 });
    } else return undefined;
    // The next element: from the innermost array that has one left.
    let top = stack[stack.length - 1];
    while (top !== undefined && top.i >= top.a.length) {
      stack.pop();
      top = stack[stack.length - 1];
    }
    if (top === undefined) return out;
    u = top.a[top.i++];
  }
}

function positionOf(text: string, offset: number): { line: number; column: number; offset: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1, offset };
}

/** A message about record i (0-based); points at its line when the records are one per line. */
function outOfRange(file: string, text: string, i: number, what: string, v: number): Diagnostic {
  return dataDiag(file, "notFloat32", lineSpan(recordLine(text, i), 1), [`record ${i}: ${what}`, String(v)],
    "rescale it (another unit, or its logarithm) or fix the value");
}

function recordError(file: string, text: string, i: number, what: string): Diagnostic {
  const at = recordLine(text, i);
  return dataDiag(file, "jsonInvalid", lineSpan(at, 1), [`record ${i}: ${what}`], "every record needs the same shape of `x` and `y`");
}

/** Line of the i-th element of the top-level array (or of x), found by a bracket-depth scan. */
function recordLine(text: string, index: number): number {
  let depth = 0;
  let count = -1;
  let line = 1;
  let inString = false;
  let target = 1;
  for (let p = 0; p < text.length; p++) {
    const c = text[p]!;
    if (c === "\n") line++;
    if (inString) {
      if (c === "\\") p++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === "[" || c === "{") {
      depth++;
      if (depth === 2 || (depth === 3 && text.trimStart()[0] === "{")) {
        count++;
        if (count === index) return line;
      }
    } else if (c === "]" || c === "}") depth--;
  }
  return target;
}
