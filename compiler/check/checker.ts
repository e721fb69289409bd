/**
 * The checker's tools: a `Checker` collects diagnostics and turns expressions into checked
 * values (numbers in ranges, choices, paths, shapes), binds a callable's arguments by position
 * and name, and binds them against a typed schema (`bindArgs`, see `../schema.ts`). The parts
 * of the file are checked by `model.ts`, `training.ts`, `data.ts` and `train.ts` beside it.
 */
import type { Arg, Expr, Name, Statement } from "../../grammar/ast.js";
import { diag, type Diagnostic, type MessageName } from "../../grammar/diagnostics.js";
import type { Span } from "../../grammar/span.js";
import { ACTIVATIONS, INITIALIZERS, TOP_LEVEL, names, type CallableWord, type Word } from "../vocabulary.js";
import type { InitializerKind } from "../program.js";
import { boundArgs, isRequired, type ActivationValue, type ArgSchema, type ArgValue, type BoundArgs } from "../schema.js";
import { didYouMean } from "../suggest.js";

/** Values bound to a callable's parameters, by name. */
export type Bound = Map<string, { readonly expr: Expr; readonly span: Span }>;

export const MAX_SEED = 2 ** 32 - 1;

function article(what: string): string {
  return /^[aeiou]/.test(what) ? `an ${what}` : `a ${what}`;
}

export function describeExpr(e: Expr): string {
  switch (e.kind) {
    case "number":
      return `the number ${e.text}`;
    case "string":
      return "a string";
    case "name":
      return `\`${e.name}\``;
    case "call":
      return `\`${e.callee.name}(…)\``;
    case "list":
      return "a list";
    case "percent":
      return "a percentage";
    default:
      return "an expression";
  }
}

export class Checker {
  readonly diagnostics: Diagnostic[] = [];
  /** The uses of the blocks being expanded, outermost first: a problem inside one points at them too. */
  via: readonly Span[] = [];
  /** Problems already reported (a block's body is checked at every use, but says each once). */
  private readonly seen = new Set<string>();

