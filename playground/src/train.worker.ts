/**
 * The training worker: compiles the program to JavaScript, loads it with `loadModule`, and
 * trains it with the runtime's `Trainer` in slices of ~40 ms, so pause and step messages get
 * through and the page receives progress, epoch records and pictures while it learns.
 */
import { checkSource } from "../../compiler/check.js";
import { compileProgram } from "../../compiler/compile.js";
import { loadModule, defaultKernels } from "../../compiler/load.js";
import type { CsvSource, Data, Program } from "../../compiler/program.js";
import { diag, hasErrors, type Diagnostic, type Result } from "../../grammar/diagnostics.js";
import { FILE_START } from "../../grammar/span.js";
import type { SourceReader } from "../../runtime/load.js";
import { classCount, type Task } from "../../runtime/metrics.js";
import { createSession, type RunOverrides, type Session } from "../../runtime/session.js";
import { isExplainModel, type ExplainModel } from "../../runtime/explain.js";
import { evaluate, predictAll } from "../../runtime/batches.js";
import { decodeWeights, encodeWeights } from "../../runtime/weights.js";
import { csvColumns } from "./csv-columns.js";
import { PageShards } from "./shards.js";
import { isTextClassifier, predictText } from "./typing.js";
import { attributionOf, featureNames, insightBuffers, insightOf } from "./insight.js";
import { classOf, imagePick, imageShapeOf, imageStrip, pickBuffers, type ImageShape } from "./images.js";
import { trainOnFile } from "./knobs/source-edits.js";
import type { CsvChoice, ModelInfo, Picture, TrainRequest, TrainResponse } from "./protocol.js";
import { PageSearch } from "./search-run.js";

/** The layout entry the Filters view shows. */
const FILTERS = "conv2d_1.weight";

const scope = self as unknown as { postMessage(m: TrainResponse, transfer?: Transferable[]): void; onmessage: ((e: MessageEvent<TrainRequest>) => void) | null };
const post = (m: TrainResponse, transfer: Transferable[] = []): void => scope.postMessage(m, transfer);

/** Work done per slice before yielding to the message queue. */
const SLICE_MS = 40;
/** Least time between two pictures. */
const PICTURE_MS = 150;
const GRID = 56;
/** Least time between two views of the network's inside (unit maps, weights). */
const INSIGHT_MS = 300;
/** Inputs up to this many values are compiled with the explain methods (attributions, unit maps). */
const EXPLAIN_INPUTS = 32;

let session: Session | undefined;
/** What the last load opened its data with: a weights file's preprocessing opens it again alike. */
let opened: { program: Program; reader: SourceReader; overrides: RunOverrides } | undefined;
/** Epochs the loaded weights file had been trained, counted in the weights the page saves. */
let epochsBefore = 0;
/** While a weights file's data are being prepared: no run starts on the session it replaces. */
let swapping = false;
/** Trains each batch in fixed shards, on one worker or several (`shards.ts`). */
let stepper: PageShards | undefined;
let running = false;
let stepping = false;
let inEpoch = false;
let lastPicture = 0;
let testPosted = false;
let lastInsight = 0;
/** The input the page asked to explain, re-explained as the model learns. */
let selected: { x: Float32Array; from: string } | undefined;
/** An image model's image shape (the page's strip of test images), and the test image picked, re-explained as the model learns. */
let imageShape: ImageShape | undefined;
let picked: number | undefined;
/** The text typed into the page, predicted again as the model learns. */
let typed: string | undefined;
/** The 2-D picture's extent, for the unit maps. */
let extent: [number, number, number, number] | undefined;
/** Least time per epoch (the page's speed control), and the timer that waits it out. */
let msPerEpoch = 0;
let waiting: ReturnType<typeof setTimeout> | undefined;

// A zero-delay yield (setTimeout is clamped to 4 ms when nested).
const channel = new MessageChannel();
channel.port1.onmessage = () => tick();
const yieldThen = (): void => channel.port2.postMessage(0);

