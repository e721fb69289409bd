/**
 * The search space of a `.nn` file: every range written in place of a value —
 * `loguniform(lo, hi)`, `uniform(lo, hi)`, `int(lo, hi)`, `choice(a, b, …)` — is one dimension,
 * found by one walk of the tree in source order. A configuration gives each dimension a value
 * (a number, or the index of an option); `substitute` writes those values back into the tree,
 * which then prints (`grammar/print.ts`) and checks like any plain file. One place in the text
 * is one dimension: a range inside a `block` takes the same value at every use of the block.
 */
import type { Arg, CallExpr, Expr, SourceFile, Statement } from "../../grammar/ast.js";
import type { Span } from "../../grammar/span.js";
import { printExpr } from "../../grammar/print.js";
import type { Checker } from "../check/checker.js";
import { ACTIVATIONS, DATA_SETTINGS, LAYERS, LOSSES, MODEL_SETTINGS, OPTIMIZERS, SCHEDULES, SOURCES, TRAIN_SETTINGS, type CallableWord } from "../vocabulary.js";

export const RANGE_KINDS = ["loguniform", "uniform", "int", "choice"] as const;
export type RangeKind = (typeof RANGE_KINDS)[number];

export interface NumericDim {
  readonly kind: "loguniform" | "uniform" | "int";
  /** How tables and logs name it: `adam.lr`, `batch`, `dense.units@7` (line, when a label repeats). */
  readonly label: string;
  readonly lo: number;
  readonly hi: number;
  /** The whole range, and its two ends (a value out of a setting's bounds is reported at the end it comes from). */
  readonly span: Span;
  readonly loSpan: Span;
  readonly hiSpan: Span;
  /** `start:`: the value of the search's baseline trial (the hand-written one). */
  readonly start?: number;
}

export interface ChoiceDim {
  readonly kind: "choice";
  readonly label: string;
  readonly options: readonly Expr[];
  readonly span: Span;
  /** `start:`: the index of the option the baseline trial takes. */
  readonly start?: number;
}

export type Dim = NumericDim | ChoiceDim;

/** One configuration: per dimension, its number (numeric ranges) or the index of its option (`choice`). */
export type Config = readonly number[];

const WORDS: readonly CallableWord[] = [...LAYERS, ...MODEL_SETTINGS, ...TRAIN_SETTINGS, ...DATA_SETTINGS, ...OPTIMIZERS, ...SCHEDULES, ...SOURCES, ...ACTIVATIONS, ...LOSSES];

/** The range `e` is, if it is one. */
export function asRange(e: Expr): CallExpr | undefined {
  return e.kind === "call" && (RANGE_KINDS as readonly string[]).includes(e.callee.name) ? e : undefined;
}

/** Where a range sits: the statement or call it is an argument of, and which argument. */
interface Place {
  readonly owner: string;
  readonly param: string | undefined;
  readonly line: number;
}

/**
 * Rebuilds the file with every range replaced by `f(range, place)`, in source order. The
 * header of a `block` declaration is a signature, not values, and is left alone.
 */
function mapRanges(file: SourceFile, f: (range: CallExpr, at: Place) => Expr): SourceFile {
  const paramOf = (owner: string, args: readonly Arg[], i: number): string | undefined => {
    const a = args[i];
    if (a?.name !== undefined) return a.name.name;
    const positional = args.slice(0, i).filter((x) => x.name === undefined).length;
    const word = WORDS.find((w) => w.name === owner);
    if (word === undefined) return positional === 0 ? undefined : String(positional + 1);
    return word.args.length <= 1 ? undefined : word.args[positional]?.name;
  };
  const expr = (e: Expr, at: Place): Expr => {
    const range = asRange(e);
    if (range !== undefined) return f(range, at);
    switch (e.kind) {
      case "call":
        return { ...e, args: e.args.map((a, i) => ({ ...a, value: expr(a.value, { owner: e.callee.name, param: paramOf(e.callee.name, e.args, i), line: at.line }) })) };
      case "list":
        return { ...e, items: e.items.map((x) => expr(x, at)) };
      case "unary":
      case "percent":
        return { ...e, operand: expr(e.operand, at) };
      case "paren":
        return { ...e, inner: expr(e.inner, at) };
      case "binary":
        return { ...e, left: expr(e.left, at), right: expr(e.right, at) };
      default:
        return e;
    }
  };
  const statement = (s: Statement): Statement => {
    const owner = s.keyword.name;
    const args = owner === "block" ? s.args : s.args.map((a, i) => ({ ...a, value: expr(a.value, { owner, param: paramOf(owner, s.args, i), line: s.span.line }) }));
    const block = s.block === undefined ? undefined : { ...s.block, statements: s.block.statements.map(statement) };
    return { ...s, args, block };
  };
  return { ...file, statements: file.statements.map(statement) };
}

