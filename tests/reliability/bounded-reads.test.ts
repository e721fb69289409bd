/**
 * Issue 22, item 9: what nnc reads is bounded. A device, a FIFO or a socket named as a file
 * (`/dev/zero` as a data source used to fill memory for minutes; a FIFO blocked forever) is one
 * NN4001 before a byte is read, wherever a file name is taken: the `.nn` file, a CSV source,
 * an IDX source, `--weights`, `predict --input`. A file over the text limit is refused with its
 * size instead of V8's "Invalid string length". All through `runtime/node/read.ts`.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readBounded } from "../../runtime/node/read.js";
import { errorCodes, expectOneClearError, run } from "./cli-child.js";

const dir = mkdtempSync(join(tmpdir(), "nnc-bounded-"));
const model = (source: string) => `model M {
  seed 1
  input 2
  dense 2, softmax
}
loss cross_entropy
optimizer sgd(lr: 0.1)
data {
  train ${source}
  test  25%
}
train {
  epochs 1
  batch 4
}
`;
const rows = "a,b,y\n" + Array.from({ length: 16 }, (_, i) => `${i % 4},${i % 3},${i % 2}`).join("\n") + "\n";
writeFileSync(join(dir, "d.csv"), rows);
writeFileSync(join(dir, "ok.nn"), model(`csv("d.csv", label: y)`));

let fifo: string | undefined;
try {
  execFileSync("mkfifo", [join(dir, "pipe")]);
  fifo = join(dir, "pipe");
} catch {
  // no mkfifo: the FIFO cases skip (they say so below)
}

describe("a device, a FIFO or a huge file is refused before it is read", () => {
  it.each([
    ["a CSV source", `csv("/dev/zero", label: y)`, 1],
    ["an IDX source (images and labels)", `idx("/dev/zero", "/dev/zero")`, 2],
  ])("%s of /dev/zero is NN4001 at the source, at once", async (_what, source, count) => {
    writeFileSync(join(dir, "dev.nn"), model(source));
    const t0 = Date.now();
    const r = await run(["train", "dev.nn", "--out", "runs-dev"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(errorCodes(r.stderr)).toEqual(Array(count).fill("NN4001"));
    expect(r.stderr).toMatch(/dev\.nn:9:9 - error NN4001: cannot read \/dev\/zero: it is not a regular file \(a character device\)/);
    expect(r.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
    expect(Date.now() - t0).toBeLessThan(30_000);
  });

  it("the .nn file and --weights as /dev/zero are refused too", async () => {
    const a = await run(["check", "/dev/zero"], { cwd: dir });
    expectOneClearError(a, "NN4001", "check /dev/zero");
    expect(a.stderr).toMatch(/not a regular file/);
    const b = await run(["eval", "ok.nn", "--weights", "/dev/zero"], { cwd: dir });
    expectOneClearError(b, "NN4001", "eval --weights /dev/zero");
    const c = await run(["predict", "ok.nn", "--weights", "/dev/zero", "--input", "d.csv"], { cwd: dir });
    expect(c.code).not.toBe(0);
    expect(c.stderr).toMatch(/NN4001.*not a regular file/);
  });

  it.skipIf(fifo === undefined)("a FIFO as a data source does not block: NN4001 (skipped without mkfifo)", async () => {
    writeFileSync(join(dir, "fifo.nn"), model(`csv("pipe", label: y)`));
    const r = await run(["check", "--data", "fifo.nn"], { cwd: dir });
    expectOneClearError(r, "NN4001", "a FIFO source");
    expect(r.stderr).toMatch(/a named pipe/);
  });

  it("a file over the limit is refused with its size; a regular file under it is read whole", () => {
    const p = join(dir, "big.csv");
    writeFileSync(p, "x".repeat(5000));
    const over = readBounded(p, 4096);
    expect("bytes" in over).toBe(false);
    if (!("bytes" in over)) {
      expect(over.code).toBe("EFBIG");
      expect(over.why).toBe("it is 5000 bytes, over the 4096 bytes nnc reads as text");
      expect(over.hint).toMatch(/IDX/);
    }
    const under = readBounded(p, 5000);
    expect("bytes" in under && under.bytes.length).toBe(5000);
    const missing = readBounded(join(dir, "nope.csv"));
    expect(!("bytes" in missing) && missing.why).toBe("no such file");
    const folder = readBounded(dir);
    expect(!("bytes" in folder) && folder.why).toBe("it is a folder");
  });

  it("predict still reads its input from a pipe on standard input", async () => {
    const train = await run(["train", "ok.nn", "--out", "runs-ok"], { cwd: dir });
    expect(train.code, train.stderr).toBe(0);
    const r = await run(["predict", "ok.nn", "--weights", "runs-ok/weights.json", "--input", "-"], { cwd: dir, stdin: "a,b\n1,2\n3,0\n" });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split("\n")).toHaveLength(3);
  });
});
