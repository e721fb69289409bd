/**
 * The deployable module (`nnc export`): the generated model module, followed by what an
 * application needs to use it on raw records — the columns and their order, the one-hot
 * layout of categorical columns, the missing-value policy, the fitted preprocessing, the class
 * names, optionally the trained weights — and `createPredictor`, which turns records into
 * predictions in chunks of the model's largest batch.
 *
 * Every string from data (column names, categories, class names, input names) reaches the
 * code only through `stringLiteral`, every number through `numberLiteral`, every path through
 * `commentText`. Browser-safe; the CLI fills in the `AppSpec` from a weights file.
 *
 * This file holds the spec and the module's order; the functions that encode a record are
 * `app-records.ts`, those that read and check the weights `app-weights.ts`.
 */
import { WORD_PATTERN } from "../program.js";
import { commentText, numberLiteral, stringLiteral } from "./names.js";
import { recordFunctions } from "./app-records.js";
import { weightsFunctions } from "./app-weights.js";

export type AppTask =
  | { readonly kind: "multiclass"; readonly classes: number }
  | { readonly kind: "binary"; readonly threshold: number }
  | { readonly kind: "multilabel"; readonly outputs: number; readonly threshold: number }
  | { readonly kind: "regression"; readonly outputs: number };

/** One column a record must hold, in the order the columns fill a row of the model's input. */
export interface AppColumn {
  readonly name: string;
  /** Categories of a categorical column, one-hot in this order; undefined for a numeric column. */
  readonly categories?: readonly string[];
  /** The value a missing numeric cell becomes (`missing: mean` or `zero`); undefined otherwise. */
  readonly fill?: number;
  /** A text column: its tokenizer as fitted in training (`length` ids, 0 padding at the end, 1 unknown, then `tokens`). */
  readonly text?: AppTokenizer;
}

export interface AppTokenizer {
  readonly kind: "chars" | "words";
  readonly length: number;
  readonly lowercase: boolean;
  readonly tokens: readonly string[];
}

/** One of the model's inputs and the columns that fill it. */
export interface AppInput {
  readonly name: string;
  readonly columns: readonly string[];
  readonly offset: number;
  readonly size: number;
}

export interface AppSpec {
  readonly target: "ts" | "js";
  /** The model module, as `compileProgram` wrote it for `target`. */
  readonly modelCode: string;
  /** For the header comment: the `.nn` file and the weights file the module was made from. */
  readonly source: string;
  readonly weightsFile: string;
  readonly inputSize: number;
  readonly outputSize: number;
  readonly task: AppTask;
  /** Class names when the labels were text; without them, classes are numbered. */
  readonly classNames?: readonly string[];
  readonly columns: readonly AppColumn[];
  readonly inputs: readonly AppInput[];
  readonly scale: number;
  readonly normalize: string;
  /** Per feature (inputSize each): identity (0 and 1) where nothing was fitted. */
  readonly shift: readonly number[];
  readonly divide: readonly number[];
  readonly missing: "error" | "drop" | "mean" | "zero";
  /** Whether the columns are a CSV's (else they are numbered "0", "1", …, so an array is a record). */
  readonly csv: boolean;
  /** `normalize_target`: the model predicts standardized targets; a prediction is output · std + mean. */
  readonly targetScaling?: { readonly mean: readonly number[]; readonly std: readonly number[] };
  /** The trained parameters, to embed (base64 of little-endian float32); absent: `createPredictor(weights)`. */
  readonly embedded?: Float32Array;
  /**
   * `modelCode` is an int8 module (`compiler/quantize/emit.ts`, JavaScript): its weights are in it,
   * so `createPredictor()` takes none, and there is no weights file to check.
   */
  readonly quantized?: boolean;
}

