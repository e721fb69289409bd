/**
 * Linear time where it used to be quadratic (issue 22, item 8). Each test compares two sizes,
 * 4× apart, and asserts the cost grows near-linearly (time: < 8× for 4× the input, best of
 * three runs, so a loaded machine does not fail it; bytes: exactly bounded). Never absolute times.
 *
 * - rendering n text diagnostics of one source split the whole source once per diagnostic
 *   (32,000 errors: 273 s);
 * - prettier sniffed large generated modules for JSX with a quadratic regular expression
 *   (a 200-layer MLP compiled in 61 s, now 16 s);
 * - `checkpoint every 1` rewrote the whole history into every checkpoint (n² bytes);
 * - a CSV is read in pieces (a stream), and a quoted cell spanning many pieces must not be
 *   re-read with each one.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderDiagnostics } from "../../cli/render.js";
import type { CsvSource } from "../../compiler/program.js";
import { FILE_START } from "../../grammar/span.js";
import { CsvParser } from "../../runtime/csv.js";
import { formatCode } from "../../compiler/format.js";
import type { Diagnostic } from "../../grammar/diagnostics.js";
import { encodeCheckpoint, HISTORY_SEGMENT } from "../../runtime/checkpoint.js";
import { CheckpointWriter, historySegmentName, readCheckpoint, type CheckpointFolder } from "../../runtime/node/checkpoint.js";
import type { EpochRecord, TrainerState } from "../../runtime/train.js";

/** Best of `runs` timings of `f`, in ms. */
async function best(f: () => unknown, runs = 3): Promise<number> {
  let t = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await f();
    t = Math.min(t, performance.now() - t0);
  }
  return t;
}

function diagnosticsOn(lines: number): { source: string; ds: Diagnostic[] } {
  const source = Array.from({ length: lines }, (_, i) => `  bogus${i} 3`).join("\n");
  let offset = 0;
  const ds: Diagnostic[] = [];
  for (let i = 0; i < lines; i++) {
    const len = `bogus${i}`.length;
    ds.push({
      code: "NN2003",
      severity: "error",
      message: `unknown layer \`bogus${i}\``,
      span: { start: offset + 2, end: offset + 2 + len, line: i + 1, column: 3, endLine: i + 1, endColumn: 3 + len },
      file: "many.nn",
    } as Diagnostic);
    offset += `  bogus${i} 3`.length + 1;
  }
  return { source, ds };
}

function record(epoch: number): EpochRecord {
  return { epoch, lr: 0.01, seconds: 0.001, samplesPerSecond: 1000, values: { loss: 1 / epoch, accuracy: 0.5, val_loss: 1 / epoch } };
}

function stateAt(history: EpochRecord[]): TrainerState {
  return {
    epoch: history.length,
    model: { params: new Float32Array(8), optimizer: new Float32Array(16), step: history.length, rng: 0 },
    history,
    best: undefined,
    wait: 0,
    stopped: false,
  };
}

const PRE = { scale: 1, normalize: "none" as const, shift: [], divide: [] };

/** A folder that counts the bytes written to it (and keeps the last content of each name). */
function countingFolder(): CheckpointFolder & { bytes: number; files: Map<string, Uint8Array | string> } {
  const files = new Map<string, Uint8Array | string>();
  const f = {
    bytes: 0,
    files,
    path: (name: string) => name,
    write(name: string, content: Uint8Array | string) {
      f.bytes += typeof content === "string" ? content.length : content.length;
      files.set(name, content);
      return undefined;
    },
  };
  return f;
}

/** Bytes written by a run of `epochs` epochs with a checkpoint after every one. */
function checkpointBytes(epochs: number): number {
  const folder = countingFolder();
  const writer = new CheckpointWriter(folder, "checkpoint.nnck");
  const history: EpochRecord[] = [];
  for (let e = 1; e <= epochs; e++) {
    history.push(record(e));
    expect(writer.write(stateAt([...history]), "h", "M", PRE)).toBeUndefined();
  }
  return folder.bytes;
}

