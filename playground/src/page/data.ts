/**
 * The data choice: the file's own `data` block, or a CSV file dropped on the page (or opened).
 * A dropped file gets a label column guessed (its one text column, else the last), and when
 * the model's `input` or output units do not fit the file, an offer to adapt them.
 */
import { csvColumns, csvShape, guessLabel, isWeightsFile, type CsvColumn } from "../csv-columns.js";
import type { CsvChoice } from "../protocol.js";
import { adaptShape, readShape, type Edit } from "../knobs/source-edits.js";
import { setNotice, ui } from "./ui.js";

interface Csv {
  readonly name: string;
  readonly text: string;
  readonly columns: readonly CsvColumn[];
}

export interface DataHooks {
  source(): string;
  /** Applies edits to the source (one undoable step). */
  edit(edits: readonly Edit[]): void;
  /** The data choice changed: what was loaded no longer holds. */
  changed(): void;
  /** A weights file was dropped (a `.json` file, or text that starts with `{`). */
  weights(name: string, text: string): void;
}


export class DataChoice {
  private csv: Csv | undefined;

  constructor(private readonly hooks: DataHooks) {
    ui.data.onchange = () => {
      this.updateLabelField();
      this.hooks.changed();
      this.offerAdapt();
    };
    ui.label.onchange = () => {
      this.hooks.changed();
      this.offerAdapt();
    };
    ui.openCsv.onclick = () => ui.csvFile.click();
    ui.csvFile.onchange = () => {
      const f = ui.csvFile.files?.[0];
      if (f) void f.text().then((t) => this.use(f.name, t));
      ui.csvFile.value = "";
    };
    this.listenForDrops();
  }

  /** The dropped file, when it is the data choice. */
  choice(): CsvChoice | undefined {
    if (!this.csv || ui.data.value === "source") return undefined;
    return { name: this.csv.name, text: this.csv.text, label: ui.label.value };
  }

  /** Back to the file's own data (a new example). */
  useSource(): void {
    ui.data.value = "source";
    this.updateLabelField();
  }

  use(name: string, text: string, label?: string): void {
    const { columns } = csvColumns(text);
    this.csv = { name, text, columns };
    for (const o of [...ui.data.options]) if (o.value !== "source") o.remove();
    ui.data.add(new Option(name, "csv"));
    ui.data.value = "csv";
    ui.label.replaceChildren(...columns.map((c) => new Option(c.name, c.name)));
    ui.label.value = label !== undefined && columns.some((c) => c.name === label) ? label : guessLabel(columns);
    this.updateLabelField();
    this.hooks.changed();
    setNotice(undefined);
    ui.pictureCaption.textContent = `Data: ${name} (${columns.length} columns, label \`${ui.label.value}\`). Press Train.`;
    this.offerAdapt();
  }

  /** Offers to set the model's input width and output units to the file's, when they differ. */
  private offerAdapt(): void {
    const c = this.choice();
    if (!c || !this.csv) return;
    const { features, classes } = csvShape(this.csv.columns, c.label);
    const model = readShape(this.hooks.source());
    // One sigmoid unit holds two classes.
    const units = classes === undefined || (classes === 2 && model.activation === "sigmoid") ? undefined : classes;
    const inputOff = model.input !== undefined && model.input !== features;
    const unitsOff = units !== undefined && model.units !== undefined && model.units !== units;
    if (!inputOff && !unitsOff) return;
    const wants = [inputOff ? `input ${features}` : "", unitsOff ? `${units} output units` : ""].filter(Boolean).join(" and ");
    setNotice(`${c.name} has ${features} feature${features === 1 ? "" : "s"}${classes === undefined ? "" : ` and ${classes} classes`} (label \`${c.label}\`): the model needs ${wants}.`, [
      { label: "Adapt the model", run: () => this.hooks.edit(adaptShape(this.hooks.source(), features, unitsOff ? units : undefined)) },
    ]);
  }

  private updateLabelField(): void {
    ui.labelField.hidden = !this.csv || ui.data.value === "source";
  }

  private listenForDrops(): void {
    let depth = 0;
    window.addEventListener("dragenter", (e) => {
      if (!e.dataTransfer?.types.includes("Files")) return;
      depth++;
      ui.dropOverlay.hidden = false;
    });
    window.addEventListener("dragleave", () => {
      depth = Math.max(0, depth - 1);
      if (depth === 0) ui.dropOverlay.hidden = true;
    });
    window.addEventListener("dragover", (e) => {
      if (e.dataTransfer?.types.includes("Files")) e.preventDefault();
    });
    window.addEventListener(
      "drop",
      (e) => {
        depth = 0;
        ui.dropOverlay.hidden = true;
        const f = e.dataTransfer?.files[0];
        if (!f) return;
        e.preventDefault();
        e.stopPropagation();
        void f.text().then((t) => (isWeightsFile(f.name, t) ? this.hooks.weights(f.name, t) : this.use(f.name, t)));
      },
      true,
    );
  }
}
