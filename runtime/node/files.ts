/**
 * Reading data files from disk for the runtime: paths relative to the `.nn` file, IDX files
 * streamed (through gunzip when they start with the gzip magic) straight into the decoder.
 */
import { closeSync, createReadStream, openSync, readFileSync, readSync } from "node:fs";
import { isAbsolute, relative, resolve } from "node:path";
import { createGunzip } from "node:zlib";
import { diag, type Result } from "../../grammar/diagnostics.js";
import type { Span } from "../../grammar/span.js";
import { IdxDecoder, type IdxArray } from "../idx.js";
import type { SourceReader } from "../load.js";
import { dataDiag } from "../span.js";
import { FILE_START } from "../../grammar/span.js";

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
    try {
      return { value: readFileSync(this.resolve(path), "utf8"), diagnostics: [] };
    } catch (e) {
      return { value: undefined, diagnostics: [notFound(this.display(path), e, span)] };
    }
  }

  async idx(path: string, limit: number, span: Span): Promise<Result<IdxArray | undefined>> {
    const full = this.resolve(path);
    const shown = this.display(path);
    let gz = false;
    try {
      const fd = openSync(full, "r");
      const head = Buffer.alloc(2);
      readSync(fd, head, 0, 2, 0);
      closeSync(fd);
      gz = head[0] === 0x1f && head[1] === 0x8b;
    } catch (e) {
      return { value: undefined, diagnostics: [notFound(shown, e, span)] };
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
            dataDiag(shown, "idxTruncated", FILE_START, [`the gzip data is damaged (${why})`], "fetch the file again"),
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

function notFound(shown: string, e: unknown, span: Span) {
  const code = (e as { code?: string }).code;
  const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a folder" : e instanceof Error ? e.message : String(e);
  return diag("fileNotFound", span, [shown, why], { hint: "paths in a .nn file are relative to the .nn file's folder" });
}