function csvSource(csv: CsvChoice): CsvSource {
  const { delimiter } = csvColumns(csv.text);
  // A dropped file cannot say `categorical: [...]`: its text columns (besides the label) are.
  const categorical = csvColumns(csv.text).columns.filter((c) => c.text && c.name !== csv.label).map((c) => c.name);
  return { kind: "csv", path: csv.name, header: true, label: csv.label, features: undefined, categorical, missing: "drop", delimiter, span: FILE_START };
}

/** The program with its training data replaced by a dropped CSV file. */
function withCsv(p: Program, csv: CsvChoice): Program {
  const train = csvSource(csv);
  const old = p.data;
  const data: Data = old
    ? {
        ...old,
        train,
        test: typeof old.test === "number" ? old.test : 0.2,
        validation: typeof old.validation === "number" ? old.validation : 0,
        normalize: old.normalize === "none" ? "standard" : old.normalize,
      }
    : { train, test: 0.2, validation: 0, normalize: "standard", scale: 1, shuffle: true, shuffleSeed: 0, inputs: undefined, tokenize: undefined, span: FILE_START };
  return { ...p, data };
}

function reader(files: Readonly<Record<string, string>>, csv: CsvChoice | undefined): SourceReader {
  const missing = (path: string, span: Diagnostic["span"]): Result<undefined> => ({
    value: undefined,
    diagnostics: [
      diag("fileNotFound", span, [path, "the playground has no file system"], {
        hint: "drop a CSV file onto the page to train on it",
      }),
    ],
  });
  return {
    async text(path, span) {
      if (csv && path === csv.name) return { value: csv.text, diagnostics: [] };
      const key = path.replace(/^\.\//, "");
      const text = files[key];
      return text === undefined ? missing(path, span) : { value: text, diagnostics: [] };
    },
    async idx(path, _limit, span) {
      return missing(path, span);
    },
    display: (path) => path,
  };
}

function fail(message: string, diagnostics: readonly Diagnostic[]): void {
  session = undefined;
  running = false;
  post({ type: "failed", message, diagnostics });
}

async function load(m: Extract<TrainRequest, { type: "load" }>): Promise<void> {
  session = undefined;
  opened = undefined;
  epochsBefore = 0;
  stepper?.close();
  stepper = undefined;
  running = false;
  stepping = false;
  inEpoch = false;
  testPosted = false;
  selected = undefined;
  imageShape = undefined;
  picked = undefined;
  extent = undefined;
  typed = undefined;
  const checked = checkSource(m.csv ? trainOnFile(m.source) : m.source);
  if (!checked.value || hasErrors(checked.diagnostics)) return fail("the program has errors", checked.diagnostics);
  const own = m.epochs === undefined ? checked.value : { ...checked.value, train: { ...checked.value.train, epochs: m.epochs } };
  const program = m.csv ? withCsv(own, m.csv) : own;
  // A larger batch limit than training needs lets pictures and evaluation run in few calls.
  const inputSize = program.model.input.reduce((a, b) => a * b, 1);
  const maxBatch = Math.max(program.train.batch, inputSize <= 64 ? 512 : program.train.batch);
  // The matrix products run as the WebAssembly SIMD kernels nnc writes (every browser since 2021).
  // Small inputs and images get the explain methods too (attributions, each unit's map, the picked
  // test image's maps); training runs the same arithmetic.
  const options = { target: "js", maxBatch, kernels: defaultKernels() } as const;
  const image = imageShapeOf(program.model.input, program.model.inputs.length === 1, false) !== undefined;
  const explained = inputSize <= EXPLAIN_INPUTS || image ? compileProgram(program, { ...options, explain: true }) : undefined;
  const compiled = explained?.value ? explained : compileProgram(program, options);
  if (!compiled.value) return fail("the program does not compile", compiled.diagnostics);
  const model = loadModule(compiled.value.code).createModel();
  const files = reader(m.files, m.csv);
  const overrides: RunOverrides = m.seed === undefined ? {} : { seed: m.seed };
  const made = await createSession(program, model, files, overrides);
  if (!made.value) return fail("the data could not be loaded", made.diagnostics);
  session = made.value;
  opened = { program, reader: files, overrides };
  session.trainer.init();
  try {
    stepper = await PageShards.start(session.model, compiled.value.code, m.workers, session.trainer.config.seed);
  } catch (e) {
    return fail(`the training workers did not start: ${e instanceof Error ? e.message : String(e)}`, []);
  }
  session.trainer.stepper = stepper;
  post({ type: "ready", diagnostics: [...compiled.diagnostics, ...made.diagnostics], info: modelInfo(session, stepper) });
  postStrip();
  picture(true);
  postState(undefined);
}

function modelInfo(s: Session, st: PageShards): ModelInfo {
  const d = s.data;
  const meta = s.model.meta;
  return {
    name: meta.name,
    inputSize: meta.inputSize,
    outputSize: meta.outputSize,
    paramCount: meta.paramCount,
    epochs: s.trainer.config.epochs,
    batches: s.trainer.batches,
    trainSamples: d.train.n,
    validationSamples: d.validation?.n ?? 0,
    testSamples: d.test?.n ?? 0,
    task: s.task.kind,
    classes: classCount(s.task),
    classNames: d.preprocess.classes,
    explain: explainModel() !== undefined && meta.inputSize <= EXPLAIN_INPUTS,
    text: isTextClassifier(s.model, d.preprocess, s.task),
    workers: st.threads,
    shards: st.shards,
  };
}

/**
 * A weights file for the loaded model: checked as `nnc eval` checks it (`decodeWeights`: the
 * layout, finite numbers, the saved preprocessing), then the data opened again with the file's
 * preprocessing (its normalization, class names, tokenizer: what `nnc eval` does) and the
 * model given its parameters, on a fresh trainer (epoch 0, the optimizer's moments at zero):
 * Train goes on from them, as the PyTorch script's `--init` does. Refused: nothing changes.
 */
async function setWeights(m: Extract<TrainRequest, { type: "setWeights" }>): Promise<void> {
  const s = session;
  const o = opened;
  const st = stepper;
  if (!s || !o || !st || swapping) return;
  running = false;
  stepping = false;
  if (waiting !== undefined) clearTimeout(waiting);
  waiting = undefined;
  const refuse = (diagnostics: readonly Diagnostic[]): void => {
    postState(undefined);
    post({ type: "weightsRefused", name: m.name, diagnostics });
  };
  const decoded = decodeWeights(m.text, s.model, m.name);
  const w = decoded.value;
  if (!w) return refuse(decoded.diagnostics);
  swapping = true;
  let made: Awaited<ReturnType<typeof createSession>>;
  try {
    made = await createSession(o.program, s.model, o.reader, o.overrides, w.preprocess);
  } finally {
    swapping = false;
  }
  // A newer load replaced the session meanwhile.
  if (session !== s) return;
  if (!made.value || hasErrors(made.diagnostics)) return refuse(made.diagnostics.filter((d) => d.severity === "error"));
  session = made.value;
  session.trainer.init();
  session.model.params.set(w.params);
  session.trainer.stepper = st;
  epochsBefore = Number.isInteger(w.epochs) && w.epochs > 0 ? w.epochs : 0;
  inEpoch = false;
  testPosted = false;
  postState(undefined);
  post({ type: "weightsLoaded", name: m.name, epochs: epochsBefore, info: modelInfo(session, st) });
  postStrip();
  postTest();
  picture(true);
}

function postPrediction(): void {
  const s = session;
  if (!s || typed === undefined || !isTextClassifier(s.model, s.data.preprocess, s.task)) return;
  post({ type: "prediction", prediction: predictText(s.model, s.data.preprocess, s.task, typed, s.trainer.epoch) });
}

/** FNV-1a over the parameters' bytes: equal hashes, equal weights bit for bit (for the tests). */
function paramsHash(p: Float32Array | Float64Array): string {
  const bytes = new Uint8Array(p.buffer, p.byteOffset, p.byteLength);
  let h = 2166136261;
  for (const b of bytes) h = Math.imul(h ^ b, 16777619);
  return (h >>> 0).toString(16).padStart(8, "0");
}

/** The model with its explain methods, when it has them and its input has a gradient. */
function explainModel(): ExplainModel | undefined {
  const m = session?.model;
  return m && isExplainModel(m) && m.meta.explain?.inputGradient ? m : undefined;
}

function postAttribution(): void {
  const model = explainModel();
  if (!session || !model || !selected || model.meta.inputSize > EXPLAIN_INPUTS) return;
  const names = featureNames(session.data.preprocess, model.meta.inputSize);
  post({ type: "attribution", attribution: attributionOf(model, selected.x, selected.from, names, session.data.preprocess.classes, session.trainer.epoch) });
}

function postInsight(force: boolean): void {
  const model = explainModel();
  if (!session || !model || model.meta.inputSize > EXPLAIN_INPUTS) return;
  const now = performance.now();
  if (!force && now - lastInsight < INSIGHT_MS) return;
  lastInsight = now;
  const insight = insightOf(model, extent, session.trainer.epoch);
  post({ type: "insight", insight }, insightBuffers(insight));
}

function select(m: Extract<TrainRequest, { type: "explain" }>): void {
  const s = session;
  if (!s) return;
  const size = s.model.meta.inputSize;
  const test = s.data.test;
  if (m.x !== undefined && m.x.length === size) selected = { x: Float32Array.from(m.x), from: `the point (${m.x.map((v) => Number(v.toPrecision(3))).join(", ")})` };
  else if (m.test !== undefined && test && Number.isInteger(m.test) && m.test >= 0 && m.test < test.n) selected = { x: test.x.slice(m.test * size, (m.test + 1) * size), from: `test sample ${m.test}` };
  else selected = undefined;
  postAttribution();
}

/** An image classifier's strip of test images (a few per class), or undefined for other models; a new strip forgets the pick. */
function postStrip(): void {
  const s = session;
  const model = explainModel();
  const test = s?.data.test;
  const categorical = Object.keys(s?.data.preprocess.csv?.categories ?? {}).length > 0;
  const shape = s && model && test && test.n > 0 && (s.task.kind === "multiclass" || s.task.kind === "binary") ? imageShapeOf(model.meta.inputShape, model.meta.inputs === undefined, categorical) : undefined;
  imageShape = shape;
  picked = undefined;
  const strip = s && model && test && shape ? imageStrip(model, test, shape, s.task, s.data.preprocess.classes) : undefined;
  post({ type: "images", strip }, strip ? [strip.pixels.buffer as ArrayBuffer] : []);
}

/** The picked test image explained for its predicted class (`images.ts`). */
function postImagePick(): void {
  const s = session;
  const model = explainModel();
  const test = s?.data.test;
  if (!s || !model || !test || !imageShape || picked === undefined) return;
  const size = model.meta.inputSize;
  const x = test.x.subarray(picked * size, (picked + 1) * size);
  const pick = imagePick(model, x, picked, classOf(test.y, picked, model.meta.outputSize), imageShape, s.task, s.trainer.epoch);
  post({ type: "imagePick", pick }, pickBuffers(pick));
}

/** A copy of the first convolution's filters, when the model has one. */
function postFilters(): void {
  if (!session) return;
  const e = session.model.layout.find((x) => x.name === FILTERS);
  if (!e || e.shape.length !== 4) return;
  const weights = Float32Array.from(session.model.params.subarray(e.offset, e.offset + e.size));
  post({ type: "filters", filters: { name: e.name, shape: e.shape, weights, epoch: session.trainer.epoch } }, [weights.buffer]);
}

function postState(reason: string | undefined): void {
  const t = session?.trainer;
  post({ type: "state", running, epoch: t?.epoch ?? 0, done: t?.done ?? false, reason });
}

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

function picture(force = false): void {
  if (!session) return;
  const now = performance.now();
  if (!force && now - lastPicture < PICTURE_MS) return;
  lastPicture = now;
  postFilters();
  postAttribution();
  postImagePick();
  postPrediction();
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
    extent = [x0, x1, y0, y1];
    postInsight(force);
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
    post({ type: "picture", picture: pic }, [probs.buffer, pxs.buffer, pcs.buffer, txs.buffer, tcs.buffer]);
  } else if (task.kind === "multiclass" || task.kind === "binary") {
    postInsight(force);
    const split = data.validation ?? data.test ?? train;
    const name = data.validation ? "validation" : data.test ? "test" : "training";
    const v = evaluate(model, split, task, ["confusion_matrix"]);
    if (v.confusion) post({ type: "picture", picture: { kind: "confusion", split: name, matrix: v.confusion } });
  } else if (meta.inputSize === 1 && meta.outputSize === 1 && task.kind === "regression") {
    postInsight(force);
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
    post({ type: "picture", picture: { kind: "curve", xs, ys, px: pxs, py: pys } }, [xs.buffer, ys.buffer, pxs.buffer, pys.buffer]);
  }
}