/** The deployable module's text (unformatted; `nnc export` runs prettier over it). */
export function generateApp(spec: AppSpec): string {
  const ts = spec.target === "ts";
  const t = (annotation: string): string => (ts ? annotation : "");
  const list = (xs: readonly string[]): string => `[${xs.map(stringLiteral).join(", ")}]`;
  const nums = (xs: readonly number[]): string => `[${xs.map(numberLiteral).join(", ")}]`;
  const task = spec.task;
  const named = spec.classNames !== undefined;
  const classCount = task.kind === "multiclass" ? task.classes : task.kind === "binary" ? 2 : 0;
  const classes = named ? list(spec.classNames!) : nums(Array.from({ length: classCount }, (_, k) => k));
  const labelType = named ? "string" : "number";
  const int8 = spec.quantized === true;
  if (int8 && (ts || spec.embedded !== undefined)) throw new Error("bug: an int8 module is JavaScript with its weights in it");
  const embedded = spec.embedded !== undefined || int8;
  const out: string[] = [];
  const emit = (...lines: string[]): void => {
    for (const l of lines) out.push(l);
  };

  emit(
    `// Deployable module written by \`nnc export\` from ${commentText(spec.source)}${embedded ? ` with the ${int8 ? "int8 " : ""}weights of ${commentText(spec.weightsFile)} embedded` : ""}.`,
    "// It holds the generated model, the preprocessing it was trained with, the class names and a predictor",
    `// for raw records: ${embedded ? "createPredictor()" : "createPredictor(weightsJson)"}.predictRecord({ column: value, … }). No imports.`,
    "// Do not edit: train again and export again.",
    "",
    spec.modelCode.trimEnd(),
    "",
    "// ── Deployment: columns, preprocessing, classes, predictor ────────────────────────────",
    "",
  );

  if (ts) {
    emit(
      "/** A record's value for a column: a number, the text of a CSV cell, or null when missing. */",
      "export type CellValue = string | number | null;",
      "",
      `/** A record: ${spec.csv ? "values by column name (other keys are ignored)" : "the input's values by index \"0\", \"1\", … (an array of numbers is one)"}. */`,
      "export type InputRecord = { readonly [column: string]: CellValue | undefined } | readonly CellValue[];",
      "",
      "/** One column of the training data, as it fills a row of the model's input. */",
      "export interface Column {",
      "  readonly name: string;",
      "  /** Where its values start in a row of the model's input. */",
      "  readonly offset: number;",
      "  /** A categorical column's categories, one-hot in this order (absent for a numeric column). */",
      "  readonly categories?: readonly string[];",
      "  /** What a missing numeric cell becomes (with `missing: mean` or `zero`). */",
      "  readonly fill?: number;",
      "  /** A text column: `length` token ids (0 pads the end, 1 is a token outside `tokens`, token k is id k + 2). */",
      '  readonly text?: { readonly kind: "chars" | "words"; readonly length: number; readonly lowercase: boolean; readonly tokens: readonly string[] };',
      "}",
      "",
      "/** One of the model's inputs: the columns that fill it and where they sit in a row. */",
      "export interface Input {",
      "  readonly name: string;",
      "  readonly columns: readonly string[];",
      "  readonly offset: number;",
      "  readonly size: number;",
      "}",
      "",
    );
  }

  // Columns and their layout.
  const columnLines: string[] = [];
  let offset = 0;
  for (const c of spec.columns) {
    const parts = [`name: ${stringLiteral(c.name)}`, `offset: ${offset}`];
    if (c.categories !== undefined) parts.push(`categories: ${list(c.categories)}`);
    if (c.fill !== undefined) parts.push(`fill: ${numberLiteral(c.fill)}`);
    if (c.text !== undefined) parts.push(`text: { kind: ${stringLiteral(c.text.kind)}, length: ${c.text.length}, lowercase: ${c.text.lowercase}, tokens: ${list(c.text.tokens)} }`);
    columnLines.push(`  { ${parts.join(", ")} },`);
    offset += c.text !== undefined ? c.text.length : c.categories !== undefined ? c.categories.length : 1;
  }
  if (offset !== spec.inputSize) throw new Error(`bug: the columns fill ${offset} values, the model's input has ${spec.inputSize}`);
  const missingDoc: Record<AppSpec["missing"], string> = {
    error: "a missing value is an error (training refused them)",
    drop: "a missing value is an error (training dropped such rows)",
    mean: "a missing number becomes the training column's mean (`fill`), a missing category all zeros",
    zero: "a missing number becomes 0 (`fill`), a missing category all zeros",
  };
  emit(
    "/**",
    " * The columns a record must hold, in the order they fill a row of the model's input: a",
    " * numeric column one value, a categorical column one-hot over its categories (sorted, as in",
    " * training). Missing (null, NaN, or the text \"\", NA, NaN, null, ?): " + missingDoc[spec.missing] + ".",
    " */",
    `export const columns${t(": readonly Column[]")} = [`,
    ...columnLines,
    "];",
    "",
    ...(spec.columns.some((c) => c.text !== undefined)
      ? [
          "/** Each text column's token → id. */",
          `const TOKEN_IDS = columns.map((c) => (c.text === undefined ? undefined : new Map(c.text.tokens.map((token, k)${t(": [string, number]")} => [token, k + 2]))));`,
          "",
          "/** Runs of letters and digits, an inner apostrophe kept (`don't`): the words of `tokenize words`. */",
          `const WORD = /${WORD_PATTERN}/gu;`,
          "",
        ]
      : []),
    "/** The model's inputs and the columns that fill each. */",
    `export const inputs${t(": readonly Input[]")} = [`,
    ...spec.inputs.map((i) => `  { name: ${stringLiteral(i.name)}, columns: ${list(i.columns)}, offset: ${i.offset}, size: ${i.size} },`),
    "];",
    "",
    "/**",
    " * Fitted on the training split; per feature j of a row (after one-hot encoding):",
    " *   x'[j] = (x[j] · scale − shift[j]) / divide[j]",
    " */",
    "export const preprocessing = {",
    `  scale: ${numberLiteral(spec.scale)},`,
    `  normalize: ${stringLiteral(spec.normalize)},`,
    `  missing: ${stringLiteral(spec.missing)},`,
    `  shift: ${nums(spec.shift)},`,
    `  divide: ${nums(spec.divide)},`,
    "};",
    "",
    named ? "/** The class names; `probabilities` follow this order. */" : "/** The classes (numbered: the labels were numbers); `probabilities` follow this order. */",
    `export const classes${t(`: readonly ${labelType}[]`)} = ${task.kind === "regression" || task.kind === "multilabel" ? "[]" : classes};`,
    "",
  );

  // The prediction type and how one output row becomes one.
  const m = spec.outputSize;
  let predictionType: string;
  let toPrediction: string[];
  if (task.kind === "multiclass") {
    predictionType = `{ readonly label: ${labelType}; readonly probabilities: number[] }`;
    toPrediction = [
      "  let best = 0;",
      `  for (let j = 1; j < ${m}; j++) if (y[at + j] > y[at + best]) best = j;`,
      "  const probabilities = [];",
      `  for (let j = 0; j < ${m}; j++) probabilities.push(y[at + j]);`,
      "  return { label: classes[best], probabilities };",
    ];
  } else if (task.kind === "binary") {
    predictionType = `{ readonly label: ${labelType}; readonly probabilities: number[] }`;
    toPrediction = [
      "  const p = y[at]; // the output: the score of class 1",
      `  return { label: classes[p >= ${numberLiteral(task.threshold)} ? 1 : 0], probabilities: [1 - p, p] };`,
    ];
  } else if (task.kind === "multilabel") {
    predictionType = "{ readonly label: number[]; readonly probabilities: number[] }";
    toPrediction = [
      "  const label = [];",
      "  const probabilities = [];",
      `  for (let j = 0; j < ${m}; j++) {`,
      `    label.push(y[at + j] >= ${numberLiteral(task.threshold)} ? 1 : 0);`,
      "    probabilities.push(y[at + j]);",
      "  }",
      "  return { label, probabilities };",
    ];
  } else if (spec.targetScaling !== undefined) {
    // Trained on standardized targets (`normalize_target standard`): back in the data's units.
    const { mean, std } = spec.targetScaling;
    predictionType = m === 1 ? "{ readonly value: number }" : "{ readonly values: number[] }";
    toPrediction =
      m === 1
        ? [`  return { value: y[at] * ${numberLiteral(std[0]!)} + ${numberLiteral(mean[0]!)} }; // standardized in training: · std + mean`]
        : ["  const values = [];", `  for (let j = 0; j < ${m}; j++) values.push(y[at + j] * targetStd[j] + targetMean[j]); // standardized in training`, "  return { values };"];
    if (m > 1) emit(`const targetMean = ${nums(mean)};`, `const targetStd = ${nums(std)};`, "");
  } else if (m === 1) {
    predictionType = "{ readonly value: number }";
    toPrediction = ["  return { value: y[at] };"];
  } else {
    predictionType = "{ readonly values: number[] }";
    toPrediction = ["  const values = [];", `  for (let j = 0; j < ${m}; j++) values.push(y[at + j]);`, "  return { values };"];
  }
  if (ts) toPrediction = toPrediction.map((l) => l.replace("const probabilities = [];", "const probabilities: number[] = [];").replace("const label = [];", "const label: number[] = [];").replace("const values = [];", "const values: number[] = [];"));
  const doc: Record<AppTask["kind"], string> = {
    multiclass: "the most probable class and every class's probability (in `classes` order)",
    binary: "the class (score ≥ threshold: class 1) and the probabilities of classes 0 and 1",
    multilabel: "0 or 1 per output, and each output's score",
    regression: m === 1 ? "the predicted value" : "the predicted values",
  };
  if (ts) {
    emit(
      `/** One prediction: ${doc[task.kind]}. */`,
      `export type Prediction = ${predictionType};`,
      "",
      "export interface Predictor {",
      `  readonly classes: readonly ${labelType}[];`,
      "  readonly columns: readonly Column[];",
      "  readonly inputs: readonly Input[];",
      "  /** One record → its prediction; a RecordError names the column of a bad value. */",
      "  predictRecord(record: InputRecord): Prediction;",
      "  /** Any number of records, run in chunks of `meta.maxBatch` (the model's largest batch). */",
      "  predictBatch(records: readonly InputRecord[]): Prediction[];",
      "}",
      "",
      "/** The parts of `nnc train`'s weights.json this module reads. */",
      "export interface WeightsFile {",
      "  readonly format: string;",
      "  readonly layout: readonly { readonly name: string; readonly offset: number; readonly size: number }[];",
      "  readonly preprocess: {",
      "    readonly scale: number;",
      "    readonly normalize: string;",
      "    readonly shift: readonly number[];",
      "    readonly divide: readonly number[];",
      "    readonly classes?: readonly string[];",
      "    readonly tokenizer?: { readonly tokens: readonly string[] };",
      "  };",
      "  readonly params: readonly number[];",
      "}",
      "",
    );
  } else emit(`/** A prediction is ${predictionType.replace(/readonly /g, "")}: ${doc[task.kind]}. */`, "");

  emit(
    "/** A value a record cannot give the model: `column` names the column, `index` the record (predictBatch). */",
    "export class RecordError extends Error {",
    ...(ts ? ["  readonly column: string;", "  readonly index: number;"] : []),
    `  constructor(message${t(": string")}, column${t(": string")}, index${t(": number")}) {`,
    "    super(message);",
    '    this.name = "RecordError";',
    "    this.column = column;",
    "    this.index = index;",
    "  }",
    "}",
    "",
    ...(int8
      ? ["/** A predictor with the int8 weights in the module. It owns one model instance and one input buffer: create it once. */", "export function createPredictor() {", "  const model = createModel();"]
      : [
          "/**",
          ` * A predictor with ${embedded ? "the embedded weights, or those of `weights` when given" : "the weights of `weights`"} (weights.json as`,
          " * parsed JSON or as text). It owns one model instance and one input buffer: create it once.",
          " */",
          `export function createPredictor(weights${t(embedded ? "?: WeightsFile | string" : ": WeightsFile | string")})${t(": Predictor")} {`,
          "  const model = createModel();",
          embedded ? "  model.params.set(weights === undefined ? embeddedParams() : paramsOf(weights));" : "  model.params.set(paramsOf(weights));",
        ]),
    `  const rows = new Float32Array(meta.maxBatch * ${spec.inputSize});`,
    "  // `numbered`: messages name the record's index in the batch.",
    `  function run(records${t(": readonly InputRecord[]")}, numbered${t(": boolean")})${t(": Prediction[]")} {`,
    `    const out${t(": Prediction[]")} = [];`,
    "    for (let start = 0; start < records.length; start += meta.maxBatch) {",
    "      const n = Math.min(meta.maxBatch, records.length - start);",
    `      for (let i = 0; i < n; i++) encodeRecord(records[start + i], rows, i * ${spec.inputSize}, numbered ? start + i : -1);`,
    "      const y = model.forward(rows, n);",
    `      for (let i = 0; i < n; i++) out.push(toPrediction(y, i * ${m}));`,
    "    }",
    "    return out;",
    "  }",
    "  return {",
    "    classes,",
    "    columns,",
    "    inputs,",
    `    predictRecord: (record${t(": InputRecord")}) => run([record], false)[0]${t("!")},`,
    `    predictBatch: (records${t(": readonly InputRecord[]")}) => run(records, true),`,
    "  };",
    "}",
    "",
    `function toPrediction(y${t(": ArrayLike<number>")}, at${t(": number")})${t(": Prediction")} {`,
    ...toPrediction,
    "}",
    "",
    ...recordFunctions(spec, t),
  );
  if (int8) return out.join("\n") + "\n";
  emit(...weightsFunctions(spec, t));
  return out.join("\n") + "\n";
}
