/**
 * A search in the training worker (the Search panel, `page/search.ts`): the editor's file with
 * its ranges (or the default space of `search-space.ts`) searched on the page's data exactly as
 * `nnc search` searches it — `runtime/search.ts` decides, `runSearchLoop` runs one trial at a
 * time, `runTrial` trains each from scratch and scores it on the validation split — posting
 * each epoch and each finished trial, and at the end the winner as a plain file. The worker
 * reads its messages between epochs, so Stop ends the search within an epoch.
 */
import { parse } from "../../grammar/index.js";
import type { Result } from "../../grammar/diagnostics.js";
import { compileProgram } from "../../compiler/compile.js";
import { defaultKernels, loadModule } from "../../compiler/load.js";
import type { CompiledModel } from "../../compiler/model-api.js";
import type { Program } from "../../compiler/program.js";
import type { SourceReader } from "../../runtime/load.js";
import { bestTrial, configOf, configText, type TrialRecord } from "../../runtime/search.js";
import { runSearchLoop } from "../../runtime/search-loop.js";
import { prepareSearch, runTrial, trialRecord, trialSource } from "../../runtime/search-trial.js";
import { fmt } from "../../runtime/train.js";
import { trainOnFile } from "./knobs/source-edits.js";
import type { SearchRequest, SearchResponse } from "./search-messages.js";
import { pageSpace } from "./search-space.js";
import { searchTable } from "./search-table.js";

class Stopped extends Error {}

/** The model the way the training worker compiles one (WebAssembly kernels, a larger batch for evaluation). */
function compile(p: Program): Result<CompiledModel | undefined> {
  const inputSize = p.model.input.reduce((a, b) => a * b, 1);
  const maxBatch = Math.max(p.train.batch, inputSize <= 64 ? 512 : p.train.batch);
  const r = compileProgram(p, { target: "js", maxBatch, kernels: defaultKernels() });
  if (!r.value) return { value: undefined, diagnostics: r.diagnostics };
  return { value: loadModule(r.value.code).createModel(), diagnostics: r.diagnostics };
}

export class PageSearch {
  private active = false;
  private stopping = false;
  private readonly channel = new MessageChannel();
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly post: (m: SearchResponse) => void) {
    this.channel.port1.onmessage = () => this.waiting.shift()?.();
  }

  stop(): void {
    if (this.active) this.stopping = true;
  }

  /** Between epochs: lets the worker's messages in (a zero-delay yield), and stops if asked. */
  private between = (): Promise<void> =>
    new Promise((resolve, reject) => {
      this.waiting.push(() => (this.stopping ? reject(new Stopped()) : resolve()));
      this.channel.port2.postMessage(0);
    });

  /** `reader` serves the page's files; `adapt` puts a dropped CSV file in place of the file's data. */
  async run(m: Extract<SearchRequest, { type: "search" }>, reader: SourceReader, adapt: (p: Program) => Program): Promise<void> {
    if (this.active) return;
    this.active = true;
    this.stopping = false;
    try {
      await this.search(m, reader, adapt);
    } finally {
      this.active = false;
    }
  }

  private async search(m: Extract<SearchRequest, { type: "search" }>, reader: SourceReader, adapt: (p: Program) => Program): Promise<void> {
    const space = pageSpace(m.source);
    if ("error" in space) return this.post({ type: "searchFailed", message: space.error, diagnostics: [] });
    const prepared = prepareSearch(parse(space.source).value);
    const s = prepared.value;
    if (!s) {
      const first = prepared.diagnostics.find((d) => d.severity === "error");
      return this.post({ type: "searchFailed", message: first ? `${first.code} ${first.message} (line ${first.span.line})` : "the search cannot start", diagnostics: prepared.diagnostics });
    }
    const { plan, metric } = s;
    const dims = plan.dims.map((d) => d.label);
    const table = (records: readonly TrialRecord[]) => searchTable(dims, `val_${metric}`, plan.direction, records);
    this.post({ type: "searchStarted", dims, metric: `val_${metric}`, direction: plan.direction, algorithm: plan.algorithm, trials: plan.trials, note: space.note, table: table([]) });
    const done: TrialRecord[] = [];
    let stopped = false;
    try {
      const result = await runSearchLoop(plan, [], {
        workers: 1,
        run: async (spec) => {
          const config = configOf(plan, spec.config);
          const text = trialSource(s, config);
          const t0 = performance.now();
          const outcome = await runTrial(m.csv ? trainOnFile(text) : text, {
            metric,
            epochs: spec.epochs,
            reader,
            compile,
            adapt,
            between: this.between,
            onEpoch: (r, epochs) => {
              const v = r.values[`val_${metric}`];
              this.post({ type: "searchEpoch", trial: spec.trial, text: `Trial ${spec.trial}: epoch ${r.epoch} of ${epochs}${v === undefined ? "" : `, val_${metric} ${fmt(v)}`}` });
            },
          });
          return trialRecord(spec, configText(plan, config), outcome, Number(((performance.now() - t0) / 1000).toFixed(3)));
        },
        onRecord: (record) => {
          done.push(record);
          this.post({ type: "searchTrial", record, table: table(done) });
        },
        stop: () => this.stopping,
      });
      stopped = result.stopped;
    } catch (e) {
      if (!(e instanceof Stopped)) throw e;
      stopped = true;
    }
    const best = bestTrial(done, plan.direction);
    const summary = best ? `trial ${best.trial} of ${done.length}, val_${metric} ${fmt(best.score!)} (${plan.algorithm}, seed ${plan.seed})` : "";
    const header = ["# Found by the playground's search: " + summary + ".", "# Every range is replaced by its value."];
    this.post({ type: "searchDone", stopped, best: best ? { trial: best.trial, source: trialSource(s, configOf(plan, best.config), header) } : undefined });
  }
}
