/**
 * The playground page: a Monaco editor for `.nn`, live diagnostics from the language worker,
 * training in the training worker, charts, the decision boundary, the network diagram, the
 * generated code, CSV drop and share links.
 */
import * as monaco from "monaco-editor/editor";
import "./monaco-features.js";
import EditorWorker from "monaco-editor/editor/editor.worker?worker";
import type { Diagnostic } from "../../grammar/diagnostics.js";
import { Charts } from "./charts.js";
import { DiagramView } from "./diagram/draw.js";
import { EXAMPLES, exampleFiles } from "./examples.js";
import { drawFilters } from "./filters.js";
import { setGraphInfo } from "./language/graph-names.js";
import { LANGUAGE_ID, registerNn } from "./nn-language.js";
import { canvasFingerprint, CLASS_COLORS, drawPicture } from "./picture.js";
import type { CsvChoice, Filters, LangRequest, LangResponse, ModelInfo, Picture, TrainRequest, TrainResponse } from "./protocol.js";
import { decodeShare, encodeShare } from "./share.js";

(self as unknown as { MonacoEnvironment: monaco.Environment }).MonacoEnvironment = { getWorker: () => new EditorWorker() };

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;
const ui = {
  examples: $<HTMLSelectElement>("examples"),
  train: $<HTMLButtonElement>("train"),
  pause: $<HTMLButtonElement>("pause"),
  step: $<HTMLButtonElement>("step"),
  reset: $<HTMLButtonElement>("reset"),
  seed: $<HTMLInputElement>("seed"),
  data: $<HTMLSelectElement>("data"),
  labelField: $("label-field"),
  label: $<HTMLSelectElement>("label"),
  share: $<HTMLButtonElement>("share"),
  downloadTs: $<HTMLButtonElement>("download-ts"),
  downloadWeights: $<HTMLButtonElement>("download-weights"),
  csvFile: $<HTMLInputElement>("csv-file"),
  notice: $("notice"),
  problems: $("problems"),
  picture: $<HTMLCanvasElement>("picture"),
  pictureCaption: $("picture-caption"),
  filtersCard: $("filters-card"),
  filters: $<HTMLCanvasElement>("filters"),
  filtersCaption: $("filters-caption"),
  status: $("status"),
  progress: $("progress-bar"),
  numbers: $("numbers"),
  summary: $("summary"),
  diagram: $("diagram"),
  ir: $("ir"),
  dropOverlay: $("drop-overlay"),
};

// ── editor ────────────────────────────────────────────────────────────────────
registerNn(monaco);
monaco.editor.defineTheme("nnc", {
  base: "vs",
  inherit: true,
  rules: [
    { token: "keyword", foreground: "1d4ed8", fontStyle: "bold" },
    { token: "keyword.setting", foreground: "0f766e" },
    { token: "type", foreground: "7c3aed", fontStyle: "bold" },
    { token: "predefined", foreground: "b45309" },
    { token: "constant", foreground: "be185d" },
    { token: "number", foreground: "047857" },
    { token: "string", foreground: "b91c1c" },
    { token: "comment", foreground: "64748b", fontStyle: "italic" },
    { token: "invalid", foreground: "dc2626", fontStyle: "underline" },
    { token: "identifier", foreground: "0f172a" },
  ],
  colors: { "editor.lineHighlightBackground": "#f1f5f9" },
});
const initialExample = EXAMPLES.find((e) => e.name === "spiral") ?? EXAMPLES[0]!;
const editor = monaco.editor.create($("editor"), {
  value: initialExample.source,
  language: LANGUAGE_ID,
  theme: "nnc",
  automaticLayout: true,
  minimap: { enabled: false },
  fontSize: 13.5,
  lineNumbersMinChars: 3,
  scrollBeyondLastLine: false,
  renderLineHighlight: "gutter",
  padding: { top: 8 },
  tabSize: 2,
  fixedOverflowWidgets: true,
});
const model = editor.getModel()!;

for (const e of EXAMPLES) ui.examples.add(new Option(e.title, e.name, false, e.name === initialExample.name));

