/**
 * Writing files so that a crash at any moment leaves either the old or the new file, never a
 * torn one: write a temporary file, fsync it, rename it over the target, fsync the folder.
 */
import { closeSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { diag, type Diagnostic, type Result } from "../../grammar/diagnostics.js";
import { FILE_START } from "../../grammar/span.js";
import { decodeCheckpoint, type Checkpoint } from "../checkpoint.js";

/** For the crash test: sleep this long half-way through writing a checkpoint. */
const DELAY_ENV = "NNC_CHECKPOINT_WRITE_DELAY_MS";

export function writeAtomic(path: string, data: Uint8Array | string): void {
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.tmp-${process.pid}`);
  const fd = openSync(tmp, "w");
  try {
    try {
      const half = bytes.length >> 1;
      writeAll(fd, bytes.subarray(0, half));
      const delay = Number(process.env[DELAY_ENV] ?? 0);
      if (delay > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, delay);
      writeAll(fd, bytes.subarray(half));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true }); // the old file, if any, is untouched
    throw e;
  }
  try {
    const dfd = openSync(dir, "r");
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // some file systems cannot fsync a folder; the rename is still atomic
  }
}

function writeAll(fd: number, b: Uint8Array): void {
  let off = 0;
  while (off < b.length) off += writeSync(fd, b, off, b.length - off);
}

/** Removes temporary files left by a run that was killed while writing. */
export function removeStaleTemps(dir: string): void {
  try {
    for (const f of readdirSync(dir)) if (/^\..*\.tmp-\d+$/.test(f)) rmSync(join(dir, f), { force: true });
  } catch {
    // no folder yet
  }
}

/** Reads and verifies a checkpoint; refuses one written for another model (NN5002). */
export function readCheckpoint(path: string, shown: string, hash: string, paramCount?: number): Result<Checkpoint | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const why = (e as { code?: string }).code === "ENOENT" ? "no such file" : String(e);
    return { value: undefined, diagnostics: [diag("fileNotFound", FILE_START, [shown, why])] };
  }
  const c = decodeCheckpoint(bytes);
  const fail = (d: Diagnostic): Result<undefined> => ({ value: undefined, diagnostics: [{ ...d, file: shown }] });
  if (typeof c === "string")
    return fail(diag("checkpointCorrupt", FILE_START, [shown, c], { hint: "delete it to start over, or restore a backup" }));
  if (c.header.hash !== hash)
    return fail(
      diag("checkpointOtherModel", FILE_START, [shown], {
        hint: `it belongs to model \`${c.header.model}\` as it was then; the model, loss or optimizer changed since. Use another --out folder, or delete the checkpoint to start over`,
      }),
    );
  if (paramCount !== undefined && c.state.model.params.length !== paramCount)
    return fail(
      diag("checkpointCorrupt", FILE_START, [shown, `it holds ${c.state.model.params.length} parameters, the model has ${paramCount}`], {
        hint: "it was written by another version of nnc; delete it to start over",
      }),
    );
  return { value: c, diagnostics: [] };
}
