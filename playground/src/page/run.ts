/**
 * Training on the page: the training worker's life (load, run, pause, step, reset), the
 * numbers, the progress bar, the charts, the picture and the filters it reports, and the
 * verdict when a run ends (done, diverged, or done without learning anything).
 */
import type { Diagnostic } from "../../../grammar/diagnostics.js";
import { Charts } from "../charts.js";
import { exampleFiles } from "../examples.js";
import { drawFilters } from "../filters.js";
import { CLASS_COLORS, drawPicture } from "../picture.js";
import type { CsvChoice, Filters, Insight, ModelInfo, Picture, TrainRequest, TrainResponse } from "../protocol.js";
import { canShare } from "../shards.js";
import { ExplainPanel } from "./explain.js";
import { ImagePanel } from "./images.js";
import { TypingPanel } from "./typing.js";
import { download, setNotice, setStatus, ui } from "./ui.js";

/** What a load needs from the rest of the page. */
export interface RunInputs {
  source(): string;
  seed(): number | undefined;
  csv(): CsvChoice | undefined;
  /** The run's problems changed. */
  problemsChanged(): void;
  /** The network's inside (unit maps, weights) as the run reports it; undefined when the run is gone. */
  insight(i: Insight | undefined): void;
}

/** Epochs of a run that goes on until paused. */
const UNTIL_PAUSED_EPOCHS = 1_000_000;

/** A weights file's name as the page shows it: at most this many characters. */
const NAME_CHARS = 48;
/** A refusal's message in the notice: at most this many characters (a hand-edited value may be long). */
const REFUSAL_CHARS = 600;
const clip = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

const fmt = (x: number): string => (Math.abs(x) >= 1000 || x === 0 ? x.toFixed(0) : Number(x.toPrecision(4)).toString());

export class Runner {
  /** Incremented on every change that a loaded training run no longer reflects. */
  version = 0;
  loadedVersion = -1;
  running = false;
  ready = false;
  done = false;
  info: ModelInfo | undefined;
  readonly history: { epoch: number; values: Readonly<Record<string, number>> }[] = [];
  testValues: Readonly<Record<string, number>> | undefined;
  diagnostics: readonly Diagnostic[] = [];
  /** True after a load failed, until the next load. */
  failed = false;
  /** The weights file the model holds (⬆ weights), until the next load or Reset. */
  loadedWeights: { name: string; epochs: number } | undefined;
  /** The last weights file refused, and why (for the tests). */
  refusedWeights: { name: string; message: string } | undefined;
  pictureUpdates = 0;
  filterUpdates = 0;
  readonly charts = new Charts(ui.chartLoss, ui.chartMetric);
  readonly explain = new ExplainPanel(
    (m) => this.send(m),
    () => this.lastPicture,
    () => this.info?.testSamples ?? 0,
  );
  readonly typing = new TypingPanel((m) => this.send(m));
  readonly images = new ImagePanel((m) => this.send(m));
  /** The last insight's time in the worker (ms). */
  insightMillis: number[] = [];
  private worker: Worker | undefined;
  private afterReady: "run" | "step" | undefined;
  /** A weights file to load once the run is ready. */
  private pendingWeights: { name: string; text: string } | undefined;
  private startedAt = 0;
  private lastPicture: Picture | undefined;
  /** The data the run trains on, as the summary names it. */
  private dataName = "";
  private frame: number | undefined;

  constructor(private readonly inputs: RunInputs) {
    ui.pause.onclick = () => this.send({ type: "pause" });
    ui.speed.onchange = () => this.send({ type: "speed", msPerEpoch: Number(ui.speed.value) });
    ui.untilPaused.onchange = () => this.version++;
    // "auto" by default: the rule of `nnc train` (`pageWorkers`), one worker on every example of
    // the page, where a second costs more than it gives (docs/playground.md). 1 or 2 can be
    // chosen where memory can be shared (cross-origin isolation); elsewhere the choice is off
    // at 1, with a note.
    const share = canShare();
    ui.workers.value = share ? "auto" : "1";
    ui.workers.disabled = !share;
    ui.workersNote.hidden = share;
    ui.workersNote.textContent = "One worker: this page is not cross-origin isolated, so it has no SharedArrayBuffer to share gradients between workers (the weights are the same either way).";
    ui.workers.onchange = () => this.version++;
    ui.logScale.onchange = () => this.charts.setLog(ui.logScale.checked);
    ui.showTest.onchange = ui.discretize.onchange = () => {
      if (this.lastPicture) this.drawPicture(this.lastPicture);
    };
    ui.downloadWeights.onclick = () => this.send({ type: "weights" });
    ui.uploadWeights.onclick = () => ui.weightsFile.click();
    ui.weightsFile.onchange = () => {
      const f = ui.weightsFile.files?.[0];
      if (f) void f.text().then((t) => this.loadWeights(f.name, t));
      ui.weightsFile.value = "";
    };
    this.updateButtons();
  }