/** The dimensions of a file, with problems in the ranges themselves reported (NN2071–NN2075). */
export function findDims(ck: Checker, file: SourceFile): Dim[] {
  const found: { dim: Dim; at: Place }[] = [];
  mapRanges(file, (range, at) => {
    const dim = readRange(ck, range, at);
    if (dim !== undefined) found.push({ dim, at });
    return range;
  });
  const counts = new Map<string, number>();
  for (const { dim } of found) counts.set(dim.label, (counts.get(dim.label) ?? 0) + 1);
  return found.map(({ dim, at }) => ((counts.get(dim.label) ?? 0) > 1 ? { ...dim, label: `${dim.label}@${at.line}` } : dim));
}

function readRange(ck: Checker, range: CallExpr, at: Place): Dim | undefined {
  const kind = range.callee.name as RangeKind;
  const label = at.param === undefined ? at.owner : `${at.owner}.${at.param}`;
  let ok = true;
  const startArg = range.args.find((a) => a.name?.name === "start");
  const args = range.args.filter((a) => a !== startArg);
  for (const a of range.args) {
    if (a.name !== undefined && a !== startArg) {
      ck.report("rangeArguments", a.name.span, [kind, kind === "choice" ? "its values in a row, without names (but `start:`)" : "two numbers, without names (but `start:`)"], `e.g. \`${kind === "choice" ? "choice(relu, tanh)" : `${kind}(1, 4)`}\``);
      ok = false;
    }
    const nested = findNested(a.value);
    if (nested !== undefined) {
      ck.report("rangeNested", nested.span, [nested.callee.name, kind], "a range's values are plain values; search each setting with its own range");
      ok = false;
    }
  }
  if (!ok) return undefined;
  if (kind === "choice") {
    if (args.length === 0) {
      ck.report("rangeArguments", range.span, ["choice", "one value or more"], "e.g. `choice(relu, tanh)`");
      return undefined;
    }
    const options = args.map((a) => a.value);
    if (startArg === undefined) return { kind, label, options, span: range.span };
    const start = options.findIndex((o) => printExpr(o) === printExpr(startArg.value));
    if (start < 0) {
      ck.report("rangeStart", startArg.value.span, [printExpr(startArg.value), `one of the options: ${options.map(printExpr).join(", ")}`], "`start:` is the value of the first trial, the hand-written one");
      return undefined;
    }
    return { kind, label, options, span: range.span, start };
  }
  const [loArg, hiArg] = args;
  if (args.length !== 2 || loArg === undefined || hiArg === undefined) {
    ck.report("rangeArguments", range.span, [kind, "two numbers: the low end and the high end"], `e.g. \`${kind === "loguniform" ? "loguniform(1e-4, 1e-1)" : kind === "int" ? "int(1, 4)" : "uniform(0, 0.5)"}\``);
    return undefined;
  }
  const lo = ck.number(loArg.value, kind);
  const hi = ck.number(hiArg.value, kind);
  if (lo === undefined || hi === undefined) return undefined;
  if (kind === "int") {
    const bad = [loArg, hiArg].find((_, i) => !Number.isInteger(i === 0 ? lo : hi));
    if (bad !== undefined) {
      ck.report("rangeNotInteger", bad.value.span, [printExpr(bad.value)], "e.g. `int(1, 4)`; for fractions use `uniform`");
      return undefined;
    }
  }
  if (kind === "loguniform" && lo <= 0) {
    ck.report("rangeNotPositive", loArg.value.span, [printExpr(loArg.value)], "a log scale starts above 0, e.g. `loguniform(1e-4, 1e-1)`; use `uniform` to include 0");
    return undefined;
  }
  if (!(lo < hi)) {
    ck.report("rangeEmpty", range.span, [kind, printExpr(loArg.value), printExpr(hiArg.value)], "write the smaller value first; for one value, write it without a range");
    return undefined;
  }
  const dim: NumericDim = { kind, label, lo, hi, span: range.span, loSpan: loArg.value.span, hiSpan: hiArg.value.span };
  if (startArg === undefined) return dim;
  const start = ck.number(startArg.value, "start");
  if (start === undefined) return undefined;
  if (start < lo || start > hi || (kind === "int" && !Number.isInteger(start))) {
    ck.report("rangeStart", startArg.value.span, [printExpr(startArg.value), `${kind === "int" ? "a whole number" : "a number"} from ${printExpr(loArg.value)} to ${printExpr(hiArg.value)}`], "`start:` is the value of the first trial, the hand-written one");
    return undefined;
  }
  return { ...dim, start };
}

