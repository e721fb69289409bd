/**
 * What the training worker shows of the model as it learns (`train.worker.ts` calls `picture`
 * between slices of training): the picture (a 2-D classifier's decision boundary, a 1-D
 * regression's curve, else the confusion matrix), the first convolution's filters, and with the
 * explain methods the attribution of the input the page asked about, the network's inside
 * (`insight.ts`), an image model's strip of test images and the picked one's maps
 * (`images.ts`), and a text classifier's prediction of the typed text (`typing.ts`). It keeps
 * what the page picked, typed or asked to explain, and shows it again as the weights change.
 */
import { classCount, type Task } from "../../runtime/metrics.js";
import type { Session } from "../../runtime/session.js";
import { isExplainModel, type ExplainModel } from "../../runtime/explain.js";
import { evaluate, predictAll } from "../../runtime/batches.js";
import { isTextClassifier, predictText } from "./typing.js";
import { attributionOf, featureNames, insightBuffers, insightOf } from "./insight.js";
import { classOf, imagePick, imageShapeOf, imageStrip, pickBuffers, type ImageShape } from "./images.js";
import type { Picture, TrainRequest, TrainResponse } from "./protocol.js";

/** The layout entry the Filters view shows. */
const FILTERS = "conv2d_1.weight";
/** Least time between two pictures. */
const PICTURE_MS = 150;
const GRID = 56;
/** Least time between two views of the network's inside (unit maps, weights). */
const INSIGHT_MS = 300;
/** Inputs up to this many values are compiled with the explain methods (attributions, unit maps). */
export const EXPLAIN_INPUTS = 32;

export class TrainViews {
  private lastPicture = 0;
  private lastInsight = 0;
  /** The input the page asked to explain, re-explained as the model learns. */
  private selected: { x: Float32Array; from: string } | undefined;
  /** An image model's image shape (the page's strip of test images), and the test image picked, re-explained as the model learns. */
  private imageShape: ImageShape | undefined;
  private picked: number | undefined;
  /** The text typed into the page, predicted again as the model learns. */
  private typed: string | undefined;
  /** The 2-D picture's extent, for the unit maps. */
  private extent: [number, number, number, number] | undefined;

  /** `session`: the worker's current session (none while a program loads). */
  constructor(
    private readonly post: (m: TrainResponse, transfer?: Transferable[]) => void,
    private readonly session: () => Session | undefined,
  ) {}

  /** A new program: nothing picked, typed or selected. */
  reset(): void {
    this.selected = undefined;
    this.imageShape = undefined;
    this.picked = undefined;
    this.extent = undefined;
    this.typed = undefined;
  }

  /** The text typed into the page, predicted now and as the model learns. */
  type(text: string): void {
    this.typed = text;
    this.postPrediction();
  }

  /** The test image the page picked (undefined, or not a test sample: none). */
  pick(test: number | undefined): void {
    const s = this.session();
    this.picked = s?.data.test && test !== undefined && Number.isInteger(test) && test >= 0 && test < s.data.test.n ? test : undefined;
    this.postImagePick();
  }

  postPrediction(): void {
    const s = this.session();
    if (!s || this.typed === undefined || !isTextClassifier(s.model, s.data.preprocess, s.task)) return;
    this.post({ type: "prediction", prediction: predictText(s.model, s.data.preprocess, s.task, this.typed, s.trainer.epoch) });
  }

  /** The model with its explain methods, when it has them and its input has a gradient. */
  explainModel(): ExplainModel | undefined {
    const m = this.session()?.model;
    return m && isExplainModel(m) && m.meta.explain?.inputGradient ? m : undefined;
  }

  private postAttribution(): void {
    const session = this.session();
    const model = this.explainModel();
    if (!session || !model || !this.selected || model.meta.inputSize > EXPLAIN_INPUTS) return;
    const names = featureNames(session.data.preprocess, model.meta.inputSize);
    this.post({ type: "attribution", attribution: attributionOf(model, this.selected.x, this.selected.from, names, session.data.preprocess.classes, session.trainer.epoch) });
  }

