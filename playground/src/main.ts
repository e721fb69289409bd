/**
 * The playground page: wires the editor (`page/editor.ts`), the language worker (diagnostics,
 * generated code, IR, diagram), training (`page/run.ts`), the data choice (`page/data.ts`),
 * autosave and share links (`page/persist.ts`) and the knobs (`knobs/`).
 */
import type { Diagnostic } from "../../grammar/diagnostics.js";
import { DiagramView } from "./diagram/draw.js";
import { EXAMPLES } from "./examples.js";
import { editSource, Knobs } from "./knobs/knobs.js";
import { setGraphInfo } from "./language/graph-names.js";
import { createEditor, monaco } from "./page/editor.js";
import { DataChoice } from "./page/data.js";
import { Persist } from "./page/persist.js";
import { showProblems } from "./page/problems.js";
import { Runner } from "./page/run.js";
import { SearchPanel } from "./page/search.js";
import { $, download, setStatus, ui } from "./page/ui.js";
import { canvasFingerprint } from "./picture.js";
import type { LangRequest, LangResponse } from "./protocol.js";

const initialExample = EXAMPLES.find((e) => e.name === "spiral") ?? EXAMPLES[0]!;
const editor = createEditor(initialExample.source);
const model = editor.getModel()!;
for (const e of EXAMPLES) ui.examples.add(new Option(e.title, e.name, false, e.name === initialExample.name));

function seedValue(): number | undefined {
  const v = ui.seed.value.trim();
  return /^\d+$/.test(v) ? Number(v) : undefined;
}

let lastDiagnostics: readonly Diagnostic[] = [];
const runner: Runner = new Runner({
  source: () => model.getValue(),
  seed: seedValue,
  csv: () => data.choice(),
  problemsChanged: () => showAll(),
  insight: (i) => diagramView.setInsight(i),
});
const data: DataChoice = new DataChoice({
  source: () => model.getValue(),
  edit: (edits) => editSource(editor, edits, "adapt"),
  changed: () => {
    runner.version++;
    runner.clear();
    requestCheck();
  },
  weights: (name, text) => runner.loadWeights(name, text),
});
const persist = new Persist({
  source: () => model.getValue(),
  setSource: (text) => model.setValue(text),
  share: () => {
    const c = data.choice();
    return { data: c ? c.name : "source", seed: seedValue(), ...(c ? { csv: { text: c.text, label: c.label } } : {}) };
  },
  useCsv: (name, text, label) => data.use(name, text, label),
});
const knobs = new Knobs(editor, ui.knobs, ui.datasets);
const search = new SearchPanel({
  source: () => model.getValue(),
  csv: () => data.choice(),
  setSource: (text) => {
    editor.pushUndoStop();
    model.pushEditOperations([], [{ range: model.getFullModelRange(), text }], () => null);
    editor.pushUndoStop();
  },
});
const diagramView = new DiagramView(ui.diagram);

/** The source's problems, then the run's (while the run matches the text) that the source does not have. */
function showAll(): void {
  const run = runner.loadedVersion === runner.version ? runner.diagnostics : [];
  const csv = data.choice();
  showProblems(editor, [...lastDiagnostics, ...run.filter((d) => !lastDiagnostics.some((x) => x.code === d.code && x.message === d.message))], (d) =>
    // A dropped file has no `csv(…)` to add settings to: point at the page's own controls.
    csv && d.file === csv.name && d.hint?.includes("categorical") ? "choose the label column (Label, above) that holds the classes" : d.hint,
  );
}

// ── language worker (started after the first paint) ──────────────────────────
let langWorker: Worker | undefined;
let checkTimer: ReturnType<typeof setTimeout> | undefined;
let checkId = 0;
/** The text of the latest check. */
let checkedSource = "";
let lastCode: { id: number; code: string; formatted: boolean } | undefined;
/** Load the example's data (without training) once it compiles. */
let wantPreview = true;
let downloadWhenFormatted = false;
/** The `data { … }` block of the text the preview shows. */
let previewData: string | undefined;
const dataBlock = (source: string): string | undefined => /^[ \t]*data[ \t]*\{[^}]*\}/m.exec(source)?.[0];

