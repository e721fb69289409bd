/**
 * The one way text and numbers from a `.nn` or data file reach the generated Python: a string
 * literal (`pyString`: every character that could end the string or the line is escaped, and
 * everything outside printable ASCII is written as an escape), a number (`pyNumber`: finite
 * or refused), an identifier (`pyIdent`: letters, digits and `_` only, never a keyword) and a
 * comment (`pyComment`: one line, printable characters only). Nothing else from a file is
 * pasted into the script.
 */

const KEYWORDS = new Set(
  "False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield self torch nn F np".split(" "),
);

/** A double-quoted Python string literal holding exactly `text`. */
export function pyString(text: string): string {
  let out = '"';
  for (const ch of text) {
    const c = ch.codePointAt(0) as number;
    if (ch === '"' || ch === "\\") out += "\\" + ch;
    else if (c >= 0x20 && c < 0x7f) out += ch;
    else if (c <= 0xff) out += "\\x" + c.toString(16).padStart(2, "0");
    else if (c <= 0xffff) out += "\\u" + c.toString(16).padStart(4, "0");
    else out += "\\U" + c.toString(16).padStart(8, "0");
  }
  return out + '"';
}

/** A Python float or int literal; a non-finite number is a bug (the checker refuses them). */
export function pyNumber(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`bug: ${x} is not a finite number`);
  return String(x);
}

/** A Python identifier made from `text`: other characters become `_`; a keyword or a leading digit gets a prefix. */
export function pyIdent(text: string, prefix = "layer"): string {
  let id = text.replace(/[^A-Za-z0-9_]/g, "_");
  if (id === "" || /^[0-9]/.test(id)) id = `${prefix}_${id}`;
  if (KEYWORDS.has(id) || id.startsWith("__")) id = `${prefix}_${id}`;
  return id;
}

/**
 * Text for a `#` comment or a docstring: one line of printable characters (control and
 * line-breaking characters dropped), no `"` or backslash (which could close or bend a docstring).
 */
export function pyComment(text: string): string {
  return text
    .replace(/[^\x20-\x7e\p{L}\p{N}\p{Pd}×→…·−]/gu, "")
    .replace(/"/g, "'")
    .replace(/\\/g, "/")
    .slice(0, 200);
}
