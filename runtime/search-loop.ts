/**
 * The search's loop, browser-safe: runs the trials `nextTrialAhead` chooses, up to `workers`
 * at once (the CLI's worker threads; the playground runs one), and hands them on in trial
 * order. A trial that finishes before an earlier one waits for it, so what `onRecord` sees —
 * the log, the table — is the same sequence for any number of workers: the sequence of
 * `nextTrial` one trial at a time. A trial's record depends only on its spec (it trains from
 * scratch, seeded by the file), never on which worker ran it or when.
 */
import { nextTrialAhead, WAIT, type Known, type Plan, type TrialRecord, type TrialSpec } from "./search.js";

export interface LoopOptions {
  /** Trials at once (1: one at a time). */
  readonly workers: number;
  /** Runs one trial; rejects only when the search cannot go on (a worker lost, a stop). */
  readonly run: (spec: TrialSpec) => Promise<TrialRecord>;
  /** Each record, in trial order, with every record before it. */
  readonly onRecord: (record: TrialRecord, records: readonly TrialRecord[]) => void;
  /** Asked before each new trial: true starts no more (the running ones finish and are recorded). */
  readonly stop?: (records: readonly TrialRecord[], finished: readonly TrialRecord[]) => boolean;
}

export interface LoopResult {
  readonly records: readonly TrialRecord[];
  /** `stop` ended the search before the algorithm did. */
  readonly stopped: boolean;
}

type Settled = { readonly trial: number; readonly record: TrialRecord } | { readonly trial: number; readonly error: unknown };

/** Continues the search after `done` (a log read back, in trial order) to its end. */
export async function runSearchLoop(plan: Plan, done: readonly TrialRecord[], o: LoopOptions): Promise<LoopResult> {
  const records = [...done];
  /** Finished, waiting for an earlier trial. */
  const early = new Map<number, TrialRecord>();
  const running = new Map<number, { spec: TrialSpec; settled: Promise<Settled> }>();
  let stopped = false;
  let failure: { error: unknown } | undefined;
  for (;;) {
    while (failure === undefined && !stopped && running.size < Math.max(1, o.workers)) {
      if (o.stop?.(records, [...early.values()])) {
        stopped = true;
        break;
      }
      const known: Known[] = [...records, ...early.values(), ...[...running.values()].map((r) => r.spec)];
      const next = nextTrialAhead(plan, known);
      if (next === undefined || next === WAIT) break;
      const settled = o.run(next).then(
        (record): Settled => ({ trial: next.trial, record }),
        (error: unknown): Settled => ({ trial: next.trial, error }),
      );
      running.set(next.trial, { spec: next, settled });
    }
    if (running.size === 0) break;
    const s = await Promise.race([...running.values()].map((r) => r.settled));
    running.delete(s.trial);
    if ("error" in s) {
      // The others finish (their results are kept if they come in order), then the error.
      failure ??= { error: s.error };
      continue;
    }
    early.set(s.trial, s.record);
    for (let r = early.get(records.length + 1); r !== undefined; r = early.get(records.length + 1)) {
      early.delete(r.trial);
      records.push(r);
      o.onRecord(r, records);
    }
  }
  if (failure !== undefined) throw failure.error;
  return { records, stopped };
}