// ── state ─────────────────────────────────────────────────────────────────────
interface Csv {
  readonly name: string;
  readonly text: string;
  readonly columns: readonly string[];
}
let csv: Csv | undefined;
/** Incremented on every change that a loaded training run no longer reflects. */
let version = 0;
let loadedVersion = -1;
let running = false;
let ready = false;
let done = false;
let info: ModelInfo | undefined;
const history: { epoch: number; values: Readonly<Record<string, number>> }[] = [];
let testValues: Readonly<Record<string, number>> | undefined;
let lastCode: { id: number; code: string; formatted: boolean } | undefined;
let lastDiagnostics: readonly Diagnostic[] = [];
let runDiagnostics: readonly Diagnostic[] = [];
let checkId = 0;
let startedAt = 0;
/** Load the example's data (without training) once it compiles. */
let wantPreview = true;
let downloadWhenFormatted = false;
let pictureUpdates = 0;
let filterUpdates = 0;
const charts = new Charts($("chart-loss"), $("chart-metric"));
const diagramView = new DiagramView(ui.diagram);

function setNotice(text: string | undefined): void {
  ui.notice.hidden = text === undefined;
  ui.notice.textContent = text ?? "";
}

// ── diagnostics ───────────────────────────────────────────────────────────────
const SEVERITY = { error: monaco.MarkerSeverity.Error, warning: monaco.MarkerSeverity.Warning, info: monaco.MarkerSeverity.Info };

function toMarker(d: Diagnostic): monaco.editor.IMarkerData {
  const s = d.span;
  const wide = s.endLine > s.line || s.endColumn > s.column;
  return {
    severity: SEVERITY[d.severity],
    code: d.code,
    source: "nnc",
    message: d.hint === undefined ? d.message : `${d.message}\nhint: ${d.hint}`,
    startLineNumber: s.line,
    startColumn: s.column,
    endLineNumber: wide ? s.endLine : s.line,
    endColumn: wide ? s.endColumn : s.column + 1,
    relatedInformation: (d.related ?? []).map((r) => ({
      resource: model.uri,
      message: r.message,
      startLineNumber: r.span.line,
      startColumn: r.span.column,
      endLineNumber: r.span.endLine,
      endColumn: Math.max(r.span.endColumn, r.span.column + 1),
    })),
  };
}

function showProblems(): void {
  const inSource = lastDiagnostics;
  // Problems of a run (data files carry a `file`: listed, not marked) while the run matches the text.
  const run = loadedVersion === version ? runDiagnostics : [];
  const all = [...inSource, ...run.filter((d) => !inSource.some((x) => x.code === d.code && x.message === d.message))];
  monaco.editor.setModelMarkers(model, "nnc", all.filter((d) => d.file === undefined).map(toMarker));
  ui.problems.replaceChildren(
    ...all.map((d) => {
      const row = document.createElement("div");
      row.className = "problem";
      row.dataset["code"] = d.code;
      row.dataset["line"] = String(d.span.line);
      const where = `${d.file ?? ""}${d.file ? ":" : ""}${d.span.line}:${d.span.column}`;
      const sev = document.createElement("span");
      sev.className = `sev-${d.severity}`;
      sev.textContent = `${d.severity} ${d.code}`;
      row.append(`${where} `, sev, `: ${d.message}`);
      if (d.hint !== undefined) {
        const h = document.createElement("div");
        h.className = "hint";
        h.textContent = `hint: ${d.hint}`;
        row.append(h);
      }
      if (d.file === undefined) {
        row.onclick = () => {
          editor.setPosition({ lineNumber: d.span.line, column: d.span.column });
          editor.revealLineInCenter(d.span.line);
          editor.focus();
        };
      }
      return row;
    }),
  );
}

// ── language worker (started after the first paint) ──────────────────────────
let langWorker: Worker | undefined;
let checkTimer: ReturnType<typeof setTimeout> | undefined;
/** The text of the latest check. */
let checkedSource = "";

function startLangWorker(): void {
  langWorker = new Worker(new URL("./check.worker.ts", import.meta.url), { type: "module" });
  langWorker.onmessage = (e: MessageEvent<LangResponse>) => onLang(e.data);
  langWorker.onerror = (e) => console.warn("language worker:", e.message);
  requestCheck();
}

function requestCheck(): void {
  if (!langWorker) return;
  checkedSource = model.getValue();
  const m: LangRequest = { type: "check", id: ++checkId, source: checkedSource };
  langWorker.postMessage(m);
}

