/**
 * AST → checked `Program`: names, kinds, settings and ranges (NN2xxx). Every problem of the
 * file is reported in one pass; the program is returned only when there are no errors.
 * Shape checks (NN3xxx) belong to `lower.ts`, which knows the shapes.
 */
import type { Arg, Expr, Name, SourceFile, Statement } from "../grammar/ast.js";
import { diag, hasErrors, sortDiagnostics, type Diagnostic, type MessageName, type Result } from "../grammar/diagnostics.js";
import { parse } from "../grammar/index.js";
import { FILE_START, joinSpans, type Span } from "../grammar/span.js";
import {
  ACTIVATIONS,
  DATA_SETTINGS,
  INITIALIZERS,
  LAYERS,
  LOSSES,
  METRICS,
  MODEL_SETTINGS,
  OPTIMIZERS,
  SCHEDULES,
  SOURCES,
  TOP_LEVEL,
  TRAIN_SETTINGS,
  names,
  type CallableWord,
  type Word,
} from "../grammar/vocabulary.js";
import type {
  Activation,
  ActivationKind,
  Data,
  DataSource,
  EarlyStop,
  GeneratorKind,
  InitializerKind,
  Layer,
  Loss,
  LossKind,
  Metric,
  MetricKind,
  Model,
  Optimizer,
  OptimizerKind,
  Padding,
  Program,
  Schedule,
  Train,
} from "./program.js";
import { closest, didYouMean } from "./suggest.js";

/** Values bound to a callable's parameters, by name. */
type Bound = Map<string, { readonly expr: Expr; readonly span: Span }>;

const MAX_SEED = 2 ** 32 - 1;
/** Sources that make their data (every source but the file formats). */
const GENERATORS = new Set<string>(names(SOURCES).filter((n) => !["csv", "idx", "json"].includes(n)));
const GEN_DEFAULT_NOISE: Record<GeneratorKind, number> = {
  xor: 0.1,
  circles: 0.05,
  spiral: 0.1,
  moons: 0.1,
  gaussian: 0.5,
  sine: 0.05,
};

function article(what: string): string {
  return /^[aeiou]/.test(what) ? `an ${what}` : `a ${what}`;
}

