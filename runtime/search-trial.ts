/**
 * One trial of a search, browser-safe: the plain file of a configuration (every range replaced
 * by its value, the `search` block dropped, a validation split added when the data block has
 * none), checked, compiled, trained and measured on the validation split exactly as
 * `nnc train` would train that file. Also what a search checks before its first trial: that
 * every range's ends and options are values its setting takes (`prepareSearch`).
 */
import type { Expr, SourceFile, Statement } from "../grammar/ast.js";
import { diag, hasErrors, sortDiagnostics, type Diagnostic, type Result } from "../grammar/diagnostics.js";
import { FILE_START } from "../grammar/span.js";
import { printFile } from "../grammar/print.js";
import { check, checkSource } from "../compiler/check.js";
import type { CompiledModel } from "../compiler/model-api.js";
import type { MetricKind, Program } from "../compiler/program.js";
import { firstConfig, readSearch, substitute, type Config, type Dim } from "../compiler/search/index.js";
import type { SearchSettings } from "../compiler/search/settings.js";
import { canonicalJson, fnv64 } from "./hash.js";
import type { SourceReader } from "./load.js";
import { metricMode } from "./metrics.js";
import { gridSize, type Plan, type TrialRecord, type TrialSpec } from "./search.js";
import { createSession } from "./session.js";
import { type EpochRecord } from "./train.js";
import { evaluate } from "./batches.js";
import { DEFAULT_SHARDS, LocalShards, shardedByDefault } from "./shards.js";
import { shardingMacs } from "../compiler/work.js";


/** A metric a search can optimize: one number per trial. */
export type SearchMetric = Exclude<MetricKind, "confusion_matrix">;

/** A search ready to run: its plan, the metric, and the fingerprint its log is kept under. */
export interface PreparedSearch {
  readonly ast: SourceFile;
  readonly plan: Plan;
  readonly settings: SearchSettings;
  readonly metric: SearchMetric;
  readonly fingerprint: string;
  /** The validation share the search adds to each trial's file; undefined when the file has a validation split. */
  readonly addsValidation: number | undefined;
}

/**
 * Reads a search file: its ranges and settings, then checks the file with each range at each
 * end (each option of a `choice`), the others at their low end, so that a value the setting
 * does not take is reported where it is written, before any training.
 */
export function prepareSearch(ast: SourceFile): Result<PreparedSearch | undefined> {
  const read = readSearch(ast);
  if (!read.value) return { value: undefined, diagnostics: read.diagnostics };
  const { dims, settings } = read.value;
  const diagnostics: Diagnostic[] = [...read.diagnostics];
  const seen = new Set<string>();
  const base = firstConfig(dims);
  let program: Program | undefined;
  const tryConfig = (config: Config, dim: Dim | undefined): void => {
    const r = check(substitute(ast, dims, config));
    if (dim === undefined) program = r.value;
    for (const d of r.diagnostics) {
      const inDim = dim !== undefined && d.span.start >= dim.span.start && d.span.end <= dim.span.end;
      const shown = inDim && d.severity === "error" ? diag("searchRangeValue", d.span, [dim!.label, d.message], d.hint === undefined ? {} : { hint: d.hint }) : d;
      const key = `${shown.code}@${shown.span.start}:${shown.message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      diagnostics.push(shown);
    }
  };
  tryConfig(base, undefined);
  dims.forEach((d, i) => {
    const others = d.kind === "choice" ? d.options.map((_, k) => k).slice(1) : [d.hi];
    for (const v of others) tryConfig(base.map((x, j) => (j === i ? v : x)), d);
  });
  if (dims.length === 0) diagnostics.push(diag("searchNoRanges", settings.span ?? FILE_START, [], { hint: "write a range where a value goes, e.g. `lr: loguniform(1e-4, 1e-1)`" }));
  const budgeted = settings.algorithm === "halving" || settings.algorithm === "asha";
  const epochsDim = dims.find((d) => d.label === "epochs" || d.label.startsWith("epochs@"));
  if (budgeted && epochsDim !== undefined) diagnostics.push(diag("searchBudgetRange", epochsDim.span, [settings.algorithm], { hint: "write one number of epochs (the top rung's budget), or use `algorithm random`" }));
  if (settings.algorithm === "grid") {
    const size = gridSize(dims, settings.points);
    if (size > settings.trials) diagnostics.push(diag("searchGridCut", settings.span ?? FILE_START, [size, settings.trials], { hint: `raise \`trials\` to ${size} to cover the grid, or lower \`points\`` }));
  }
  if (program === undefined || hasErrors(diagnostics)) return { value: undefined, diagnostics: sortDiagnostics(diagnostics) };
  const metrics: string[] = program.metrics.map((m) => m.kind).filter((m) => m !== "confusion_matrix");
  const metric = (settings.metric ?? metrics[0] ?? "loss") as SearchMetric;
  if (metric !== "loss" && !metrics.includes(metric)) {
    const d = diag("searchMetric", settings.metricSpan ?? FILE_START, [metric, `the file computes ${["loss", ...metrics].map((m) => `\`${m}\``).join(", ")}`], { hint: `add \`${metric}\` to \`metrics\`, or search on one of those` });
    return { value: undefined, diagnostics: sortDiagnostics([...diagnostics, d]) };
  }
  const direction = settings.direction ?? (metricMode(metric) === "max" ? "maximize" : "minimize");
  const plan: Plan = { dims, algorithm: settings.algorithm, trials: settings.trials, seed: settings.seed, points: settings.points, eta: settings.eta, rungs: settings.rungs, epochs: program.train.epochs, direction };
  const addsValidation = program.data !== undefined && program.data.validation === 0 ? settings.validation : undefined;
  return { value: { ast, plan, settings, metric, fingerprint: fingerprint(ast, plan, metric), addsValidation }, diagnostics: sortDiagnostics(diagnostics) };
}

