/**
 * The deployable module's record encoding (`nnc export`, `app.ts`): the text of the functions
 * that turn one raw record into a row of the model's input — each column's cell read and checked
 * (missing values per the trained `missing:` policy), a categorical column one-hot, a text column
 * as its tokenizer's ids, then the fitted preprocessing — and `fail`, which throws the
 * `RecordError` naming the column and the record. The record's values are data for these
 * functions; nothing from them is ever part of the text.
 */
import type { AppSpec } from "./app.js";

/** `MISSING`, `encodeRecord`, `cell`, with a text column `textOf`, and `fail`. `t`: a type annotation in TypeScript, nothing in JavaScript. */
export function recordFunctions(spec: AppSpec, t: (annotation: string) => string): string[] {
  return [
    'const MISSING = ["", "na", "nan", "null", "?"];',
    "",
    "/** Writes one record into `row` at `at`: raw values and one-hot categories, then the preprocessing. */",
    `function encodeRecord(record${t(": InputRecord")}, row${t(": Float32Array")}, at${t(": number")}, index${t(": number")})${t(": void")} {`,
    "  for (let c = 0; c < columns.length; c++) {",
    "    const column = columns[c];",
    "    const where = at + column.offset;",
    ...(spec.columns.some((c) => c.text !== undefined)
      ? [
          "    if (column.text !== undefined) {",
          "      // Token ids, as in training: cut at `length`, padded with 0 at the end, 1 for a token outside the vocabulary.",
          "      const text = column.text.lowercase ? textOf(record, column.name, index).toLowerCase() : textOf(record, column.name, index);",
          `      const tokens = column.text.kind === "chars" ? Array.from(text) : (text.match(WORD) ?? []);`,
          `      const ids = TOKEN_IDS[c]${t("!")};`,
          "      row.fill(0, where, where + column.text.length);",
          "      for (let j = 0; j < Math.min(tokens.length, column.text.length); j++) row[where + j] = ids.get(tokens[j]) ?? 1;",
          "      continue;",
          "    }",
        ]
      : []),
    "    const value = cell(record, column.name, index);",
    "    if (column.categories !== undefined) {",
    "      row.fill(0, where, where + column.categories.length);",
    "      if (value === null) continue; // all zeros",
    "      const k = column.categories.indexOf(String(value));",
    "      if (k < 0)",
    "        fail(index, column.name, `holds ${JSON.stringify(value)}, a category not seen in training (known: ${column.categories.map((c) => JSON.stringify(c)).join(\", \")})`);",
    "      row[where + k] = 1;",
    "    } else if (value === null) row[where] = column.fill ?? 0;",
    "    else {",
    '      const v = typeof value === "number" ? value : Number(value);',
    "      if (!Number.isFinite(v)) fail(index, column.name, `holds ${JSON.stringify(value)}, which is not a number`);",
    "      row[where] = v;",
    "    }",
    "  }",
    `  const { scale, shift, divide } = preprocessing;`,
    `  for (let j = 0; j < ${spec.inputSize}; j++) row[at + j] = (row[at + j] * scale - shift[j]) / divide[j];`,
    "}",
    "",
    "/** A record's value for a column: a number, trimmed text, or null when missing (and allowed). */",
    `function cell(record${t(": InputRecord")}, name${t(": string")}, index${t(": number")})${t(": string | number | null")} {`,
    "  if (record === null || typeof record !== \"object\") fail(index, \"\", `is ${record === null ? \"null\" : typeof record}, not a record of columns`);",
    "  if (!Object.prototype.hasOwnProperty.call(record, name))",
    "    fail(index, name, `is missing from the record (the model reads ${columns.map((c) => JSON.stringify(c.name)).join(\", \")}); give null for a missing value`);",
    `  const raw = (record${t(" as { readonly [column: string]: unknown }")})[name];`,
    `  let value${t(": string | number | null")};`,
    "  if (typeof raw === \"string\") {",
    "    const text = raw.trim();",
    "    value = MISSING.includes(text.toLowerCase()) ? null : text;",
    "  } else if (typeof raw === \"number\") value = Number.isNaN(raw) ? null : raw;",
    "  else if (raw === null) value = null;",
    "  else return fail(index, name, `holds ${raw === undefined ? \"undefined\" : \"a \" + typeof raw}; give a number, text or null`);",
    "  if (value === null && (preprocessing.missing === \"error\" || preprocessing.missing === \"drop\"))",
    "    fail(index, name, `is missing; the model was trained with \\`missing: ${preprocessing.missing}\\`, so every value is needed`);",
    "  return value;",
    "}",
    "",
    ...(spec.columns.some((c) => c.text !== undefined)
      ? [
          "/** A record's text for a text column (null: no text). */",
          `function textOf(record${t(": InputRecord")}, name${t(": string")}, index${t(": number")})${t(": string")} {`,
          "  if (record === null || typeof record !== \"object\" || !Object.prototype.hasOwnProperty.call(record, name))",
          "    fail(index, name, `is missing from the record (the model reads the text of column ${JSON.stringify(name)})`);",
          `  const raw = (record${t(" as { readonly [column: string]: unknown }")})[name];`,
          "  if (raw === null) return \"\";",
          "  if (typeof raw !== \"string\") fail(index, name, `holds ${typeof raw}; give the text as a string`);",
          "  return raw;",
          "}",
          "",
        ]
      : []),
    `function fail(index${t(": number")}, column${t(": string")}, what${t(": string")})${t(": never")} {`,
    "  const where = index >= 0 ? `record ${index}: ` : \"\";",
    "  throw new RecordError(`${where}${column === \"\" ? \"the record\" : `column ${JSON.stringify(column)}`} ${what}`, column, index);",
    "}",
  ];
}
