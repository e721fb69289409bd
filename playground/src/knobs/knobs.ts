/**
 * The TensorFlow Playground's knobs over the text: learning rate, activation, regularization
 * (weight decay), noise, batch size and the test share, and a thumbnail per data set. Each
 * writes one small edit into the editor (so undo works) and follows the text as it changes.
 */
import type { editor as Editor } from "monaco-editor/editor";
import { GENERATORS } from "../../../runtime/generators.js";
import { CLASS_COLORS } from "../picture.js";
import { canSet, DATASETS, readDataset, readKnob, setDataset, setKnob, type Edit, type Knob } from "./source-edits.js";

const CHOICES: Record<Knob, { label: string; values: readonly string[] }> = {
  lr: { label: "Learning rate", values: ["0.00001", "0.0001", "0.001", "0.003", "0.01", "0.03", "0.1", "0.3", "1", "3", "10"] },
  activation: { label: "Activation", values: ["relu", "tanh", "sigmoid", "linear", "leaky_relu", "elu", "gelu"] },
  weightDecay: { label: "Regularization (L2)", values: ["0", "0.0001", "0.001", "0.003", "0.01", "0.03", "0.1"] },
  noise: { label: "Noise", values: ["0", "0.03", "0.05", "0.1", "0.2", "0.3", "0.5"] },
  batch: { label: "Batch size", values: ["1", "4", "8", "16", "32", "64", "128"] },
  test: { label: "Test share %", values: ["10", "20", "30", "40", "50", "60", "70", "80", "90"] },
};

/** Applies edits to the editor's text as one undoable step. */
export function editSource(editor: Editor.IStandaloneCodeEditor, edits: readonly Edit[], source: string): void {
  const model = editor.getModel()!;
  editor.pushUndoStop();
  editor.executeEdits(
    source,
    edits.map((e) => {
      const a = model.getPositionAt(e.offset), b = model.getPositionAt(e.offset + e.length);
      return { range: { startLineNumber: a.lineNumber, startColumn: a.column, endLineNumber: b.lineNumber, endColumn: b.column }, text: e.text };
    }),
  );
  editor.pushUndoStop();
}

/** A data set's picture: 150 points of the generator, coloured by class. */
function thumbnail(name: (typeof DATASETS)[number], size: number): HTMLCanvasElement {
  const c = document.createElement("canvas");
  c.width = c.height = size;
  const g = c.getContext("2d")!;
  const d = GENERATORS[name]({ size: 150, noise: name === "gaussian" ? 0.5 : 0.1, seed: 1, classes: 2 });
  let lo = Infinity, hi = -Infinity;
  for (const v of d.x) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const s = (v: number): number => 3 + ((v - lo) / (hi - lo || 1)) * (size - 6);
  g.fillStyle = "#f8fafc";
  g.fillRect(0, 0, size, size);
  for (let i = 0; i < d.n; i++) {
    g.fillStyle = CLASS_COLORS[d.y[i]! % CLASS_COLORS.length]!;
    g.beginPath();
    g.arc(s(d.x[2 * i]!), size - s(d.x[2 * i + 1]!), 1.6, 0, 2 * Math.PI);
    g.fill();
  }
  return c;
}

export class Knobs {
  private readonly selects = new Map<Knob, HTMLSelectElement>();
  private readonly thumbs = new Map<string, HTMLButtonElement>();

  constructor(
    private readonly editor: Editor.IStandaloneCodeEditor,
    knobsHost: HTMLElement,
    datasetsHost: HTMLElement,
  ) {
    for (const [knob, spec] of Object.entries(CHOICES) as [Knob, (typeof CHOICES)[Knob]][]) {
      const label = document.createElement("label");
      label.className = "knob";
      const select = document.createElement("select");
      select.id = `knob-${knob}`;
      select.onchange = () => this.set(knob, select.value);
      label.append(spec.label, select);
      knobsHost.append(label);
      this.selects.set(knob, select);
    }
    for (const name of DATASETS) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "dataset";
      b.dataset["dataset"] = name;
      b.title = `Train on ${name}`;
      b.setAttribute("aria-label", `${name} data set`);
      b.setAttribute("aria-pressed", "false");
      b.append(thumbnail(name, 40));
      b.onclick = () => editSource(this.editor, setDataset(this.editor.getValue(), name), "dataset");
      datasetsHost.append(b);
      this.thumbs.set(name, b);
    }
    this.update();
  }

  private set(knob: Knob, value: string): void {
    const edits = setKnob(this.editor.getValue(), knob, value);
    if (edits.length > 0) editSource(this.editor, edits, `knob-${knob}`);
  }

  /** Shows what the text says (called on every change of the text). */
  update(): void {
    const source = this.editor.getValue();
    for (const [knob, select] of this.selects) {
      const value = readKnob(source, knob);
      const settable = canSet(source, knob);
      const values = [...CHOICES[knob].values];
      if (value !== undefined && !values.includes(value)) values.push(value);
      if (select.options.length !== values.length + 1 || ![...select.options].every((o, i) => o.value === (i === 0 ? "" : values[i - 1]))) {
        select.replaceChildren(new Option("—", ""), ...values.map((v) => new Option(knob === "test" ? `${v}%` : v, v)));
        select.options[0]!.disabled = true;
      }
      select.value = value ?? "";
      select.disabled = !settable;
    }
    const current = readDataset(source);
    for (const [name, b] of this.thumbs) {
      b.setAttribute("aria-pressed", String(name === current));
      b.disabled = current === undefined;
    }
  }
}