  get hasWorker(): boolean {
    return this.worker !== undefined;
  }

  /** Whether the loaded run reflects the current source and settings. */
  get current(): boolean {
    return this.worker !== undefined && this.loadedVersion === this.version;
  }

  train(): void {
    if (!this.current || this.done) this.load("run");
    else if (this.ready) {
      if (this.startedAt === 0 || this.history.length === 0) this.startedAt = performance.now();
      this.send({ type: "run" });
    } else this.afterReady = "run";
  }

  step(): void {
    if (!this.current || this.done) this.load("step");
    else if (this.ready) this.send({ type: "step" });
    else this.afterReady = "step";
  }

  reset(): void {
    this.startedAt = 0;
    this.load(undefined);
  }

  /**
   * A weights file (⬆ weights, or dropped) for the model in the editor: checked and loaded by
   * the training worker, which first loads the model and its data when the run does not match
   * the text. A file that does not fit is refused with its diagnostic in the notice.
   */
  loadWeights(name: string, text: string): void {
    if (!this.current) this.load(undefined);
    this.pendingWeights = { name, text };
    this.afterReady = undefined;
    setStatus(`checking ${clip(name, NAME_CHARS)}…`);
    if (this.ready) this.sendWeights();
  }

  private sendWeights(): void {
    const w = this.pendingWeights;
    this.pendingWeights = undefined;
    if (w) this.send({ type: "setWeights", name: w.name, text: w.text });
  }

  clear(): void {
    this.worker?.terminate();
    this.worker = undefined;
    this.ready = this.running = this.done = this.failed = false;
    this.info = undefined;
    this.loadedWeights = undefined;
    this.pendingWeights = undefined;
    this.history.length = 0;
    this.testValues = undefined;
    this.diagnostics = [];
    this.lastPicture = undefined;
    this.charts.reset();
    ui.progress.style.width = "0";
    ui.numbers.replaceChildren();
    ui.summary.replaceChildren();
    const g = ui.picture.getContext("2d")!;
    g.clearRect(0, 0, ui.picture.width, ui.picture.height);
    ui.filtersCard.hidden = true;
    this.filterUpdates = 0;
    this.explain.reset(false, 0, false);
    this.typing.reset(false);
    this.images.reset();
    this.insightMillis = [];
    this.inputs.insight(undefined);
    this.inputs.problemsChanged();
    setStatus("idle");
    this.updateButtons();
  }

  load(then: "run" | "step" | undefined): void {
    this.clear();
    this.loadedVersion = this.version;
    this.afterReady = then;
    const worker = new Worker(new URL("../train.worker.ts", import.meta.url), { type: "module" });
    this.worker = worker;
    worker.onmessage = (e: MessageEvent<TrainResponse>) => this.onMessage(e.data);
    worker.onerror = (e) => {
      setStatus(`the training worker failed: ${e.message}`, true);
      console.warn("training worker:", e.message);
    };
    const csv = this.inputs.csv();
    this.dataName = csv?.name ?? "";
    const request = { source: this.inputs.source(), seed: this.inputs.seed(), csv, epochs: ui.untilPaused.checked ? UNTIL_PAUSED_EPOCHS : undefined, workers: ui.workers.value === "auto" ? ("auto" as const) : Number(ui.workers.value) };
    setStatus("compiling…");
    void exampleFiles().then((files) => {
      // A newer load (or a reset) replaced this worker meanwhile.
      if (this.worker !== worker) return;
      worker.postMessage({ type: "load", ...request, files } satisfies TrainRequest);
      worker.postMessage({ type: "speed", msPerEpoch: Number(ui.speed.value) } satisfies TrainRequest);
    });
  }

  private weightsWaiter: ((text: string) => void) | undefined;
  private hashWaiter: ((hash: string) => void) | undefined;

  /** A hash of the run's parameters' bytes (for the tests). */
  weightsHash(): Promise<string> {
    return new Promise((resolve) => {
      this.hashWaiter = resolve;
      this.send({ type: "hash" });
    });
  }

  /** The run's weights file, without saving it (for the tests). */
  weightsText(): Promise<string> {
    return new Promise((resolve) => {
      this.weightsWaiter = resolve;
      this.send({ type: "weights" });
    });
  }

  private send(m: TrainRequest): void {
    this.worker?.postMessage(m);
  }

  private updateButtons(): void {
    ui.train.disabled = this.running;
    ui.pause.disabled = !this.running;
    ui.step.disabled = this.running;
    // Weights are worth saving once they have been trained (or loaded).
    ui.downloadWeights.disabled = !this.ready || (this.history.length === 0 && this.loadedWeights === undefined);
  }

