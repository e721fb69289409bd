/**
 * The one way nnc writes a file (`fmt --write`, `compile -o`, weights, reports, checkpoints,
 * the output folder's lock): the bytes go to a new temporary file beside the destination, are
 * fsynced, and the temporary is renamed over the destination; then the folder is fsynced.
 *
 * - A crash or a failure at any step leaves the destination as it was (or absent), never torn.
 * - On a failure (ENOSPC, EROFS, EACCES, EISDIR, …) the temporary is removed and the caller gets
 *   one diagnostic (NN5005) naming the file, the step that failed and a hint; nothing throws.
 * - The temporary is created exclusively (O_CREAT | O_EXCL | O_NOFOLLOW) under an unpredictable
 *   name (`.<name>.tmp-<16 random hex digits>`), so a symbolic link or file planted in a shared
 *   folder is never followed or overwritten: creation fails and another name is drawn.
 * - A destination that is a symbolic link is replaced by the new file (the link's target is not
 *   touched), unless `followLink` is asked for (`fmt --write` on a linked source file), which
 *   writes the regular file the link points to, atomically, in that file's folder.
 */
import { randomBytes } from "node:crypto";
import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fsyncSync,
  linkSync,
  lstatSync,
  openSync,
  readdirSync,
  realpathSync,
  renameSync,
  unlinkSync,
  writeSync,
  type Stats,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { diag, type Diagnostic } from "../../grammar/diagnostics.js";
import { FILE_START } from "../../grammar/span.js";

/** For the crash tests: sleep this long half-way through writing every file. */
const DELAY_ENV = "NNC_CHECKPOINT_WRITE_DELAY_MS";

/** Flags of every temporary: write only, created here and now, never through a link. */
export const EXCLUSIVE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0);

/** The file-system calls a write makes; tests replace some to inject faults. */
export interface FsOps {
  openSync(path: string, flags: number, mode: number): number;
  writeSync(fd: number, b: Uint8Array, offset: number, length: number): number;
  fsyncSync(fd: number): void;
  closeSync(fd: number): void;
  renameSync(from: string, to: string): void;
  linkSync(existing: string, to: string): void;
}

const NODE_FS: FsOps = {
  openSync: (p, f, m) => openSync(p, f, m),
  writeSync: (fd, b, o, l) => writeSync(fd, b, o, l),
  fsyncSync,
  closeSync,
  renameSync,
  linkSync,
};

export interface WriteOptions {
  /** Write the regular file a symbolic link at the destination points to, instead of replacing the link. */
  readonly followLink?: boolean;
  /** Added to the hint (e.g. how to continue a run whose last write failed). */
  readonly hint?: string;
  /** For tests: file-system calls to use instead of Node's. */
  readonly fs?: Partial<FsOps>;
}

/** The step of a write that failed, as the message says it. */
type Step = "check" | "create" | "write" | "flush" | "replace" | "link";

class StepError extends Error {
  constructor(
    readonly step: Step,
    readonly cause: unknown,
  ) {
    super(step);
  }
}

/**
 * Writes `data` to `path` atomically. Returns undefined when the file is in place, or the one
 * diagnostic (NN5005, with `file`) that says what failed; the destination is then untouched and
 * no temporary is left behind.
 */
export function writeFileAtomic(path: string, data: Uint8Array | string, opts: WriteOptions = {}): Diagnostic | undefined {
  const ops = { ...NODE_FS, ...opts.fs };
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  let target = path;
  let before: Stats | undefined;
  try {
    before = lstatOrUndefined(path);
    if (before?.isSymbolicLink() && opts.followLink) {
      target = realpathSync(path);
      before = lstatOrUndefined(target);
    }
    if (before?.isDirectory()) throw new StepError("check", Object.assign(new Error("it is a folder"), { code: "EISDIR" }));
  } catch (e) {
    return failure(path, e instanceof StepError ? e : new StepError("check", e), before, opts.hint);
  }
  let tmp: string | undefined;
  try {
    tmp = writeTemp(dirname(target), basename(target), bytes, ops, before?.isFile() ? before : undefined, Number(process.env[DELAY_ENV] ?? 0));
    try {
      ops.renameSync(tmp, target);
    } catch (e) {
      throw new StepError("replace", e);
    }
    tmp = undefined;
  } catch (e) {
    if (tmp !== undefined) removeQuietly(tmp);
    return failure(path, e instanceof StepError ? e : new StepError("write", e), before, opts.hint);
  }
  fsyncFolder(dirname(target));
  return undefined;
}

