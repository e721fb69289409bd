/**
 * IDX (the MNIST family's format) → arrays. Browser-safe: bytes are pushed in chunks as they
 * arrive (from a gunzip stream, a fetch, or all at once), decoded into one preallocated array,
 * so a file is never held twice. See http://yann.lecun.com/exdb/mnist/ for the layout:
 * two zero bytes, a type byte, a dimension count, the dimensions as big-endian u32, the data.
 */
import type { Diagnostic, Result } from "../grammar/diagnostics.js";
import { FILE_START } from "../grammar/span.js";
import type { Dataset } from "./dataset.js";
import { dataDiag } from "./span.js";

export interface IdxArray {
  /** Dimensions as stored; dims[0] is the number of records (possibly cut to a limit). */
  readonly dims: readonly number[];
  readonly values: Float32Array;
}

const TYPES: Record<number, { size: number; name: string }> = {
  0x08: { size: 1, name: "unsigned byte" },
  0x09: { size: 1, name: "signed byte" },
  0x0b: { size: 2, name: "short" },
  0x0c: { size: 4, name: "int" },
  0x0d: { size: 4, name: "float" },
  0x0e: { size: 8, name: "double" },
};

/** Incremental decoder: `push` chunks, then `finish`. `done` turns true once `limit` records are in. */
export class IdxDecoder {
  private header = new Uint8Array(4 + 4 * 255);
  private headerFill = 0;
  private headerLen = 0;
  private type = 0;
  private dims: number[] = [];
  private records = 0;
  private recordSize = 0;
  private values: Float32Array | undefined;
  /** Raw bytes of multi-byte types, decoded at the end. */
  private raw: Uint8Array | undefined;
  private filled = 0;
  private need = 0;
  private error: Diagnostic | undefined;

  constructor(
    private readonly file: string,
    /** Read only the first N records (0 = all). */
    private readonly limit = 0,
  ) {}

  get done(): boolean {
    return this.error !== undefined || (this.values !== undefined && this.filled >= this.need);
  }

  push(chunk: Uint8Array): void {
    let p = 0;
    while (p < chunk.length && !this.done) {
      if (this.values === undefined) {
        const take = Math.min(chunk.length - p, (this.headerLen || 4) - this.headerFill);
        this.header.set(chunk.subarray(p, p + take), this.headerFill);
        this.headerFill += take;
        p += take;
        if (this.headerFill === 4 && this.headerLen === 0) {
          const h = this.header;
          if (h[0] !== 0 || h[1] !== 0 || TYPES[h[2]!] === undefined || h[3] === 0) {
            this.fail("idxBadMagic", `the first bytes are ${hex(h.subarray(0, 4))}, expected 00 00 <type> <dims>`);
            return;
          }
          this.type = h[2]!;
          this.headerLen = 4 + 4 * h[3]!;
        }
        if (this.headerLen > 0 && this.headerFill === this.headerLen) this.startData();
        continue;
      }
      const size = TYPES[this.type]!.size;
      const take = Math.min(chunk.length - p, this.need - this.filled);
      if (size === 1) {
        const v = this.values;
        const signed = this.type === 0x09;
        for (let i = 0; i < take; i++) {
          const b = chunk[p + i]!;
          v[this.filled + i] = signed && b > 127 ? b - 256 : b;
        }
      } else this.raw!.set(chunk.subarray(p, p + take), this.filled);
      this.filled += take;
      p += take;
    }
  }

