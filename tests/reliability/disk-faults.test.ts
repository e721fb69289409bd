/**
 * Every write nnc makes goes through one atomic write (issue 22, item 1), tested on real
 * faults with the real CLI:
 * - a full disk (a small tmpfs, ENOSPC) under `fmt --write`, `compile -o` and `train`: the file
 *   being replaced survives byte for byte, no temporary is left, one NN5005 and exit 1, never a
 *   stack trace; a run that cannot hold one checkpoint is refused before its first batch; a
 *   run whose last write fails says how to write its results again, and that works;
 * - a read-only file system (the tmpfs remounted `ro`, EROFS): the same;
 * - `fmt` never rewrites bytes it did not mean to: a Latin-1 byte is refused (NN4016), a
 *   byte-order mark and CRLF line ends are kept.
 * The mount tests need root; elsewhere they are skipped with the reason printed.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { decodeCheckpoint } from "../../runtime/checkpoint.js";
import { expectOneClearError, run } from "./cli-child.js";
import { fillLeaving, mountTmpfs, remountReadOnly, unmount } from "./fs-faults.js";
import { LONG_MODEL, paramsOf, sameParams } from "./long-run.js";

const DIR = mkdtempSync(join(tmpdir(), "nnc-disk-"));
const mounts: string[] = [];
afterAll(() => {
  for (const m of mounts) unmount(m);
  rmSync(DIR, { recursive: true, force: true });
});

/** A tmpfs at DIR/name, or the reason the test is skipped (printed). */
function tmpfs(name: string, size: string): { dir: string } | { skip: string } {
  const dir = join(DIR, name);
  const why = mountTmpfs(dir, size);
  if (why) {
    console.warn(`disk-faults.test.ts: skipped (${name}): ${why}`);
    return { skip: why };
  }
  mounts.push(dir);
  return { dir };
}

/** An unformatted program (aligned columns) of about 8 KB: more than a page. */
const UNFORMATTED =
  readFileSync(join(import.meta.dirname, "../../examples/xor.nn"), "utf8") +
  Array.from({ length: 100 }, (_, i) => `# note ${i}: ${"the layout of this file is not canonical; ".repeat(2)}`).join("\n") +
  "\n";

const SMALL_MODEL = `model Small {
  seed 2
  input 2
  dense 40, tanh
  dense 40, tanh
  dense 2, softmax
}
loss cross_entropy
optimizer adam(lr: 0.01)
metrics accuracy
data {
  train spiral(size: 200, noise: 0.05, seed: 3)
  test 20%
}
train {
  epochs 5
  batch 16
}
`;

const noTemps = (dir: string): string[] => readdirSync(dir).filter((f) => f.includes(".tmp-"));

