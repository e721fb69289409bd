/** The share link: source, data choice and seed in the URL hash, deflated and base64url-encoded. */

export interface Shared {
  readonly source: string;
  /** "source" or the name of a CSV file. */
  readonly data: string;
  readonly seed: number | undefined;
  readonly csv?: { readonly text: string; readonly label: string };
}

/** CSV files up to this size (compressed, encoded) travel in the link. */
const MAX_CSV_CHARS = 60_000;

async function pipe(bytes: Uint8Array, stream: CompressionStream | DecompressionStream): Promise<Uint8Array> {
  const out = new Blob([bytes as BlobPart]).stream().pipeThrough(stream);
  return new Uint8Array(await new Response(out).arrayBuffer());
}

function toB64url(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromB64url(s: string): Uint8Array {
  const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

async function pack(text: string): Promise<string> {
  return toB64url(await pipe(new TextEncoder().encode(text), new CompressionStream("deflate-raw")));
}

async function unpack(s: string): Promise<string> {
  return new TextDecoder().decode(await pipe(fromB64url(s), new DecompressionStream("deflate-raw")));
}

export async function encodeShare(s: Shared): Promise<string> {
  const p = new URLSearchParams();
  p.set("src", await pack(s.source));
  p.set("data", s.data);
  if (s.seed !== undefined) p.set("seed", String(s.seed));
  if (s.csv) {
    const packed = await pack(s.csv.text);
    if (packed.length <= MAX_CSV_CHARS) {
      p.set("csv", packed);
      p.set("label", s.csv.label);
    }
  }
  return "#" + p.toString();
}

/** Undefined when the hash holds no (readable) share. */
export async function decodeShare(hash: string): Promise<Shared | undefined> {
  const p = new URLSearchParams(hash.replace(/^#/, ""));
  const src = p.get("src");
  if (src === null) return undefined;
  try {
    const source = await unpack(src);
    const seedText = p.get("seed");
    const seed = seedText === null || !/^\d+$/.test(seedText) ? undefined : Number(seedText);
    const csvPacked = p.get("csv");
    const csv = csvPacked === null ? undefined : { text: await unpack(csvPacked), label: p.get("label") ?? "" };
    return { source, data: p.get("data") ?? "source", seed, ...(csv ? { csv } : {}) };
  } catch {
    return undefined;
  }
}
