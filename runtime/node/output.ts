/**
 * A run's output folder (`nnc train --out DIR`), made ready before the first batch: the folder
 * is created, locked against a second run (`lock.ts`), cleared of temporaries a killed run
 * left, checked for folders squatting on the names the run will write, and for free space
 * (an error when not even one checkpoint fits, a warning when the whole run may not). So an
 * unwritable `--out` is found before training, not after it. Every file of the run is then
 * written through `writeFileAtomic`.
 */
import { lstatSync, mkdirSync, readdirSync, rmdirSync, statfsSync } from "node:fs";
import { join } from "node:path";
import { diag, type Diagnostic, type Result } from "../../grammar/diagnostics.js";
import { FILE_START } from "../../grammar/span.js";
import { explainFsError, removeStaleTemps, writeFileAtomic } from "./atomic.js";
import { lockFolder, removeLockLeftovers, type FolderLock } from "./lock.js";

export interface SpaceNeeds {
  /** One checkpoint: the temporary of the first write must fit whole. */
  readonly checkpoint: number;
  /** Everything the run writes (checkpoint, weights, report), roughly. */
  readonly total: number;
}

export class RunOutput {
  private released = false;

  private constructor(
    readonly dir: string,
    readonly lock: FolderLock,
    /** The folder did not exist before: removed again if the run ends without writing to it. */
    private readonly created: boolean,
  ) {}

  /**
   * Creates and locks `dir` for a run that writes `files` there; `command` is recorded in the
   * lock. Warnings (a stale lock taken over, little free space) come with the output.
   */
  static open(dir: string, files: readonly string[], needs: SpaceNeeds, command?: string): Result<RunOutput | undefined> {
    const created = !exists(dir);
    const fail = (ds: readonly Diagnostic[], out?: RunOutput): Result<undefined> => {
      if (out) out.release();
      else if (created) removeIfEmpty(dir);
      return { value: undefined, diagnostics: ds };
    };
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      const notFolder = (e as NodeJS.ErrnoException).code === "EEXIST";
      const { why, hint } = notFolder ? { why: "a file has that name (EEXIST)", hint: "choose another --out, or move the file away" } : explainFsError(e, dir);
      return fail([{ ...diag("cannotWrite", FILE_START, [dir, why], { hint: `${hint}; --out must be a folder nnc can create and write` }), file: dir }]);
    }
    const locked = lockFolder(dir, command);
    if (!locked.value) return fail(locked.diagnostics);
    const out = new RunOutput(dir, locked.value, created);
    const diagnostics: Diagnostic[] = [...locked.diagnostics];
    removeStaleTemps(dir, files);
    removeLockLeftovers(dir);
    for (const f of files) {
      const p = join(dir, f);
      if (exists(p) && lstatSync(p).isDirectory()) {
        return fail(
          [...diagnostics, { ...diag("cannotWrite", FILE_START, [p, "a folder has that name (EISDIR)"], { hint: "move the folder away, or choose another --out; nothing was trained yet" }), file: p }],
          out,
        );
      }
    }
    const free = freeBytes(dir);
    if (free !== undefined && free < needs.checkpoint) {
      return fail(
        [
          ...diagnostics,
          {
            ...diag("cannotWrite", FILE_START, [dir, `only ${bytes(free)} are free on its disk, and one checkpoint of this run takes ${bytes(needs.checkpoint)} (ENOSPC)`], {
              hint: "free some space, or choose another --out; nothing was trained yet",
            }),
            file: dir,
          },
        ],
        out,
      );
    }
    if (free !== undefined && free < needs.total) diagnostics.push({ ...diag("lowSpace", FILE_START, [dir, bytes(free), bytes(needs.total)], { hint: "the run may fail at its last writes: free some space, or choose another --out" }), file: dir });
    return { value: out, diagnostics };
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  /** Writes one file of the run atomically; undefined, or the diagnostic of the failure (NN5005). */
  write(name: string, content: Uint8Array | string, hint?: string): Diagnostic | undefined {
    return writeFileAtomic(this.path(name), content, hint !== undefined ? { hint } : {});
  }

  /** Releases the lock; a folder this run created and left empty is removed. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.lock.release();
    if (this.created) removeIfEmpty(this.dir);
  }
}

function exists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

function removeIfEmpty(dir: string): void {
  try {
    if (readdirSync(dir).length === 0) rmdirSync(dir);
  } catch {
    // not ours to worry about
  }
}

function freeBytes(dir: string): number | undefined {
  try {
    const s = statfsSync(dir);
    return Number(s.bavail) * Number(s.bsize);
  } catch {
    return undefined;
  }
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(1)} GB`;
}