/**
 * Creates `<dir>/.<name>.tmp-<random>` exclusively, writes `bytes`, fsyncs and closes it, and
 * returns its path; on failure removes it and throws a `StepError`. `like`: an existing file
 * whose mode (and, as root, owner) the new one keeps.
 */
function writeTemp(dir: string, name: string, bytes: Uint8Array, ops: FsOps, like?: Stats, delayMs = 0): string {
  let fd = -1;
  let tmp = "";
  for (let attempt = 0; fd < 0; attempt++) {
    tmp = join(dir, tempName(name));
    try {
      fd = ops.openSync(tmp, EXCLUSIVE, 0o666);
    } catch (e) {
      // EEXIST: a file or link sits at this name (planted, or a collision): draw another.
      if ((e as NodeJS.ErrnoException).code !== "EEXIST" || attempt >= 8) throw new StepError("create", e);
    }
  }
  let step: Step = "write";
  try {
    if (like) {
      try {
        fchmodSync(fd, like.mode & 0o7777);
        if (process.getuid?.() === 0) fchownSync(fd, like.uid, like.gid);
      } catch {
        // keeping the mode or owner is a courtesy; the content is what matters
      }
    }
    const half = bytes.length >> 1;
    writeAll(ops, fd, bytes.subarray(0, half));
    if (delayMs > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, delayMs);
    writeAll(ops, fd, bytes.subarray(half));
    step = "flush";
    ops.fsyncSync(fd);
    step = "write";
    const closing = fd;
    fd = -1;
    ops.closeSync(closing);
  } catch (e) {
    if (fd >= 0) {
      try {
        ops.closeSync(fd);
      } catch {
        // already failing
      }
    }
    removeQuietly(tmp);
    throw new StepError(step, e);
  }
  return tmp;
}

/**
 * Writes `bytes` to a new temporary beside `path` and hard-links it to `path`, which must not
 * exist (a link fails with EEXIST, atomically, instead of replacing anything): a file that
 * appears whole or not at all, for the output folder's lock. Returns "exists" when `path` is
 * taken, "unsupported" when the file system has no hard links, or the diagnostic of a failure.
 */
export function createExclusive(path: string, bytes: Uint8Array, fs: Partial<FsOps> = {}): "created" | "exists" | "unsupported" | Diagnostic {
  const ops = { ...NODE_FS, ...fs };
  let tmp: string;
  try {
    tmp = writeTemp(dirname(path), basename(path), bytes, ops);
  } catch (e) {
    return failure(path, e instanceof StepError ? e : new StepError("create", e), undefined);
  }
  try {
    ops.linkSync(tmp, path);
    return "created";
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return "exists";
    if (code === "EPERM" || code === "ENOTSUP" || code === "EOPNOTSUPP" || code === "ENOSYS" || code === "EMLINK") return "unsupported";
    return failure(path, new StepError("link", e), undefined);
  } finally {
    removeQuietly(tmp);
  }
}

/** `.<name>.tmp-<16 hex digits>`, the name cut so the whole stays under the usual 255-byte limit. */
export function tempName(name: string): string {
  let base = name;
  while (Buffer.byteLength(base) > 200) base = base.slice(0, -1);
  return `.${base}.tmp-${randomBytes(8).toString("hex")}`;
}

/**
 * Whether `file` is a temporary of one of `names` (this scheme's, or the old `.tmp-<pid>` one),
 * or of a history segment written beside one of them (`checkpoint.nnck.history-3`).
 */
