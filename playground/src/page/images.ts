/**
 * Pick a test image to see its attribution (issue 17): for an image classifier the training
 * worker sends a strip of a few test images per class (`src/images.ts`); each is a button (a
 * label names its row and class; the arrow keys, Home and End move along the strip and pick).
 * The worker explains the picked image for its predicted class — saliency, gradient × input and,
 * with a conv layer, Grad-CAM, from `runtime/explain.ts` — now and again as the model learns; the
 * page shows the image, the chosen map over it, and each class's probability. The drawing reuses
 * buffers made once per strip; every text goes in through `textContent` or `setAttribute`.
 */
import "../images.css";
import { paintImage, paintOverlay } from "../image-paint.js";
import type { ImagePick, ImageStrip } from "../images.js";
import { canvasFingerprint } from "../picture.js";
import type { TrainRequest } from "../protocol.js";
import { $ } from "./ui.js";

/** The picked image's side on the page, in CSS pixels, and a thumbnail's. */
const VIEW = 150;
const THUMB = 28;
const GAP = 12;

const num = (v: number): string => (v === 0 ? "0" : Math.abs(v) >= 1e4 || Math.abs(v) < 1e-3 ? v.toExponential(2) : Number(v.toPrecision(3)).toString());

type Method = "saliency" | "gradxinput" | "gradcam";
const METHOD_TEXT: Record<Method, string> = {
  saliency: "saliency |∂F/∂x| (red: where the score is most sensitive)",
  gradxinput: "gradient × input x · ∂F/∂x (red raises the score, blue lowers it)",
  gradcam: "Grad-CAM (red: the regions the class rests on; never negative)",
};

const el = {
  card: $("images-card"),
  strip: $("images-strip"),
  method: $<HTMLSelectElement>("images-method"),
  gradcamOption: $<HTMLOptionElement>("images-gradcam"),
  view: $<HTMLCanvasElement>("images-view"),
  result: $("images-result"),
  probs: $("images-probs"),
};

export class ImagePanel {
  /** The strip and the pick shown, and how many picks have been drawn (for the tests). */
  strip: ImageStrip | undefined;
  last: ImagePick | undefined;
  updates = 0;
  /** Time of each pick's computation in the worker and of its drawing on the page (ms), this strip. */
  readonly workerMillis: number[] = [];
  readonly drawMillis: number[] = [];
  private buttons: HTMLButtonElement[] = [];
  private current = -1;
  /** Made once per strip: the image-sized RGBA buffers, the canvas they are put on, and the probability rows. */
  private plain: ImageData | undefined;
  private overlay: ImageData | undefined;
  private scratch: HTMLCanvasElement | undefined;
  private rows: { fill: HTMLElement; pct: HTMLElement; row: HTMLElement }[] = [];

  constructor(private readonly send: (m: TrainRequest) => void) {
    el.method.onchange = () => this.draw();
    el.strip.addEventListener("keydown", (e) => {
      const n = this.buttons.length;
      const at = this.buttons.indexOf(document.activeElement as HTMLButtonElement);
      if (n === 0 || at < 0) return;
      const to = { ArrowRight: at + 1, ArrowDown: at + 1, ArrowLeft: at - 1, ArrowUp: at - 1, Home: 0, End: n - 1 }[e.key];
      if (to === undefined) return;
      e.preventDefault();
      this.pick(Math.max(0, Math.min(n - 1, to)), true);
    });
  }

  /** A new run, or a model whose input is not an image: no strip. */
  reset(): void {
    this.setStrip(undefined);
  }

  setStrip(strip: ImageStrip | undefined): void {
    this.strip = strip;
    this.last = undefined;
    this.current = -1;
    this.workerMillis.length = this.drawMillis.length = 0;
    el.card.hidden = strip === undefined || strip.indices.length === 0;
    el.result.textContent = "";
    this.buttons = [];
    this.rows = [];
    el.strip.replaceChildren();
    el.probs.replaceChildren();
    const g = el.view.getContext("2d")!;
    g.clearRect(0, 0, el.view.width, el.view.height);
    if (!strip || el.card.hidden) return;
    const [h, w, c] = strip.shape;
    this.plain = new ImageData(w, h);
    this.overlay = new ImageData(w, h);
    this.scratch = Object.assign(document.createElement("canvas"), { width: w, height: h });
    el.gradcamOption.hidden = el.gradcamOption.disabled = strip.gradcamLayer === undefined;
    el.gradcamOption.textContent = `Grad-CAM (${strip.gradcamLayer ?? "no conv layer"})`;
    if (strip.gradcamLayer === undefined && el.method.value === "gradcam") el.method.value = "saliency";
    const scale = Math.max(1, Math.floor(VIEW / Math.max(h, w)));
    el.view.width = 2 * w * scale + GAP;
    el.view.height = h * scale;
    const thumb = new ImageData(w, h);
    this.buttons = strip.indices.map((row, k) => {
      const b = document.createElement("button");
      b.type = "button";
      // A little more space after each class's last image.
      b.className = strip.labels[k + 1] !== undefined && strip.labels[k + 1] !== strip.labels[k] ? "image-thumb class-end" : "image-thumb";
      b.tabIndex = k === 0 ? 0 : -1;
      b.dataset["test"] = String(row);
      const name = strip.classNames[strip.labels[k]!] ?? "";
      b.setAttribute("aria-label", `test image ${row}, ${name}`);
      b.setAttribute("aria-pressed", "false");
      b.title = `test image ${row}: ${name}`;
      const canvas = Object.assign(document.createElement("canvas"), { width: w, height: h });
      canvas.setAttribute("aria-hidden", "true");
      canvas.style.width = `${Math.round((THUMB * w) / Math.max(h, w))}px`;
      canvas.style.height = `${Math.round((THUMB * h) / Math.max(h, w))}px`;
      paintImage(thumb.data, strip.pixels, k * h * w * c, strip.shape);
      canvas.getContext("2d")!.putImageData(thumb, 0, 0);
      b.append(canvas);
      b.onclick = () => this.pick(k, false);
      return b;
    });
    el.strip.replaceChildren(...this.buttons);
    this.rows = strip.classNames.map((name, k) => {
      const row = Object.assign(document.createElement("div"), { className: "image-prob" });
      row.dataset["class"] = String(k);
      const label = Object.assign(document.createElement("span"), { className: "name", textContent: name, title: name });
      const track = Object.assign(document.createElement("span"), { className: "track" });
      const fill = Object.assign(document.createElement("span"), { className: "fill" });
      track.append(fill);
      const pct = Object.assign(document.createElement("span"), { className: "pct" });
      row.append(label, track, pct);
      return { fill, pct, row };
    });
    el.probs.replaceChildren(...this.rows.map((r) => r.row));
    el.result.textContent = "Pick a test image to see what the model predicts for it and which pixels that rests on.";
  }