/** Whether the search has a baseline trial: some range says where to `start`. */
export function hasStart(dims: readonly Dim[]): boolean {
  return dims.some((d) => d.start !== undefined);
}

/**
 * The baseline configuration: each range's `start:`, and where a range has none, its value in
 * random draw 0 (so it is still a value the search could have tried).
 */
export function startConfig(dims: readonly Dim[], drawn: Config): Config {
  return dims.map((d, i) => d.start ?? drawn[i]!);
}

function findNested(e: Expr): CallExpr | undefined {
  const range = asRange(e);
  if (range !== undefined) return range;
  switch (e.kind) {
    case "call":
      for (const a of e.args) {
        const n = findNested(a.value);
        if (n !== undefined) return n;
      }
      return undefined;
    case "list":
      return e.items.map(findNested).find((n) => n !== undefined);
    case "unary":
    case "percent":
      return findNested(e.operand);
    case "paren":
      return findNested(e.inner);
    case "binary":
      return findNested(e.left) ?? findNested(e.right);
    default:
      return undefined;
  }
}

/** A number as the search writes it: integers as they are, others to 4 significant digits. */
export function roundValue(v: number): number {
  return Number.isInteger(v) ? v : Number(v.toPrecision(4));
}

/** The expression a dimension's value stands for, placed where the range was. */
export function valueExpr(dim: Dim, value: number): Expr {
  if (dim.kind === "choice") {
    const option = dim.options[value];
    if (option === undefined) throw new Error(`bug: ${dim.label} has no option ${value}`);
    return option;
  }
  const v = roundValue(value);
  const text = String(Math.abs(v));
  const n: Expr = { kind: "number", value: Math.abs(v), text, span: v < 0 ? dim.span : value === dim.lo ? dim.loSpan : value === dim.hi ? dim.hiSpan : dim.span };
  return v < 0 ? { kind: "unary", op: "-", operand: n, span: n.span } : n;
}

/** A value as tables and logs show it: the number, or the option as written. */
export function valueText(dim: Dim, value: number): string {
  return printExpr(valueExpr(dim, value));
}

/**
 * The file with every range replaced by its value in `config` (one value per dimension of `dims`), and
 * without its `search` block: a plain file that `nnc train` takes.
 */
export function substitute(file: SourceFile, dims: readonly Dim[], config: Config): SourceFile {
  const plain = replaceRanges(file, dims, config);
  return { ...plain, statements: plain.statements.filter((s) => s.keyword.name !== "search") };
}

/** The file with every range replaced by its value in `config`; a range `findDims` rejected becomes a hole. */
export function replaceRanges(file: SourceFile, dims: readonly Dim[], config: Config): SourceFile {
  return mapRanges(file, (range) => {
    const i = dims.findIndex((d) => d.span.start === range.span.start && d.span.end === range.span.end);
    const dim = dims[i];
    const value = config[i];
    if (dim === undefined || value === undefined) return { kind: "missing", span: range.span };
    return valueExpr(dim, value);
  });
}

/** The configuration of every range's low end or first option (what `nnc check` reads the rest of the file with). */
export function firstConfig(dims: readonly Dim[]): Config {
  return dims.map((d) => (d.kind === "choice" ? 0 : d.lo));
}