function startLangWorker(): void {
  langWorker = new Worker(new URL("./check.worker.ts", import.meta.url), { type: "module" });
  langWorker.onmessage = (e: MessageEvent<LangResponse>) => onLang(e.data);
  langWorker.onerror = (e) => console.warn("language worker:", e.message);
  requestCheck();
}

function requestCheck(): void {
  if (!langWorker) return;
  checkedSource = model.getValue();
  langWorker.postMessage({ type: "check", id: ++checkId, source: checkedSource, csv: data.choice() !== undefined } satisfies LangRequest);
}

function onLang(m: LangResponse): void {
  if (m.id !== checkId) return; // a newer check is on its way
  if (m.type === "formatted") {
    if (lastCode && lastCode.id === m.id) {
      lastCode = { id: m.id, code: m.code, formatted: true };
      if (tsEditor && tsEditor.getValue() !== m.code) tsEditor.setValue(m.code);
      if (downloadWhenFormatted) downloadTs();
    }
    return;
  }
  lastDiagnostics = m.diagnostics;
  showAll();
  ui.downloadTs.disabled = m.code === undefined;
  // Weights are checked against the compiled model: only a text that compiles can take them.
  ui.uploadWeights.disabled = m.code === undefined;
  if (m.code !== undefined) {
    lastCode = { id: m.id, code: m.code, formatted: false };
    ui.ir.textContent = m.ir ?? "";
    if (tsEditor) {
      tsEditor.setValue(m.code);
      requestFormat();
    }
  }
  // The diagram shows the last network that compiled, and says so while the text has errors.
  ui.diagramStale.hidden = m.diagram !== undefined;
  ui.diagram.classList.toggle("stale", m.diagram === undefined);
  if (m.diagram) {
    diagramView.show(m.diagram);
    setGraphInfo(checkedSource, m.diagram);
  }
  const current = model.getValue() === checkedSource;
  // A failed load's red status outlives no fix: once the text compiles, show its data again.
  if (current && m.code !== undefined && runner.failed && !runner.current) {
    runner.clear();
    wantPreview = true;
  }
  if (!runner.ready && !runner.running && m.code !== undefined) describeData(m.dataKind);
  // Show the data and the untrained model's boundary as soon as an example compiles, and
  // again when the data changes before training (a thumbnail, the noise knob).
  const data = dataBlock(checkedSource);
  // (Never over a load that is current: Train may be waiting for it.)
  const idle = !runner.current && !runner.running && runner.history.length === 0;
  if (current && idle && runner.hasWorker && data !== previewData) wantPreview = true;
  if (wantPreview && current && idle && m.code !== undefined && m.dataKind !== undefined && m.dataKind !== "idx") {
    previewData = data;
    runner.load(undefined);
  }
  if (current) wantPreview = false;
}

function requestFormat(): void {
  if (langWorker && lastCode && !lastCode.formatted) langWorker.postMessage({ type: "format", id: lastCode.id } satisfies LangRequest);
}

model.onDidChangeContent(() => {
  runner.version++;
  if (runner.ready && !runner.running && runner.history.length > 0) setStatus(`${runner.done ? "done" : "paused"}: the source changed, so Train starts again with it`);
  if (checkTimer !== undefined) clearTimeout(checkTimer);
  checkTimer = setTimeout(requestCheck, 100);
  persist.edited();
  knobs.update();
});

function describeData(kind: string | undefined): void {
  const csv = data.choice();
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
    for (const name of ["run", "ts", "ir", "search"]) $(`tab-${name}`).hidden = name !== tab.dataset["tab"];
    if (tab.dataset["tab"] === "ts") void showTs();
    if (tab.dataset["tab"] === "run") runner.charts.resize();
  };
}

// ── controls ──────────────────────────────────────────────────────────────────
ui.train.onclick = () => runner.train();
ui.step.onclick = () => runner.step();
ui.reset.onclick = () => runner.reset();
editor.addCommand(monaco.KeyMod.CtrlCmd | monaco.KeyCode.Enter, () => ui.train.click());
ui.examples.onchange = () => {
  const e = EXAMPLES.find((x) => x.name === ui.examples.value);
  if (!e) return;
  model.setValue(e.source);
  data.useSource();
  runner.clear();
  wantPreview = true;
};
ui.seed.onchange = () => {
  runner.version++;
  persist.edited();
};

