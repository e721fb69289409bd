/**
 * The `loss`, `optimizer` and `metrics` lines. An optimizer's arguments are bound against
 * its definition's schema (`optimizers/`), defaults filled in from there.
 */
import type { Expr, Statement } from "../../grammar/ast.js";
import { FILE_START, joinSpans, type Span } from "../../grammar/span.js";
import { LOSSES, METRICS, OPTIMIZERS, names } from "../vocabulary.js";
import type { Loss, LossKind, Metric, MetricKind, Optimizer } from "../program.js";
import { optimizerArgs, optimizerDef } from "../optimizers/index.js";
import { didYouMean } from "../suggest.js";
import { describeExpr, expectNoBlock, type Checker } from "./checker.js";

export function checkLoss(ck: Checker, s: Statement): Loss | undefined {
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

/** The checked optimizer from its arguments' values (given or default). */
function optimizerOf(word: string, value: (name: string) => number | boolean, span: Span): Optimizer {
  const settings: Record<string, number | boolean> = {};
  // The optimizer's own arguments; `lr` and the ones every optimizer takes have fields of their own.
  for (const a of optimizerDef(word).args) if (a.name !== "lr") settings[a.name] = value(a.name);
  const num = (name: string): number => value(name) as number;
  return { kind: word, lr: num("lr"), weightDecay: num("weight_decay"), clipNorm: num("clip_norm"), clipValue: num("clip_value"), settings, span };
}

/** Without an `optimizer` line: `adam` with its defaults. */
export const DEFAULT_OPTIMIZER: Optimizer = optimizerOf("adam", (name) => optimizerArgs(optimizerDef("adam")).find((a) => a.name === name)?.default as number | boolean, FILE_START);

export function checkOptimizer(ck: Checker, s: Statement): Optimizer | undefined {
  expectNoBlock(ck, s);
  const [first, ...rest] = s.args;
  if (first === undefined || first.name !== undefined) {
    const hint = first?.name !== undefined && !first.colon ? `give its settings in parentheses: \`optimizer ${first.name.name}(lr: 0.1)\`` : "e.g. `optimizer adam(lr: 1e-3)` or `optimizer sgd(lr: 0.1, momentum: 0.9)`";
    ck.report("missingRequired", s.keyword.span, ["optimizer", "an optimizer"], hint);
    return undefined;
  }
  const c = ck.call(first.value, OPTIMIZERS, "optimizer", "unknownOptimizer");
  if (c === undefined) return undefined;
  const def = optimizerDef(c.word.name);
  const a = ck.bindArgs(c.callee, optimizerArgs(def), [...c.args, ...rest], "");
  if (a === undefined) return undefined;
  const o = optimizerOf(def.word, (name) => a.maybe<number | boolean>(name) as number | boolean, joinSpans(s.keyword.span, c.span));
  const conflict = def.conflict?.(o);
  if (conflict !== undefined && a.given(conflict.arg)) {
    ck.report("conflictingSettings", a.argSpan(conflict.arg) ?? o.span, [conflict.message], conflict.hint);
    return undefined;
  }
  return o;
}

export function checkMetrics(ck: Checker, s: Statement): Metric[] {
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