function finish(): void {
  if (!session || testPosted) return;
  testPosted = true;
  postTest();
}

/** The test split's loss and metrics, as `nnc eval` prints them. */
function postTest(): void {
  const s = session;
  if (s?.data.test) {
    const v = evaluate(s.model, s.data.test, s.task, s.trainer.config.metrics);
    const values: Record<string, number> = {};
    for (const [k, x] of Object.entries(v)) if (typeof x === "number") values[k] = x;
    post({ type: "test", values });
  }
}

function tick(): void {
  const s = session;
  if (!s || !running) return;
  const t = s.trainer;
  const until = performance.now() + SLICE_MS;
  let last: { epoch: number; batch: number; batches: number; loss: number } | undefined;
  while (performance.now() < until && running) {
    if (t.done) break;
    if (!inEpoch) {
      t.beginEpoch();
      inEpoch = true;
    }
    const b = t.step();
    if (b) {
      last = b;
      continue;
    }
    inEpoch = false;
    const r = t.endEpoch();
    if (r) post({ type: "epoch", epoch: r.epoch, lr: r.lr, seconds: r.seconds, samplesPerSecond: r.samplesPerSecond, values: r.values });
    postFilters();
    if (stepping) {
      running = false;
      stepping = false;
    }
    picture(!running);
    if (msPerEpoch > 0 && running && !t.done) {
      // Slowed down: the next epoch after a pause, so the run can be watched.
      picture(true);
      waiting = setTimeout(() => {
        waiting = undefined;
        tick();
      }, msPerEpoch);
      return;
    }
  }
  if (last) post({ type: "progress", ...last });
  picture();
  if (t.done) {
    running = false;
    picture(true);
    finish();
    postState(t.diverged?.message ?? t.stopReason ?? "finished");
    return;
  }
  if (running) yieldThen();
  else postState(undefined);
}