export function isTempOf(file: string, names: readonly string[]): boolean {
  const m = /^\.(.+)\.tmp-([0-9a-f]{16}|\d+)$/.exec(file);
  return m !== null && (names.includes(m[1]!) || names.includes(m[1]!.replace(/\.history-\d+$/, "")));
}

/**
 * Removes temporaries of `names` that a killed run left in `dir`. Only call it while holding
 * the folder's lock: another live writer's temporaries have the same form. Links are removed,
 * never followed.
 */
export function removeStaleTemps(dir: string, names: readonly string[]): void {
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch {
    return; // no folder yet
  }
  for (const f of files) if (isTempOf(f, names)) removeQuietly(join(dir, f));
}

function writeAll(ops: FsOps, fd: number, b: Uint8Array): void {
  let off = 0;
  while (off < b.length) {
    const n = ops.writeSync(fd, b, off, b.length - off);
    if (n <= 0) throw Object.assign(new Error("the write made no progress"), { code: "EIO" });
    off += n;
  }
}

function fsyncFolder(dir: string): void {
  try {
    const dfd = openSync(dir, constants.O_RDONLY);
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // some file systems cannot fsync a folder; the rename is still atomic
  }
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // gone already, or the folder vanished
  }
}

/** The code of a file-system error (`ENOSPC`, …), if it has one. */
export function errnoOf(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | undefined)?.code;
  return typeof code === "string" ? code : undefined;
}

/** A file-system error in words, and a hint for it, for a file in folder `dir`. */
export function explainFsError(e: unknown, dir: string): { why: string; hint: string } {
  const code = errnoOf(e);
  const where = dir === "" ? "." : dir;
  switch (code) {
    case "ENOSPC":
      return { why: "the disk is full (ENOSPC)", hint: `free some space on the disk that holds ${where}, or write somewhere else` };
    case "EDQUOT":
      return { why: "the disk quota is used up (EDQUOT)", hint: `free some of your space on the disk that holds ${where}, or write somewhere else` };
    case "EROFS":
      return { why: "the file system is read-only (EROFS)", hint: `${where} is on a read-only file system: write somewhere else` };
    case "EACCES":
    case "EPERM":
      return { why: `permission denied (${code})`, hint: `you may not create files in ${where}: change its permissions, or write somewhere else` };
    case "EISDIR":
      return { why: "a folder has that name (EISDIR)", hint: "move the folder away, or choose another name" };
    case "ENOENT":
      return { why: "the folder does not exist (ENOENT)", hint: `create ${where} first, or check the path` };
    case "ENOTDIR":
      return { why: "a part of the path is a file, not a folder (ENOTDIR)", hint: "check the path" };
    case "ENAMETOOLONG":
      return { why: "the name is too long (ENAMETOOLONG)", hint: "choose a shorter name" };
    case "ELOOP":
      return { why: "too many symbolic links (ELOOP)", hint: "check the links along the path" };
    case "EIO":
      return { why: "an input/output error (EIO)", hint: `check the disk that holds ${where}` };
    case "EMFILE":
    case "ENFILE":
      return { why: `too many open files (${code})`, hint: "close other programs, or raise the open-file limit (ulimit -n)" };
    default: {
      const msg = e instanceof Error ? e.message : String(e);
      return { why: msg, hint: `check that ${where} can be written` };
    }
  }
}

const STEP_WORDS: Record<Step, string> = {
  check: "",
  create: "while creating a temporary file beside it",
  write: "while writing its temporary file",
  flush: "while flushing its temporary file to the disk",
  replace: "while renaming its temporary file over it",
  link: "while linking its temporary file to it",
};

function failure(path: string, e: StepError, before: Stats | undefined, extraHint?: string): Diagnostic {
  const { why, hint } = explainFsError(e.cause, dirname(path));
  const step = STEP_WORDS[e.step];
  const kept = before ? `${path} was left as it was` : "nothing was written";
  return {
    ...diag("cannotWrite", FILE_START, [path, step ? `${why}, ${step}` : why], {
      hint: `${hint}; ${kept}${extraHint ? `. ${extraHint}` : ""}`,
    }),
    file: path,
  };
}
