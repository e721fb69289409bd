/**
 * Issue 22, item 9: a CSV is read as a stream, so its size is bounded by memory for its numbers,
 * not by the longest string V8 holds (about 512 MiB). The parser takes the text in pieces cut
 * anywhere — inside a quoted cell, between CR and LF, inside a doubled quote, after a BOM — and
 * must give exactly what the whole text gives: the same records with the same lines, columns and
 * offsets, the same data set, the same messages.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CsvSource } from "../../compiler/program.js";
import { FILE_START } from "../../grammar/span.js";
import { CsvSplitter, splitCsv, type CsvRecord } from "../../runtime/csv-split.js";
import { CsvParser, parseCsv, type CsvOptions } from "../../runtime/csv.js";
import { loadSource } from "../../runtime/load.js";
import { FileReader } from "../../runtime/node/files.js";

const src = (over: Partial<CsvSource> = {}): CsvSource => ({
  kind: "csv", path: "d.csv", header: true, label: "y", features: undefined, categorical: [], missing: "error", delimiter: ",", span: FILE_START, ...over,
});

/** The text cut at the given positions. */
function pieces(text: string, cuts: readonly number[]): string[] {
  const at = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  const out: string[] = [];
  let from = 0;
  for (const c of at) {
    out.push(text.slice(from, c));
    from = c;
  }
  out.push(text.slice(from));
  return out;
}

function splitInPieces(parts: readonly string[], delimiter = ","): CsvRecord[] {
  const records: CsvRecord[] = [];
  const s = new CsvSplitter(delimiter, (r) => {
    records.push(r);
    return true;
  });
  for (const p of parts) s.push(p);
  s.end();
  return records;
}

function parseInPieces(parts: readonly string[], source: CsvSource, opts: CsvOptions) {
  const p = new CsvParser(source, opts);
  for (const part of parts) if (!p.push(part)) break;
  return p.end();
}

/** CSV-ish text from the characters that matter to the splitter. */
const csvText = fc
  .tuple(fc.boolean(), fc.array(fc.constantFrom("a", "1", "2.5", ",", '"', '""', "\n", "\r", "\r\n", " ", "é", "x y"), { maxLength: 60 }))
  .map(([bom, parts]) => (bom ? "\ufeff" : "") + parts.join(""));

