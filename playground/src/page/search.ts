/**
 * The Search tab: runs a small search of the editor's file on the page's data in its own
 * instance of the training worker (`search-run.ts`; the Training tab's run is left alone),
 * and shows a live table of the trials — configuration, epochs, score — with the best
 * marked, and a button that puts the best configuration, as a plain file, into the editor.
 * Every cell is set with `textContent` (the worker makes the text, `search-table.ts`): nothing
 * from the file or the data becomes markup, and the page imports no runtime.
 */
import type { TrialRecord } from "../../../runtime/search.js";
import { exampleFiles } from "../examples.js";
import type { CsvChoice, TrainRequest, TrainResponse } from "../protocol.js";
import type { SearchTable } from "../search-table.js";
import { $ } from "./ui.js";
import "./search.css";

export interface SearchInputs {
  readonly source: () => string;
  readonly csv: () => CsvChoice | undefined;
  /** Replaces the editor's text (undoably). */
  readonly setSource: (text: string) => void;
}

const el = {
  run: $<HTMLButtonElement>("search-run"),
  stop: $<HTMLButtonElement>("search-stop"),
  use: $<HTMLButtonElement>("search-use"),
  note: $("search-note"),
  status: $("search-status"),
  live: $("search-live"),
  table: $<HTMLTableElement>("search-table"),
  head: $("search-head"),
  body: $("search-body"),
};

export class SearchPanel {
  private worker: Worker | undefined;
  private records: TrialRecord[] = [];
  private table: SearchTable | undefined;
  private metric = "";
  private trials = 0;
  private best: { trial: number; source: string } | undefined;
  private running = false;
  private finished = false;

  constructor(private readonly inputs: SearchInputs) {
    el.run.onclick = () => this.start();
    el.stop.onclick = () => this.stop();
    el.use.onclick = () => {
      if (this.best) this.inputs.setSource(this.best.source);
      el.status.textContent = `Trial ${this.best?.trial ?? "?"}'s configuration is in the editor (Ctrl+Z undoes it).`;
    };
  }

  /** For the browser tests. */
  state(): { running: boolean; finished: boolean; trials: number; best: number | undefined; scores: (number | null)[]; values: string[][] } {
    return { running: this.running, finished: this.finished, trials: this.records.length, best: this.best?.trial ?? this.table?.best, scores: this.records.map((r) => r.score), values: this.records.map((r) => [...r.values]) };
  }

  start(): void {
    this.worker?.terminate();
    const worker = new Worker(new URL("../train.worker.ts", import.meta.url), { type: "module" });
    this.worker = worker;
    worker.onmessage = (e: MessageEvent<TrainResponse>) => this.onMessage(e.data);
    worker.onerror = (e) => this.end(`The search worker failed: ${e.message}`);
    this.records = [];
    this.table = undefined;
    this.best = undefined;
    this.running = true;
    this.finished = false;
    el.run.disabled = true;
    el.stop.disabled = false;
    el.use.disabled = true;
    el.note.textContent = "";
    el.live.textContent = "";
    el.status.textContent = "Starting the search…";
    this.render();
    const request = { source: this.inputs.source(), csv: this.inputs.csv() };
    void exampleFiles().then((files) => {
      if (this.worker === worker) worker.postMessage({ type: "search", ...request, files } satisfies TrainRequest);
    });
  }

  stop(): void {
    this.worker?.postMessage({ type: "stopSearch" } satisfies TrainRequest);
    el.stop.disabled = true;
    el.status.textContent = "Stopping after this epoch…";
  }

  private end(status: string): void {
    this.running = false;
    this.finished = true;
    this.worker?.terminate();
    this.worker = undefined;
    el.run.disabled = false;
    el.stop.disabled = true;
    el.use.disabled = this.best === undefined;
    el.live.textContent = "";
    el.status.textContent = status;
  }

  private onMessage(m: TrainResponse): void {
    switch (m.type) {
      case "searchStarted":
        this.table = m.table;
        this.metric = m.metric;
        this.trials = m.trials;
        el.note.textContent = m.note ?? `Searching the file's ${m.dims.length} range${m.dims.length === 1 ? "" : "s"} (${m.dims.join(", ")}): ${m.algorithm}, ${m.trials} trials.`;
        el.status.textContent = `Searching: ${m.algorithm}, ${m.direction === "maximize" ? "maximizing" : "minimizing"} ${m.metric} on the validation split.`;
        this.render();
        break;
      case "searchEpoch":
        el.live.textContent = m.text;
        break;
      case "searchTrial": {
        this.records.push(m.record);
        this.table = m.table;
        this.render();
        const best = m.table.best;
        const score = m.record.score === null ? m.record.status : `${this.metric} ${m.table.rows.find((r) => r.trial === m.record.trial)?.cells.at(-2) ?? ""}`;
        el.status.textContent = `Trial ${m.record.trial} (of ${this.trials} configurations): ${score}.${best === undefined ? "" : ` Best so far: trial ${best}.`}`;
        break;
      }
      case "searchDone":
        this.best = m.best;
        this.render();
        this.end(
          m.best === undefined
            ? `No trial finished${m.stopped ? " before the search was stopped" : ""}.`
            : `${m.stopped ? "Stopped" : "Done"}: ${this.records.length} trials; the best is trial ${m.best.trial}. “Use best in editor” puts its configuration in the source.`,
        );
        break;
      case "searchFailed":
        this.end(`The search did not start: ${m.message}`);
        break;
    }
  }

  private render(): void {
    const t = this.table ?? { head: [], rows: [], best: undefined };
    el.table.hidden = this.table === undefined;
    el.head.replaceChildren(
      ...t.head.map((h) => {
        const th = document.createElement("th");
        th.scope = "col";
        th.textContent = h;
        return th;
      }),
    );
    el.body.replaceChildren(
      ...t.rows.map((r) => {
        const tr = document.createElement("tr");
        if (r.best) tr.className = "best";
        if (r.title !== undefined) tr.title = r.title;
        r.cells.forEach((c, i) => {
          const cell = document.createElement(i === 0 ? "th" : "td");
          if (i === 0) (cell as HTMLTableCellElement).scope = "row";
          cell.textContent = i === 0 && r.best ? `★ ${c}` : c;
          tr.append(cell);
        });
        return tr;
      }),
    );
  }
}
