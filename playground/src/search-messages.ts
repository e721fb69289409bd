/**
 * The Search panel's messages to and from the training worker (`search-run.ts` answers them,
 * `page/search.ts` sends and reads them); part of `protocol.ts`'s unions.
 */
import type { Diagnostic } from "../../grammar/diagnostics.js";
import type { Direction } from "../../compiler/search/settings.js";
import type { TrialRecord } from "../../runtime/search.js";
import type { CsvChoice } from "./protocol.js";
import type { SearchTable } from "./search-table.js";

export type SearchRequest =
  /** Search the editor's file on the page's data (a dropped CSV file, or the examples' files). */
  | { readonly type: "search"; readonly source: string; readonly csv: CsvChoice | undefined; readonly files: Readonly<Record<string, string>> }
  /** End the search after the running epoch; the trials done are kept. */
  | { readonly type: "stopSearch" };

export type SearchResponse =
  | {
      readonly type: "searchStarted";
      /** The dimensions' names, in the order of each record's `values`. */
      readonly dims: readonly string[];
      /** `val_accuracy`, …: what each trial is scored by. */
      readonly metric: string;
      readonly direction: Direction;
      readonly algorithm: string;
      readonly trials: number;
      /** What the panel searches when the file has no ranges (or no search block); undefined: the file as written. */
      readonly note: string | undefined;
      /** The table's head, no rows yet. */
      readonly table: SearchTable;
    }
  /** The running trial's epoch, as a line of text. */
  | { readonly type: "searchEpoch"; readonly trial: number; readonly text: string }
  /** A finished trial, and the table of every trial so far (made in the worker, so the page imports no runtime). */
  | { readonly type: "searchTrial"; readonly record: TrialRecord; readonly table: SearchTable }
  | { readonly type: "searchDone"; readonly stopped: boolean; readonly best: { readonly trial: number; readonly source: string } | undefined }
  | { readonly type: "searchFailed"; readonly message: string; readonly diagnostics: readonly Diagnostic[] };