function describeExpr(e: Expr): string {
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

class Checker {
  readonly diagnostics: Diagnostic[] = [];

  report(name: MessageName, span: Span, args: readonly (string | number)[] = [], hint?: string, related?: { message: string; span: Span }[]): void {
    this.diagnostics.push(diag(name, span, args, { ...(hint === undefined ? {} : { hint }), ...(related === undefined ? {} : { related }) }));
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

  /** A name or a call of one of `words`; returns the word and its bound arguments. */
  callable(e: Expr, words: readonly CallableWord[], what: string, unknown: MessageName, extra: readonly Arg[] = []): { word: CallableWord; args: Bound; span: Span } | undefined {
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
    return { word, args: this.bind(callee, word, [...args, ...extra]), span: e.span };
  }

  activation(e: Expr): Activation | undefined {
    const c = this.callable(e, ACTIVATIONS, "activation", "unknownActivation");
    if (c === undefined) return undefined;
    const kind = c.word.name as ActivationKind;
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

function plural(what: string): string {
  return what.endsWith("s") ? `${what}es` : `${what}s`;
}

function formatNumber(v: number): string {
  return Number.isInteger(v) || Math.abs(v) >= 1e-3 ? String(v) : v.toExponential();
}

function word(list: readonly CallableWord[], name: string): CallableWord {
  const found = list.find((x) => x.name === name);
  if (found === undefined) throw new Error(`vocabulary has no ${name}`);
  return found;
}

/** One statement per key, with duplicates reported. */
function uniqueStatements(ck: Checker, statements: readonly Statement[], known: readonly Word[], where: string | undefined): Map<string, Statement> {
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
function misplacedHint(k: string, where: string): string | undefined {
  return names(TOP_LEVEL).includes(k) ? `\`${k}\` is a top-level setting: move it after the \`}\` that closes \`${where}\`` : undefined;
}

function expectNoBlock(ck: Checker, s: Statement): void {
  if (s.block !== undefined) ck.report("noBlockExpected", s.block.span, [s.keyword.name]);
}

/** The single value of `key value`; reports a missing one. */
function single(ck: Checker, s: Statement, wordSpec: CallableWord, need: string): Bound | undefined {
  expectNoBlock(ck, s);
  const bound = ck.bind(s.keyword, wordSpec, s.args);
  if (bound.size === 0) {
    ck.report("missingRequired", s.keyword.span, [s.keyword.name, need]);
    return undefined;
  }
  return bound;
}

// ── model ──────────────────────────────────────────────────────────────────────
function checkModel(ck: Checker, s: Statement): Model | undefined {
  if (s.args.length > 1) ck.report("tooManyArguments", s.args[1]?.span ?? s.span, ["model", 1, ""], "write `model Name { … }`");
  const nameArg = s.args[0];
  let modelName = "Model";
  if (nameArg !== undefined) {
    if (nameArg.name !== undefined || (nameArg.value.kind !== "name" && nameArg.value.kind !== "string")) {
      ck.report("wrongType", nameArg.span, ["model", "a name", describeExpr(nameArg.value)], "write `model Name { … }`");
    } else modelName = nameArg.value.kind === "name" ? nameArg.value.name : nameArg.value.value;
  }
  if (s.block === undefined) {
    ck.report("blockExpected", s.keyword.span, ["model"], "write `model Net {`, then `input 2` and the layers one per line, then `}`");
    return undefined;
  }
  let input: number[] | undefined;
  let inputSpan: Span | undefined;
  let seed = 0;
  let defaultInit: InitializerKind | undefined;
  const layers: Layer[] = [];
  const settings = new Map<string, Statement>();
  const layerNames = new Map<string, Span>();
  const counters = new Map<string, number>();
  let ok = true;
  const settingNames = names(MODEL_SETTINGS);
  const layerWords = names(LAYERS);

  for (const st of s.block.statements) {
    const k = st.keyword.name;
    if (settingNames.includes(k)) {
      const prior = settings.get(k);
      if (prior !== undefined) {
        ck.report("duplicateBlock", st.keyword.span, [k], "keep one of them", [{ message: "first declared here", span: prior.keyword.span }]);
        continue;
      }
      settings.set(k, st);
      const bound = single(ck, st, word(MODEL_SETTINGS, k), k === "input" ? "a shape, e.g. `input 2` or `input [28, 28]`" : "a value");
      const v = bound?.values().next().value?.expr;
      if (v === undefined) {
        if (k === "input") ok = false;
        continue;
      }
      if (k === "input") {
        if (layers.length > 0) ck.report("inputNotFirst", st.keyword.span, [], "move `input` to the top of the model");
        input = ck.shape(v);
        inputSpan = st.span;
        if (input === undefined) ok = false;
      } else if (k === "seed") {
        seed = ck.seed(v, "seed") ?? seed;
      } else if (k === "init") {
        defaultInit = ck.initializer(v);
      }
      continue;
    }
    if (!layerWords.includes(k)) {
      const isActivation = names(ACTIVATIONS).includes(k);
      ck.report(
        "unknownLayer",
        st.keyword.span,
        [k],
        misplacedHint(k, "model") ?? (isActivation ? `\`${k}\` is an activation: write it after a layer (\`dense 64, ${k}\`) or as \`activation ${k}\`` : closest(k, [...layerWords, ...settingNames]) !== undefined ? didYouMean(k, [...layerWords, ...settingNames], "layers") : didYouMean(k, layerWords, "layers")),
      );
      ok = false;
      continue;
    }
    expectNoBlock(ck, st);
    const n = (counters.get(k) ?? 0) + 1;
    counters.set(k, n);
    const layer = checkLayer(ck, st, `${k}_${n}`, defaultInit);
    if (layer === undefined) {
      ok = false;
      continue;
    }
    const prior = layerNames.get(layer.name);
    if (prior !== undefined) {
      ck.report("duplicateLayerName", st.span, [layer.name], "give each layer its own name", [{ message: "first used here", span: prior }]);
      ok = false;
    }
    layerNames.set(layer.name, st.span);
    layers.push(layer);
  }
  if (input === undefined && !settings.has("input")) {
    ck.report("missingInput", s.keyword.span, [], "add a line such as `input 2` or `input [28, 28]` at the top of the model");
    ok = false;
  }
  if (layers.length === 0 && ok) {
    ck.report("noLayers", s.keyword.span, [], "add a layer, e.g. `dense 1, sigmoid`");
    ok = false;
  }
  if (!ok || input === undefined || inputSpan === undefined) return undefined;
  return { name: modelName, input, inputSpan, layers, seed, span: s.span };
}

function checkLayer(ck: Checker, st: Statement, defaultName: string, defaultInit: InitializerKind | undefined): Layer | undefined {
  const k = st.keyword.name;
  const spec = word(LAYERS, k);
  const b = ck.bind(st.keyword, spec, st.args);
  const get = (key: string): Expr | undefined => b.get(key)?.expr;
  let name = defaultName;
  let named = false;
  const nameExpr = get("name");
  if (nameExpr !== undefined) {
    const t = ck.text(nameExpr, "name");
    if (t !== undefined) {
      if (t.length === 0 || t.length > 64) ck.report("badName", nameExpr.span, [t], "use 1 to 64 characters");
      else {
        name = t;
        named = true;
      }
    }
  }
  const base = { name, named, span: st.span };
  const activation = (): Activation | undefined => {
    const e = get("activation");
    return e === undefined ? { kind: "linear", alpha: 0.01, span: st.keyword.span } : ck.activation(e);
  };
  const initOf = (key: string, act: Activation | undefined, fallback: InitializerKind | undefined): InitializerKind | undefined => {
    const e = get(key);
    if (e !== undefined) return ck.initializer(e);
    if (fallback !== undefined) return fallback;
    const reluFamily = act !== undefined && ["relu", "leaky_relu", "elu", "gelu"].includes(act.kind);
    return reluFamily ? "he" : "xavier";
  };
  const useBias = (): boolean => {
    const e = get("bias");
    return e === undefined ? true : (ck.bool(e, "bias") ?? true);
  };
  switch (k) {
    case "dense": {
      const unitsExpr = get("units");
      if (unitsExpr === undefined) {
        ck.report("missingRequired", st.keyword.span, ["dense", "a unit count"], "e.g. `dense 64, relu`");
        return undefined;
      }
      const units = ck.posInt(unitsExpr, "units", 1 << 20);
      const act = activation();
      const init = initOf("init", act, defaultInit);
      const biasInit = get("bias_init") === undefined ? "zeros" : ck.initializer(get("bias_init") as Expr);
      if (units === undefined || act === undefined || init === undefined || biasInit === undefined) return undefined;
      return { kind: "dense", ...base, units, activation: act, init, biasInit, useBias: useBias() };
    }
    case "dropout": {
      const rateExpr = get("rate");
      if (rateExpr === undefined) {
        ck.report("missingRequired", st.keyword.span, ["dropout", "a rate"], "e.g. `dropout 0.2` or `dropout 20%`");
        return undefined;
      }
      const rate = ck.ranged(rateExpr, "rate", 0, 1, "at least 0 and less than 1", { hiOpen: true });
      return rate === undefined ? undefined : { kind: "dropout", ...base, rate };
    }
    case "flatten":
      return { kind: "flatten", ...base };
    case "activation": {
      if (get("activation") === undefined) {
        ck.report("missingRequired", st.keyword.span, ["activation", "an activation"], "e.g. `activation relu`");
        return undefined;
      }
      const act = activation();
      return act === undefined ? undefined : { kind: "activation", ...base, activation: act };
    }
    case "conv2d": {
      const filtersExpr = get("filters");
      const kernelExpr = get("kernel");
      if (filtersExpr === undefined || kernelExpr === undefined) {
        ck.report("missingRequired", st.keyword.span, ["conv2d", "a filter count and a kernel size"], "e.g. `conv2d 32, 3, relu`");
        return undefined;
      }
      const filters = ck.posInt(filtersExpr, "filters", 4096);
      const kernel = ck.pair(kernelExpr, "kernel");
      const strideExpr = get("stride");
      const stride = strideExpr === undefined ? ([1, 1] as const) : ck.pair(strideExpr, "stride");
      const paddingExpr = get("padding");
      const padding = paddingExpr === undefined ? "valid" : ck.choice<Padding>(paddingExpr, "padding", ["same", "valid"]);
      const act = activation();
      const init = initOf("init", act, defaultInit);
      const biasInit = get("bias_init") === undefined ? "zeros" : ck.initializer(get("bias_init") as Expr);
      if (filters === undefined || kernel === undefined || stride === undefined || padding === undefined || act === undefined || init === undefined || biasInit === undefined) return undefined;
      return { kind: "conv2d", ...base, filters, kernel, stride, padding, activation: act, init, biasInit, useBias: useBias() };
    }
    case "maxpool2d":
    case "avgpool2d": {
      const sizeExpr = get("size");
      const size = sizeExpr === undefined ? ([2, 2] as const) : ck.pair(sizeExpr, "size");
      const strideExpr = get("stride");
      const stride = strideExpr === undefined ? size : ck.pair(strideExpr, "stride");
      const paddingExpr = get("padding");
      const padding = paddingExpr === undefined ? "valid" : ck.choice<Padding>(paddingExpr, "padding", ["same", "valid"]);
      if (size === undefined || stride === undefined || padding === undefined) return undefined;
      return { kind: k, ...base, size, stride, padding };
    }
    case "batchnorm": {
      const m = get("momentum");
      const e = get("epsilon");
      const momentum = m === undefined ? 0.99 : ck.ranged(m, "momentum", 0, 1, "at least 0 and less than 1", { hiOpen: true });
      const epsilon = e === undefined ? 1e-3 : ck.ranged(e, "epsilon", 0, 1, "a small number > 0", { loOpen: true });
      if (momentum === undefined || epsilon === undefined) return undefined;
      return { kind: "batchnorm", ...base, momentum, epsilon };
    }
  }
  return undefined;
}

// ── loss, optimizer, metrics ───────────────────────────────────────────────────
function checkLoss(ck: Checker, s: Statement): Loss | undefined {
  expectNoBlock(ck, s);
  const [first, ...rest] = s.args;
  if (first === undefined || first.name !== undefined) {
    const hint = first?.name !== undefined && !first.colon ? `give its settings in parentheses: \`loss ${first.name.name}(delta: 1)\`` : "e.g. `loss cross_entropy` or `loss mse`";
    ck.report("missingRequired", s.keyword.span, ["loss", "a loss function"], hint);
    return undefined;
  }
  const c = ck.callable(first.value, LOSSES, "loss", "unknownLoss", rest);
  if (c === undefined) return undefined;
  const d = c.args.get("delta");
  const delta = d === undefined ? 1 : ck.ranged(d.expr, "delta", 0, 1e9, "a number > 0", { loOpen: true });
  if (delta === undefined) return undefined;
  return { kind: c.word.name as LossKind, delta, span: joinSpans(s.keyword.span, c.span) };
}

/** Without an `optimizer` line: `adam(lr: 0.001)` with its defaults. */
const DEFAULT_OPTIMIZER: Optimizer = {
  kind: "adam",
  lr: 0.001,
  momentum: 0,
  nesterov: false,
  beta1: 0.9,
  beta2: 0.999,
  rho: 0.9,
  epsilon: 1e-7,
  weightDecay: 0,
  clipNorm: 0,
  clipValue: 0,
  span: FILE_START,
};

function checkOptimizer(ck: Checker, s: Statement): Optimizer | undefined {
  expectNoBlock(ck, s);
  const [first, ...rest] = s.args;
  if (first === undefined || first.name !== undefined) {
    const hint = first?.name !== undefined && !first.colon ? `give its settings in parentheses: \`optimizer ${first.name.name}(lr: 0.1)\`` : "e.g. `optimizer adam(lr: 1e-3)` or `optimizer sgd(lr: 0.1, momentum: 0.9)`";
    ck.report("missingRequired", s.keyword.span, ["optimizer", "an optimizer"], hint);
    return undefined;
  }
  const c = ck.callable(first.value, OPTIMIZERS, "optimizer", "unknownOptimizer", rest);
  if (c === undefined) return undefined;
  const kind = c.word.name as OptimizerKind;
  let ok = true;
  const num = (key: string, dflt: number, lo: number, hi: number, text: string, opts: { loOpen?: boolean; hiOpen?: boolean } = {}): number => {
    const a = c.args.get(key);
    if (a === undefined) return dflt;
    const v = ck.ranged(a.expr, key, lo, hi, text, opts);
    if (v === undefined) ok = false;
    return v ?? dflt;
  };
  const d = DEFAULT_OPTIMIZER;
  const lr = num("lr", kind === "sgd" ? 0.01 : d.lr, 0, 10, "a number > 0 and at most 10", { loOpen: true });
  const momentum = num("momentum", d.momentum, 0, 1, "at least 0 and less than 1", { hiOpen: true });
  const beta1 = num("beta1", d.beta1, 0, 1, "at least 0 and less than 1", { hiOpen: true });
  const beta2 = num("beta2", d.beta2, 0, 1, "at least 0 and less than 1", { hiOpen: true });
  const rho = num("rho", d.rho, 0, 1, "at least 0 and less than 1", { hiOpen: true });
  const epsilon = num("epsilon", d.epsilon, 0, 1, "a small number > 0", { loOpen: true });
  const weightDecay = num("weight_decay", kind === "adamw" ? 0.01 : 0, 0, 1, "from 0 to 1");
  const clipNorm = num("clip_norm", 0, 0, 1e9, "a number ≥ 0 (0 = off)");
  const clipValue = num("clip_value", 0, 0, 1e9, "a number ≥ 0 (0 = off)");
  const nest = c.args.get("nesterov");
  const nesterov = nest === undefined ? false : (ck.bool(nest.expr, "nesterov") ?? false);
  if (nesterov && momentum === 0 && nest !== undefined) {
    ck.report("conflictingSettings", nest.span, ["Nesterov momentum needs a momentum above 0"], "add e.g. `momentum: 0.9`");
    ok = false;
  }
  if (!ok) return undefined;
  return { kind, lr, momentum, nesterov, beta1, beta2, rho, epsilon, weightDecay, clipNorm, clipValue, span: joinSpans(s.keyword.span, c.span) };
}

function checkMetrics(ck: Checker, s: Statement): Metric[] {
  expectNoBlock(ck, s);
  const out: Metric[] = [];
  const all = names(METRICS);
  const values: Expr[] = [];
  for (const a of s.args) {
    if (a.name !== undefined && !a.colon) {
      // `metrics accuracy loss`: two names without the comma between them
      ck.report("missingComma", { ...a.name.span, start: a.name.span.end, column: a.name.span.endColumn }, [], "separate metrics with `,`");
      values.push({ kind: "name", name: a.name.name, span: a.name.span }, a.value);
      continue;
    }
    if (a.name !== undefined) {
      ck.report("wrongType", a.span, ["metrics", "metric names", `\`${a.name.name}: …\``], "e.g. `metrics accuracy, loss`");
      continue;
    }
    values.push(a.value);
  }
  for (const e of values) {
    if (e.kind !== "name") {
      if (e.kind !== "missing") ck.report("wrongType", e.span, ["metrics", "metric names", describeExpr(e)], "e.g. `metrics accuracy, loss`");
      continue;
    }
    if (!all.includes(e.name)) {
      ck.report("unknownMetric", e.span, [e.name], didYouMean(e.name, all, "metrics"));
      continue;
    }
    if (out.some((m) => m.kind === e.name)) {
      ck.report("ignoredSetting", e.span, [`\`${e.name}\` is listed twice`], "remove one");
      continue;
    }
    out.push({ kind: e.name as MetricKind, span: e.span });
  }
  if (s.args.length === 0) ck.report("missingRequired", s.keyword.span, ["metrics", "at least one metric"], "e.g. `metrics accuracy, loss`");
  return out;
}

// ── data ───────────────────────────────────────────────────────────────────────
function checkDataSource(ck: Checker, e: Expr): DataSource | undefined {
  const c = ck.callable(e, SOURCES, "data source", "unknownSource");
  if (c === undefined) return undefined;
  const get = (k: string): Expr | undefined => c.args.get(k)?.expr;
  const name = c.word.name;
  const span = c.span;
  if (GENERATORS.has(name)) {
    const g = name as GeneratorKind;
    const size = get("size") === undefined ? 1000 : ck.posInt(get("size") as Expr, "size", 10_000_000);
    const noise = get("noise") === undefined ? GEN_DEFAULT_NOISE[g] : ck.ranged(get("noise") as Expr, "noise", 0, 100, "a number ≥ 0");
    const seed = get("seed") === undefined ? 1 : ck.seed(get("seed") as Expr, "seed");
    const classes = get("classes") === undefined ? 2 : ck.ranged(get("classes") as Expr, "classes", 2, 100, "a whole number from 2 to 100", { int: true });
    if (size === undefined || noise === undefined || seed === undefined || classes === undefined) return undefined;
    return { kind: "generator", generator: g, size, noise, seed, classes, span };
  }
  if (name === "csv") {
    const pathExpr = get("path");
    if (pathExpr === undefined) {
      ck.report("missingRequired", span, ["csv", "a file path"], 'e.g. `csv("data/iris.csv", label: species)`');
      return undefined;
    }
    const path = ck.path(pathExpr, "path");
    const label = get("label") === undefined ? undefined : ck.column(get("label") as Expr, "label");
    const features = get("features") === undefined ? undefined : ck.columns(get("features") as Expr, "features");
    const categorical = get("categorical") === undefined ? [] : ck.columns(get("categorical") as Expr, "categorical");
    const header = get("header") === undefined ? true : ck.bool(get("header") as Expr, "header");
    const missing = get("missing") === undefined ? "error" : ck.choice(get("missing") as Expr, "missing", ["error", "drop", "mean", "zero"] as const);
    const delimiter = get("delimiter") === undefined ? "," : ck.text(get("delimiter") as Expr, "delimiter");
    if (delimiter !== undefined && delimiter.length !== 1) {
      ck.report("outOfRange", (get("delimiter") as Expr).span, ["delimiter", "a single character", `"${delimiter}"`]);
      return undefined;
    }
    if (path === undefined || categorical === undefined || header === undefined || missing === undefined || delimiter === undefined) return undefined;
    return { kind: "csv", path, header, label, features, categorical, missing, delimiter, span };
  }
  if (name === "idx") {
    const imagesExpr = get("images");
    const labelsExpr = get("labels");
    if (imagesExpr === undefined || labelsExpr === undefined) {
      ck.report("missingRequired", span, ["idx", "an images file and a labels file"], 'e.g. `idx("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")`');
      return undefined;
    }
    const images = ck.path(imagesExpr, "images");
    const labels = ck.path(labelsExpr, "labels");
    const limit = get("limit") === undefined ? 0 : ck.nonNegInt(get("limit") as Expr, "limit");
    if (images === undefined || labels === undefined || limit === undefined) return undefined;
    return { kind: "idx", images, labels, limit, span };
  }
  const pathExpr = get("path");
  if (pathExpr === undefined) {
    ck.report("missingRequired", span, ["json", "a file path"], 'e.g. `json("data/points.json")`');
    return undefined;
  }
  const path = ck.path(pathExpr, "path");
  return path === undefined ? undefined : { kind: "json", path, span };
}

/** A source or a percentage of the training data. */
function sourceOrShare(ck: Checker, e: Expr, what: string): DataSource | number | undefined {
  if (e.kind === "percent" || e.kind === "number" || e.kind === "binary" || e.kind === "paren") {
    const v = ck.ranged(e, what, 0, 1, "a share from 0% to less than 100%", { hiOpen: true });
    return v;
  }
  return checkDataSource(ck, e);
}

/**
 * The settings of a `data { … }` or `train { … }` block: each key at most once, known keys only.
 * `value(k)` binds a key's arguments (undefined when absent or broken); `failed` records that
 * some key was present but broken.
 */
interface Section {
  readonly st: ReadonlyMap<string, Statement>;
  value(k: string, need: string): Bound | undefined;
  readonly failed: boolean;
}

function openSection(ck: Checker, s: Statement, settings: readonly CallableWord[], hint: string): Section | undefined {
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

function checkData(ck: Checker, s: Statement): Data | undefined {
  const section = openSection(ck, s, DATA_SETTINGS, "e.g. `data { train spiral(size: 500) }`");
  if (section === undefined) return undefined;
  const { st, value } = section;
  const trainB = value("train", "a data source, e.g. `train spiral(size: 500)`");
  const trainE = trainB?.get("source")?.expr;
  if (trainE === undefined && !st.has("train")) {
    ck.report("missingRequired", s.keyword.span, ["data", "a `train` source"], 'e.g. `train csv("data.csv")` or `train spiral(size: 500)`');
    return undefined;
  }
  const train = trainE === undefined ? undefined : checkDataSource(ck, trainE);
  const testE = value("test", "a data source or a share")?.get("source")?.expr;
  const test = testE === undefined ? 0 : sourceOrShare(ck, testE, "test");
  const valE = value("validation", "a data source or a share")?.get("source")?.expr;
  const validation = valE === undefined ? 0 : sourceOrShare(ck, valE, "validation");
  const normE = value("normalize", "a method")?.get("method")?.expr;
  const normalize = normE === undefined ? "none" : ck.choice(normE, "normalize", ["standard", "minmax", "none"] as const);
  const scaleE = value("scale", "a factor")?.get("factor")?.expr;
  let scale: number | undefined = 1;
  if (scaleE !== undefined) {
    scale = ck.number(scaleE, "scale");
    if (scale === 0) {
      ck.report("outOfRange", scaleE.span, ["scale", "a non-zero number", "0"]);
      scale = undefined;
    }
  }
  let shuffle = true;
  let shuffleSeed = 0;
  const sh = st.get("shuffle");
  if (sh !== undefined) {
    expectNoBlock(ck, sh);
    const b = ck.bind(sh.keyword, word(DATA_SETTINGS, "shuffle"), sh.args);
    const en = b.get("enabled");
    if (en !== undefined) shuffle = ck.bool(en.expr, "shuffle") ?? true;
    const sd = b.get("seed");
    if (sd !== undefined) shuffleSeed = ck.seed(sd.expr, "seed") ?? 0;
  }
  if (section.failed || train === undefined || test === undefined || validation === undefined || normalize === undefined || scale === undefined) return undefined;
  return { train, test, validation, normalize, scale, shuffle, shuffleSeed, span: s.span };
}

// ── train ──────────────────────────────────────────────────────────────────────
const DEFAULT_TRAIN: Train = {
  epochs: 10,
  batch: 32,
  schedule: { kind: "constant", span: undefined },
  warmup: 0,
  earlyStop: undefined,
  checkpointEvery: 0,
  span: undefined,
};

const MONITORABLE = /^(val_)?(loss|accuracy|mse|mae|precision|recall|f1)$/;

function checkTrain(ck: Checker, s: Statement): Train | undefined {
  const section = openSection(ck, s, TRAIN_SETTINGS, "e.g. `train { epochs 10 }` with one setting per line");
  if (section === undefined) return undefined;
  const { st } = section;
  let ok = true;
  const arg = (k: string, need: string): Expr | undefined => section.value(k, need)?.values().next().value?.expr;
  const epochsE = arg("epochs", "a count, e.g. `epochs 10`");
  const epochs = epochsE === undefined ? DEFAULT_TRAIN.epochs : ck.posInt(epochsE, "epochs", 1_000_000);
  const batchE = arg("batch", "a size, e.g. `batch 32`");
  const batch = batchE === undefined ? DEFAULT_TRAIN.batch : ck.posInt(batchE, "batch", 65_536);
  const warmE = arg("warmup", "a number of epochs");
  const warmup = warmE === undefined ? 0 : ck.nonNegInt(warmE, "warmup", 1_000_000);
  const ckE = arg("checkpoint", "a number of epochs, e.g. `checkpoint every 1`");
  const checkpointEvery = ckE === undefined ? 0 : ck.nonNegInt(ckE, "checkpoint every", 1_000_000);
  let schedule: Schedule | undefined = DEFAULT_TRAIN.schedule;
  const schedE = arg("schedule", "a schedule, e.g. `schedule cosine`");
  if (schedE !== undefined) {
    const c = ck.callable(schedE, SCHEDULES, "schedule", "unknownOption");
    if (c === undefined) schedule = undefined;
    else {
      const g = (k: string): Expr | undefined => c.args.get(k)?.expr;
      switch (c.word.name) {
        case "constant":
          schedule = { kind: "constant", span: c.span };
          break;
        case "step": {
          const every = g("every") === undefined ? 10 : ck.posInt(g("every") as Expr, "every");
          const gamma = g("gamma") === undefined ? 0.5 : ck.ranged(g("gamma") as Expr, "gamma", 0, 1, "a number > 0 and at most 1", { loOpen: true });
          schedule = every === undefined || gamma === undefined ? undefined : { kind: "step", every, gamma, span: c.span };
          break;
        }
        case "exponential": {
          const gamma = g("gamma") === undefined ? 0.95 : ck.ranged(g("gamma") as Expr, "gamma", 0, 1, "a number > 0 and at most 1", { loOpen: true });
          schedule = gamma === undefined ? undefined : { kind: "exponential", gamma, span: c.span };
          break;
        }
        case "cosine": {
          const minLr = g("min_lr") === undefined ? 0 : ck.ranged(g("min_lr") as Expr, "min_lr", 0, 10, "a number ≥ 0");
          schedule = minLr === undefined ? undefined : { kind: "cosine", minLr, span: c.span };
          break;
        }
      }
    }
  }
  let earlyStop: EarlyStop | undefined;
  const es = st.get("early_stop");
  if (es !== undefined) {
    expectNoBlock(ck, es);
    const b = ck.bind(es.keyword, word(TRAIN_SETTINGS, "early_stop"), es.args);
    const p = b.get("patience");
    const patience = p === undefined ? 5 : ck.posInt(p.expr, "patience", 1_000_000);
    const m = b.get("monitor");
    let monitor: string | undefined = "val_loss";
    if (m !== undefined) {
      monitor = ck.text(m.expr, "monitor");
      if (monitor !== undefined && !MONITORABLE.test(monitor)) {
        ck.report("unknownOption", m.expr.span, [monitor, "monitor"], "monitor a metric such as `val_loss`, `val_accuracy`, `loss` or `accuracy`");
        monitor = undefined;
      }
    }
    const d = b.get("min_delta");
    const minDelta = d === undefined ? 0 : ck.ranged(d.expr, "min_delta", 0, 1e9, "a number ≥ 0");
    const r = b.get("restore_best");
    const restoreBest = r === undefined ? true : ck.bool(r.expr, "restore_best");
    if (patience === undefined || monitor === undefined || minDelta === undefined || restoreBest === undefined) ok = false;
    else earlyStop = { patience, monitor, minDelta, restoreBest, span: es.span };
  }
  if (!ok || section.failed || epochs === undefined || batch === undefined || warmup === undefined || checkpointEvery === undefined || schedule === undefined) return undefined;
  return { epochs, batch, schedule, warmup, earlyStop, checkpointEvery, span: s.span };
}

/** `early_stop` can only watch the loss or a metric the file asks for. */
function checkMonitor(ck: Checker, train: Train, metrics: readonly Metric[]): void {
  const es = train.earlyStop;
  if (es === undefined) return;
  const base = es.monitor.replace(/^val_/, "");
  if (base === "loss" || metrics.some((m) => m.kind === base)) return;
  ck.report("conflictingSettings", es.span, [`\`early_stop\` watches \`${es.monitor}\`, but \`metrics\` does not compute \`${base}\``], `add \`${base}\` to \`metrics\`, or watch \`val_loss\``);
}

// ── the file ───────────────────────────────────────────────────────────────────
export function check(file: SourceFile): Result<Program | undefined> {
  const ck = new Checker();
  const top = uniqueStatements(ck, file.statements, TOP_LEVEL, undefined);
  const modelS = top.get("model");
  const lossS = top.get("loss");
  const model = modelS === undefined ? undefined : checkModel(ck, modelS);
  if (modelS === undefined) ck.report("missingBlock", FILE_START, ["model"], "start with e.g. `model Net {` … `}`");
  const loss = lossS === undefined ? undefined : checkLoss(ck, lossS);
  if (lossS === undefined) ck.report("missingBlock", FILE_START, ["loss"], "add e.g. `loss cross_entropy` (classes) or `loss mse` (regression)");
  const optS = top.get("optimizer");
  const optimizer: Optimizer | undefined =
    optS === undefined
      ? DEFAULT_OPTIMIZER
      : checkOptimizer(ck, optS);
  const metS = top.get("metrics");
  const metrics: Metric[] = metS === undefined ? [{ kind: "loss", span: FILE_START }] : checkMetrics(ck, metS);
  const dataS = top.get("data");
  const data = dataS === undefined ? undefined : checkData(ck, dataS);
  const trainS = top.get("train");
  const train = trainS === undefined ? DEFAULT_TRAIN : checkTrain(ck, trainS);
  if (train !== undefined) checkMonitor(ck, train, metrics);
  const ds = ck.diagnostics;
  if (hasErrors(ds) || model === undefined || loss === undefined || optimizer === undefined || train === undefined || (dataS !== undefined && data === undefined)) {
    return { value: undefined, diagnostics: ds };
  }
  return { value: { model, loss, optimizer, metrics, data, train }, diagnostics: ds };
}

/** Parse and check: the front end in one call. */
export function checkSource(source: string): Result<Program | undefined> & { readonly ast: SourceFile } {
  const parsed = parse(source);
  const checked = check(parsed.value);
  const diagnostics = sortDiagnostics([...parsed.diagnostics, ...checked.diagnostics]);
  const value = hasErrors(parsed.diagnostics) ? undefined : checked.value;
  return { value, diagnostics, ast: parsed.value };
}