  private postInsight(force: boolean): void {
    const session = this.session();
    const model = this.explainModel();
    if (!session || !model || model.meta.inputSize > EXPLAIN_INPUTS) return;
    const now = performance.now();
    if (!force && now - this.lastInsight < INSIGHT_MS) return;
    this.lastInsight = now;
    const insight = insightOf(model, this.extent, session.trainer.epoch);
    this.post({ type: "insight", insight }, insightBuffers(insight));
  }

  /** The input to explain: a point the page gave, or a test sample by index (else none). */
  select(m: Extract<TrainRequest, { type: "explain" }>): void {
    const s = this.session();
    if (!s) return;
    const size = s.model.meta.inputSize;
    const test = s.data.test;
    if (m.x !== undefined && m.x.length === size) this.selected = { x: Float32Array.from(m.x), from: `the point (${m.x.map((v) => Number(v.toPrecision(3))).join(", ")})` };
    else if (m.test !== undefined && test && Number.isInteger(m.test) && m.test >= 0 && m.test < test.n) this.selected = { x: test.x.slice(m.test * size, (m.test + 1) * size), from: `test sample ${m.test}` };
    else this.selected = undefined;
    this.postAttribution();
  }

  /** An image classifier's strip of test images (a few per class), or undefined for other models; a new strip forgets the pick. */
  postStrip(): void {
    const s = this.session();
    const model = this.explainModel();
    const test = s?.data.test;
    const categorical = Object.keys(s?.data.preprocess.csv?.categories ?? {}).length > 0;
    const shape = s && model && test && test.n > 0 && (s.task.kind === "multiclass" || s.task.kind === "binary") ? imageShapeOf(model.meta.inputShape, model.meta.inputs === undefined, categorical) : undefined;
    this.imageShape = shape;
    this.picked = undefined;
    const strip = s && model && test && shape ? imageStrip(model, test, shape, s.task, s.data.preprocess.classes) : undefined;
    this.post({ type: "images", strip }, strip ? [strip.pixels.buffer as ArrayBuffer] : []);
  }

  /** The picked test image explained for its predicted class (`images.ts`). */
  private postImagePick(): void {
    const s = this.session();
    const model = this.explainModel();
    const test = s?.data.test;
    const picked = this.picked;
    if (!s || !model || !test || !this.imageShape || picked === undefined) return;
    const size = model.meta.inputSize;
    const x = test.x.subarray(picked * size, (picked + 1) * size);
    const pick = imagePick(model, x, picked, classOf(test.y, picked, model.meta.outputSize), this.imageShape, s.task, s.trainer.epoch);
    this.post({ type: "imagePick", pick }, pickBuffers(pick));
  }

  /** A copy of the first convolution's filters, when the model has one. */
  postFilters(): void {
    const session = this.session();
    if (!session) return;
    const e = session.model.layout.find((x) => x.name === FILTERS);
    if (!e || e.shape.length !== 4) return;
    const weights = Float32Array.from(session.model.params.subarray(e.offset, e.offset + e.size));
    this.post({ type: "filters", filters: { name: e.name, shape: e.shape, weights, epoch: session.trainer.epoch } }, [weights.buffer]);
  }

