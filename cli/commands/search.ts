/**
 * `nnc search FILE`: tries configurations of the file's ranges (`docs/search.md`), one trial at
 * a time or `--workers N` at once in worker threads (the same trials, scores and winner),
 * printing a row per trial in trial order, and writes into the output folder the trial log
 * (`trials.jsonl`, rewritten atomically after every trial, so `--resume` after a kill
 * continues the same sequence), the winner as a plain file (`best.nn`, which `nnc train`
 * trains to the same result), a leaderboard and a report page.
 */
import type { Command } from "commander";
import { existsSync } from "node:fs";
import { basename, dirname, extname, isAbsolute, join, relative, resolve } from "node:path";
import { printFile } from "../../grammar/print.js";
import { diag, hasErrors, type Diagnostic } from "../../grammar/diagnostics.js";
import { FILE_START } from "../../grammar/span.js";
import { parse } from "../../grammar/index.js";
import { inert } from "../../runtime/inert.js";
import { bestTrial, configOf, configText, leaderboard, replayMismatch, rungEpochs, type TrialRecord, type TrialSpec } from "../../runtime/search.js";
import { runSearchLoop } from "../../runtime/search-loop.js";
import { hasStart, valueText } from "../../compiler/search/space.js";
import { movePaths, prepareSearch, trialFile, trialRecord, type PreparedSearch, type TrialOutcome } from "../../runtime/search-trial.js";
import { renderSearchReport } from "../../runtime/search-report.js";
import { fmt } from "../../runtime/train.js";
import { SearchPool, SearchWorkerLost } from "../../runtime/node/search-pool.js";
import { runJob, type TrialJob, type TrialMessage } from "../../runtime/node/search-worker.js";
import { RunOutput } from "../../runtime/node/output.js";
import { LOG_VERSION, readLog, writeLog, type LogHeader } from "../../runtime/node/search-log.js";
import { shellLine } from "../../runtime/node/interrupt.js";
import { intOption, kernelsOption, KERNELS_HELP } from "../options.js";
import { CliError } from "../errors.js";
import { readSource, renderFor } from "../load.js";
import { renderRun } from "../session.js";

interface SearchOptions {
  out?: string;
  resume?: boolean;
  check?: boolean;
  quiet?: boolean;
  kernels?: string;
  workers?: string;
}

export const LOG_FILE = "trials.jsonl";
export const BEST_FILE = "best.nn";
export const LEADERBOARD_FILE = "leaderboard.md";
export const SEARCH_REPORT_FILE = "report.html";
const SEARCH_FILES = [LOG_FILE, BEST_FILE, LEADERBOARD_FILE, SEARCH_REPORT_FILE];

export function registerSearch(program: Command): void {
  program
    .command("search")
    .description("try configurations of the file's ranges; writes a trial log, best.nn, a leaderboard and a report")
    .argument("<file>", ".nn file with ranges (loguniform, uniform, int, choice) and a search block")
    .option("--out <dir>", "output folder (default: runs/<file name>-search)")
    .option("--resume", "continue the search from the trial log in the output folder")
    .option("--check", "check the ranges and settings and list the search space, without training")
    .option("--quiet", "print only the result")
    .option("--kernels <kind>", KERNELS_HELP)
    .option("--workers <n>", "trials at once, each in its own thread (the same trials, scores and winner for any count; default 1)")
    .action(async (file: string, opts: SearchOptions) => {
      await search(file, opts);
    });
}

