/**
 * The one way nnc reads a file it is given (a `.nn` file, data, weights, a checkpoint, a
 * search log, `predict`'s input): bounded, and only from a regular file.
 *
 * - A device, a FIFO or a socket named as a file is refused before a byte is read: `/dev/zero`
 *   as a data source would otherwise fill memory forever, a FIFO would block the run. The file
 *   is opened with O_NONBLOCK so that opening a FIFO cannot hang, then checked with `fstat` on
 *   the open descriptor (no window between the check and the read).
 * - A file larger than `limit` is refused with its size: V8 cannot hold a string over about
 *   512 MiB, and the readers that come here need one (JSON, a language model's running text,
 *   weights, checkpoints). CSV sources and IDX files are streamed in pieces and do not come here
 *   (`files.ts`), so their size is bounded by memory for their numbers only.
 * - Standard input (`"-"`, for `predict` and `explain`) may be a pipe; it is read to at most
 *   `limit` bytes.
 *
 * Every failure is a `why` (and a hint where there is one), the same words for every reader.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from "node:fs";

/** V8's longest string is 2^29 − 24 UTF-16 units; a UTF-8 file of this many bytes fits. */
export const MAX_TEXT_BYTES = 512 * 1024 * 1024 - 64;

export type ReadOutcome = { readonly bytes: Buffer } | { readonly why: string; readonly hint?: string; readonly code?: string };

/** Reads `path` ("-" is standard input) whole, refusing what is not a regular file or is over `limit` bytes. */
export function readBounded(path: string, limit = MAX_TEXT_BYTES): ReadOutcome {
  if (path === "-") return readStdin(limit);
  let fd: number;
  try {
    fd = openForReading(path);
  } catch (e) {
    return failure(e);
  }
  try {
    const st = fstatSync(fd);
    const odd = notRegular(st);
    if (odd !== undefined) return odd;
    if (st.size > limit) return tooLarge(st.size, limit);
    const bytes = Buffer.allocUnsafe(st.size);
    let off = 0;
    while (off < st.size) {
      const n = readSync(fd, bytes, off, st.size - off, off);
      if (n === 0) break; // the file shrank while being read
      off += n;
    }
    return { bytes: off === st.size ? bytes : bytes.subarray(0, off) };
  } catch (e) {
    return failure(e);
  } finally {
    closeSync(fd);
  }
}

/** `readBounded` as UTF-8 text. */
export function readBoundedText(path: string, limit = MAX_TEXT_BYTES): { readonly text: string } | { readonly why: string; readonly hint?: string; readonly code?: string } {
  const r = readBounded(path, limit);
  return "bytes" in r ? { text: r.bytes.toString("utf8") } : r;
}

/** Why an open file is not one nnc reads (a folder, a device, a pipe, a socket), or undefined for a regular file. */
export function notRegular(st: Stats): { why: string; hint?: string; code: string } | undefined {
  if (st.isFile()) return undefined;
  if (st.isDirectory()) return { why: "it is a folder", code: "EISDIR" };
  return { why: `it is not a regular file (${kindOf(st)})`, hint: "name a file on disk; nnc does not read devices, pipes or sockets as files", code: "ENOTREG" };
}

/** Opens `path` for reading without blocking on a FIFO. */
export function openForReading(path: string): number {
  return openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
}

/** The words for a failed read, shared with readers that open files their own way (IDX streams). */
export function failure(e: unknown): { why: string; hint?: string; code?: string } {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case "ENOENT":
      return { why: "no such file", code };
    case "EISDIR":
      return { why: "it is a folder", code };
    case "EACCES":
    case "EPERM":
      return { why: "permission denied", hint: "check the file's permissions", code };
    case "ELOOP":
      return { why: "too many symbolic links", code };
    default:
      return { why: e instanceof Error ? e.message : String(e), ...(code === undefined ? {} : { code }) };
  }
}

function readStdin(limit: number): ReadOutcome {
  const chunks: Buffer[] = [];
  let total = 0;
  const chunk = Buffer.allocUnsafe(1 << 16);
  for (;;) {
    let n: number;
    try {
      n = readSync(0, chunk, 0, chunk.length, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EAGAIN") continue; // a non-blocking pipe with nothing yet
      if (code === "EOF") break;
      return failure(e);
    }
    if (n === 0) break;
    total += n;
    if (total > limit) return tooLarge(total, limit, true);
    chunks.push(Buffer.from(chunk.subarray(0, n)));
  }
  return { bytes: Buffer.concat(chunks, total) };
}

function tooLarge(size: number, limit: number, atLeast = false): { why: string; hint: string; code: string } {
  const mb = (b: number): string => (b < 1024 * 1024 ? `${b} bytes` : `${(b / (1024 * 1024)).toFixed(b < 10 * 1024 * 1024 ? 1 : 0)} MiB`);
  return {
    why: `it is ${atLeast ? "over " : ""}${mb(size)}, over the ${mb(limit)} nnc reads as text`,
    hint: "use a sample of it, or write it as CSV: CSV sources and IDX images are read as a stream, with no such limit",
    code: "EFBIG",
  };
}

function kindOf(st: Stats): string {
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  if (st.isFIFO()) return "a named pipe";
  if (st.isSocket()) return "a socket";
  return "not a file";
}
