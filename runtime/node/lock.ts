/**
 * One run per output folder: `nnc train` holds `<out>/.nnc-lock` from before its first batch to
 * its exit. The lock file is created whole or not at all (written to an exclusive temporary,
 * then hard-linked to its name, which fails if the name is taken) and holds the owner's pid,
 * host, start time, a random token, and on Linux the process's start time in clock ticks
 * (so a pid reused by another process is not mistaken for the owner).
 *
 * A lock whose process is gone (same host, no such pid, or the pid now belongs to a process
 * that started at another time) is stale: it is taken over with a warning. Taking over happens
 * under a guard file that one run at a time can create (`takeOver`): its holder checks that the
 * lock is still the one judged stale (its token) and deletes it, then creates its own like any
 * run; two runs that find the same stale lock cannot both take it. (Renaming the stale lock
 * aside instead is not enough: with three runs, one can move a lock another has just made.)
 */
import { randomBytes } from "node:crypto";
import { closeSync, lstatSync, openSync, readdirSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { diag, type Diagnostic, type Result } from "../../grammar/diagnostics.js";
import { FILE_START } from "../../grammar/span.js";
import { createExclusive, errnoOf, EXCLUSIVE, explainFsError, isTempOf, type FsOps } from "./atomic.js";

export const LOCK_FILE = ".nnc-lock";
/** The guard of a take-over (`takeOver`): `.nnc-lock.takeover`. */
const GUARD_SUFFIX = ".takeover";

export interface LockInfo {
  readonly pid: number;
  readonly host: string;
  /** ISO time the run started. */
  readonly started: string;
  /** Linux: field 22 of /proc/<pid>/stat (start time in clock ticks since boot). */
  readonly procStart?: string;
  /** Random: tells this lock from any other, even of the same pid. */
  readonly token: string;
  readonly command?: string;
}

export interface FolderLock {
  readonly path: string;
  readonly info: LockInfo;
  /** Removes the lock if it is still ours. Safe to call more than once. */
  release(): void;
}

/** Takes the lock of `dir` (which must exist). Warnings (a stale lock taken over) come with the lock. */
export function lockFolder(dir: string, command?: string, fs: Partial<FsOps> = {}): Result<FolderLock | undefined> {
  const path = join(dir, LOCK_FILE);
  const procStart = procStartOf(process.pid);
  const info: LockInfo = {
    pid: process.pid,
    host: hostname(),
    started: new Date().toISOString(),
    ...(procStart !== undefined ? { procStart } : {}),
    token: randomBytes(12).toString("hex"),
    ...(command !== undefined ? { command } : {}),
  };
  const bytes = Buffer.from(JSON.stringify(info) + "\n", "utf8");
  const warnings: Diagnostic[] = [];
  const refuse = (why: string, hint: string): Result<undefined> => ({
    value: undefined,
    diagnostics: [...warnings, { ...diag("outputInUse", FILE_START, [dir, why], { hint }), file: path }],
  });
  for (let attempt = 0; attempt < 100; attempt++) {
    let made = createExclusive(path, bytes, fs);
    if (made === "unsupported") made = createWithoutLinks(path, bytes);
    if (made === "created") return { value: held(path, info), diagnostics: warnings };
    if (made !== "exists") return { value: undefined, diagnostics: [...warnings, made] };
    // The name is taken: by a live run, a dead one, or something else.
    const other = readLock(path);
    if (other === "gone") continue;
    if (typeof other === "string")
      return refuse(`its lock file is there, but it is not a lock nnc wrote (${other})`, `if no \`nnc train\` is writing to ${dir}, delete ${path}`);
    const owner = describe(other);
    const state = liveness(other);
    if (state === "alive")
      return refuse(`another \`nnc train\` is writing to it (${owner})`, `wait for that run to end, or choose another --out; if it is not running any more, delete ${path}`);
    if (state === "elsewhere")
      return refuse(
        `a run on another machine holds it (${owner})`,
        `nnc cannot see whether a run on ${other.host} is still going: if it is not, delete ${path}`,
      );
    const taken = takeOver(path, other, bytes);
    if (taken === "failed") return refuse("the stale lock of a run that ended could not be removed", `delete ${path} by hand`);
    if (taken === "taken") warnings.push({ ...diag("staleLock", FILE_START, [dir, `the run that held it (${owner}) is no longer running`]), file: path });
    // "moved": another run took it over first; look again.
  }
  return refuse("the lock changed hands too often", `try again; if it keeps failing, check what else writes to ${dir}`);
}

function held(path: string, info: LockInfo): FolderLock {
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    const now = readLock(path);
    if (typeof now === "object" && now.token === info.token) {
      try {
        unlinkSync(path);
      } catch {
        // already gone
      }
    }
  };
  process.once("exit", release);
  return {
    path,
    info,
    release: () => {
      process.removeListener("exit", release);
      release();
    },
  };
}