async function search(file: string, opts: SearchOptions): Promise<void> {
  const read = readSource(file);
  if ("error" in read) throw new CliError(renderFor([read.error], undefined, "text", process.stderr));
  const { source } = read;
  const parsed = parse(source);
  const prepared = hasErrors(parsed.diagnostics) ? { value: undefined, diagnostics: parsed.diagnostics } : prepareSearch(parsed.value);
  const ds = prepared.value ? prepared.diagnostics : [...parsed.diagnostics, ...prepared.diagnostics];
  if (!prepared.value || hasErrors(ds)) throw new CliError(renderRun(ds, file, source));
  if (ds.length > 0) process.stderr.write(renderRun(ds, file, source));
  const s = prepared.value;
  const workers = intOption(opts.workers, "--workers", 1, 64) ?? 1;
  if (opts.check) {
    process.stdout.write(describeSpace(s));
    return;
  }
  const kernels = kernelsOption(opts.kernels, "search");
  const out = opts.out ?? join("runs", `${basename(file, extname(file))}-search`);
  const opened = RunOutput.open(out, SEARCH_FILES, { checkpoint: 1 << 16, total: 1 << 22 }, shellLine(["nnc", ...process.argv.slice(2)]));
  if (!opened.value) throw new CliError(renderRun(opened.diagnostics, file, source));
  if (opened.diagnostics.length > 0) process.stderr.write(renderRun(opened.diagnostics, file, source));
  const output = opened.value;
  try {
    await searchInto(output, file, source, s, opts, kernels, workers);
  } finally {
    output.release();
  }
}

async function searchInto(output: RunOutput, file: string, source: string, s: PreparedSearch, opts: SearchOptions, kernels: "js" | "wasm", workers: number): Promise<void> {
  const logPath = output.path(LOG_FILE);
  const fail = (d: Diagnostic): never => {
    throw new CliError(renderRun([d], file, source));
  };
  const again = shellLine(["nnc", "search", file, "--out", output.dir, "--resume"]);
  if (!opts.resume && existsSync(logPath)) fail({ ...diag("searchLogExists", FILE_START, [output.dir], { hint: `continue it with: ${again}; or search into another --out` }), file: logPath });
  const header: LogHeader = { nnc_search: LOG_VERSION, fingerprint: s.fingerprint, file: basename(file) };
  const log = readLog(logPath, s.fingerprint);
  if (!log.value) throw new CliError(renderRun(log.diagnostics, file, source));
  if (log.diagnostics.length > 0) process.stderr.write(renderRun(log.diagnostics, file, source));
  const records: TrialRecord[] = log.value;
  const mismatch = replayMismatch(s.plan, records);
  if (mismatch !== undefined) fail({ ...diag("searchLogOther", FILE_START, [logPath, mismatch]), file: logPath, hint: "search into another --out, or move the log away to start again" });

  const { plan, metric } = s;
  const table = new TrialTable(s, opts.quiet === true);
  const metricName = `val_${metric}`;
  if (records.length > 0 && !opts.quiet) process.stdout.write(`resuming ${logPath}: ${records.length} trial${records.length === 1 ? "" : "s"} done\n`);
  table.header(metricName);
  for (const r of records) table.row(r);
  const job = (spec: TrialSpec): TrialJob => ({ trial: spec.trial, source: printFile(trialFile(s, configOf(plan, spec.config))), epochs: spec.epochs, metric, baseDir: dirname(file), kernels });
  const onEpoch = (m: Extract<TrialMessage, { type: "epoch" }>): void => table.live(m.trial, m.epoch, m.epochs, m.value);
  // One at a time in this thread; with --workers N, in N threads (`runtime/node/search-pool.ts`),
  // no more than the search has trials (each thread costs a start-up and its memory).
  const threads = Math.min(workers, plan.trials);
  const pool = threads > 1 ? new SearchPool(threads) : undefined;
  const train = async (spec: TrialSpec): Promise<{ outcome: TrialOutcome; seconds: number }> => {
    if (pool) return pool.run(job(spec), onEpoch);
    let done: { outcome: TrialOutcome; seconds: number } | undefined;
    await runJob(job(spec), (m) => (m.type === "epoch" ? onEpoch(m) : (done = m)));
    return done!;
  };
  let stopped = false;
  try {
    const result = await runSearchLoop(plan, records, {
      workers,
      run: async (spec) => {
        const { outcome, seconds } = await train(spec);
        return trialRecord(spec, configText(plan, configOf(plan, spec.config)), outcome, seconds);
      },
      // `time`: no new trial once the trials finished have taken that long.
      stop: (done, early) => s.settings.time !== undefined && [...done, ...early].reduce((t, r) => t + r.seconds, 0) >= s.settings.time,
      onRecord: (record, all) => {
        const d = writeLog(logPath, header, all, `the trials before this one are kept; continue with: ${again}`);
        if (d) fail(d);
        table.row(record);
        if (record.status !== "ok" && !opts.quiet) process.stderr.write(renderRun([{ ...diag("trialFailed", FILE_START, [record.trial, record.message ?? record.status]), file: output.dir }], file, source));
      },
    });
    records.splice(0, records.length, ...result.records);
    stopped = result.stopped;
  } catch (e) {
    if (!(e instanceof SearchWorkerLost)) throw e;
    table.done();
    fail({ ...diag("searchWorkerLost", FILE_START, [e.message], { hint: `the trials before it are in the log; continue with: ${again}` }), file: output.dir });
  } finally {
    await pool?.close();
  }
  table.done();
  if (stopped && !opts.quiet) process.stderr.write(renderRun([{ ...diag("searchTimeUp", FILE_START, [s.settings.time!, records.length], { hint: `raise \`time\` and continue with: ${again}` }), file: output.dir }], file, source));
  writeResults(output, file, s, records, fail);
}