  finish(): Result<IdxArray | undefined> {
    if (this.error) return { value: undefined, diagnostics: [this.error] };
    if (this.values === undefined) {
      const what = this.headerFill < 4 ? `only ${this.headerFill} bytes` : "the header is incomplete";
      this.fail("idxTruncated", `${what} (a header of ${this.headerLen || 4} bytes was expected)`);
      return { value: undefined, diagnostics: [this.error!] };
    }
    if (this.filled < this.need) {
      const size = TYPES[this.type]!.size;
      const record = Math.floor(this.filled / size / this.recordSize);
      this.fail(
        "idxTruncated",
        `record ${record} of ${this.records} is incomplete (${this.filled} of ${this.need} data bytes present)`,
      );
      return { value: undefined, diagnostics: [this.error!] };
    }
    if (this.raw) {
      const bad = decodeWide(this.type, this.raw, this.values);
      if (bad >= 0) {
        const record = Math.floor(bad / this.recordSize);
        const d = dataDiag(this.file, "notFloat32", FILE_START, [`record ${record} (value ${bad - record * this.recordSize})`, String(this.rawValue(bad))],
          "the file holds NaN, infinite or out-of-range values: fix them where the file was made");
        return { value: undefined, diagnostics: [d] };
      }
    }
    return { value: { dims: [this.records, ...this.dims.slice(1)], values: this.values }, diagnostics: [] };
  }

  private startData(): void {
    const view = new DataView(this.header.buffer, 0, this.headerLen);
    this.dims = [];
    for (let i = 4; i < this.headerLen; i += 4) this.dims.push(view.getUint32(i, false));
    this.recordSize = this.dims.slice(1).reduce((a, b) => a * b, 1);
    this.records = this.limit > 0 ? Math.min(this.limit, this.dims[0]!) : this.dims[0]!;
    const count = this.records * this.recordSize;
    const size = TYPES[this.type]!.size;
    this.need = count * size;
    this.values = new Float32Array(count);
    if (size > 1) this.raw = new Uint8Array(this.need);
  }

  /** The i-th value as the file holds it (a double keeps its value past float32's range). */
  private rawValue(i: number): number {
    return wideValue(this.type, new DataView(this.raw!.buffer, this.raw!.byteOffset, this.raw!.byteLength), i);
  }

  private fail(name: "idxBadMagic" | "idxTruncated", what: string): void {
    this.error = dataDiag(
      this.file,
      name,
      FILE_START,
      [what],
      name === "idxTruncated"
        ? "the download or copy may have been cut short; fetch the file again"
        : "IDX files are the MNIST format (e.g. train-images-idx3-ubyte, optionally .gz)",
    );
  }
}

/** Decodes 2-, 4- and 8-byte values into `out`; the index of the first that is not a finite float32, or -1. */
function decodeWide(type: number, raw: Uint8Array, out: Float32Array): number {
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  let bad = -1;
  for (let i = 0; i < out.length; i++) {
    out[i] = wideValue(type, v, i);
    if (bad < 0 && !Number.isFinite(out[i]!)) bad = i;
  }
  return bad;
}

function wideValue(type: number, v: DataView, i: number): number {
  return type === 0x0b ? v.getInt16(2 * i) : type === 0x0c ? v.getInt32(4 * i) : type === 0x0d ? v.getFloat32(4 * i) : v.getFloat64(8 * i);
}

function hex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join(" ");
}

/** Decodes a whole IDX file held in memory. */
export function parseIdx(bytes: Uint8Array, file: string, limit = 0): Result<IdxArray | undefined> {
  const d = new IdxDecoder(file, limit);
  d.push(bytes);
  return d.finish();
}

/** Images (n × …) and labels (n) → a Dataset of flat features and class indices. */
export function idxDataset(
  images: IdxArray,
  labels: IdxArray,
  files: { images: string; labels: string },
): Result<Dataset | undefined> {
  const n = images.dims[0]!;
  if (labels.dims[0] !== n || labels.dims.length !== 1) {
    return {
      value: undefined,
      diagnostics: [
        dataDiag(
          files.labels,
          "recordCountMismatch",
          FILE_START,
          [files.images, n, files.labels, `${labels.dims[0]} (shape [${labels.dims.join(", ")}])`],
          "pair the matching images and labels files (e.g. train-images with train-labels)",
        ),
      ],
    };
  }
  const origin = new Int32Array(n);
  for (let i = 0; i < n; i++) origin[i] = i;
  return {
    value: {
      n,
      features: images.values.length / Math.max(1, n),
      x: images.values,
      labelWidth: 1,
      y: labels.values,
      file: files.labels,
      origin,
      originKind: "record",
    },
    diagnostics: [],
  };
}
