/**
 * The knobs' view of a `.nn` source: each knob reads its value from the text and writes it
 * back as one small edit, so the text stays the truth (undo works, and a knob follows the
 * text as it is typed). Pure functions of the text, without the DOM.
 */
import { OPTIMIZER_DEFS } from "../../../compiler/optimizers/index.js";

/** Replace `length` characters at `offset` with `text`. */
export interface Edit {
  readonly offset: number;
  readonly length: number;
  readonly text: string;
}

export const KNOBS = ["lr", "activation", "weightDecay", "noise", "batch", "test"] as const;
export type Knob = (typeof KNOBS)[number];

/** The 2-D generators a thumbnail can pick. */
export const DATASETS = ["circles", "xor", "gaussian", "spiral", "moons"] as const;

const OPTIMIZER = /^([ \t]*optimizer[ \t]+[A-Za-z_]\w*)([ \t]*\(([^)\n]*)\))?/m;
const GENERATOR = /^([ \t]*train[ \t]+)(xor|circles|spiral|moons|gaussian|sine)([ \t]*\(([^)\n]*)\))?/m;
const BATCH = /^([ \t]*batch[ \t]+)(\d+)/m;
const TEST = /^([ \t]*test[ \t]+)(\d+(?:\.\d+)?)%/m;
/** A dense layer with an activation: `dense 32, relu` (perhaps named: `h = dense 32, relu`). */
const DENSE = /^([ \t]*(?:[A-Za-z_]\w*[ \t]*=[ \t]*)?dense[ \t]+\d+[ \t]*,[ \t]*)([a-z_]+)/gm;
/** The last line of the model block: its output layer (the hidden layers are the others). */
const MODEL = /^[ \t]*model\b[^\n]*\{([\s\S]*?)^\}/m;

/** The `name: value` argument inside a call's parentheses (`args` starts at `at`). */
function argument(args: string, at: number, name: string): { offset: number; value: string } | undefined {
  const m = new RegExp(`\\b${name}[ \\t]*:[ \\t]*([^,)\\s]+)`).exec(args);
  return m ? { offset: at + m.index + m[0].length - m[1]!.length, value: m[1]! } : undefined;
}

/** The hidden dense layers' activations: [offset, word] (every dense layer but the model's last). */
function hiddenActivations(source: string): { offset: number; word: string }[] {
  const body = MODEL.exec(source);
  const from = body ? body.index : 0;
  const to = body ? body.index + body[0].length : source.length;
  const all: { offset: number; word: string }[] = [];
  for (const m of source.matchAll(DENSE)) {
    if (m.index < from || m.index > to) continue;
    all.push({ offset: m.index + m[1]!.length, word: m[2]! });
  }
  return all.slice(0, -1);
}

/** The value a knob has in the text, as written (`0.01`, `relu`, `20`), or undefined. */
export function readKnob(source: string, knob: Knob): string | undefined {
  switch (knob) {
    case "lr":
    case "weightDecay": {
      const m = OPTIMIZER.exec(source);
      if (!m) return undefined;
      const written = m[3] === undefined ? undefined : argument(m[3], 0, knob === "lr" ? "lr" : "weight_decay")?.value;
      if (written !== undefined || knob === "lr") return written;
      // Not written: the optimizer's default (0, or adamw's decoupled 0.01).
      const word = /(\w+)$/.exec(m[1]!)![1]!;
      return String(OPTIMIZER_DEFS.find((d) => d.word === word)?.defaultDecay ?? 0);
    }
    case "noise": {
      const m = GENERATOR.exec(source);
      return m?.[4] === undefined ? undefined : argument(m[4], 0, "noise")?.value;
    }
    case "activation":
      return hiddenActivations(source)[0]?.word;
    case "batch":
      return BATCH.exec(source)?.[2];
    case "test":
      return TEST.exec(source)?.[2];
  }
}

/** Whether the knob can be set in this text (its statement is there). */
export function canSet(source: string, knob: Knob): boolean {
  if (knob === "lr" || knob === "weightDecay") return OPTIMIZER.test(source);
  if (knob === "noise") return GENERATOR.test(source);
  if (knob === "activation") return hiddenActivations(source).length > 0;
  if (knob === "batch") return BATCH.test(source);
  return TEST.test(source) || GENERATOR.test(source);
}

/**
 * Sets `name: value` in a call, or adds it: the call's word ends at `headEnd`, followed by
 * `paren` (`(args)` with any space before it) or nothing.
 */
