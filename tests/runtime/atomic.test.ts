/**
 * The one atomic write (`runtime/node/atomic.ts`) and the output folder's lock (`lock.ts`),
 * in-process, where faults can be injected at every step without root:
 * - a failure at any step (create, write, flush, rename) leaves the destination byte for byte
 *   as it was, removes the temporary, and comes back as one NN5005 diagnostic naming the file,
 *   the step and a hint; nothing throws;
 * - temporaries are created exclusively under random names: symbolic links planted at every
 *   name the old scheme used (`.<name>.tmp-<pid>`) and at the destination's neighbours are
 *   never followed, and their targets never change;
 * - one lock per folder: a live holder refuses a second, a dead one is taken over once.
 */
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync as openReal,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
  writeSync as writeReal,
} from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createExclusive, isTempOf, removeStaleTemps, tempName, writeFileAtomic, type FsOps } from "../../runtime/node/atomic.js";
import { LOCK_FILE, lockFolder, readLock, removeLockLeftovers } from "../../runtime/node/lock.js";
import { firstInvalidUtf8 } from "../../cli/load.js";
import { keepEncoding } from "../../cli/commands/fmt.js";

const ROOT = mkdtempSync(join(tmpdir(), "nnc-atomic-"));
let n = 0;
const fresh = (): string => {
  const d = join(ROOT, `d${n++}`);
  mkdirSync(d);
  return d;
};
const errno = (code: string): Error => Object.assign(new Error(`${code}: injected`), { code });
const temps = (dir: string): string[] => readdirSync(dir).filter((f) => f.includes(".tmp-"));

describe("writeFileAtomic", () => {
  it("writes a new file and replaces an old one, keeping its mode; no temporary is left", () => {
    const d = fresh();
    const p = join(d, "a.txt");
    expect(writeFileAtomic(p, "one")).toBeUndefined();
    expect(readFileSync(p, "utf8")).toBe("one");
    chmodSync(p, 0o640);
    expect(writeFileAtomic(p, new Uint8Array([1, 2, 3]))).toBeUndefined();
    expect([...readFileSync(p)]).toEqual([1, 2, 3]);
    expect(statSync(p).mode & 0o777).toBe(0o640);
    expect(temps(d)).toEqual([]);
  });

  // Each step of the write fails in turn, with each error a disk can give.
  const steps: { step: string; fs: (code: string) => Partial<FsOps>; words: RegExp }[] = [
    { step: "create", fs: (c) => ({ openSync: () => { throw errno(c); } }), words: /creating a temporary file/ },
    { step: "write (first byte)", fs: (c) => ({ writeSync: () => { throw errno(c); } }), words: /writing its temporary file/ },
    {
      step: "write (half-way)",
      fs: (c) => {
        let calls = 0;
        return { writeSync: (fd, b, o, l) => { if (calls++ > 0) throw errno(c); return writeReal(fd, b, o, Math.max(1, l >> 1)); } };
      },
      words: /writing its temporary file/,
    },
    { step: "flush", fs: (c) => ({ fsyncSync: () => { throw errno(c); } }), words: /flushing its temporary file/ },
    { step: "rename", fs: (c) => ({ renameSync: () => { throw errno(c); } }), words: /renaming its temporary file over it/ },
  ];
  const codes: [string, RegExp][] = [
    ["ENOSPC", /the disk is full \(ENOSPC\)/],
    ["EROFS", /read-only \(EROFS\)/],
    ["EACCES", /permission denied \(EACCES\)/],
    ["EIO", /input\/output error \(EIO\)/],
    ["EDQUOT", /quota/],
  ];
  for (const s of steps) {
    it.each(codes)(`%s while it ${s.step}s: the old file stays byte for byte, no temporary, one NN5005`, (code, text) => {
      const d = fresh();
      const p = join(d, "weights.json");
      const old = Buffer.from("the old content, \u00e9\u0000\u00ff intact\n", "latin1");
      writeFileSync(p, old);
      const r = writeFileAtomic(p, "x".repeat(10_000), { fs: s.fs(code) });
      expect(r?.code).toBe("NN5005");
      expect(r?.severity).toBe("error");
      expect(r?.file).toBe(p);
      expect(r?.message).toMatch(text);
      expect(r?.message).toMatch(s.words);
      expect(r?.hint).toMatch(/was left as it was/);
      expect(readFileSync(p).equals(old)).toBe(true);
      expect(temps(d)).toEqual([]);
    });
  }

  it("a destination that does not exist stays absent after a failure, and the hint says nothing was written", () => {
    const d = fresh();
    const p = join(d, "new.txt");
    const r = writeFileAtomic(p, "data", { fs: { fsyncSync: () => { throw errno("ENOSPC"); } } });
    expect(r?.hint).toMatch(/nothing was written/);
    expect(existsSync(p)).toBe(false);
    expect(readdirSync(d)).toEqual([]);
  });

  it("a folder at the destination, a missing folder, a path through a file: one diagnostic each, nothing thrown", () => {
    const d = fresh();
    mkdirSync(join(d, "taken"));
    writeFileSync(join(d, "file"), "x");
    expect(writeFileAtomic(join(d, "taken"), "x")?.message).toMatch(/a folder has that name \(EISDIR\)/);
    expect(writeFileAtomic(join(d, "nope", "x.txt"), "x")?.message).toMatch(/\(ENOENT\)/);
    expect(writeFileAtomic(join(d, "file", "x.txt"), "x")?.message).toMatch(/\(ENOTDIR\)/);
    expect(readdirSync(join(d, "taken"))).toEqual([]);
    expect(temps(d)).toEqual([]);
  });

  it("a name of 250 bytes still gets a temporary (the temporary's name is cut, not the file's)", () => {
    const d = fresh();
    const p = join(d, "é".repeat(120) + ".nn"); // 243 bytes
    expect(writeFileAtomic(p, "ok")).toBeUndefined();
    expect(readFileSync(p, "utf8")).toBe("ok");
  });

  it("EEXIST at a temporary's name draws another name; only after 9 draws does it give up", () => {
    const d = fresh();
    const p = join(d, "f.txt");
    let opens = 0;
    const real = (path: string, flags: number, mode: number): number => (opens++ < 3 ? (() => { throw errno("EEXIST"); })() : openReal(path, flags, mode));
    expect(writeFileAtomic(p, "ok", { fs: { openSync: real } })).toBeUndefined();
    expect(opens).toBe(4);
    const never = writeFileAtomic(p, "no", { fs: { openSync: () => { throw errno("EEXIST"); } } });
    expect(never?.code).toBe("NN5005");
    expect(readFileSync(p, "utf8")).toBe("ok");
  });
});