function onLang(m: LangResponse): void {
  if (m.id !== checkId) return; // a newer check is on its way
  if (m.type === "checked") {
    lastDiagnostics = m.diagnostics;
    showProblems();
    ui.downloadTs.disabled = m.code === undefined;
    if (m.code !== undefined) {
      lastCode = { id: m.id, code: m.code, formatted: false };
      ui.ir.textContent = m.ir ?? "";
      if (tsEditor) {
        tsEditor.setValue(m.code);
        requestFormat();
      }
    }
    if (m.diagram) {
      diagramView.show(m.diagram);
      setGraphInfo(checkedSource, m.diagram);
    }
    if (!ready && !running && m.code !== undefined) describeData(m.dataKind);
    // Show the data and the untrained model's boundary as soon as an example compiles.
    const current = model.getValue() === checkedSource;
    if (wantPreview && current && m.code !== undefined && !trainWorker && m.dataKind !== undefined && m.dataKind !== "idx") load(undefined);
    if (current) wantPreview = false;
  } else {
    if (lastCode && lastCode.id === m.id) {
      lastCode = { id: m.id, code: m.code, formatted: true };
      if (tsEditor && tsEditor.getValue() !== m.code) tsEditor.setValue(m.code);
      if (downloadWhenFormatted) downloadTs();
    }
  }
}

function requestFormat(): void {
  if (langWorker && lastCode && !lastCode.formatted) langWorker.postMessage({ type: "format", id: lastCode.id } satisfies LangRequest);
}

model.onDidChangeContent(() => {
  version++;
  if (ready && !running && history.length > 0) setStatus(`${done ? "done" : "paused"}: the source changed, so Train starts again with it`);
  if (checkTimer !== undefined) clearTimeout(checkTimer);
  checkTimer = setTimeout(requestCheck, 100);
});

function describeData(kind: string | undefined): void {
  if (csv) ui.pictureCaption.textContent = `Data: ${csv.name}. Press Train.`;
  else if (kind === undefined) ui.pictureCaption.textContent = "Add a `data { train … }` block, or drop a CSV file.";
  else if (kind === "idx") ui.pictureCaption.textContent = "IDX files cannot be read in the browser: drop a CSV file instead.";
  else ui.pictureCaption.textContent = `Data: ${kind}. Press Train to watch the model learn.`;
}

// ── generated TypeScript panel (Monaco's TypeScript colouring, loaded on demand) ─
let tsEditor: monaco.editor.IStandaloneCodeEditor | undefined;
async function showTs(): Promise<void> {
  if (!tsEditor) {
    await import("monaco-editor/languages/definitions/typescript/register");
    tsEditor = monaco.editor.create($("ts-editor"), {
      value: lastCode?.code ?? "// fix the problems in the source to see the generated code",
      language: "typescript",
      readOnly: true,
      automaticLayout: true,
      minimap: { enabled: false },
      fontSize: 12.5,
      scrollBeyondLastLine: false,
    });
  }
  requestFormat();
}

for (const tab of document.querySelectorAll<HTMLButtonElement>(".tabs button")) {
  tab.onclick = () => {
    for (const t of document.querySelectorAll<HTMLButtonElement>(".tabs button")) t.setAttribute("aria-selected", String(t === tab));
    for (const name of ["run", "ts", "ir"]) $(`tab-${name}`).hidden = name !== tab.dataset["tab"];
    if (tab.dataset["tab"] === "ts") void showTs();
    if (tab.dataset["tab"] === "run") charts.resize();
  };
}

// ── training worker ───────────────────────────────────────────────────────────
let trainWorker: Worker | undefined;
let afterReady: "run" | "step" | undefined;

function seedValue(): number | undefined {
  const v = ui.seed.value.trim();
  return /^\d+$/.test(v) ? Number(v) : undefined;
}

function csvChoice(): CsvChoice | undefined {
  if (!csv || ui.data.value === "source") return undefined;
  return { name: csv.name, text: csv.text, label: ui.label.value };
}

