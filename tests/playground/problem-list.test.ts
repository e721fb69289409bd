/**
 * The problems list folds a data file's flood: the runtime's CSV parser gives one NN4003 per
 * row for a text column read as numbers, and the page lists one line that counts the rest.
 */
import { describe, expect, it } from "vitest";
import { diag } from "../../grammar/diagnostics.js";
import { FILE_START } from "../../grammar/span.js";
import { listProblems } from "../../playground/src/problem-list.js";
import { parseCsv } from "../../runtime/csv.js";

describe("the problems list", () => {
  it("folds one kind of problem in one file into a line, and drops exact repeats", () => {
    const rows = Array.from({ length: 12 }, (_, i) => `${["setosa", "virginica"][i % 2]},${i},${i * 2}`);
    const text = ["species,a,b", ...rows].join("\n") + "\n";
    const parsed = parseCsv(text, { kind: "csv", path: "flowers.csv", header: true, label: "b", features: undefined, categorical: [], missing: "error", delimiter: ",", span: FILE_START }, { labels: "class" });
    const flood = parsed.diagnostics.map((d) => ({ ...d, file: d.file ?? "flowers.csv" }));
    // The parser reports the first rows (it stops counting at some point), each on its own line.
    const n = flood.filter((d) => d.code === "NN4003").length;
    expect(n).toBeGreaterThan(5);
    const inSource = diag("unknownActivation", { start: 40, end: 44, line: 3, column: 12, endLine: 3, endColumn: 16 }, ["rleu"]);
    const listed = listProblems([inSource, inSource, ...flood, ...flood]);
    expect(listed.map((l) => l.d.code)).toEqual(["NN2004", "NN4003"]);
    expect(listed[1]!.d.span.line).toBe(2);
    expect(listed[1]!.more).toEqual(Array.from({ length: n - 1 }, (_, i) => i + 3));
  });
});