/**
 * What a log must match to be continued: the file's tree without comments, positions or
 * number spellings, and the plan (a random or grid search may raise `trials` and go on).
 */
function fingerprint(ast: SourceFile, plan: Plan, metric: string): string {
  const tree = JSON.stringify({ ...ast, statements: ast.statements.filter((s) => s.keyword.name !== "search") }, (k, v: unknown) => (k === "comments" || k === "trailingComment" || k === "blankBefore" || k === "text" || k === "closed" ? undefined : v));
  const growable = plan.algorithm === "random" || plan.algorithm === "grid";
  return fnv64(canonicalJson({ tree: JSON.parse(tree) as unknown, plan: { ...plan, dims: undefined, trials: growable ? undefined : plan.trials }, metric }));
}

/** The plain `.nn` file of a configuration: what the trial trains and `best.nn` holds. */
export function trialFile(s: PreparedSearch, config: Config, header: readonly string[] = []): SourceFile {
  const plain = substitute(s.ast, s.plan.dims, config);
  const statements = plain.statements.map((st) => (st.keyword.name === "data" && s.addsValidation !== undefined && st.block !== undefined ? withValidation(st, s.addsValidation) : st));
  const [first, ...rest] = statements;
  if (first === undefined || header.length === 0) return { ...plain, statements };
  return { ...plain, statements: [{ ...first, comments: [...header, ...first.comments] }, ...rest] };
}

function withValidation(data: Statement, share: number): Statement {
  const span = data.block!.span;
  const pct = Number((share * 100).toPrecision(6));
  const value: Expr = { kind: "percent", operand: { kind: "number", value: pct, text: String(pct), span }, span };
  const st: Statement = {
    kind: "statement",
    target: undefined,
    sources: [],
    keyword: { name: "validation", span },
    args: [{ name: undefined, colon: false, value, span }],
    block: undefined,
    comments: ["# held out by nnc search to measure each trial"],
    trailingComment: undefined,
    blankBefore: false,
    span,
  };
  return { ...data, block: { ...data.block!, statements: [...data.block!.statements, st] } };
}

export interface TrialOutcome {
  readonly status: "ok" | "diverged" | "failed";
  readonly score: number | null;
  readonly message?: string;
  readonly curve: readonly number[];
  readonly test?: Readonly<Record<string, number>>;
  /** The trial's own diagnostics (a failed one's reason among them). */
  readonly diagnostics: readonly Diagnostic[];
}

export interface TrialOptions {
  readonly metric: SearchMetric;
  readonly epochs: number | undefined;
  readonly reader: SourceReader;
  readonly compile: (p: Program) => Result<CompiledModel | undefined>;
  readonly onEpoch?: (r: EpochRecord, epochs: number) => void;
  /** Awaited after each epoch (the playground's worker reads its messages there; a rejection abandons the trial). */
  readonly between?: () => Promise<void>;
  /** The checked program before it compiles (the playground's dropped CSV file replaces its data). */
  readonly adapt?: (p: Program) => Program;
}