function clearRun(): void {
  trainWorker?.terminate();
  trainWorker = undefined;
  ready = running = done = false;
  info = undefined;
  history.length = 0;
  testValues = undefined;
  runDiagnostics = [];
  charts.reset();
  ui.progress.style.width = "0";
  ui.numbers.replaceChildren();
  ui.summary.replaceChildren();
  const g = ui.picture.getContext("2d")!;
  g.clearRect(0, 0, ui.picture.width, ui.picture.height);
  ui.filtersCard.hidden = true;
  filterUpdates = 0;
  showProblems();
  setStatus("idle");
  updateButtons();
}

function load(then: "run" | "step" | undefined): void {
  clearRun();
  loadedVersion = version;
  afterReady = then;
  trainWorker = new Worker(new URL("./train.worker.ts", import.meta.url), { type: "module" });
  trainWorker.onmessage = (e: MessageEvent<TrainResponse>) => onTrain(e.data);
  trainWorker.onerror = (e) => {
    setStatus(`the training worker failed: ${e.message}`, true);
    console.warn("training worker:", e.message);
  };
  const worker = trainWorker;
  const request = { source: model.getValue(), seed: seedValue(), csv: csvChoice() };
  setStatus("compiling…");
  void exampleFiles().then((files) => {
    // A newer load (or a reset) replaced this worker meanwhile.
    if (trainWorker === worker) worker.postMessage({ type: "load", ...request, files } satisfies TrainRequest);
  });
}

function send(m: TrainRequest): void {
  trainWorker?.postMessage(m);
}

function setStatus(text: string, bad = false): void {
  ui.status.textContent = text;
  ui.status.classList.toggle("bad", bad);
}

function updateButtons(): void {
  ui.train.disabled = running;
  ui.pause.disabled = !running;
  ui.step.disabled = running;
  ui.downloadWeights.disabled = !ready;
}

const fmt = (x: number): string => (Math.abs(x) >= 1000 || x === 0 ? x.toFixed(0) : Number(x.toPrecision(4)).toString());

