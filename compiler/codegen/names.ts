/**
 * All naming of generated identifiers, and the sanitizer: the only way text from a `.nn`
 * file reaches generated code. Identifiers are never built from user text (layers are
 * numbered by position: `w1`, `b1`, `z1`, `h1`, and their adjoints `dw1`, `dh1`, …); user
 * text appears only inside string literals (`stringLiteral`) and comments (`commentText`).
 */

/** The weight matrix of layer k (1-based position in the model). */
export const weightName = (k: number): string => `w${k}`;
export const biasName = (k: number): string => `b${k}`;
/** The matmul result of layer k when a bias follows it. */
export const matmulName = (k: number): string => `mm${k}`;
/** The pre-activation of layer k. */
export const preActivationName = (k: number): string => `z${k}`;
/** The value layer k hands to the next one. */
export const layerOutputName = (k: number): string => `h${k}`;
/** The dropout mask of layer k. */
export const maskName = (k: number): string => `mask${k}`;
/** The positions of layer k's maxima (max pooling). */
export const argmaxName = (k: number): string => `argmax${k}`;
export const INPUT_NAME = "x";
/** The i-th of several inputs (1-based), cut from `x`'s columns (and reshaped, for images). */
export const inputName = (i: number): string => `in${i}`;
/** The buffer the named inputs are packed into (`pack`), when the caller names them. */
export const PACKED_INPUTS = "xPacked";
export const inputSliceName = (i: number, reshaped: boolean): string => (reshaped ? `in${i}Flat` : inputName(i));
export const LABEL_NAME = "y";
export const LOSS_NAME = "loss";
/** The adjoint of a value: `h2` → `dh2`. */
export const gradName = (name: string): string => `d${name}`;
/** Scratch memory of one node's code, by role: `h2` + `windows` → `h2Windows`. */
export const scratchName = (name: string, role: string): string => `${name}${role.charAt(0).toUpperCase()}${role.slice(1)}`;

/**
 * Any text → a string literal that parses back to exactly that text, with every character
 * that could end the literal, a line or a script element escaped (quotes, backslashes,
 * control characters, U+2028/U+2029, `<` for `</script>`).
 */
export function stringLiteral(text: string): string {
  let out = '"';
  for (const ch of text) {
    const c = ch.codePointAt(0) as number;
    if (ch === '"' || ch === "\\") out += "\\" + ch;
    else if (c < 0x20 || c === 0x7f || c === 0x2028 || c === 0x2029 || ch === "<" || ch === ">" || (c >= 0xd800 && c <= 0xdfff)) {
      out += "\\u" + c.toString(16).padStart(4, "0");
    } else out += ch;
  }
  return out + '"';
}

/**
 * Any text → safe inside a `//` comment: line terminators (incl. U+2028/U+2029) and other
 * control characters become spaces, `*\/` and `/*` are broken up, and the length is capped.
 */
export function commentText(text: string): string {
  const flat = text
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff]/g, " ")
    .replace(/[\ud800-\udfff]/g, "?")
    .replace(/\*\//g, "* /")
    .replace(/\/\*/g, "/ *")
    .replace(/\s+/g, " ")
    .trim();
  return flat.length > 100 ? flat.slice(0, 97) + "..." : flat;
}

/** A finite number as a literal that reads back to the same value. */
export function numberLiteral(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`bug: non-finite constant ${x} in generated code`);
  if (Object.is(x, -0)) return "0";
  const s = String(x);
  return x < 0 ? `(${s})` : s;
}