/** The Search panel's search (its own instance of this worker): trials one at a time. */
const search = new PageSearch(post);

scope.onmessage = (e) => {
  const m = e.data;
  switch (m.type) {
    case "search":
      void search.run(m, reader(m.files, m.csv), (p) => (m.csv ? withCsv(p, m.csv) : p)).catch((err: unknown) => post({ type: "searchFailed", message: `the playground failed: ${String(err)}`, diagnostics: [] }));
      break;
    case "stopSearch":
      search.stop();
      break;
    case "load":
      void load(m).catch((err: unknown) => fail(`the playground failed: ${String(err)}`, []));
      break;
    case "run":
    case "step":
      if (!session || session.trainer.done || swapping) return;
      stepping = m.type === "step";
      if (!running) {
        running = true;
        postState(undefined);
        yieldThen();
      }
      break;
    case "pause":
      running = false;
      stepping = false;
      if (waiting !== undefined) clearTimeout(waiting);
      waiting = undefined;
      postState(undefined);
      break;
    case "speed":
      msPerEpoch = m.msPerEpoch;
      break;
    case "explain":
      select(m);
      break;
    case "pickImage":
      picked = session?.data.test && m.test !== undefined && Number.isInteger(m.test) && m.test >= 0 && m.test < session.data.test.n ? m.test : undefined;
      postImagePick();
      break;
    case "predict":
      typed = m.text;
      postPrediction();
      break;
    case "hash":
      if (session) post({ type: "hash", hash: paramsHash(session.model.params) });
      break;
    case "weights":
      if (session) post({ type: "weights", text: encodeWeights(session.model, session.data.preprocess, session.task, epochsBefore + session.trainer.epoch) });
      break;
    case "setWeights":
      void setWeights(m).catch((err: unknown) => fail(`the playground failed: ${String(err)}`, []));
      break;
  }
};