describe("temporaries never follow planted symbolic links", () => {
  it("links at every name the old scheme used and beside the destination: their targets never change", () => {
    const d = fresh();
    const outside = fresh();
    const names = ["checkpoint.nnck", "weights.json", "report.html", "m.nn"];
    const victims = new Map<string, string>();
    const plant = (link: string): void => {
      const victim = join(outside, `victim-${victims.size}`);
      writeFileSync(victim, `victim ${victims.size}\n`);
      symlinkSync(victim, join(d, link));
      victims.set(link, victim);
    };
    for (const name of names) {
      // the old scheme: `.<name>.tmp-<pid>`, for this process and its neighbours
      for (const pid of [process.pid, process.pid + 1, process.pid - 1, 1]) plant(`.${name}.tmp-${pid}`);
      for (const other of [`.${name}.tmp`, `${name}.tmp`, `.${name}.swp`, `${name}~`, `.${name}.tmp-0000000000000000`]) plant(other);
    }
    // the destinations themselves are links to files outside
    for (const name of ["weights.json", "report.html"]) plant(name);
    for (const name of names) expect(writeFileAtomic(join(d, name), `new ${name}\n`)).toBeUndefined();
    for (const [link, victim] of victims) {
      const i = [...victims.keys()].indexOf(link);
      expect(readFileSync(victim, "utf8"), `${link} → ${victim}`).toBe(`victim ${i}\n`);
    }
    for (const name of names) {
      expect(lstatSync(join(d, name)).isSymbolicLink(), name).toBe(false);
      expect(readFileSync(join(d, name), "utf8")).toBe(`new ${name}\n`);
    }
    // the planted links other than the two replaced destinations are still there, untouched
    for (const [link, victim] of victims) if (!names.includes(link)) expect(readlinkSync(join(d, link))).toBe(victim);
    expect(readdirSync(d).filter((f) => /\.tmp-[0-9a-f]{16}$/.test(f) && !f.endsWith("0000000000000000"))).toEqual([]);
  });

  it("temporaries are named with 64 random bits, never the pid", () => {
    const a = tempName("weights.json");
    const b = tempName("weights.json");
    expect(a).toMatch(/^\.weights\.json\.tmp-[0-9a-f]{16}$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain(String(process.pid));
    expect(isTempOf(a, ["weights.json"])).toBe(true);
    expect(isTempOf(".weights.json.tmp-1234", ["weights.json"])).toBe(true); // the old scheme, cleaned up too
    expect(isTempOf(a, ["checkpoint.nnck"])).toBe(false);
    expect(isTempOf(".weights.json.tmp-xyz", ["weights.json"])).toBe(false);
    // A checkpoint's history segments are swept with it.
    expect(isTempOf(tempName("checkpoint.nnck.history-3"), ["checkpoint.nnck"])).toBe(true);
    expect(isTempOf(tempName("checkpoint.nnck.history-3"), ["weights.json"])).toBe(false);
    expect(isTempOf(tempName("checkpoint.nnck.history-x"), ["checkpoint.nnck"])).toBe(false);
  });

  it("removing stale temporaries unlinks planted links without touching their targets, and only the run's names", () => {
    const d = fresh();
    const outside = fresh();
    writeFileSync(join(outside, "victim"), "keep");
    symlinkSync(join(outside, "victim"), join(d, ".weights.json.tmp-0123456789abcdef"));
    writeFileSync(join(d, ".notes.txt.tmp-0123456789abcdef"), "someone else's");
    removeStaleTemps(d, ["weights.json"]);
    expect(readdirSync(d)).toEqual([".notes.txt.tmp-0123456789abcdef"]);
    expect(readFileSync(join(outside, "victim"), "utf8")).toBe("keep");
  });

  it("with followLink (fmt --write), a linked source is rewritten where it lives and the link stays", () => {
    const d = fresh();
    const real = join(fresh(), "real.nn");
    writeFileSync(real, "old");
    symlinkSync(real, join(d, "link.nn"));
    expect(writeFileAtomic(join(d, "link.nn"), "new", { followLink: true })).toBeUndefined();
    expect(lstatSync(join(d, "link.nn")).isSymbolicLink()).toBe(true);
    expect(readFileSync(real, "utf8")).toBe("new");
  });
});

describe("the output folder's lock", () => {
  it("is created whole, refuses a second holder while the first lives, and is released", () => {
    const d = fresh();
    const a = lockFolder(d, "nnc train a");
    expect(a.diagnostics).toEqual([]);
    const info = readLock(join(d, LOCK_FILE));
    expect(typeof info === "object" && info.pid === process.pid && info.host === hostname()).toBe(true);
    // A second run (another pid): simulate by writing a lock of a live process (our parent).
    a.value!.release();
    expect(existsSync(join(d, LOCK_FILE))).toBe(false);
    writeFileSync(join(d, LOCK_FILE), JSON.stringify({ pid: process.ppid, host: hostname(), started: "2026-01-01T00:00:00.000Z", token: "t" }));
    const b = lockFolder(d);
    expect(b.value).toBeUndefined();
    expect(b.diagnostics.map((x) => x.code)).toEqual(["NN5007"]);
    expect(b.diagnostics[0]!.message).toMatch(new RegExp(`another \`nnc train\` is writing to it \\(pid ${process.ppid}, started 2026`));
    expect(b.diagnostics[0]!.hint).toMatch(/delete .*\.nnc-lock/);
  });

  it("only the holder of the take-over guard removes a stale lock: a live holder's guard makes the others refuse, a dead one's is cleared", () => {
    const d = fresh();
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid!;
    const stale = JSON.stringify({ pid: dead, host: hostname(), started: "2026-01-01T00:00:00.000Z", token: "old" });
    writeFileSync(join(d, LOCK_FILE), stale);
    // Another run (our parent, alive) is in the middle of taking it over.
    writeFileSync(join(d, `${LOCK_FILE}.takeover`), JSON.stringify({ pid: process.ppid, host: hostname(), started: "2026-01-01T00:00:00.000Z", token: "guard" }));
    const blocked = lockFolder(d);
    expect(blocked.value).toBeUndefined();
    expect(blocked.diagnostics.map((x) => x.code)).toEqual(["NN5007"]);
    expect(readFileSync(join(d, LOCK_FILE), "utf8")).toBe(stale);
    // The guard of a run that died while taking over goes; then the stale lock is taken.
    writeFileSync(join(d, `${LOCK_FILE}.takeover`), JSON.stringify({ pid: dead, host: hostname(), started: "2026-01-01T00:00:00.000Z", token: "guard" }));
    const r = lockFolder(d);
    expect(r.value).toBeDefined();
    expect(r.diagnostics.map((x) => x.code)).toEqual(["NN5008"]);
    expect(existsSync(join(d, `${LOCK_FILE}.takeover`))).toBe(false);
    r.value!.release();
  });

  it("a lock of a dead process is taken over with one warning; of another host, refused", () => {
    const d = fresh();
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid!; // exited: its pid is free
    writeFileSync(join(d, LOCK_FILE), JSON.stringify({ pid: dead, host: hostname(), started: "2026-01-01T00:00:00.000Z", token: "old" }));
    const r = lockFolder(d);
    expect(r.value).toBeDefined();
    expect(r.diagnostics.map((x) => [x.code, x.severity])).toEqual([["NN5008", "warning"]]);
    expect(r.diagnostics[0]!.message).toMatch(new RegExp(`pid ${dead}.* is no longer running`));
    r.value!.release();
    writeFileSync(join(d, LOCK_FILE), JSON.stringify({ pid: 1, host: "elsewhere.example", started: "2026-01-01T00:00:00.000Z", token: "x" }));
    const e = lockFolder(d);
    expect(e.diagnostics.map((x) => x.code)).toEqual(["NN5007"]);
    expect(e.diagnostics[0]!.message).toMatch(/a run on another machine holds it \(pid 1 on elsewhere\.example/);
  });

  it("a pid reused by another process (another start time) is stale; our own pid in a lock that is not ours too", () => {
    const d = fresh();
    writeFileSync(join(d, LOCK_FILE), JSON.stringify({ pid: process.ppid, host: hostname(), started: "2026-01-01T00:00:00.000Z", procStart: "1", token: "x" }));
    const r = lockFolder(d);
    if (existsSync(`/proc/${process.ppid}/stat`)) expect(r.diagnostics.map((x) => x.code)).toEqual(["NN5008"]);
    r.value?.release();
    writeFileSync(join(d, LOCK_FILE), JSON.stringify({ pid: process.pid, host: hostname(), started: "2026-01-01T00:00:00.000Z", token: "not-mine" }));
    const s = lockFolder(d);
    expect(s.diagnostics.map((x) => x.code)).toEqual(["NN5008"]);
    s.value!.release();
  });

  it("a lock name taken by a link, a folder or junk is refused, and the link's target is not read or changed", () => {
    for (const make of [
      (p: string) => symlinkSync("/dev/zero", p),
      (p: string) => mkdirSync(p),
      (p: string) => writeFileSync(p, "not json"),
    ]) {
      const d = fresh();
      make(join(d, LOCK_FILE));
      const r = lockFolder(d);
      expect(r.value).toBeUndefined();
      expect(r.diagnostics.map((x) => x.code)).toEqual(["NN5007"]);
      expect(r.diagnostics[0]!.message).toMatch(/not a lock nnc wrote/);
    }
  });

  it("leftovers of runs killed while taking the lock are removed once their process is gone; a live one's stay", () => {
    const d = fresh();
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid!;
    const lock = (pid: number, token: string): string => JSON.stringify({ pid, host: hostname(), started: "2026-01-01T00:00:00.000Z", token });
    writeFileSync(join(d, "..nnc-lock.tmp-00000000000000aa"), lock(dead, "a")); // a temporary of a dead run
    writeFileSync(join(d, "..nnc-lock.tmp-00000000000000bb"), lock(process.ppid, "b")); // of a live one, taking its lock now
    writeFileSync(join(d, ".nnc-lock.stale-00000000000000cc"), lock(dead, "c")); // a stale lock moved aside, then killed
    writeFileSync(join(d, ".weights.json.tmp-00000000000000dd"), "not a lock leftover");
    removeLockLeftovers(d);
    expect(readdirSync(d).sort()).toEqual(["..nnc-lock.tmp-00000000000000bb", ".weights.json.tmp-00000000000000dd"]);
  });

  it("createExclusive never replaces: the second of two creations finds the name taken", () => {
    const d = fresh();
    const p = join(d, "once");
    expect(createExclusive(p, Buffer.from("a"))).toBe("created");
    expect(createExclusive(p, Buffer.from("b"))).toBe("exists");
    expect(readFileSync(p, "utf8")).toBe("a");
    expect(temps(d)).toEqual([]);
  });
});

describe("fmt's encoding guards", () => {
  it("finds the first byte that is not UTF-8", () => {
    expect(firstInvalidUtf8(Buffer.from("plain ascii"))).toBe(-1);
    expect(firstInvalidUtf8(Buffer.from("é ✓ 😀"))).toBe(-1);
    expect(firstInvalidUtf8(Buffer.from([0x23, 0x20, 0x63, 0x61, 0x66, 0xe9, 0x0a]))).toBe(5); // Latin-1 é
    expect(firstInvalidUtf8(Buffer.from([0xc0, 0xaf]))).toBe(0); // overlong
    expect(firstInvalidUtf8(Buffer.from([0xed, 0xa0, 0x80]))).toBe(0); // a surrogate
    expect(firstInvalidUtf8(Buffer.from([0xf4, 0x90, 0x80, 0x80]))).toBe(0); // above U+10FFFF
    expect(firstInvalidUtf8(Buffer.from([0x61, 0xe2, 0x82]))).toBe(1); // cut short
    expect(firstInvalidUtf8(Buffer.from([0x80]))).toBe(0); // a lone continuation byte
  });
  it("keeps a byte-order mark and CRLF line ends", () => {
    expect(keepEncoding("\ufeffa\r\nb\r\n", "a\nb\n")).toBe("\ufeffa\r\nb\r\n");
    expect(keepEncoding("a\nb\n", "a\nb\n")).toBe("a\nb\n");
  });
});
