/**
 * Why the model decides as it does, for one input (issue 17): a click on the decision boundary
 * (or a test sample's number, from the keyboard) asks the training worker for that input's
 * attributions to its predicted class — saliency, gradient × input and integrated gradients,
 * computed by `runtime/explain.ts` as `nnc explain` computes them — and shows them per input
 * feature, with integrated gradients' completeness check. The worker re-explains the input as
 * the model learns; the picture marks it. Every text goes in through `textContent`.
 */
import type { Attribution, Picture, TrainRequest } from "../protocol.js";
import { ui } from "./ui.js";

const num = (v: number): string => (v === 0 ? "0" : Math.abs(v) >= 1e4 || Math.abs(v) < 1e-3 ? v.toExponential(2) : Number(v.toPrecision(3)).toString());

export class ExplainPanel {
  /** The attribution shown, and how many have been shown (for the tests). */
  last: Attribution | undefined;
  updates = 0;

  constructor(
    private readonly send: (m: TrainRequest) => void,
    private readonly picture: () => Picture | undefined,
    private readonly testSamples: () => number,
  ) {
    ui.picture.addEventListener("click", (e) => {
      const p = this.picture();
      if (p?.kind !== "boundary") return;
      const r = ui.picture.getBoundingClientRect();
      const fx = (e.clientX - r.left) / r.width;
      const fy = (e.clientY - r.top) / r.height;
      this.send({ type: "explain", x: [p.x0 + fx * (p.x1 - p.x0), p.y1 - fy * (p.y1 - p.y0)], test: undefined });
    });
    const explainTest = (): void => {
      const i = Number(ui.explainTest.value);
      if (Number.isInteger(i) && i >= 0 && i < this.testSamples()) this.send({ type: "explain", x: undefined, test: i });
    };
    ui.explainButton.onclick = explainTest;
    ui.explainTest.onkeydown = (e) => {
      if (e.key === "Enter") explainTest();
    };
  }

  /** A new run: nothing explained yet; the controls are there when the model has the explain methods. */
  reset(available: boolean | undefined, testSamples: number, clickable: boolean): void {
    this.last = undefined;
    ui.explainCard.hidden = available !== true;
    ui.explainTable.hidden = true;
    ui.explainResult.replaceChildren();
    ui.explainTest.max = String(Math.max(0, testSamples - 1));
    ui.explainTestField.hidden = testSamples === 0;
    ui.explainHint.textContent = clickable
      ? "Click a point of the picture, or explain a test sample, to see how much each input counts for the class the model predicts there."
      : "Explain a test sample to see how much each input counts for the class the model predicts.";
  }

  show(a: Attribution): void {
    this.last = a;
    this.updates++;
    ui.explainTable.hidden = false;
    const sum = a.ig.reduce((s, v) => s + v, 0);
    const change = a.score - a.baselineScore;
    const rel = Math.abs(change) > 1e-9 ? Math.abs(a.delta / change) : Math.abs(a.delta);
    ui.explainResult.replaceChildren(
      `${a.from}, after epoch ${a.epoch}: predicted `,
      Object.assign(document.createElement("b"), { textContent: a.targetName }),
      ` (score F(x) = ${num(a.score)}, the class's logit). Integrated gradients (${a.steps} steps from the all-zero input) sum to ${num(sum)}; F(x) − F(0) = ${num(change)}` +
        ` (completeness error ${(100 * rel).toPrecision(2)}%).`,
    );
    const max = Math.max(1e-12, ...a.ig.map(Math.abs), ...a.gradxinput.map(Math.abs));
    const cell = (v: number, bar: boolean): HTMLTableCellElement => {
      const td = document.createElement("td");
      td.textContent = num(v);
      td.dataset["value"] = String(v);
      if (bar) {
        const b = document.createElement("span");
        b.className = `bar ${v < 0 ? "neg" : "pos"}`;
        b.style.width = `${Math.round((28 * Math.abs(v)) / max)}px`;
        td.prepend(b);
      }
      return td;
    };
    ui.explainBody.replaceChildren(
      ...a.features.map((f, j) => {
        const tr = document.createElement("tr");
        const th = document.createElement("th");
        th.scope = "row";
        th.textContent = f;
        tr.append(th, cell(a.x[j]!, false), cell(a.saliency[j]!, false), cell(a.gradxinput[j]!, true), cell(a.ig[j]!, true));
        return tr;
      }),
    );
  }

  /** Marks the explained point on the decision boundary. */
  mark(canvas: HTMLCanvasElement, p: Picture): void {
    const a = this.last;
    if (p.kind !== "boundary" || !a || a.x.length !== 2) return;
    const size = 340;
    const g = canvas.getContext("2d")!;
    const x = ((a.x[0]! - p.x0) / (p.x1 - p.x0)) * size;
    const y = ((p.y1 - a.x[1]!) / (p.y1 - p.y0)) * size;
    g.save();
    g.strokeStyle = "#0f172a";
    g.lineWidth = 2;
    g.beginPath();
    g.arc(x, y, 7, 0, 2 * Math.PI);
    g.moveTo(x - 11, y);
    g.lineTo(x - 4, y);
    g.moveTo(x + 4, y);
    g.lineTo(x + 11, y);
    g.moveTo(x, y - 11);
    g.lineTo(x, y - 4);
    g.moveTo(x, y + 4);
    g.lineTo(x, y + 11);
    g.stroke();
    g.restore();
  }
}