function setArgument(headEnd: number, paren: string | undefined, args: string | undefined, name: string, value: string, first: boolean): Edit {
  if (paren === undefined || args === undefined) return { offset: headEnd, length: 0, text: `(${name}: ${value})` };
  const open = headEnd + paren.indexOf("(") + 1;
  const found = argument(args, open, name);
  if (found) return { offset: found.offset, length: found.value.length, text: value };
  if (args.trim() === "") return { offset: open, length: args.length, text: `${name}: ${value}` };
  return first ? { offset: open, length: 0, text: `${name}: ${value}, ` } : { offset: open + args.length, length: 0, text: `, ${name}: ${value}` };
}

/** The edits that give `knob` the value `value`, or [] when the text has no place for it. */
export function setKnob(source: string, knob: Knob, value: string): Edit[] {
  switch (knob) {
    case "lr":
    case "weightDecay": {
      const m = OPTIMIZER.exec(source);
      return m ? [setArgument(m.index + m[1]!.length, m[2], m[3], knob === "lr" ? "lr" : "weight_decay", value, knob === "lr")] : [];
    }
    case "noise": {
      const m = GENERATOR.exec(source);
      return m ? [setArgument(m.index + m[1]!.length + m[2]!.length, m[3], m[4], "noise", value, false)] : [];
    }
    case "activation":
      return hiddenActivations(source).map((a) => ({ offset: a.offset, length: a.word.length, text: value }));
    case "batch": {
      const m = BATCH.exec(source);
      return m ? [{ offset: m.index + m[1]!.length, length: m[2]!.length, text: value }] : [];
    }
    case "test": {
      const m = TEST.exec(source);
      if (m) return [{ offset: m.index + m[1]!.length, length: m[2]!.length, text: value }];
      // No test share yet: one line after the generator's.
      const g = GENERATOR.exec(source);
      if (!g) return [];
      const end = source.indexOf("\n", g.index);
      const indent = /^[ \t]*/.exec(g[1]!)![0];
      return [{ offset: end < 0 ? source.length : end, length: 0, text: `\n${indent}test ${value}%` }];
    }
  }
}

/** The data set the source trains on, when it is a generator. */
export function readDataset(source: string): string | undefined {
  return GENERATOR.exec(source)?.[2];
}

/** The edit that trains on generator `name` instead (its arguments kept). */
export function setDataset(source: string, name: string): Edit[] {
  const m = GENERATOR.exec(source);
  return m ? [{ offset: m.index + m[1]!.length, length: m[2]!.length, text: name }] : [];
}

/**
 * The source as the page trains it on a dropped file: a generator in `train` becomes
 * `csv("dropped.csv")` (the training worker then reads the dropped file), so checks of the
 * generator's width against the model's input do not apply. Other lines keep their positions.
 */
export function trainOnFile(source: string): string {
  const m = GENERATOR.exec(source);
  if (!m) return source;
  const start = m.index + m[1]!.length;
  return applyEdits(source, [{ offset: start, length: m.index + m[0].length - start, text: 'csv("dropped.csv")' }]);
}

/** Applies edits (not overlapping) to a text. */
export function applyEdits(source: string, edits: readonly Edit[]): string {
  let out = source;
  for (const e of [...edits].sort((a, b) => b.offset - a.offset)) out = out.slice(0, e.offset) + e.text + out.slice(e.offset + e.length);
  return out;
}

/**
 * The edits that make a model fit a data file: `input <features>` on the input's line and
 * `<units>` as the output layer's first number (a `dense` on its line).
 */
export function adaptShape(source: string, features: number, units: number | undefined): Edit[] {
  const edits: Edit[] = [];
  const input = /^([ \t]*input[ \t]+)(\d+)[ \t]*$/m.exec(source);
  if (input) edits.push({ offset: input.index + input[1]!.length, length: input[2]!.length, text: String(features) });
  if (units !== undefined) {
    const body = MODEL.exec(source);
    const dense = body ? [...body[0].matchAll(/^([ \t]*(?:[A-Za-z_]\w*[ \t]*=[ \t]*)?dense[ \t]+)(\d+)/gm)].pop() : undefined;
    if (body && dense) edits.push({ offset: body.index + dense.index + dense[1]!.length, length: dense[2]!.length, text: String(units) });
  }
  return edits;
}

/** The model's `input N` and its output layer's units, as written (when they are plain). */
export function readShape(source: string): { input: number | undefined; units: number | undefined; activation: string | undefined } {
  const input = /^[ \t]*input[ \t]+(\d+)[ \t]*$/m.exec(source);
  const body = MODEL.exec(source);
  const dense = body ? [...body[0].matchAll(/^[ \t]*(?:[A-Za-z_]\w*[ \t]*=[ \t]*)?dense[ \t]+(\d+)(?:[ \t]*,[ \t]*([a-z_]+))?/gm)].pop() : undefined;
  return { input: input ? Number(input[1]) : undefined, units: dense ? Number(dense[1]) : undefined, activation: dense?.[2] };
}