/** Trains the plain file `source` as `nnc train` would, and measures it on its validation split. */
export async function runTrial(source: string, o: TrialOptions): Promise<TrialOutcome> {
  const failed = (ds: readonly Diagnostic[]): TrialOutcome => {
    const first = ds.find((d) => d.severity === "error");
    return { status: "failed", score: null, curve: [], diagnostics: ds, message: first === undefined ? "it did not compile" : `${first.code} ${first.message} (line ${first.span.line})` };
  };
  const checked = checkSource(source);
  if (!checked.value) return failed(checked.diagnostics);
  const program = o.adapt ? o.adapt(checked.value) : checked.value;
  const compiled = o.compile(program);
  if (!compiled.value) return failed(compiled.diagnostics);
  const session = await createSession(program, compiled.value, o.reader, o.epochs === undefined ? {} : { epochs: o.epochs });
  if (!session.value) return failed(session.diagnostics);
  const { trainer, data, task, model } = session.value;
  if (!data.validation) return failed([diag("noSplit", program.data?.span ?? FILE_START, ["validation"])]);
  trainer.init();
  // A step `nnc train` would shard by default is trained on the same shards (one thread: the
  // same bits), so the winner's file trains to the trial's result (`defaultThreads`).
  if (shardedByDefault(shardingMacs(program))) trainer.stepper = new LocalShards(model, { shards: DEFAULT_SHARDS, seed: trainer.config.seed });
  const curve: number[] = [];
  const key = `val_${o.metric}`;
  while (!trainer.done) {
    const r = trainer.runEpoch();
    if (!r) break;
    curve.push(r.values[key] ?? Number.NaN);
    o.onEpoch?.(r, trainer.config.epochs);
    await o.between?.();
  }
  if (trainer.diverged) return { status: "diverged", score: null, curve, diagnostics: [trainer.diverged], message: trainer.diverged.message };
  const score = evaluate(model, data.validation, task, [o.metric])[o.metric];
  const metrics = program.metrics.map((m) => m.kind).filter((m) => m !== "confusion_matrix");
  const test = data.test ? Object.fromEntries(Object.entries(evaluate(model, data.test, task, metrics)).filter((e): e is [string, number] => typeof e[1] === "number")) : undefined;
  if (typeof score !== "number" || !Number.isFinite(score)) return { status: "diverged", score: null, curve, diagnostics: [], message: `the validation ${o.metric} is ${String(score)}` };
  return { status: "ok", score, curve, ...(test ? { test } : {}), diagnostics: [] };
}

/** The log's record of a trial: its spec, its values as written, what it came to. */
export function trialRecord(spec: TrialSpec, values: readonly string[], outcome: TrialOutcome, seconds: number): TrialRecord {
  return {
    ...spec,
    values,
    status: outcome.status,
    score: outcome.score,
    ...(outcome.message !== undefined ? { message: outcome.message } : {}),
    curve: outcome.curve.map((v) => (Number.isFinite(v) ? v : 0)),
    ...(outcome.test ? { test: outcome.test } : {}),
    seconds,
  };
}

/** The text of a trial's plain file. */
export function trialSource(s: PreparedSearch, config: Config, header: readonly string[] = []): string {
  return printFile(trialFile(s, config, header));
}

/**
 * The file with the paths of its data files (`csv`, `idx`, `json` sources) passed through
 * `move`: for a plain file written to another folder than the one it was searched from.
 */
export function movePaths(file: SourceFile, move: (path: string) => string): SourceFile {
  const fix = (e: Expr): Expr => {
    if (e.kind !== "call" || !["csv", "idx", "json"].includes(e.callee.name)) return e;
    return { ...e, args: e.args.map((a) => (a.name === undefined && a.value.kind === "string" ? { ...a, value: { ...a.value, value: move(a.value.value) } } : a)) };
  };
  const inData = (s: Statement): Statement => ({ ...s, args: s.args.map((a) => ({ ...a, value: fix(a.value) })) });
  return { ...file, statements: file.statements.map((s) => (s.keyword.name === "data" && s.block !== undefined ? { ...s, block: { ...s.block, statements: s.block.statements.map(inData) } } : s)) };
}