describe("CSV in pieces", () => {
  it("the records of a text cut anywhere are the records of the whole text (property)", () => {
    fc.assert(
      fc.property(csvText, fc.array(fc.nat(), { maxLength: 8 }), (text, cuts) => {
        expect(splitInPieces(pieces(text, cuts))).toEqual(splitCsv(text, ","));
      }),
      { numRuns: 2000, seed: 22 },
    );
  });

  it("cuts at every position of a text with quotes, CRLF and a BOM", () => {
    const text = '\ufeffa,b,y\r\n"x, ""q""",2,0\r\n  "multi\nline",3,1\r"end"';
    const whole = splitCsv(text, ",");
    expect(whole.map((r) => r.cells.map((c) => c.text))).toEqual([["a", "b", "y"], ['x, "q"', "2", "0"], ["multi\nline", "3", "1"], ["end"]]);
    expect(whole.map((r) => r.line)).toEqual([1, 2, 3, 5]);
    expect(whole[2]!.cells[1]!.column).toBe(7); // on line 4, after `line",`
    for (let i = 0; i <= text.length; i++) {
      for (let j = i; j <= text.length; j += 3) expect(splitInPieces(pieces(text, [i, j]))).toEqual(whole);
    }
  });

  it("a data set parsed in pieces equals the whole text's, messages included (property)", () => {
    const row = fc.tuple(fc.constantFrom("1", "2.5", "", "NA", "red", "blue", "x"), fc.constantFrom("0", "3", "-1", "", "q"), fc.constantFrom("a", "b", "c", ""));
    fc.assert(
      fc.property(
        fc.array(row, { minLength: 0, maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.constantFrom<CsvSource["missing"]>("error", "drop", "mean", "zero"),
        fc.boolean(),
        (rows, cuts, missing, categorical) => {
          const text = "p,q,y\n" + rows.map((r) => r.join(",")).join("\n") + "\n";
          const s = src({ missing, categorical: categorical ? ["p"] : [] });
          const whole = parseCsv(text, s, { labels: "class" });
          expect(parseInPieces(pieces(text, cuts), s, { labels: "class" })).toEqual(whole);
        },
      ),
      { numRuns: 600, seed: 7 },
    );
  });

  it("categories are sorted, a later file maps its rows by the training schema, and unknown ones are named at their cell", () => {
    const train = parseCsv("c,n,y\nred,1,cat\nblue,,dog\ngreen,3,cat\n", src({ categorical: ["c"], missing: "mean" }), { labels: "class" });
    const d = train.value.dataset!;
    expect(d.featureNames).toEqual(["c=blue", "c=green", "c=red", "n"]);
    expect(Array.from(d.x)).toEqual([0, 0, 1, 1, 1, 0, 0, 2, 0, 1, 0, 3]);
    expect(d.classes).toEqual(["cat", "dog"]);
    expect(Array.from(d.y)).toEqual([0, 1, 0]);
    const test = parseCsv("c,n,y\nblue,5,dog\npink,6,cat\n", src({ categorical: ["c"], missing: "mean" }), { labels: "class", schema: train.value.schema! });
    expect(test.diagnostics.map((x) => [x.code, x.span.line, x.span.column])).toEqual([["NN4018", 3, 1]]);
    expect(test.diagnostics[0]!.message).toMatch(/pink/);
  });
});

describe("a quote never closed", () => {
  it("is one NN4044 at the quote, not a column count at the row (whole or in pieces)", () => {
    const text = 'a,y\n1,0\n3,"4,1\n5,0\n';
    for (const parts of [[text], pieces(text, [9, 12, 13])]) {
      const r = parseInPieces(parts, src({ label: "y" }), { labels: "class" });
      expect(r.value.dataset).toBeUndefined();
      expect(r.diagnostics.map((d) => [d.code, d.span.line, d.span.column])).toEqual([["NN4044", 3, 3]]);
      expect(r.diagnostics[0]!.hint).toMatch(/""/);
    }
    // A quote closed by the very last character is closed.
    expect(parseCsv('a,y\n1,0\n"2",1\n"3","0"', src({ label: "y" }), { labels: "class" }).diagnostics).toEqual([]);
  });
});

describe("a streamed CSV keeps its numbers, not its text", () => {
  it("no piece is kept alive by a long category, class name or header cut from it (V8 slices point into their parent)", () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const p = new CsvParser(src({ categorical: ["colour_of_the_thing_measured"] }), { labels: "class" });
    p.push("a,colour_of_the_thing_measured,y\n");
    gc();
    const before = process.memoryUsage().heapUsed;
    const rows = Math.floor((2 << 20) / 10);
    for (let k = 0; k < 16; k++) p.push(`1,category-number-${String(k).padStart(6, "0")},label-number-${String(k).padStart(6, "0")}\n` + "1.25,c0,1\n".repeat(rows));
    const r = p.end();
    gc();
    const kept = process.memoryUsage().heapUsed - before;
    expect(r.value.dataset!.n).toBe(16 * (rows + 1));
    expect(r.value.dataset!.featureNames).toHaveLength(1 + 17);
    // Sixteen pieces of 2 MB each would be 32 MB.
    expect(kept, `${(kept / 1e6).toFixed(1)} MB kept`).toBeLessThan(8e6);
  });
});

describe("a CSV file is streamed from disk", () => {
  it("in pieces of 4 MiB, a character split across two pieces decoded whole, equal to the whole text parsed", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nnc-stream-"));
    // Rows of 20 ASCII bytes; the header is padded so that the byte before the first piece's end
    // falls in a name, which becomes an `é` (2 bytes in UTF-8): it straddles the two pieces.
    const piece = 4 << 20;
    const rows = Math.ceil((piece * 2.2) / 20);
    const row = (i: number): string => `n${i % 7}`.padEnd(12, "_") + `,${String(i % 1000).padStart(4, "0")},${i % 3}`;
    let pad = 0;
    while ((piece - 1 - ("name,v,y".length + pad + 1)) % 20 >= 12) pad++;
    const off = piece - 1 - ("name,v,y".length + pad + 1);
    const straddle = Math.floor(off / 20);
    const lines = ["name,v,y" + " ".repeat(pad)];
    for (let i = 0; i < rows; i++) {
      const r = row(i);
      lines.push(i === straddle ? r.slice(0, off % 20) + "é" + r.slice((off % 20) + 1) : r);
    }
    const text = lines.join("\n") + "\n";
    writeFileSync(join(dir, "d.csv"), text);
    const s = src({ categorical: ["name"], features: ["v", "name"] });
    const reader = new FileReader(dir);
    const got: string[] = [];
    await reader.stream("d.csv", FILE_START, (p) => (got.push(p), true));
    expect(got.length).toBeGreaterThanOrEqual(3);
    expect(got.join("")).toBe(text);
    expect(Buffer.byteLength(got[0]!)).toBe(piece - 1); // the é waited for its second byte
    const streamed = await loadSource(s, reader, { labels: "class" });
    const whole = parseCsv(text, s, { labels: "class", file: reader.display("d.csv") });
    expect(streamed.diagnostics).toEqual([]);
    const a = streamed.value!.dataset;
    const b = whole.value.dataset!;
    expect(a.n).toBe(rows);
    // Compared as bytes: a deep comparison of millions of numbers takes a minute.
    const bytes = (v: ArrayBufferView) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    expect(bytes(a.x).equals(bytes(b.x))).toBe(true);
    expect(bytes(a.y).equals(bytes(b.y))).toBe(true);
    expect(bytes(a.origin!).equals(bytes(b.origin!))).toBe(true);
    expect({ ...a, x: 0, y: 0, origin: 0 }).toEqual({ ...b, x: 0, y: 0, origin: 0 });
    // The é that straddled two pieces is one category, not two replacement characters.
    expect(a.featureNames!.filter((f) => f.includes("é"))).toHaveLength(1);
    expect(a.featureNames!.some((f) => f.includes("\ufffd"))).toBe(false);
  });

  it("stops reading at the tenth error instead of reading the rest of the file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nnc-stream-"));
    const text = "a,y\n" + Array.from({ length: 2_000_000 }, () => "x,0").join("\n") + "\n";
    writeFileSync(join(dir, "bad.csv"), text);
    let pieces = 0;
    const parser = new CsvParser(src({ path: "bad.csv" }), { labels: "class" });
    await new FileReader(dir).stream("bad.csv", FILE_START, (p) => (pieces++, parser.push(p)));
    const r = parser.end();
    expect(pieces).toBe(1);
    expect(r.diagnostics).toHaveLength(10);
    expect(r.diagnostics.every((d) => d.code === "NN4003")).toBe(true);
  });
});