  report(name: MessageName, span: Span, args: readonly (string | number)[] = [], hint?: string, related?: { message: string; span: Span }[]): void {
    const all = [...(related ?? []), ...this.via.map((at) => ({ message: "in the block used here", span: at }))];
    const d = diag(name, span, args, { ...(hint === undefined ? {} : { hint }), ...(all.length === 0 ? {} : { related: all }) });
    const key = `${d.code}@${span.start}:${span.end}:${d.message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.diagnostics.push(d);
  }

  // ── values ─────────────────────────────────────────────────────────────────
  /** Folds a constant numeric expression; reports and returns undefined otherwise. */
  number(e: Expr, what: string): number | undefined {
    const v = this.fold(e, what);
    if (v === undefined) return undefined;
    if (!Number.isFinite(v)) {
      this.report("outOfRange", e.span, [what, "a finite number", String(v)]);
      return undefined;
    }
    return v;
  }

  private fold(e: Expr, what: string): number | undefined {
    switch (e.kind) {
      case "number":
        return Number.isNaN(e.value) ? undefined : e.value; // malformed: already reported
      case "percent": {
        const v = this.fold(e.operand, what);
        return v === undefined ? undefined : v / 100;
      }
      case "unary": {
        const v = this.fold(e.operand, what);
        return v === undefined ? undefined : e.op === "-" ? -v : v;
      }
      case "paren":
        return this.fold(e.inner, what);
      case "binary": {
        const l = this.fold(e.left, what);
        const r = this.fold(e.right, what);
        if (l === undefined || r === undefined) return undefined;
        switch (e.op) {
          case "+":
            return l + r;
          case "-":
            return l - r;
          case "*":
            return l * r;
          case "/":
            if (r === 0) {
              this.report("divisionByZero", e.right.span, [], `\`${what}\` needs a number; divide by something other than 0`);
              return undefined;
            }
            return l / r;
        }
        return undefined;
      }
      case "missing":
        return undefined;
      default: {
        this.report("wrongType", e.span, [what, "a number", describeExpr(e)], what === "input" ? "e.g. `input 2` or `input [28, 28]`" : undefined);
        return undefined;
      }
    }
  }

  /** A number in a range; `lo`/`hi` inclusive unless `open`. */
  ranged(e: Expr, what: string, lo: number, hi: number, text: string, opts: { loOpen?: boolean; hiOpen?: boolean; int?: boolean } = {}): number | undefined {
    const v = this.number(e, what);
    if (v === undefined) return undefined;
    if (opts.int === true && !Number.isInteger(v)) {
      this.report("notInteger", e.span, [what, String(v)]);
      return undefined;
    }
    const below = opts.loOpen === true ? v <= lo : v < lo;
    const above = opts.hiOpen === true ? v >= hi : v > hi;
    if (below || above) {
      this.report("outOfRange", e.span, [what, text, formatNumber(v)]);
      return undefined;
    }
    return v;
  }

  posInt(e: Expr, what: string, max = 1e9): number | undefined {
    return this.ranged(e, what, 1, max, max >= 1e9 ? "a positive whole number" : `a whole number from 1 to ${max}`, { int: true });
  }

  nonNegInt(e: Expr, what: string, max = 1e9): number | undefined {
    return this.ranged(e, what, 0, max, "a whole number ≥ 0", { int: true });
  }

  seed(e: Expr, what: string): number | undefined {
    return this.ranged(e, what, 0, MAX_SEED, `a whole number from 0 to ${MAX_SEED}`, { int: true });
  }

  bool(e: Expr, what: string): boolean | undefined {
    if (e.kind === "name" && (e.name === "true" || e.name === "false")) return e.name === "true";
    if (e.kind === "missing") return undefined;
    this.report("wrongType", e.span, [what, "`true` or `false`", describeExpr(e)]);
    return undefined;
  }

  /** A word from a fixed set. */
  choice<T extends string>(e: Expr, what: string, options: readonly T[]): T | undefined {
    if (e.kind === "name" || e.kind === "string") {
      const word = e.kind === "name" ? e.name : e.value;
      if ((options as readonly string[]).includes(word)) return word as T;
      this.report("unknownOption", e.span, [word, what], didYouMean(word, options, `choices`));
      return undefined;
    }
    if (e.kind !== "missing") this.report("wrongType", e.span, [what, options.map((o) => `\`${o}\``).join(" or "), describeExpr(e)]);
    return undefined;
  }

  /** A string, or a bare name standing for one (`label: species`). */
  text(e: Expr, what: string): string | undefined {
    if (e.kind === "string") return e.value;
    if (e.kind === "name") return e.name;
    if (e.kind !== "missing") this.report("wrongType", e.span, [what, "a string", describeExpr(e)]);
    return undefined;
  }

  /** A file path: a string literal. */
  path(e: Expr, what: string): string | undefined {
    if (e.kind === "string") {
      if (e.value.length === 0 || e.value.includes("\0")) {
        this.report("outOfRange", e.span, [what, "a non-empty file path", "empty"]);
        return undefined;
      }
      return e.value;
    }
    if (e.kind !== "missing") this.report("wrongType", e.span, [what, "a file path in quotes", describeExpr(e)], `e.g. \`"data/train.csv"\``);
    return undefined;
  }

  /** A column: a name, string, or 0-based index. */
  column(e: Expr, what: string): string | number | undefined {
    if (e.kind === "number") return this.nonNegInt(e, what);
    if (e.kind === "binary" || e.kind === "unary" || e.kind === "percent" || e.kind === "paren") {
      // `km/h`, `price-2`: a column name with an operator in it reads as arithmetic.
      this.report("wrongType", e.span, [what, "a column name", describeExpr(e)], "put a column name that has `/`, `-`, `%`, spaces or brackets in quotes: `\"km/h\"`");
      return undefined;
    }
    return this.text(e, what);
  }

  columns(e: Expr, what: string): (string | number)[] | undefined {
    const items = e.kind === "list" ? e.items : [e];
    const out: (string | number)[] = [];
    for (const item of items) {
      const c = this.column(item, what);
      if (c !== undefined) out.push(c);
    }
    return out;
  }

  /** `3` → [3, 3]; `[3, 5]` → [3, 5]. */
  pair(e: Expr, what: string): readonly [number, number] | undefined {
    if (e.kind === "list") {
      if (e.items.length !== 2) {
        this.report("wrongType", e.span, [what, "one number or a list of two", `a list of ${e.items.length}`]);
        return undefined;
      }
      const [a, b] = e.items;
      const x = a === undefined ? undefined : this.posInt(a, what, 4096);
      const y = b === undefined ? undefined : this.posInt(b, what, 4096);
      return x === undefined || y === undefined ? undefined : [x, y];
    }
    const v = this.posInt(e, what, 4096);
    return v === undefined ? undefined : [v, v];
  }

  shape(e: Expr): number[] | undefined {
    if (e.kind === "list") {
      if (e.items.length === 0 || e.items.length > 3) {
        this.report("wrongType", e.span, ["input", "a list of 1 to 3 dimensions", `a list of ${e.items.length}`], "e.g. `input [28, 28]` or `input [32, 32, 3]`");
        return undefined;
      }
      const dims = e.items.map((item) => this.posInt(item, "input", 1 << 20));
      return dims.every((d): d is number => d !== undefined) ? dims : undefined;
    }
    const v = this.posInt(e, "input", 1 << 24);
    return v === undefined ? undefined : [v];
  }

  // ── callables ──────────────────────────────────────────────────────────────
  /**
   * Binds arguments to a callable's parameters: positional in order, then by name. Reports
   * unknown names (with a suggestion), duplicates and surplus positional arguments.
   */
  bind(owner: Name, word: CallableWord, given: readonly Arg[]): Bound {
    const params = word.args.map((p) => p.name);
    const positionalLimit = params.length;
    const bound: Bound = new Map();
    let position = 0;
    // `dense 64, relu he`: a name and a value without `:` that is not an argument's name is
    // two values with the comma between them missing.
    const args = given.flatMap((arg): Arg[] => {
      if (arg.name === undefined || arg.colon || params.includes(arg.name.name)) return [arg];
      const at = arg.name.span;
      this.report("missingComma", { ...at, start: at.end, column: at.endColumn, line: at.endLine }, [], "separate arguments with `,`");
      const first: Expr = { kind: "name", name: arg.name.name, span: at };
      return [
        { name: undefined, colon: false, value: first, span: at },
        { name: undefined, colon: false, value: arg.value, span: arg.value.span },
      ];
    });
    for (const arg of args) {
      if (arg.name === undefined) {
        const param = position < positionalLimit ? params[position] : undefined;
        position++;
        if (param === undefined) {
          const n = Math.min(positionalLimit, params.length);
          this.report("tooManyArguments", arg.span, [owner.name, n, n === 1 ? "" : "s"], params.length > 0 ? `its arguments are ${params.map((p) => `\`${p}\``).join(", ")}` : `\`${owner.name}\` takes no arguments`);
          continue;
        }
        bound.set(param, { expr: arg.value, span: arg.span });
        continue;
      }
      const key = arg.name.name;
      if (!params.includes(key)) {
        this.report("unknownArgument", arg.name.span, [owner.name, key], params.length === 0 ? `\`${owner.name}\` takes no arguments` : didYouMean(key, params, "its arguments"));
        continue;
      }
      const prior = bound.get(key);
      if (prior !== undefined) {
        this.report("duplicateArgument", arg.name.span, [key], undefined, [{ message: "first given here", span: prior.span }]);
        continue;
      }
      bound.set(key, { expr: arg.value, span: arg.span });
    }
    return bound;
  }

  /** A name or a call of one of `words`: the word, its callee and its (unbound) arguments. */
  call(e: Expr, words: readonly CallableWord[], what: string, unknown: MessageName): { word: CallableWord; callee: Name; args: readonly Arg[]; span: Span } | undefined {
    let callee: Name;
    let args: readonly Arg[] = [];
    if (e.kind === "name") callee = { name: e.name, span: e.span };
    else if (e.kind === "call") {
      callee = e.callee;
      args = e.args;
    } else if (e.kind === "string") {
      callee = { name: e.value, span: e.span };
    } else {
      if (e.kind !== "missing") this.report("wrongType", e.span, [what, article(what), describeExpr(e)], `${plural(what)} are ${names(words).slice(0, 8).map((n) => `\`${n}\``).join(", ")}`);
      return undefined;
    }
    const word = words.find((w) => w.name === callee.name);
    if (word === undefined) {
      this.report(unknown, callee.span, [callee.name, what], didYouMean(callee.name, names(words), plural(what)));
      return undefined;
    }
    return { word, callee, args, span: e.span };
  }

  /** A name or a call of one of `words`; returns the word and its bound arguments. */
  callable(e: Expr, words: readonly CallableWord[], what: string, unknown: MessageName, extra: readonly Arg[] = []): { word: CallableWord; args: Bound; span: Span } | undefined {
    const c = this.call(e, words, what, unknown);
    return c === undefined ? undefined : { word: c.word, args: this.bind(c.callee, c.word, [...c.args, ...extra]), span: c.span };
  }

  /**
   * Binds `given` against a typed schema: each argument checked by its type, constant defaults
   * filled in. Missing required arguments are reported together (`need` and `need`, with
   * `usage` as the hint). Undefined when anything was reported.
   */
  bindArgs(owner: Name, schema: readonly ArgSchema[], given: readonly Arg[], usage: string): BoundArgs | undefined {
    const b = this.bind(owner, { name: owner.name, doc: "", args: schema.map((a) => ({ name: a.name, doc: a.doc })) }, given);
    const needs = schema.filter((a) => isRequired(a) && !b.has(a.name)).map((a) => a.need);
    if (needs.length > 0) {
      this.report("missingRequired", owner.span, [owner.name, needs.join(" and ")], usage);
      return undefined;
    }
    const values = new Map<string, ArgValue | undefined>();
    const spans = new Map<string, { value: Span; arg: Span }>();
    let ok = true;
    for (const a of schema) {
      const got = b.get(a.name);
      if (got === undefined) {
        values.set(a.name, a.type.kind === "activation" && typeof a.default === "string" ? { kind: a.default, alpha: a.default === "elu" ? 1 : 0.01, span: owner.span } : a.default);
        continue;
      }
      spans.set(a.name, { value: got.expr.span, arg: got.span });
      const v = this.argValue(got.expr, a);
      if (v === undefined) ok = false;
      values.set(a.name, v);
    }
    return ok ? boundArgs(values, spans) : undefined;
  }

  /** One argument's value, checked against its type. */
  private argValue(e: Expr, a: ArgSchema): ArgValue | undefined {
    const t = a.type;
    switch (t.kind) {
      case "number":
        return this.ranged(e, a.name, t.min, t.max, t.range, { ...(t.minOpen === true ? { loOpen: true } : {}), ...(t.maxOpen === true ? { hiOpen: true } : {}), ...(t.int === true ? { int: true } : {}) });
      case "bool":
        return this.bool(e, a.name);
      case "choice":
        return this.choice(e, a.name, t.values);
      case "pair":
        return this.pair(e, a.name);
      case "activation":
        return this.activation(e);
      case "initializer":
        return this.initializer(e);
      case "text":
        return this.text(e, a.name);
    }
  }

  activation(e: Expr): ActivationValue | undefined {
    const c = this.callable(e, ACTIVATIONS, "activation", "unknownActivation");
    if (c === undefined) return undefined;
    const kind = c.word.name;
    const alphaArg = c.args.get("alpha");
    let alpha = kind === "elu" ? 1 : 0.01;
    if (alphaArg !== undefined) {
      const v = kind === "elu" ? this.ranged(alphaArg.expr, "alpha", 0, 1e6, "a number > 0", { loOpen: true }) : this.ranged(alphaArg.expr, "alpha", 0, 1, "a number from 0 to 1");
      if (v !== undefined) alpha = v;
    }
    return { kind, alpha, span: c.span };
  }

  initializer(e: Expr): InitializerKind | undefined {
    if (e.kind !== "name" && e.kind !== "string") {
      if (e.kind !== "missing") this.report("wrongType", e.span, ["init", "an initializer", describeExpr(e)]);
      return undefined;
    }
    const word = e.kind === "name" ? e.name : e.value;
    if (names(INITIALIZERS).includes(word)) return word as InitializerKind;
    this.report("unknownInitializer", e.span, [word], didYouMean(word, names(INITIALIZERS), "initializers"));
    return undefined;
  }
}
export function plural(what: string): string {
  return what.endsWith("s") ? `${what}es` : `${what}s`;
}

export function formatNumber(v: number): string {
  return Number.isInteger(v) || Math.abs(v) >= 1e-3 ? String(v) : v.toExponential();
}

export function word(list: readonly CallableWord[], name: string): CallableWord {
  const found = list.find((x) => x.name === name);
  if (found === undefined) throw new Error(`vocabulary has no ${name}`);
  return found;
}

/** One statement per key, with duplicates reported. */
export function uniqueStatements(ck: Checker, statements: readonly Statement[], known: readonly Word[], where: string | undefined): Map<string, Statement> {
  const seen = new Map<string, Statement>();
  const knownNames = names(known);
  for (const s of statements) {
    const k = s.keyword.name;
    if (!knownNames.includes(k)) {
      if (where === undefined) ck.report("unknownBlock", s.keyword.span, [k], didYouMean(k, knownNames, "top-level settings"));
      else ck.report("unknownKey", s.keyword.span, [k, where], misplacedHint(k, where) ?? didYouMean(k, knownNames, `settings of \`${where}\``));
      continue;
    }
    const prior = seen.get(k);
    if (prior !== undefined) {
      ck.report("duplicateBlock", s.keyword.span, [k], "keep one of them", [{ message: "first declared here", span: prior.keyword.span }]);
      continue;
    }
    seen.set(k, s);
  }
  return seen;
}