describe("linear time (issue 22, item 8)", () => {
  it("rendering n text diagnostics of one source is linear in n (the source is split once)", async () => {
    const small = diagnosticsOn(4000);
    const large = diagnosticsOn(16000);
    const ts = await best(() => renderDiagnostics(small.ds, small.source, { color: false }));
    const tl = await best(() => renderDiagnostics(large.ds, large.source, { color: false }));
    // Quadratic (the old split per diagnostic) gave ~16×; linear gives ~4×.
    expect(tl / ts, `4,000 diagnostics: ${ts.toFixed(0)} ms, 16,000: ${tl.toFixed(0)} ms`).toBeLessThan(8);
    // And the frames are still right: each points at its own line.
    const text = renderDiagnostics(large.ds.slice(15000, 15001), large.source, { color: false });
    expect(text).toContain("many.nn:15001:3 - error NN2003: unknown layer `bogus15000`");
    expect(text).toContain("15001 │   bogus15000 3");
  });

  it("a long line is framed around its mark, not only its first 200 characters", () => {
    const source = "x".repeat(5000) + "BAD" + "y".repeat(5000);
    const d = { code: "NN1001", severity: "error", message: "bad", span: { start: 5000, end: 5003, line: 1, column: 5001, endLine: 1, endColumn: 5004 }, file: "f.nn" } as Diagnostic;
    const [, , code, marks] = renderDiagnostics([d], source, { color: false }).split("\n");
    expect(code).toContain("BAD");
    expect(code!.length).toBeLessThan(220);
    // The marks sit under BAD.
    expect(marks!.indexOf("~~~")).toBe(code!.indexOf("BAD"));
    expect(marks).not.toContain("~~~~");
  });

  it("formatting generated code with prettier is linear in its size (no JSX sniffing)", async () => {
    const code = (n: number) =>
      Array.from({ length: n }, (_, i) => `export function f${i}(a: number, b: Float32Array): number { for (let j = 0; j < 4; j++) b[j] = a * ${i} + b[j]; return b[0]; }`).join("\n");
    const small = code(500);
    const large = code(2000);
    await formatCode(small); // loads prettier once, outside the timings
    const ts = await best(() => formatCode(small), 2);
    const tl = await best(() => formatCode(large), 2);
    expect(tl / ts, `500 functions: ${ts.toFixed(0)} ms, 2,000: ${tl.toFixed(0)} ms`).toBeLessThan(8);
  }, 120_000);

  it("a checkpoint every epoch writes O(n) bytes over n epochs, not O(n²)", () => {
    const small = checkpointBytes(2000);
    const large = checkpointBytes(8000);
    expect(large / small, `2,000 epochs: ${small} bytes, 8,000: ${large}`).toBeLessThan(5);
    // The whole history in every checkpoint (version 2) is the quadratic it replaces.
    const whole = (n: number) => {
      let bytes = 0;
      const h: EpochRecord[] = [];
      for (let e = 1; e <= n; e++) {
        h.push(record(e));
        if (e % 50 === 0) bytes += encodeCheckpoint(stateAt(h), "h", "M", PRE).length;
      }
      return bytes;
    };
    expect(whole(8000) / whole(2000)).toBeGreaterThan(12);
  });

  it("a CSV read in 64 KiB pieces is linear in its size, even when one quoted cell spans many pieces", async () => {
    const src: CsvSource = { kind: "csv", path: "t.csv", header: true, label: "y", features: undefined, text: "t", categorical: [], missing: "error", delimiter: ",", span: FILE_START };
    const file = (bytes: number) => `t,y\n"${"word, \"\"quoted\"\"\n".repeat(bytes / 20)}",1\n` + "plain,0\n".repeat(bytes / 16);
    const read = (text: string) => {
      const p = new CsvParser(src, { labels: "class" });
      for (let i = 0; i < text.length; i += 1 << 16) p.push(text.slice(i, i + (1 << 16)));
      return p.end();
    };
    const small = file(1 << 20);
    const large = file(4 << 20);
    const r = read(large);
    expect(r.diagnostics).toEqual([]);
    expect(r.value.dataset!.texts![0]!.length).toBeGreaterThan(2 << 20);
    // CPU time of this process, best of three: the other processes of a loaded machine do not count.
    const cpu = (f: () => unknown): number => {
      let t = Infinity;
      for (let i = 0; i < 3; i++) {
        const c0 = process.cpuUsage();
        f();
        const c = process.cpuUsage(c0);
        t = Math.min(t, (c.user + c.system) / 1000);
      }
      return t;
    };
    const ts = cpu(() => read(small));
    const tl = cpu(() => read(large));
    expect(tl / ts, `1 MiB: ${ts.toFixed(0)} ms, 4 MiB: ${tl.toFixed(0)} ms of CPU time`).toBeLessThan(8);
  }, 120_000);

  it("a segmented checkpoint reads back with its whole history, and a damaged or missing history file is NN5003", () => {
    const dir = mkdtempSync(join(tmpdir(), "nnc-history-"));
    try {
      const folder: CheckpointFolder = {
        path: (name) => join(dir, name),
        write: (name, content) => {
          writeFileSync(join(dir, name), content);
          return undefined;
        },
      };
      const writer = new CheckpointWriter(folder, "checkpoint.nnck");
      const history: EpochRecord[] = [];
      const epochs = 2 * HISTORY_SEGMENT + 37;
      for (let e = 1; e <= epochs; e++) {
        history.push(record(e));
        writer.write(stateAt([...history]), "h", "M", PRE);
      }
      const path = join(dir, "checkpoint.nnck");
      // The checkpoint itself holds only the epochs after the segments.
      expect(readFileSync(path).length).toBeLessThan(60 * 200);
      const c = readCheckpoint(path, "checkpoint.nnck", "h", 8);
      expect(c.diagnostics).toEqual([]);
      expect(c.value!.state.history).toEqual(history);
      expect(c.value!.header.history).toEqual(history);

      const seg = join(dir, historySegmentName("checkpoint.nnck", 1));
      const good = readFileSync(seg, "utf8");
      writeFileSync(seg, good.replace('"loss":', '"lost":'));
      const altered = readCheckpoint(path, "checkpoint.nnck", "h", 8);
      expect(altered.value).toBeUndefined();
      expect(altered.diagnostics.map((d) => d.code)).toEqual(["NN5003"]);
      expect(altered.diagnostics[0]!.message).toMatch(/history file 1 does not match/);
      rmSync(seg);
      const missing = readCheckpoint(path, "checkpoint.nnck", "h", 8);
      expect(missing.diagnostics.map((d) => d.code)).toEqual(["NN5003"]);
      expect(missing.diagnostics[0]!.message).toMatch(/checkpoint\.nnck\.history-1 cannot be read/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
