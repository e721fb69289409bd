/**
 * Reading data files from disk for the runtime: paths relative to the `.nn` file, IDX files
 * streamed (through gunzip when they start with the gzip magic) straight into the decoder.
 */
import { closeSync, createReadStream, fstatSync, readSync } from "node:fs";
import { isAbsolute, relative, resolve } from "node:path";
import { createGunzip } from "node:zlib";
import { diag, type Result } from "../../grammar/diagnostics.js";
import type { Span } from "../../grammar/span.js";
import { IdxDecoder, type IdxArray } from "../idx.js";
import type { SourceReader } from "../load.js";
import { dataDiag } from "../span.js";
import { FILE_START } from "../../grammar/span.js";
import { failure, notRegular, openForReading, readBoundedText } from "./read.js";

/** Bytes per piece of a streamed text file. */
const PIECE = 4 << 20;

export class FileReader implements SourceReader {
  constructor(
    /** Folder of the `.nn` file: data paths are relative to it. */
    readonly baseDir: string,
    readonly cwd = process.cwd(),
  ) {}

  resolve(path: string): string {
    return isAbsolute(path) ? path : resolve(this.baseDir, path);
  }

  display(path: string): string {
    const full = this.resolve(path);
    const rel = relative(this.cwd, full);
    return rel.startsWith("..") && isAbsolute(path) ? full : rel || full;
  }

  async text(path: string, span: Span): Promise<Result<string | undefined>> {
    const r = readBoundedText(this.resolve(path));
    return "text" in r ? { value: r.text, diagnostics: [] } : { value: undefined, diagnostics: [notFound(this.display(path), r, span)] };
  }

  /**
   * A text file in pieces of at most `PIECE` bytes, decoded as UTF-8 across piece boundaries: a
   * CSV larger than the longest string V8 can hold is read this way, never whole.
   */
  async stream(path: string, span: Span, take: (piece: string) => boolean): Promise<Result<boolean>> {
    const shown = this.display(path);
    let fd: number;
    try {
      fd = openForReading(this.resolve(path));
    } catch (e) {
      return { value: false, diagnostics: [notFound(shown, failure(e), span)] };
    }
    // Only the reading is a read failure: an exception of `take` (the parser) is not "cannot read".
    const read = (f: () => number): number | { why: string; hint?: string } => {
      try {
        return f();
      } catch (e) {
        return failure(e);
      }
    };
    try {
      const odd = notRegular(fstatSync(fd));
      if (odd !== undefined) return { value: false, diagnostics: [notFound(shown, odd, span)] };
      const bytes = Buffer.allocUnsafe(PIECE);
      const utf8 = new TextDecoder("utf-8");
      let at = 0;
      for (;;) {
        const n = read(() => readSync(fd, bytes, 0, PIECE, at));
        if (typeof n !== "number") return { value: false, diagnostics: [notFound(shown, n, span)] };
        if (n === 0) break;
        at += n;
        if (!take(utf8.decode(bytes.subarray(0, n), { stream: true }))) return { value: true, diagnostics: [] };
      }
      const rest = utf8.decode();
      if (rest !== "") take(rest);
      return { value: true, diagnostics: [] };
    } finally {
      closeSync(fd);
    }
  }

  async idx(path: string, limit: number, span: Span): Promise<Result<IdxArray | undefined>> {
    const full = this.resolve(path);
    const shown = this.display(path);
    let gz = false;
    try {
      const fd = openForReading(full);
      try {
        // Streamed, so any size is fine; but a device would stream forever.
        const odd = notRegular(fstatSync(fd));
        if (odd !== undefined) return { value: undefined, diagnostics: [notFound(shown, odd, span)] };
        const head = Buffer.alloc(2);
        readSync(fd, head, 0, 2, 0);
        gz = head[0] === 0x1f && head[1] === 0x8b;
      } finally {
        closeSync(fd);
      }
    } catch (e) {
      return { value: undefined, diagnostics: [notFound(shown, failure(e), span)] };
    }
    const decoder = new IdxDecoder(shown, limit);
    const file = createReadStream(full, { highWaterMark: 1 << 20 });
    const stream = gz ? file.pipe(createGunzip()) : file;
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        decoder.push(chunk);
        if (decoder.done) break;
      }
    } catch (e) {
      if (!decoder.done) {
        const why = e instanceof Error ? e.message : String(e);
        return {
          value: undefined,
          diagnostics: [
            gz
              ? dataDiag(shown, "idxTruncated", FILE_START, [`the gzip data is damaged (${why})`], "fetch the file again")
              : dataDiag(shown, "idxTruncated", FILE_START, [`it could not be read to its end (${why})`], "check the disk and the file, or fetch it again"),
          ],
        };
      }
    } finally {
      file.destroy();
      if (stream !== file) stream.destroy();
    }
    return decoder.finish();
  }
}

function notFound(shown: string, r: { why: string; hint?: string }, span: Span) {
  return diag("fileNotFound", span, [shown, r.why], { hint: r.hint ?? "paths in a .nn file are relative to the .nn file's folder" });
}