/** A hint for a top-level word written inside a block. */
export function misplacedHint(k: string, where: string): string | undefined {
  return names(TOP_LEVEL).includes(k) ? `\`${k}\` is a top-level setting: move it after the \`}\` that closes \`${where}\`` : undefined;
}

export function expectNoBlock(ck: Checker, s: Statement): void {
  if (s.block !== undefined) ck.report("noBlockExpected", s.block.span, [s.keyword.name]);
}

/** The single value of `key value`; reports a missing one. */
export function single(ck: Checker, s: Statement, wordSpec: CallableWord, need: string): Bound | undefined {
  expectNoBlock(ck, s);
  const bound = ck.bind(s.keyword, wordSpec, s.args);
  if (bound.size === 0) {
    ck.report("missingRequired", s.keyword.span, [s.keyword.name, need]);
    return undefined;
  }
  return bound;
}

/**
 * The settings of a `data { … }` or `train { … }` block: each key at most once, known keys only.
 * `value(k)` binds a key's arguments (undefined when absent or broken); `failed` records that
 * some key was present but broken.
 */
export interface Section {
  readonly st: ReadonlyMap<string, Statement>;
  value(k: string, need: string): Bound | undefined;
  readonly failed: boolean;
}

export function openSection(ck: Checker, s: Statement, settings: readonly CallableWord[], hint: string): Section | undefined {
  const name = s.keyword.name;
  if (s.block === undefined) {
    ck.report("blockExpected", s.keyword.span, [name], hint);
    return undefined;
  }
  if (s.args.length > 0) ck.report("tooManyArguments", s.args[0]?.span ?? s.span, [name, 0, "s"], `write \`${name} { … }\``);
  const st = uniqueStatements(ck, s.block.statements, settings, name);
  const section = {
    st,
    failed: false,
    value(k: string, need: string): Bound | undefined {
      const x = st.get(k);
      if (x === undefined) return undefined;
      const b = single(ck, x, word(settings, k), need);
      if (b === undefined) section.failed = true;
      return b;
    },
  };
  return section;
}

