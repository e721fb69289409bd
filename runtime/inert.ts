/**
 * Text from a file (a CSV cell or header, a class label, a `.nn` string, a path) made inert
 * before it reaches a terminal: the one function every printer of such text calls
 * (`cli/render.ts` for every diagnostic, `runtime/node/progress.ts`, the confusion matrix).
 *
 * A terminal acts on control characters: ESC starts a sequence that can move the cursor, clear
 * the screen, retitle the window or write to the clipboard; BEL rings; CR returns to the start
 * of the line (so a message can overwrite itself); C1 controls (U+0080–U+009F: U+009B is a CSI
 * on some terminals) do the same as ESC sequences; bidirectional overrides reorder what is
 * shown. Each such code unit is replaced by exactly one visible character (a C0 control by its
 * Control Pictures symbol, ESC → ␛, BEL → ␇, DEL → ␡; the others by U+FFFD), so columns in a
 * code frame stay aligned. Browser-safe.
 */

/** Every code unit a terminal might act on, or that reorders or hides text. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069]/g;
/** The same, but a line feed is kept (a message of several lines nnc wrote itself). */
const UNSAFE_BUT_LF = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069]/g;

function picture(c: string): string {
  const k = c.charCodeAt(0);
  if (k < 0x20) return String.fromCharCode(0x2400 + k);
  if (k === 0x7f) return "\u2421";
  return "\ufffd";
}

export interface InertOptions {
  /** Keep line feeds (for messages and hints that nnc itself wrote on several lines). */
  readonly keepNewlines?: boolean;
  /** What a tab becomes (default: a space, one column). */
  readonly tab?: string;
}

/**
 * `s` with every control character, line separator, zero-width and bidirectional control
 * replaced by one visible character; tabs become `opts.tab` (a space by default).
 */
export function inert(s: string, opts: InertOptions = {}): string {
  const tab = opts.tab ?? " ";
  return s.replace(opts.keepNewlines ? UNSAFE_BUT_LF : UNSAFE, (c) => (c === "\t" ? tab : picture(c)));
}

/** Whether `s` holds nothing a terminal would act on (what `inert` would change, tabs aside). */
export function isInert(s: string): boolean {
  return !/[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069]/.test(s);
}