function writeResults(output: RunOutput, file: string, s: PreparedSearch, records: readonly TrialRecord[], fail: (d: Diagnostic) => never): void {
  const { plan, metric } = s;
  const best = bestTrial(records, plan.direction);
  if (best === undefined) fail({ ...diag("searchNoTrial", FILE_START, [records.length === 0 ? "no trial ran" : `all ${records.length} failed`], { hint: "see the trials' messages above" }), file: output.dir });
  const winner = best!;
  const metricName = `val_${metric}`;
  const summary = `trial ${winner.trial} of ${records.length}, ${metricName} ${fmt(winner.score!)} (${plan.algorithm}, seed ${plan.seed})`;
  // The data paths of the file are relative to its folder: best.nn lives in the output folder.
  const srcDir = dirname(resolve(file));
  const moved = movePaths(trialFile(s, configOf(plan, winner.config), [`# Found by nnc search ${basename(file)}: ${summary}.`, "# Every range is replaced by its value; `nnc train` trains it to the same result."]), (p) =>
    isAbsolute(p) ? p : relative(resolve(output.dir), resolve(srcDir, p)).split("\\").join("/"),
  );
  const write = (name: string, content: string): void => {
    const d = output.write(name, content);
    if (d) fail(d);
  };
  write(BEST_FILE, printFile(moved));
  write(LEADERBOARD_FILE, leaderboardMarkdown(s, records, basename(file)));
  const notes = [
    `${plan.algorithm} search of ${plan.dims.length} range${plan.dims.length === 1 ? "" : "s"}, ${records.length} trials, ${plan.direction === "maximize" ? "maximizing" : "minimizing"} ${metricName} (the validation split${s.addsValidation !== undefined ? `, ${Math.round(s.addsValidation * 100)}% of the training data held out by the search` : ""}).`,
    `Best: ${summary}: ${plan.dims.map((d, i) => `${d.label} = ${winner.values[i]}`).join(", ")}.`,
  ];
  write(SEARCH_REPORT_FILE, renderSearchReport({ title: `nnc search ${basename(file)}`, dims: plan.dims, records, metric: metricName, direction: plan.direction, notes }));
  const rel = (p: string): string => relative(process.cwd(), p) || p;
  process.stdout.write(`best: ${inert(summary)}\n  ${plan.dims.map((d, i) => inert(`${d.label} = ${winner.values[i]}`)).join("\n  ")}\n`);
  if (winner.test) process.stdout.write(`  test ${Object.entries(winner.test).map(([k, v]) => `${k} ${fmt(v)}`).join("  ")}\n`);
  process.stdout.write(`best.nn ${rel(output.path(BEST_FILE))}  log ${rel(output.path(LOG_FILE))}  leaderboard ${rel(output.path(LEADERBOARD_FILE))}  report ${rel(output.path(SEARCH_REPORT_FILE))}\n`);
}

