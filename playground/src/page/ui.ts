/** The page's elements, by id (`index.html`), and the notice bar above the editor. */

export const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;

export const ui = {
  examples: $<HTMLSelectElement>("examples"),
  train: $<HTMLButtonElement>("train"),
  pause: $<HTMLButtonElement>("pause"),
  step: $<HTMLButtonElement>("step"),
  reset: $<HTMLButtonElement>("reset"),
  seed: $<HTMLInputElement>("seed"),
  data: $<HTMLSelectElement>("data"),
  labelField: $("label-field"),
  label: $<HTMLSelectElement>("label"),
  openCsv: $<HTMLButtonElement>("open-csv"),
  csvFile: $<HTMLInputElement>("csv-file"),
  share: $<HTMLButtonElement>("share"),
  downloadTs: $<HTMLButtonElement>("download-ts"),
  downloadWeights: $<HTMLButtonElement>("download-weights"),
  uploadWeights: $<HTMLButtonElement>("upload-weights"),
  weightsFile: $<HTMLInputElement>("weights-file"),
  notice: $("notice"),
  noticeText: $("notice-text"),
  noticeActions: $("notice-actions"),
  editor: $("editor"),
  tabHint: $("tab-hint"),
  problems: $("problems"),
  datasets: $("datasets"),
  knobs: $("knobs"),
  picture: $<HTMLCanvasElement>("picture"),
  pictureCaption: $("picture-caption"),
  showTest: $<HTMLInputElement>("show-test"),
  discretize: $<HTMLInputElement>("discretize"),
  typingCard: $("typing-card"),
  typeText: $<HTMLInputElement>("type-text"),
  typingTokens: $("typing-tokens"),
  typingBars: $("typing-bars"),
  explainCard: $("explain-card"),
  explainHint: $("explain-hint"),
  explainTestField: $("explain-test-field"),
  explainTest: $<HTMLInputElement>("explain-test"),
  explainButton: $<HTMLButtonElement>("explain-button"),
  explainResult: $("explain-result"),
  explainTable: $("explain-table"),
  explainBody: $("explain-body"),
  filtersCard: $("filters-card"),
  filters: $<HTMLCanvasElement>("filters"),
  filtersCaption: $("filters-caption"),
  status: $("status"),
  progress: $("progress-bar"),
  speed: $<HTMLSelectElement>("speed"),
  untilPaused: $<HTMLInputElement>("until-paused"),
  workers: $<HTMLSelectElement>("workers"),
  workersNote: $("workers-note"),
  numbers: $("numbers"),
  summary: $("summary"),
  diagram: $("diagram"),
  diagramStale: $("diagram-stale"),
  logScale: $<HTMLInputElement>("log-scale"),
  chartLoss: $("chart-loss"),
  chartMetric: $("chart-metric"),
  ir: $("ir"),
  dropOverlay: $("drop-overlay"),
};

/** A notice with optional action buttons; `undefined` hides it. */
export function setNotice(text: string | undefined, actions: readonly { label: string; run: () => void }[] = []): void {
  ui.notice.hidden = text === undefined;
  ui.noticeText.textContent = text ?? "";
  ui.noticeActions.replaceChildren(
    ...actions.map((a) => {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = a.label;
      b.onclick = () => {
        setNotice(undefined);
        a.run();
      };
      return b;
    }),
  );
}

export function setStatus(text: string, bad = false): void {
  ui.status.textContent = text;
  ui.status.classList.toggle("bad", bad);
}

/** Saves `text` as a file called `name`. */
export function download(name: string, text: string, type: string): void {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([text], { type }));
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}