/** File systems without hard links: exclusive creation, then the content (a reader may briefly see it empty). */
function createWithoutLinks(path: string, bytes: Uint8Array): "created" | "exists" | Diagnostic {
  let fd: number;
  try {
    fd = openSync(path, EXCLUSIVE, 0o644);
  } catch (e) {
    if (errnoOf(e) === "EEXIST") return "exists";
    const { why, hint } = explainFsError(e, path);
    return { ...diag("cannotWrite", FILE_START, [path, why], { hint }), file: path };
  }
  try {
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    closeSync(fd);
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      // closed already
    }
    try {
      unlinkSync(path);
    } catch {
      // gone
    }
    const { why, hint } = explainFsError(e, path);
    return { ...diag("cannotWrite", FILE_START, [path, why], { hint }), file: path };
  }
  return "created";
}

/** The lock at `path`: its content, "gone", or what is wrong with it. Never follows a link. */
export function readLock(path: string): LockInfo | "gone" | string {
  try {
    const st = lstatSync(path);
    if (st.isSymbolicLink()) return "it is a symbolic link";
    if (!st.isFile()) return "it is not a regular file";
    if (st.size > 65536) return "it is too large";
    const text = readFileSync(path, "utf8");
    const v = JSON.parse(text) as Partial<LockInfo>;
    if (typeof v !== "object" || v === null) return "its content is not a lock";
    if (!Number.isSafeInteger(v.pid) || (v.pid as number) <= 0) return "it names no process";
    if (typeof v.host !== "string" || typeof v.token !== "string" || typeof v.started !== "string") return "its content is not a lock";
    if (v.procStart !== undefined && typeof v.procStart !== "string") return "its content is not a lock";
    return v as LockInfo;
  } catch (e) {
    if (errnoOf(e) === "ENOENT") return "gone";
    return e instanceof SyntaxError ? "its content is not JSON" : e instanceof Error ? e.message : String(e);
  }
}

/** Whether the process that wrote a lock still runs: "alive", "dead", or "elsewhere" (another host). */
export function liveness(l: LockInfo): "alive" | "dead" | "elsewhere" {
  if (l.host !== hostname()) return "elsewhere";
  if (l.pid === process.pid) return "dead"; // we are this pid, and this lock is not ours: a reused pid (containers)
  try {
    process.kill(l.pid, 0);
  } catch (e) {
    if (errnoOf(e) === "ESRCH") return "dead";
    // EPERM: it runs, as another user
  }
  const now = procStartOf(l.pid);
  if (l.procStart !== undefined && now !== undefined && now !== l.procStart) return "dead"; // the pid was reused
  return "alive";
}

/**
 * Removes a stale lock, if it is still the one judged stale. Only one run at a time may: the
 * one that creates `<lock>.takeover` exclusively (holding the same owner facts as a lock). Under
 * that guard no other run can replace the lock file (creating it fails while it exists, and
 * removing it takes the guard), so checking its token and then deleting it is safe. A run that
 * finds the guard taken waits a moment and looks again; a guard left by a run that died is
 * removed.
 */
function takeOver(path: string, stale: LockInfo, me: Uint8Array): "taken" | "moved" | "failed" {
  const guard = `${path}${GUARD_SUFFIX}`;
  let made = createExclusive(guard, me);
  if (made === "unsupported") made = createWithoutLinks(guard, me);
  if (made !== "created") {
    if (made !== "exists") return "failed";
    const holder = readLock(guard);
    if (typeof holder === "object" && liveness(holder) === "dead") {
      try {
        unlinkSync(guard);
      } catch {
        // another run removed it first
      }
    } else pause(20);
    return "moved";
  }
  try {
    const now = readLock(path);
    if (now === "gone") return "moved";
    if (typeof now !== "object" || now.token !== stale.token) return "moved";
    unlinkSync(path);
    return "taken";
  } catch (e) {
    return errnoOf(e) === "ENOENT" ? "moved" : "failed";
  } finally {
    try {
      unlinkSync(guard);
    } catch {
      // gone
    }
  }
}


/** Blocks the thread for `ms` milliseconds (the lock is taken before anything else runs). */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Removes what runs killed while taking the lock left in `dir`: the temporaries of lock files
 * and of the take-over guard, and stale locks moved aside (by earlier versions), once the process each names is gone (another run's, still
 * taking its lock, stays). Unreadable ones go once they are a minute old.
 */
export function removeLockLeftovers(dir: string): void {
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch {
    return;
  }
  for (const f of files) {
    if (!isTempOf(f, [LOCK_FILE, `${LOCK_FILE}${GUARD_SUFFIX}`]) && !/^\.nnc-lock\.stale-[0-9a-f]{16}$/.test(f)) continue;
    const p = join(dir, f);
    const info = readLock(p);
    if (info === "gone") continue;
    let old = false;
    try {
      old = Date.now() - lstatSync(p).mtimeMs > 60_000;
    } catch {
      continue;
    }
    if (typeof info === "object" ? liveness(info) === "dead" || old : old) {
      try {
        unlinkSync(p);
      } catch {
        // gone meanwhile
      }
    }
  }
}

/** Linux: the start time of process `pid` in clock ticks since boot (field 22 of /proc/<pid>/stat). */
function procStartOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19];
  } catch {
    return undefined;
  }
}

function describe(l: LockInfo): string {
  return `pid ${l.pid}${l.host !== hostname() ? ` on ${l.host}` : ""}, started ${l.started}`;
}