function leaderboardMarkdown(s: PreparedSearch, records: readonly TrialRecord[], name: string): string {
  const { plan, metric } = s;
  const head = ["rank", "trial", "rung", "epochs", ...plan.dims.map((d) => d.label), `val_${metric}`, "test", "seconds", "status"];
  const cell = (t: string): string => t.replace(/\|/g, "\\|").replace(/[\r\n]/g, " ");
  const rows = leaderboard(records, plan.direction).map((t, i) => [
    String(i + 1), String(t.trial), String(t.rung), t.epochs === undefined ? "file" : String(t.epochs), ...t.values,
    t.score === null ? "—" : fmt(t.score), t.test ? Object.entries(t.test).map(([k, v]) => `${k} ${fmt(v)}`).join(", ") : "", fmt(t.seconds), t.status,
  ]);
  return [`# Leaderboard: nnc search ${cell(name)}`, "", `| ${head.map(cell).join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.map(cell).join(" | ")} |`)].join("\n") + "\n";
}

/** `--check`: the ranges, the settings and how many trials the search runs. */
function describeSpace(s: PreparedSearch): string {
  const { plan } = s;
  const lines = [`${plan.algorithm} search, ${plan.trials} trials, ${plan.direction} val_${s.metric}, seed ${plan.seed}`];
  for (const d of plan.dims) {
    const start = d.start === undefined ? "" : `, start ${inert(valueText(d, d.start))}`;
    lines.push(`  ${inert(d.label)}: ${d.kind === "choice" ? `choice of ${d.options.length}` : `${d.kind} ${d.lo} … ${d.hi}`}${start}`);
  }
  if (hasStart(plan.dims)) lines.push("  trial 1: the baseline (each range's start), with the file's epochs");
  if (plan.algorithm === "halving" || plan.algorithm === "asha") lines.push(`  rungs: ${Array.from({ length: plan.rungs }, (_, k) => rungEpochs(plan, k)).join(", ")} epochs`);
  if (s.addsValidation !== undefined) lines.push(`  validation: ${Math.round(s.addsValidation * 100)}% of the training data, held out by the search`);
  return lines.join("\n") + "\n";
}

/** The live table: a row per finished trial (stdout), and the running trial's epoch on a terminal (stderr). */
class TrialTable {
  private readonly widths: number[];
  private liveShown = false;

  constructor(
    private readonly s: PreparedSearch,
    private readonly quiet: boolean,
  ) {
    this.widths = s.plan.dims.map((d) => Math.max(8, Math.min(24, d.label.length)));
  }

  header(metricName: string): void {
    if (this.quiet) return;
    const cols = ["trial", "rung", "epochs", ...this.s.plan.dims.map((d, i) => inert(d.label).slice(0, this.widths[i]).padEnd(this.widths[i]!)), metricName.padEnd(12), "seconds"];
    process.stdout.write(cols.join("  ") + "\n");
  }

  /** The running trials' epochs, on one line (several with --workers). */
  private readonly running = new Map<number, string>();

  live(trial: number, epoch: number, epochs: number, value: number | undefined): void {
    if (this.quiet || !process.stderr.isTTY) return;
    this.running.set(trial, `trial ${trial}: epoch ${epoch}/${epochs}${value === undefined ? "" : `  ${fmt(value)}`}`);
    process.stderr.write(`\r\x1b[2K${[...this.running.values()].join("  ·  ")}`);
    this.liveShown = true;
  }

  row(r: TrialRecord): void {
    this.running.delete(r.trial);
    if (this.liveShown) {
      process.stderr.write("\r\x1b[2K");
      this.liveShown = false;
    }
    if (this.quiet) return;
    const values = r.values.map((v, i) => inert(v).slice(0, this.widths[i]).padEnd(this.widths[i]!));
    const score = r.score === null ? r.status : fmt(r.score);
    const cols = [String(r.trial).padStart(5), String(r.rung).padStart(4), (r.epochs === undefined ? "file" : String(r.epochs)).padStart(6), ...values, score.padEnd(12), fmt(r.seconds)];
    process.stdout.write(cols.join("  ") + "\n");
  }

  done(): void {
    if (this.liveShown) process.stderr.write("\r\x1b[2K");
  }
}
