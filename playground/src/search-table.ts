/**
 * The Search panel's table as plain data (pure, no DOM): a row per trial in trial order, its
 * cells as text, and the best trial — the best finished one of the highest rung, as
 * `nnc search` chooses it (`bestTrial`). The page puts every cell in with `textContent`, so
 * nothing from the file or the data becomes markup.
 */
import type { Direction } from "../../compiler/search/settings.js";
import { bestTrial, type TrialRecord } from "../../runtime/search.js";
import { fmt } from "../../runtime/train.js";

export interface SearchRow {
  readonly trial: number;
  readonly cells: readonly string[];
  readonly best: boolean;
  /** Why a trial failed or diverged (its message), for the row's tooltip. */
  readonly title: string | undefined;
}

export interface SearchTable {
  readonly head: readonly string[];
  readonly rows: readonly SearchRow[];
  /** The best trial's number, once one has finished. */
  readonly best: number | undefined;
}

export function searchTable(dims: readonly string[], metric: string, direction: Direction, records: readonly TrialRecord[]): SearchTable {
  const best = bestTrial(records, direction)?.trial;
  const rows = [...records]
    .sort((a, b) => a.trial - b.trial)
    .map((r) => ({
      trial: r.trial,
      cells: [String(r.trial), r.epochs === undefined ? "file" : String(r.epochs), ...r.values, r.score === null ? r.status : fmt(r.score), fmt(r.seconds)],
      best: r.trial === best,
      title: r.message,
    }));
  return { head: ["trial", "epochs", ...dims, metric, "seconds"], rows, best };
}