  /** For the browser tests: the strip's rows and classes, the pick with its arrays as lists, the view's pixels' hash. */
  forTests(): unknown {
    const p = this.last;
    return {
      strip: this.strip && { indices: [...this.strip.indices], labels: [...this.strip.labels], classNames: [...this.strip.classNames], gradcamLayer: this.strip.gradcamLayer },
      pick: p && {
        ...p,
        probs: [...p.probs],
        pixels: [...p.pixels],
        saliency: [...p.saliency],
        gradxinput: [...p.gradxinput],
        gradcam: p.gradcam && { ...p.gradcam, values: [...p.gradcam.values] },
      },
      updates: this.updates,
      workerMillis: [...this.workerMillis],
      drawMillis: [...this.drawMillis],
      method: el.view.dataset["method"],
      fingerprint: p ? canvasFingerprint(el.view) : undefined,
    };
  }

  /** Picks the k-th image of the strip (and moves the focus to it from the keyboard). */
  private pick(k: number, focus: boolean): void {
    const strip = this.strip;
    if (!strip) return;
    this.current = k;
    this.buttons.forEach((b, j) => {
      b.tabIndex = j === k ? 0 : -1;
      b.setAttribute("aria-pressed", String(j === k));
    });
    if (focus) this.buttons[k]!.focus();
    this.send({ type: "pickImage", test: strip.indices[k] });
  }

  show(p: ImagePick): void {
    const strip = this.strip;
    // An answer about an image no longer picked is old news.
    if (!strip || strip.indices[this.current] !== p.index) return;
    this.last = p;
    this.updates++;
    this.workerMillis.push(p.millis);
    this.draw();
  }

  /** The picked image, the chosen map over it, the numbers: from the last pick, into the buffers made for the strip. */
  private draw(): void {
    const p = this.last;
    const strip = this.strip;
    if (!p || !strip || !this.plain || !this.overlay || !this.scratch) return;
    const t0 = performance.now();
    const [h, w] = p.shape;
    const method = (el.method.value === "gradcam" && p.gradcam ? "gradcam" : el.method.value === "gradxinput" ? "gradxinput" : "saliency") as Method;
    const [map, mh, mw] = method === "gradcam" ? [p.gradcam!.values, p.gradcam!.height, p.gradcam!.width] : [p[method], h, w];
    paintImage(this.plain.data, p.pixels, 0, p.shape);
    const peak = paintOverlay(this.overlay.data, p.pixels, p.shape, map, mh, mw);
    const g = el.view.getContext("2d")!;
    const s = el.view.height / h;
    g.imageSmoothingEnabled = false;
    g.clearRect(0, 0, el.view.width, el.view.height);
    const sg = this.scratch.getContext("2d")!;
    sg.putImageData(this.plain, 0, 0);
    g.drawImage(this.scratch, 0, 0, w * s, h * s);
    sg.putImageData(this.overlay, 0, 0);
    g.drawImage(this.scratch, w * s + GAP, 0, w * s, h * s);
    const names = strip.classNames;
    const predicted = names[p.predicted] ?? `class ${p.predicted}`;
    const truth = names[p.label] ?? `class ${p.label}`;
    el.view.setAttribute("aria-label", `Test image ${p.index} (${truth}) and its ${method === "gradcam" ? "Grad-CAM" : method === "gradxinput" ? "gradient × input" : "saliency"} map for ${predicted}`);
    el.view.dataset["method"] = method;
    const bold = (t: string): HTMLElement => Object.assign(document.createElement("b"), { textContent: t });
    el.result.replaceChildren(
      `Test image ${p.index} (true: `,
      bold(truth),
      `), after epoch ${p.epoch}: predicted `,
      bold(predicted),
      ` (${(100 * (p.probs[p.predicted] ?? 0)).toFixed(1)}%)${p.predicted === p.label ? "" : " — wrong"}. Right: ${METHOD_TEXT[method]} for ${predicted}` +
        `${method === "gradcam" ? ` on ${p.gradcam!.layer}'s ${mh}×${mw} positions` : ""}, full colour at ${num(peak)}.`,
    );
    this.rows.forEach((r, k) => {
      const v = p.probs[k] ?? 0;
      r.row.dataset["p"] = String(v);
      r.row.classList.toggle("predicted", k === p.predicted);
      r.fill.style.width = `${Math.round(100 * Math.max(0, Math.min(1, v)))}%`;
      r.pct.textContent = `${(100 * v).toFixed(1)}%`;
    });
    this.drawMillis.push(performance.now() - t0);
  }
}
