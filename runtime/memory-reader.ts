/**
 * A SourceReader over files held in memory (the playground's dropped files, tests). Browser-safe.
 * Gzipped IDX files must be decompressed by the caller (e.g. with DecompressionStream).
 */
import { diag, type Result } from "../grammar/diagnostics.js";
import type { Span } from "../grammar/span.js";
import { parseIdx, type IdxArray } from "./idx.js";
import type { SourceReader } from "./load.js";

export class MemoryReader implements SourceReader {
  constructor(private readonly files: Readonly<Record<string, string | Uint8Array>>) {}

  display(path: string): string {
    return path;
  }

  async text(path: string, span: Span): Promise<Result<string | undefined>> {
    const f = this.files[path];
    if (f === undefined) return this.missing(path, span);
    return { value: typeof f === "string" ? f : new TextDecoder().decode(f), diagnostics: [] };
  }

  async idx(path: string, limit: number, span: Span): Promise<Result<IdxArray | undefined>> {
    const f = this.files[path];
    if (f === undefined) return this.missing(path, span);
    const bytes = typeof f === "string" ? new TextEncoder().encode(f) : f;
    return parseIdx(bytes, path, limit);
  }

  private missing(path: string, span: Span): Result<undefined> {
    const known = Object.keys(this.files);
    return {
      value: undefined,
      diagnostics: [
        diag("fileNotFound", span, [path, "no such file"], {
          hint: known.length > 0 ? `the files available are: ${known.join(", ")}` : "add the file first",
        }),
      ],
    };
  }
}