  /** The numbers, progress and buttons once per frame (a fast run posts many epochs a frame). */
  private render(): void {
    if (this.frame !== undefined) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = undefined;
      const last = this.history[this.history.length - 1];
      if (this.info && last) ui.progress.style.width = `${Math.min(100, (100 * last.epoch) / this.info.epochs)}%`;
      this.showNumbers();
      this.updateButtons();
    });
  }

  private showNumbers(): void {
    const rows: [string, string][] = [];
    const last = this.history[this.history.length - 1];
    const info = this.info;
    if (info) {
      const b = (t: string): HTMLElement => Object.assign(document.createElement("b"), { textContent: t });
      const splits: (string | HTMLElement)[] = [b(String(info.trainSamples)), " train / "];
      if (info.validationSamples > 0) splits.push(b(String(info.validationSamples)), " validation / ");
      splits.push(b(String(info.testSamples)), " test samples");
      ui.summary.replaceChildren(b(info.name), ` · ${info.paramCount.toLocaleString("en")} parameters · `, ...(this.dataName ? [b(this.dataName), ": "] : []), ...splits);
      if (this.loadedWeights) rows.push(["weights", `${clip(this.loadedWeights.name, NAME_CHARS)} (${this.loadedWeights.epochs} epochs)`]);
      rows.push(["epoch", `${last?.epoch ?? 0} / ${info.epochs >= UNTIL_PAUSED_EPOCHS ? "∞" : info.epochs}`]);
    } else ui.summary.replaceChildren();
    if (last) for (const [k, v] of Object.entries(last.values)) rows.push([k, fmt(v)]);
    if (this.testValues) for (const [k, v] of Object.entries(this.testValues)) rows.push([`test ${k}`, fmt(v)]);
    if (this.startedAt > 0 && this.history.length > 0) rows.push(["time", `${((performance.now() - this.startedAt) / 1000).toFixed(1)} s`]);
    ui.numbers.replaceChildren(
      ...rows.flatMap(([k, v]) => {
        const dt = document.createElement("dt");
        dt.textContent = k;
        const dd = document.createElement("dd");
        dd.textContent = v;
        dd.dataset["key"] = k;
        return [dt, dd];
      }),
    );
  }

  /** An epoch's values without the validation ones of an empty validation split. */
  private kept(values: Readonly<Record<string, number>>): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(values)) if (!(k.startsWith("val_") && (this.info?.validationSamples ?? 0) === 0)) out[k] = v;
    return out;
  }

  /** Why a finished classifier did not learn: its accuracy is what guessing gives. */
  private notLearned(): string | undefined {
    const info = this.info;
    const last = this.history[this.history.length - 1]?.values;
    if (!info || !last || info.classes < 2) return undefined;
    const acc = last["val_accuracy"] ?? last["accuracy"];
    const chance = 1 / info.classes;
    if (acc === undefined || acc > chance + 0.05) return undefined;
    return `done, but the model did not learn: accuracy ${fmt(acc)} is what guessing gives for ${info.classes} classes; try a smaller learning rate (lr)`;
  }

  private onMessage(m: TrainResponse): void {
    switch (m.type) {
      case "ready":
        this.ready = true;
        this.info = m.info;
        this.explain.reset(m.info.explain, m.info.testSamples, m.info.inputSize === 2);
        this.typing.reset(m.info.text);
        this.diagnostics = m.diagnostics;
        this.inputs.problemsChanged();
        setStatus("ready");
        this.showNumbers();
        if (this.pendingWeights) this.sendWeights();
        else if (this.afterReady) this.send({ type: this.afterReady });
        if (this.afterReady === "run") this.startedAt = performance.now();
        this.afterReady = undefined;
        this.updateButtons();
        break;
      case "failed":
        if (this.pendingWeights) setNotice(`${clip(this.pendingWeights.name, NAME_CHARS)} was not loaded: the model and its data must load first (${m.message}).`, [{ label: "OK", run: () => undefined }]);
        this.pendingWeights = undefined;
        this.diagnostics = m.diagnostics;
        this.failed = true;
        this.inputs.problemsChanged();
        setStatus(m.diagnostics.length > 0 ? `${m.message}: see the problems below the editor` : m.message, true);
        this.worker?.terminate();
        this.worker = undefined;
        this.ready = this.running = false;
        this.updateButtons();
        break;
      case "progress":
        if (this.info && this.info.epochs < UNTIL_PAUSED_EPOCHS) ui.progress.style.width = `${Math.min(100, (100 * ((m.epoch - 1) * m.batches + m.batch)) / (this.info.epochs * m.batches))}%`;
        break;
      case "epoch": {
        const values = this.kept(m.values);
        this.history.push({ epoch: m.epoch, values });
        this.charts.add(m.epoch, values);
        this.render();
        break;
      }
      case "picture":
        this.lastPicture = m.picture;
        this.drawPicture(m.picture);
        this.pictureUpdates++;
        break;
      case "state": {
        this.running = m.running;
        this.done = m.done;
        if (m.done) {
          const diverged = m.reason !== undefined && m.reason.startsWith("training diverged");
          const unlearned = diverged ? undefined : this.notLearned();
          setStatus(unlearned ?? `done: ${m.reason ?? "finished"}`, diverged || unlearned !== undefined);
        } else setStatus(m.running ? "training…" : m.epoch > 0 ? `paused after epoch ${m.epoch}` : "ready");
        this.updateButtons();
        this.showNumbers();
        break;
      }
      case "test":
        this.testValues = m.values;
        this.showNumbers();
        break;
      case "filters":
        this.showFilters(m.filters);
        break;
      case "images":
        this.images.setStrip(m.strip);
        break;
      case "imagePick":
        this.images.show(m.pick);
        break;
      case "attribution":
        this.explain.show(m.attribution);
        if (this.lastPicture) this.drawPicture(this.lastPicture);
        break;
      case "insight":
        this.insightMillis.push(m.insight.millis);
        this.inputs.insight(m.insight);
        break;
      case "prediction":
        this.typing.show(m.prediction);
        break;
      case "hash":
        this.hashWaiter?.(m.hash);
        this.hashWaiter = undefined;
        break;
      case "weightsLoaded":
        this.info = m.info;
        this.loadedWeights = { name: m.name, epochs: m.epochs };
        this.refusedWeights = undefined;
        // A fresh run from the file's weights: no epochs of it yet.
        this.history.length = 0;
        this.charts.reset();
        this.testValues = undefined;
        this.startedAt = 0;
        this.done = this.running = false;
        ui.progress.style.width = "0";
        this.explain.reset(m.info.explain, m.info.testSamples, m.info.inputSize === 2);
        this.typing.reset(m.info.text);
        setNotice(undefined);
        setStatus(`loaded ${clip(m.name, NAME_CHARS)} (${m.epochs} epochs): Train goes on from these weights, Reset starts afresh`);
        this.showNumbers();
        this.updateButtons();
        break;
      case "weightsRefused": {
        const d = m.diagnostics[0];
        const message = d ? `${d.code}: ${d.message}${d.hint ? ` (hint: ${d.hint})` : ""}` : `${m.name} does not fit this model`;
        this.refusedWeights = { name: m.name, message };
        setNotice(`Not loaded, the model keeps its weights. ${clip(message, REFUSAL_CHARS)}`, [{ label: "OK", run: () => undefined }]);
        setStatus(`${clip(m.name, NAME_CHARS)} was not loaded: see the notice above the editor`, true);
        break;
      }
      case "weights":
        if (this.weightsWaiter) {
          this.weightsWaiter(m.text);
          this.weightsWaiter = undefined;
          break;
        }
        download(`${(this.info?.name ?? "model").toLowerCase()}.weights.json`, m.text, "application/json");
        break;
    }
  }

  private showFilters(f: Filters): void {
    ui.filtersCard.hidden = false;
    const scale = drawFilters(ui.filters, f);
    this.filterUpdates++;
    const [count, kh, kw, c] = f.shape;
    ui.filtersCaption.textContent =
      `${count} filters of ${kh}×${kw}${c === 1 ? "" : `×${c} (a row per input channel)`} after epoch ${f.epoch}: ` +
      `blue negative, orange positive, ±${Number(scale.toPrecision(3))} at full colour.`;
  }

  private drawPicture(p: Picture): void {
    const names = this.info?.classNames;
    drawPicture(ui.picture, p, names, { showTest: ui.showTest.checked, discretize: ui.discretize.checked });
    this.explain.mark(ui.picture, p);
    if (p.kind === "boundary") {
      ui.pictureCaption.replaceChildren(
        "Decision boundary: ",
        ...Array.from({ length: p.classes }, (_, k) => {
          const s = document.createElement("span");
          s.className = "class-key";
          const dot = document.createElement("span");
          dot.className = "dot";
          dot.style.background = CLASS_COLORS[k % CLASS_COLORS.length]!;
          s.append(dot, `${names?.[k] ?? `class ${k}`} `);
          return s;
        }),
        ui.showTest.checked ? "(hollow: test points)" : "",
      );
    } else if (p.kind === "confusion") {
      ui.pictureCaption.textContent = `Confusion matrix on the ${p.split} split: rows are true classes, columns predictions.`;
    } else {
      ui.pictureCaption.textContent = "Training data (blue) and the model's prediction (orange).";
    }
  }
}