  /** Everything shown, at most every `PICTURE_MS` unless `force`. */
  picture(force = false): void {
    const session = this.session();
    if (!session) return;
    const now = performance.now();
    if (!force && now - this.lastPicture < PICTURE_MS) return;
    this.lastPicture = now;
    this.postFilters();
    this.postAttribution();
    this.postImagePick();
    this.postPrediction();
    const { model, data, task } = session;
    const meta = model.meta;
    const train = data.train;
    const maxPoints = 1500;
    const stride = Math.max(1, Math.ceil(train.n / maxPoints));
    if (meta.inputSize === 2 && (task.kind === "multiclass" || task.kind === "binary")) {
      let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
      for (let i = 0; i < train.n; i++) {
        const a = train.x[2 * i]!, b = train.x[2 * i + 1]!;
        if (a < x0) x0 = a;
        if (a > x1) x1 = a;
        if (b < y0) y0 = b;
        if (b > y1) y1 = b;
      }
      const px = (x1 - x0) * 0.08 || 1, py = (y1 - y0) * 0.08 || 1;
      x0 -= px; x1 += px; y0 -= py; y1 += py;
      this.extent = [x0, x1, y0, y1];
      this.postInsight(force);
      const grid = new Float32Array(GRID * GRID * 2);
      for (let r = 0; r < GRID; r++) {
        for (let c = 0; c < GRID; c++) {
          const k = r * GRID + c;
          grid[2 * k] = x0 + ((c + 0.5) / GRID) * (x1 - x0);
          grid[2 * k + 1] = y1 - ((r + 0.5) / GRID) * (y1 - y0);
        }
      }
      const { probs, classes } = toProbs(predictAll(model, grid, GRID * GRID), GRID * GRID, task);
      const pts = (s: typeof train | undefined): [Float32Array, Uint8Array] => {
        if (!s) return [new Float32Array(0), new Uint8Array(0)];
        const m = Math.ceil(s.n / stride);
        const xy = new Float32Array(2 * m);
        const cls = new Uint8Array(m);
        for (let j = 0, i = 0; i < s.n; i += stride, j++) {
          xy[2 * j] = s.x[2 * i]!;
          xy[2 * j + 1] = s.x[2 * i + 1]!;
          cls[j] = classOf(s.y, i, meta.outputSize);
        }
        return [xy, cls];
      };
      const [pxs, pcs] = pts(train);
      const [txs, tcs] = pts(data.test);
      const pic: Picture = { kind: "boundary", x0, x1, y0, y1, res: GRID, classes, probs, px: pxs, pc: pcs, tx: txs, tc: tcs };
      this.post({ type: "picture", picture: pic }, [probs.buffer, pxs.buffer, pcs.buffer, txs.buffer, tcs.buffer]);
    } else if (task.kind === "multiclass" || task.kind === "binary") {
      this.postInsight(force);
      const split = data.validation ?? data.test ?? train;
      const name = data.validation ? "validation" : data.test ? "test" : "training";
      const v = evaluate(model, split, task, ["confusion_matrix"]);
      if (v.confusion) this.post({ type: "picture", picture: { kind: "confusion", split: name, matrix: v.confusion } });
    } else if (meta.inputSize === 1 && meta.outputSize === 1 && task.kind === "regression") {
      this.postInsight(force);
      let lo = Infinity, hi = -Infinity;
      for (let i = 0; i < train.n; i++) {
        lo = Math.min(lo, train.x[i]!);
        hi = Math.max(hi, train.x[i]!);
      }
      const steps = 200;
      const xs = new Float32Array(steps);
      for (let i = 0; i < steps; i++) xs[i] = lo + ((hi - lo) * i) / (steps - 1);
      const ys = predictAll(model, xs, steps);
      const m = Math.ceil(train.n / stride);
      const pxs = new Float32Array(m), pys = new Float32Array(m);
      for (let j = 0, i = 0; i < train.n; i += stride, j++) {
        pxs[j] = train.x[i]!;
        pys[j] = train.y[i]!;
      }
      this.post({ type: "picture", picture: { kind: "curve", xs, ys, px: pxs, py: pys } }, [xs.buffer, ys.buffer, pxs.buffer, pys.buffer]);
    }
  }
}

/** A classifier's outputs as class probabilities (a binary model's one score as two). */
function toProbs(out: Float32Array, n: number, task: Task): { probs: Float32Array; classes: number } {
  if (task.kind === "binary") {
    const probs = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) {
      const v = out[i]!;
      const p = task.threshold === 0 ? 1 / (1 + Math.exp(-v)) : v;
      probs[2 * i] = 1 - p;
      probs[2 * i + 1] = p;
    }
    return { probs, classes: 2 };
  }
  return { probs: out, classes: classCount(task) };
}