function showNumbers(): void {
  const rows: [string, string][] = [];
  const last = history[history.length - 1];
  if (info) {
    const b = (t: string): HTMLElement => Object.assign(document.createElement("b"), { textContent: t });
    ui.summary.replaceChildren(
      b(info.name), ` · ${info.paramCount.toLocaleString("en")} parameters · `,
      b(String(info.trainSamples)), " train / ", b(String(info.validationSamples)), " validation / ", b(String(info.testSamples)), " test samples",
    );
    rows.push(["epoch", `${last?.epoch ?? 0} / ${info.epochs}`]);
  } else ui.summary.replaceChildren();
  if (last) for (const [k, v] of Object.entries(last.values)) rows.push([k, fmt(v)]);
  if (testValues) for (const [k, v] of Object.entries(testValues)) rows.push([`test ${k}`, fmt(v)]);
  if (startedAt > 0 && history.length > 0) rows.push(["time", `${((performance.now() - startedAt) / 1000).toFixed(1)} s`]);
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

function onTrain(m: TrainResponse): void {
  switch (m.type) {
    case "ready":
      ready = true;
      info = m.info;
      runDiagnostics = m.diagnostics;
      showProblems();
      setStatus("ready");
      showNumbers();
      if (afterReady) send({ type: afterReady });
      if (afterReady === "run") startedAt = performance.now();
      afterReady = undefined;
      updateButtons();
      break;
    case "failed":
      runDiagnostics = m.diagnostics;
      showProblems();
      setStatus(m.diagnostics.length > 0 ? `${m.message}: see the problems below the editor` : m.message, true);
      trainWorker?.terminate();
      trainWorker = undefined;
      ready = running = false;
      updateButtons();
      break;
    case "progress":
      if (info) ui.progress.style.width = `${(100 * ((m.epoch - 1) * m.batches + m.batch)) / (info.epochs * m.batches)}%`;
      break;
    case "epoch":
      history.push({ epoch: m.epoch, values: m.values });
      charts.add(m.epoch, m.values);
      if (info) ui.progress.style.width = `${(100 * m.epoch) / info.epochs}%`;
      showNumbers();
      break;
    case "picture":
      showPicture(m.picture);
      break;
    case "state":
      running = m.running;
      done = m.done;
      if (m.done) setStatus(`done: ${m.reason ?? "finished"}`, m.reason !== undefined && m.reason.startsWith("training diverged"));
      else setStatus(m.running ? "training…" : m.epoch > 0 ? `paused after epoch ${m.epoch}` : "ready");
      updateButtons();
      showNumbers();
      break;
    case "test":
      testValues = m.values;
      showNumbers();
      break;
    case "filters":
      showFilters(m.filters);
      break;
    case "weights":
      download(`${info?.name ?? "model"}.weights.json`, m.text, "application/json");
      break;
  }
}

function showFilters(f: Filters): void {
  ui.filtersCard.hidden = false;
  const scale = drawFilters(ui.filters, f);
  filterUpdates++;
  const [count, kh, kw, c] = f.shape;
  ui.filtersCaption.textContent =
    `${count} filters of ${kh}×${kw}${c === 1 ? "" : `×${c} (a row per input channel)`} after epoch ${f.epoch}: ` +
    `blue negative, orange positive, ±${Number(scale.toPrecision(3))} at full colour.`;
}

function showPicture(p: Picture): void {
  drawPicture(ui.picture, p, info?.classNames);
  pictureUpdates++;
  if (p.kind === "boundary") {
    const names = Array.from({ length: p.classes }, (_, k) => k);
    ui.pictureCaption.replaceChildren(
      "Decision boundary: ",
      ...names.map((k) => {
        const s = document.createElement("span");
        s.style.color = CLASS_COLORS[k % CLASS_COLORS.length]!;
        s.textContent = `● ${info?.classNames?.[k] ?? `class ${k}`} `;
        return s;
      }),
      "(hollow: test points)",
    );
  } else if (p.kind === "confusion") {
    ui.pictureCaption.textContent = `Confusion matrix on the ${p.split} split: rows are true classes, columns predictions.`;
  } else {
    ui.pictureCaption.textContent = "Training data (blue) and the model's prediction (orange).";
  }
}

ui.train.onclick = () => {
  if (!trainWorker || loadedVersion !== version || done) load("run");
  else if (ready) {
    if (startedAt === 0 || history.length === 0) startedAt = performance.now();
    send({ type: "run" });
  } else afterReady = "run";
};
ui.pause.onclick = () => send({ type: "pause" });
ui.step.onclick = () => {
  if (!trainWorker || loadedVersion !== version || done) load("step");
  else if (ready) send({ type: "step" });
  else afterReady = "step";
};
ui.reset.onclick = () => {
  startedAt = 0;
  load(undefined);
};
editor.addCommand(monaco.KeyMod.CtrlCmd | monaco.KeyCode.Enter, () => ui.train.click());

// ── examples, seed, data ──────────────────────────────────────────────────────
ui.examples.onchange = () => {
  const e = EXAMPLES.find((x) => x.name === ui.examples.value);
  if (!e) return;
  model.setValue(e.source);
  ui.data.value = "source";
  updateLabelField();
  clearRun();
  wantPreview = true;
};
ui.seed.onchange = () => version++;
ui.data.onchange = () => {
  version++;
  updateLabelField();
  clearRun();
  requestCheck();
};
ui.label.onchange = () => version++;

function updateLabelField(): void {
  ui.labelField.hidden = !csv || ui.data.value === "source";
}

function splitHeader(text: string): string[] {
  const head = text.slice(0, (text.indexOf("\n") + 1 || text.length + 1) - 1).replace(/\r$/, "");
  const delimiter = [",", ";", "\t"].sort((a, b) => head.split(b).length - head.split(a).length)[0]!;
  return head.split(delimiter).map((c) => c.trim().replace(/^"(.*)"$/, "$1"));
}

function useCsv(name: string, text: string, label?: string): void {
  const columns = splitHeader(text);
  csv = { name, text, columns };
  for (const o of [...ui.data.options]) if (o.value !== "source") o.remove();
  ui.data.add(new Option(name, "csv"));
  ui.data.value = "csv";
  ui.label.replaceChildren(...columns.map((c) => new Option(c, c)));
  ui.label.value = label !== undefined && columns.includes(label) ? label : columns[columns.length - 1] ?? "";
  updateLabelField();
  version++;
  clearRun();
  setNotice(undefined);
  ui.pictureCaption.textContent = `Data: ${name} (${columns.length} columns). Pick the label column and press Train.`;
}

async function readCsvFile(f: File): Promise<void> {
  useCsv(f.name, await f.text());
}

ui.csvFile.onchange = () => {
  const f = ui.csvFile.files?.[0];
  if (f) void readCsvFile(f);
  ui.csvFile.value = "";
};
let dragDepth = 0;
window.addEventListener("dragenter", (e) => {
  if (!e.dataTransfer?.types.includes("Files")) return;
  dragDepth++;
  ui.dropOverlay.hidden = false;
});
window.addEventListener("dragleave", () => {
  dragDepth = Math.max(0, dragDepth - 1);
  if (dragDepth === 0) ui.dropOverlay.hidden = true;
});
window.addEventListener("dragover", (e) => {
  if (e.dataTransfer?.types.includes("Files")) e.preventDefault();
});
window.addEventListener(
  "drop",
  (e) => {
    dragDepth = 0;
    ui.dropOverlay.hidden = true;
    const f = e.dataTransfer?.files[0];
    if (!f) return;
    e.preventDefault();
    e.stopPropagation();
    void readCsvFile(f);
  },
  true,
);

// ── share and downloads ───────────────────────────────────────────────────────
ui.share.onclick = async () => {
  const c = csvChoice();
  const hash = await encodeShare({
    source: model.getValue(),
    data: c ? c.name : "source",
    seed: seedValue(),
    ...(c ? { csv: { text: c.text, label: c.label } } : {}),
  });
  window.history.replaceState(null, "", hash);
  const url = location.href;
  try {
    await navigator.clipboard.writeText(url);
    setNotice("Link copied: it restores this source, data choice and seed.");
  } catch {
    setNotice(`Share this link: ${url}`);
  }
  ui.share.dataset["url"] = url;
};

function download(name: string, text: string, type: string): void {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([text], { type }));
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

function downloadTs(): void {
  downloadWhenFormatted = false;
  if (!lastCode) return;
  const name = (info?.name ?? /model\s+([A-Za-z_]\w*)/.exec(model.getValue())?.[1] ?? "model").toLowerCase();
  download(`${name}.ts`, lastCode.code, "text/typescript");
}
ui.downloadTs.onclick = () => {
  if (lastCode?.formatted) return downloadTs();
  downloadWhenFormatted = true;
  requestFormat();
};
ui.downloadWeights.onclick = () => send({ type: "weights" });

// ── start ─────────────────────────────────────────────────────────────────────
async function restoreShare(): Promise<void> {
  if (!location.hash) return;
  const s = await decodeShare(location.hash);
  if (!s) {
    setNotice("This link could not be read; showing an example instead.");
    return;
  }
  model.setValue(s.source);
  const example = EXAMPLES.find((e) => e.source === s.source);
  if (!example) ui.examples.add(new Option("Shared source", "", true, true), 0);
  ui.examples.value = example?.name ?? "";
  if (s.seed !== undefined) ui.seed.value = String(s.seed);
  if (s.data !== "source") {
    if (s.csv) useCsv(s.data, s.csv.text, s.csv.label);
    else setNotice(`This link trained on ${s.data}: drop that file on the page to train on it again.`);
  }
}

updateButtons();
describeData(initialExample.dataKind);
void restoreShare().finally(() => {
  // The language worker starts after the first paint.
  requestAnimationFrame(() => setTimeout(startLangWorker, 0));
});
window.addEventListener("resize", () => charts.resize());
// Offline once opened: a service worker keeps the built site (not in `npm run playground`).
if (import.meta.env.PROD && "serviceWorker" in navigator) {
  window.addEventListener("load", () => void navigator.serviceWorker.register("./sw.js").catch((e: unknown) => console.warn("offline cache:", e)));
}

/** For the browser tests: read-only views of the page's state. */
(window as unknown as { __nnc: unknown }).__nnc = {
  monaco,
  editor,
  markers: () => monaco.editor.getModelMarkers({ resource: model.uri }),
  history: () => history.map((h) => ({ epoch: h.epoch, values: { ...h.values } })),
  test: () => testValues,
  state: () => ({ running, ready, done, checks: checkId, pictures: pictureUpdates, formatted: lastCode?.formatted ?? false }),
  fingerprint: () => canvasFingerprint(ui.picture),
  filters: () => (ui.filtersCard.hidden ? undefined : { fingerprint: canvasFingerprint(ui.filters), updates: filterUpdates }),
  tsCode: () => tsEditor?.getValue(),
};
