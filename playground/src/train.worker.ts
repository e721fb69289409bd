/**
 * The training worker: compiles the program to JavaScript, loads it with `loadModule`, and
 * trains it with the runtime's `Trainer` in slices of ~40 ms, so pause and step messages get
 * through and the page receives progress, epoch records and pictures while it learns.
 *
 * This file holds the page's messages, loading a program or a weights file, and the training
 * loop; what is shown of the model as it learns is `train-views.ts`, the data the program reads
 * `train-data.ts`, and the Search panel's search (another instance of this worker) `search-run.ts`.
 */
import { checkSource } from "../../compiler/check.js";
import { compileProgram } from "../../compiler/compile.js";
import { loadModule, defaultKernels } from "../../compiler/load.js";
import type { Program } from "../../compiler/program.js";
import { hasErrors, type Diagnostic } from "../../grammar/diagnostics.js";
import type { SourceReader } from "../../runtime/load.js";
import { classCount } from "../../runtime/metrics.js";
import { createSession, type RunOverrides, type Session } from "../../runtime/session.js";
import { evaluate } from "../../runtime/batches.js";
import { decodeWeights, encodeWeights } from "../../runtime/weights.js";
import { PageShards } from "./shards.js";
import { pageWorkers } from "./workers-choice.js";
import { shardingMacs } from "../../compiler/work.js";
import { isTextClassifier } from "./typing.js";
import { imageShapeOf } from "./images.js";
import { trainOnFile } from "./knobs/source-edits.js";
import type { ModelInfo, TrainRequest, TrainResponse } from "./protocol.js";
import { PageSearch } from "./search-run.js";
import { reader, withCsv } from "./train-data.js";
import { EXPLAIN_INPUTS, TrainViews } from "./train-views.js";

const scope = self as unknown as { postMessage(m: TrainResponse, transfer?: Transferable[]): void; onmessage: ((e: MessageEvent<TrainRequest>) => void) | null };
const post = (m: TrainResponse, transfer: Transferable[] = []): void => scope.postMessage(m, transfer);

/** Work done per slice before yielding to the message queue. */
const SLICE_MS = 40;

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
let testPosted = false;
/** Least time per epoch (the page's speed control), and the timer that waits it out. */
let msPerEpoch = 0;
let waiting: ReturnType<typeof setTimeout> | undefined;

/** The picture, filters, explanations and predictions the page shows, kept current as the model learns. */
const views = new TrainViews(post, () => session);

// A zero-delay yield (setTimeout is clamped to 4 ms when nested).
const channel = new MessageChannel();
channel.port1.onmessage = () => tick();
const yieldThen = (): void => channel.port2.postMessage(0);

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
  views.reset();
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
    const workers = pageWorkers(m.workers, m.workers === "auto" ? shardingMacs(program) : undefined, navigator.hardwareConcurrency || 1);
    stepper = await PageShards.start(session.model, compiled.value.code, workers, session.trainer.config.seed);
  } catch (e) {
    return fail(`the training workers did not start: ${e instanceof Error ? e.message : String(e)}`, []);
  }
  session.trainer.stepper = stepper;
  post({ type: "ready", diagnostics: [...compiled.diagnostics, ...made.diagnostics], info: modelInfo(session, stepper) });
  views.postStrip();
  views.picture(true);
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
    explain: views.explainModel() !== undefined && meta.inputSize <= EXPLAIN_INPUTS,
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
  views.postStrip();
  postTest();
  views.picture(true);
}

/** FNV-1a over the parameters' bytes: equal hashes, equal weights bit for bit (for the tests). */
function paramsHash(p: Float32Array | Float64Array): string {
  const bytes = new Uint8Array(p.buffer, p.byteOffset, p.byteLength);
  let h = 2166136261;
  for (const b of bytes) h = Math.imul(h ^ b, 16777619);
  return (h >>> 0).toString(16).padStart(8, "0");
}

function postState(reason: string | undefined): void {
  const t = session?.trainer;
  post({ type: "state", running, epoch: t?.epoch ?? 0, done: t?.done ?? false, reason });
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
    views.postFilters();
    if (stepping) {
      running = false;
      stepping = false;
    }
    views.picture(!running);
    if (msPerEpoch > 0 && running && !t.done) {
      // Slowed down: the next epoch after a pause, so the run can be watched.
      views.picture(true);
      waiting = setTimeout(() => {
        waiting = undefined;
        tick();
      }, msPerEpoch);
      return;
    }
  }
  if (last) post({ type: "progress", ...last });
  views.picture();
  if (t.done) {
    running = false;
    views.picture(true);
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
      views.select(m);
      break;
    case "pickImage":
      views.pick(m.test);
      break;
    case "predict":
      views.type(m.text);
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