function downloadTs(): void {
  downloadWhenFormatted = false;
  if (!lastCode) return;
  const name = (runner.info?.name ?? /model\s+([A-Za-z_]\w*)/.exec(model.getValue())?.[1] ?? "model").toLowerCase();
  download(`${name}.ts`, lastCode.code, "text/typescript");
}
ui.downloadTs.onclick = () => {
  if (lastCode?.formatted) return downloadTs();
  downloadWhenFormatted = true;
  requestFormat();
};

// ── start ─────────────────────────────────────────────────────────────────────
void persist.restore().then((from) => {
  if (from !== undefined) {
    const example = EXAMPLES.find((e) => e.source === model.getValue());
    if (!example) ui.examples.add(new Option(from === "shared" ? "Shared source" : "Your last edits", "", true, true), 0);
    ui.examples.value = example?.name ?? "";
  }
  describeData(from === undefined ? initialExample.dataKind : undefined);
  // The language worker starts after the first paint.
  requestAnimationFrame(() => setTimeout(startLangWorker, 0));
});
window.addEventListener("resize", () => runner.charts.resize());
// Offline once opened: a service worker keeps the built site (not in `npm run playground`).
// It also adds the cross-origin isolation headers (for SharedArrayBuffer) to what it serves, so
// a static server without them gets an isolated page from the second load on: the page reloads
// once when the worker first takes control of a page that is not isolated.
if (import.meta.env.PROD && "serviceWorker" in navigator) {
  window.addEventListener("load", () => {
    const controlled = navigator.serviceWorker.controller !== null;
    navigator.serviceWorker.addEventListener("controllerchange", () => {
      if (!controlled && !crossOriginIsolated && !sessionStorage.getItem("nnc-isolation-reload")) {
        sessionStorage.setItem("nnc-isolation-reload", "1");
        location.reload();
      }
    });
    void navigator.serviceWorker.register("./sw.js").catch((e: unknown) => console.warn("offline cache:", e));
  });
}

/** For the browser tests: read-only views of the page's state. */
(window as unknown as { __nnc: unknown }).__nnc = {
  monaco,
  editor,
  markers: () => monaco.editor.getModelMarkers({ resource: model.uri }),
  history: () => runner.history.map((h) => ({ epoch: h.epoch, values: { ...h.values } })),
  test: () => runner.testValues,
  state: () => ({
    running: runner.running,
    ready: runner.ready,
    done: runner.done,
    checks: checkId,
    pictures: runner.pictureUpdates,
    formatted: lastCode?.formatted ?? false,
  }),
  fingerprint: () => canvasFingerprint(ui.picture),
  filters: () => (ui.filtersCard.hidden ? undefined : { fingerprint: canvasFingerprint(ui.filters), updates: runner.filterUpdates }),
  tsCode: () => tsEditor?.getValue(),
  attribution: () => (runner.explain.last ? { ...runner.explain.last, updates: runner.explain.updates } : undefined),
  /** The image strip and the picked image as explained (page/images.ts). */
  images: () => runner.images.forTests(),
  insight: () => ({ ...diagramView.painted, millis: [...runner.insightMillis] }),
  /** The run's weights file (`nnc-weights` JSON), as ⬇ weights saves it. */
  weightsText: () => runner.weightsText(),
  weightsHash: () => runner.weightsHash(),
  /** The weights file the model holds (⬆ weights), and the last one refused with its message. */
  loadedWeights: () => runner.loadedWeights,
  refusedWeights: () => runner.refusedWeights,
  typed: () => (runner.typing.last ? { ...runner.typing.last, updates: runner.typing.updates } : undefined),
  workers: () => ({ isolated: crossOriginIsolated, training: runner.info?.workers, shards: runner.info?.shards }),
  lossScale: () => runner.charts.lossScale(),
  search: () => search.state(),
};
