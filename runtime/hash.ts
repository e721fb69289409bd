/** A small, browser-safe 64-bit FNV-1a hash, printed as 16 hex digits. Not cryptographic. */
export function fnv64(text: string): string {
  // Two 32-bit halves of a 64-bit FNV-1a over UTF-16 code units.
  let h1 = 0x84222325;
  let h2 = 0xcbf29ce4;
  for (let i = 0; i < text.length; i++) {
    h1 ^= text.charCodeAt(i);
    // multiply (h2:h1) by the 64-bit FNV prime 0x100000001b3
    const lo = h1 * 0x1b3;
    const hi = h2 * 0x1b3 + ((h1 << 8) >>> 0) + Math.floor(lo / 0x100000000);
    h1 = lo >>> 0;
    h2 = hi >>> 0;
  }
  return h2.toString(16).padStart(8, "0") + h1.toString(16).padStart(8, "0");
}

/** FNV-1a 32 over bytes, for checkpoint checksums. */
export function fnv32(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** JSON with object keys sorted and `span` fields dropped: the meaning, not the layout, of a node. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (key, v: unknown) => {
    if (key === "span" || key === "inputSpan") return undefined;
    if (v !== null && typeof v === "object" && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));
    }
    return v;
  });
}

/**
 * A 64-bit fingerprint of float arrays (their bits and lengths), as 16 hex digits: two
 * multiply-xorshift lanes over 32-bit words, fast enough for a whole data set (tens of
 * millions of values in well under a second). Not cryptographic.
 */
export function hashFloats(arrays: readonly Float32Array[]): string {
  let h1 = 0x9e3779b9;
  let h2 = 0x85ebca6b;
  for (const a of arrays) {
    const w = new Uint32Array(a.buffer, a.byteOffset, a.length);
    h1 = Math.imul(h1 ^ a.length, 0x01000193);
    h2 = Math.imul(h2 ^ a.length, 0x5bd1e995);
    for (let i = 0; i < w.length; i++) {
      const x = w[i]!;
      h1 = Math.imul(h1 ^ x, 0x01000193);
      h2 = Math.imul(h2 ^ x, 0x5bd1e995);
      h2 ^= h2 >>> 15;
    }
  }
  h1 ^= h2 >>> 13;
  h1 = Math.imul(h1, 0xc2b2ae35);
  return (h2 >>> 0).toString(16).padStart(8, "0") + ((h1 ^ (h1 >>> 16)) >>> 0).toString(16).padStart(8, "0");
}