describe("a full disk (ENOSPC)", () => {
  it("fmt --write with one page left: the source survives byte for byte, one NN5005, no temporary", async (ctx) => {
    const fs = tmpfs("fmt-full", "64k");
    if ("skip" in fs) return ctx.skip();
    const nn = join(fs.dir, "m.nn");
    writeFileSync(nn, UNFORMATTED);
    const before = readFileSync(nn);
    expect(before.length).toBeGreaterThan(8000);
    fillLeaving(join(fs.dir, "filler"), 4096); // the formatted text needs two pages
    const r = await run(["fmt", "--write", nn]);
    expectOneClearError(r, "NN5005", "fmt --write on a full disk");
    expect(r.stderr).toMatch(/cannot write \S+m\.nn: the disk is full \(ENOSPC\), while writing its temporary file/);
    expect(r.stderr).toMatch(/m\.nn was left as it was/);
    expect(readFileSync(nn).equals(before)).toBe(true);
    expect(noTemps(fs.dir)).toEqual([]);
    // With space again, the same command formats it.
    rmSync(join(fs.dir, "filler"));
    expect((await run(["fmt", "--write", nn])).code).toBe(0);
    expect(readFileSync(nn, "utf8")).not.toBe(UNFORMATTED);
  }, 60_000);

  it("compile -o onto a full disk: the old module stays byte for byte", async (ctx) => {
    const fs = tmpfs("compile-full", "64k");
    if ("skip" in fs) return ctx.skip();
    const old = join(fs.dir, "xor.model.ts");
    writeFileSync(old, "// the module compiled last week\n");
    fillLeaving(join(fs.dir, "filler"), 0);
    const r = await run(["compile", join(import.meta.dirname, "../../examples/xor.nn"), "-o", old]);
    expectOneClearError(r, "NN5005", "compile -o on a full disk");
    expect(r.stderr).toMatch(/the disk is full \(ENOSPC\)/);
    expect(readFileSync(old, "utf8")).toBe("// the module compiled last week\n");
    expect(noTemps(fs.dir)).toEqual([]);
  }, 60_000);

  it("train --out on a disk that cannot hold one checkpoint: refused before the first batch", async (ctx) => {
    const fs = tmpfs("train-small", "64k");
    if ("skip" in fs) return ctx.skip();
    const nn = join(DIR, "long.nn");
    writeFileSync(nn, LONG_MODEL);
    const t = performance.now();
    const r = await run(["train", nn, "--out", join(fs.dir, "run")]);
    expectOneClearError(r, "NN5005", "a checkpoint that cannot fit");
    expect(r.stderr).toMatch(/only \d+(\.\d)? KB are free on its disk, and one checkpoint of this run takes \d+\.\d KB \(ENOSPC\)/);
    expect(r.stderr).toMatch(/nothing was trained yet/);
    expect(r.stdout).not.toMatch(/epoch/);
    expect(performance.now() - t).toBeLessThan(20_000);
    expect(readdirSync(fs.dir)).toEqual([]); // the folder it made is gone again
  }, 60_000);

  it("a full disk at the last write: NN5005 with the way back, and that way writes the weights of an uninterrupted run", async (ctx) => {
    // The sizes of this run's files, from a run on an ordinary disk.
    const nn = join(DIR, "small.nn");
    writeFileSync(nn, SMALL_MODEL);
    const reference = join(DIR, "small-reference");
    expect((await run(["train", nn, "--out", reference, "--quiet"])).code).toBe(0);
    const ckpt = statSync(join(reference, "checkpoint.nnck")).size;
    const weights = statSync(join(reference, "weights.json")).size;
    expect(weights).toBeGreaterThan(4 * 4096);
    const fs = tmpfs("train-last-write", "256k");
    if ("skip" in fs) return ctx.skip();
    // Room for the checkpoint, the lock and two pages: not for the weights.
    const page = 4096;
    const leave = Math.ceil((ckpt + 1024) / page) * page + page + 2 * page;
    fillLeaving(join(fs.dir, "filler"), leave);
    const out = join(fs.dir, "run");
    const r = await run(["train", nn, "--out", out]);
    expectOneClearError(r, "NN5005", "weights.json on a full disk");
    expect(r.stderr).toMatch(/cannot write \S+weights\.json: the disk is full \(ENOSPC\)/);
    const hint = /`(nnc train [^`]+--resume[^`]*)` writes the weights and report again/.exec(r.stderr);
    expect(hint, r.stderr).not.toBeNull();
    expect(existsSync(join(out, "weights.json"))).toBe(false);
    expect(noTemps(out)).toEqual([]);
    const c = decodeCheckpoint(readFileSync(join(out, "checkpoint.nnck")));
    if (typeof c === "string") throw new Error(c);
    expect(c.state.epoch).toBe(5);
    // Free the space and run what the hint says.
    rmSync(join(fs.dir, "filler"));
    const again = await run(hint![1]!.split(" ").slice(1));
    expect(again.code, again.stderr).toBe(0);
    expect(sameParams(paramsOf(out), paramsOf(reference))).toBe(true);
  }, 120_000);
});

describe("a read-only file system (EROFS)", () => {
  it("fmt --write, compile -o and train (into an existing run and a new folder): one NN5005 each, nothing changed", async (ctx) => {
    const fs = tmpfs("read-only", "1m");
    if ("skip" in fs) return ctx.skip();
    const nn = join(fs.dir, "m.nn");
    writeFileSync(nn, UNFORMATTED);
    const mod = join(fs.dir, "xor.model.ts");
    writeFileSync(mod, "// old module\n");
    const small = join(fs.dir, "small.nn");
    writeFileSync(small, SMALL_MODEL);
    const out = join(fs.dir, "run");
    expect((await run(["train", small, "--out", out, "--quiet"])).code).toBe(0);
    const ckpt = readFileSync(join(out, "checkpoint.nnck"));
    remountReadOnly(fs.dir);
    expect(() => writeFileSync(join(fs.dir, "probe"), "x")).toThrow(/EROFS/);

    const f = await run(["fmt", "--write", nn]);
    expectOneClearError(f, "NN5005", "fmt --write, read-only");
    expect(f.stderr).toMatch(/the file system is read-only \(EROFS\)/);
    expect(readFileSync(nn, "utf8")).toBe(UNFORMATTED);

    const c = await run(["compile", join(import.meta.dirname, "../../examples/xor.nn"), "-o", mod]);
    expectOneClearError(c, "NN5005", "compile -o, read-only");
    expect(readFileSync(mod, "utf8")).toBe("// old module\n");

    const t = await run(["train", small, "--out", out, "--resume", "--epochs", "8"]);
    expectOneClearError(t, "NN5005", "train --resume, read-only");
    expect(t.stderr).toMatch(/read-only \(EROFS\)/);
    expect(t.stdout).not.toMatch(/epoch/);
    expect(readFileSync(join(out, "checkpoint.nnck")).equals(ckpt)).toBe(true);

    const n = await run(["train", small, "--out", join(fs.dir, "new-run")]);
    expectOneClearError(n, "NN5005", "train into a new folder, read-only");
    expect(n.stdout).not.toMatch(/epoch/);
  }, 120_000);
});

describe("fmt changes only the layout", () => {
  it("a Latin-1 byte in a comment: fmt, fmt --check and fmt --write refuse the file (NN4016) and leave it byte for byte", async () => {
    const dir = join(DIR, "latin1");
    mkdirSync(dir);
    const nn = join(dir, "m.nn");
    const bytes = Buffer.concat([Buffer.from("# caf"), Buffer.from([0xe9]), Buffer.from(" au lait\n" + UNFORMATTED)]);
    writeFileSync(nn, bytes);
    for (const args of [["fmt", nn], ["fmt", "--check", nn], ["fmt", "--write", nn]]) {
      const r = await run(args);
      expectOneClearError(r, "NN4016", args.join(" "));
      expect(r.stderr).toMatch(/m\.nn is not UTF-8 text: byte 0xE9 at line 1, column 6 does not start a UTF-8 character/);
      expect(r.stderr).toMatch(/the file was not changed/);
      expect(r.stdout).not.toContain("\ufffd");
      expect(readFileSync(nn).equals(bytes)).toBe(true);
    }
    expect(readdirSync(dir)).toEqual(["m.nn"]);
  }, 60_000);

  it("fmt --write keeps a byte-order mark and CRLF line ends, and a linked file stays a link", async () => {
    const dir = join(DIR, "bom-crlf");
    mkdirSync(dir);
    const nn = join(dir, "m.nn");
    writeFileSync(nn, "\ufeff" + UNFORMATTED.replace(/\n/g, "\r\n"));
    expect((await run(["fmt", "--write", nn])).code).toBe(0);
    const text = readFileSync(nn, "utf8");
    expect(text.startsWith("\ufeff")).toBe(true);
    expect(text.replace(/\r\n/g, "")).not.toMatch(/\n|\r/); // every line end is CRLF
    expect(text).not.toBe("\ufeff" + UNFORMATTED.replace(/\n/g, "\r\n")); // the layout did change
    expect((await run(["fmt", "--check", nn])).code).toBe(0);
    const plain = await run(["fmt", nn]);
    expect(plain.stdout).toBe(text);
    execFileSync("ln", ["-s", nn, join(dir, "link.nn")]);
    writeFileSync(nn, UNFORMATTED);
    expect((await run(["fmt", "--write", join(dir, "link.nn")])).code).toBe(0);
    expect(readFileSync(nn, "utf8")).not.toBe(UNFORMATTED);
    expect(readdirSync(dir).sort()).toEqual(["link.nn", "m.nn"]);
  }, 60_000);
});
