/**
 * Checkpoint encoding (browser-safe; the Node side writes it atomically). Layout:
 *
 *     "NNCK"  u32 version  u32 header-bytes  header (UTF-8 JSON)  padding to 8
 *     params  optimizer  best-params          (raw little-endian float32 or float64)
 *     u32 FNV-1a checksum of everything before it
 *
 * The header holds the model hash, epoch, optimizer step, RNG state, early-stopping state,
 * history and preprocessing statistics; since version 2 also the run's seeds and a fingerprint
 * of its data (`run`), and, for a run stopped inside an epoch, where (`position`). A run with
 * `reduce_on_plateau` adds its state (`plateau`): an optional field, so the version stays; a
 * checkpoint without it (an older one, or another schedule's) starts the plateau afresh. So
 * does `prune` with its masks (`runtime/prune.ts`): without them, a resumed run masks nothing
 * until its next pruning epoch.
 *
 * Version 3 (written once the history has `HISTORY_SEGMENT` epochs, when the writer keeps
 * segments, `runtime/node/checkpoint.ts`): the history's first full segments of
 * `HISTORY_SEGMENT` epochs live in files of their own, written once each, and the header holds
 * only the epochs after them and each segment file's hash (`historySegments`). So a checkpoint
 * every epoch writes a bounded amount, not the whole history again: n epochs cost O(n), not
 * O(n²) (8,000 epochs of `checkpoint every 1` took 172 s). Versions 1 and 2 are still read.
 *
 * Everything in the header is checked against its schema before it is used (`headerProblem`):
 * a file with a valid checksum but a malformed header, history or optimizer state is one
 * NN5003 naming the field, never an exception.
 */
import type { Floats } from "../compiler/model-api.js";
import type { Preprocess } from "./preprocess.js";
import { fnv32, fnv64 } from "./hash.js";
import type { EpochPosition, EpochRecord, TrainerState } from "./train.js";
import { plateauProblem, type PlateauState } from "./schedule.js";
import { pruneProblem, type PruneState } from "./prune.js";

const MAGIC = [0x4e, 0x4e, 0x43, 0x4b]; // "NNCK"
export const CHECKPOINT_VERSION = 2;
/** The version of a checkpoint whose history begins in segment files (`historySegments`). */
export const SEGMENTED_CHECKPOINT_VERSION = 3;
/** Versions this nnc reads: 1 has no `run` and no `position`; 3 has `historySegments`. */
const READABLE = new Set([1, 2, 3]);
/** Epochs per history segment file (version 3). */
export const HISTORY_SEGMENT = 256;

/**
 * What a checkpoint must share with the run that resumes it, besides the model (the hash):
 * the seeds and the data trained on. Another seed or other data would continue a different run
 * without a word, so `--resume` compares them (`runMismatch`).
 */
export interface RunIdentity {
  readonly seed: number;
  readonly shuffleSeed: number;
  /** `hashFloats` of the training and validation splits, as trained on (after preprocessing). */
  readonly data: string;
  readonly samples: { readonly train: number; readonly validation: number };
}

export interface CheckpointHeader {
  readonly format: "nnc-checkpoint";
  /** Hash of the model, loss and optimizer declarations: a checkpoint of another model is refused. */
  readonly hash: string;
  readonly model: string;
  readonly dtype: "float32" | "float64";
  readonly epoch: number;
  readonly step: number;
  readonly rng: number;
  readonly wait: number;
  readonly stopped: boolean;
  readonly best: { readonly value: number; readonly epoch: number } | null;
  readonly history: readonly EpochRecord[];
  readonly preprocess: Preprocess;
  /** Version 2: the seeds and data of the run (absent in version 1). */
  readonly run?: RunIdentity;
  /** Version 2: set when the run stopped inside an epoch. */
  readonly position?: EpochPosition;
  /**
   * Version 3: the `fnv64` hashes of the history segment files holding the first
   * `historySegments.length × HISTORY_SEGMENT` epochs; `history` holds the epochs after them.
   */
  readonly historySegments?: readonly string[];
  /** With `reduce_on_plateau`: its state after the completed epochs (optional in versions 2 and 3). */
  readonly plateau?: PlateauState;
  /** With `prune`: the masks after the completed epochs (optional, as `plateau`). */
  readonly prune?: PruneState;
  readonly lengths: { readonly params: number; readonly optimizer: number; readonly best: number };
}

export interface Checkpoint {
  readonly header: CheckpointHeader;
  /** Its `history` is complete only when `header.historySegments` is absent (see `withSegments`). */
  readonly state: TrainerState;
}

/**
 * `segments`: the hashes of the history segment files already written (`encodeHistorySegment`)
 * for the first `segments.length × HISTORY_SEGMENT` epochs of `state.history`; the header then
 * holds only the epochs after them (version 3). Without it the whole history is in the header
 * (version 2).
 */
export function encodeCheckpoint(
  state: TrainerState,
  hash: string,
  model: string,
  preprocess: Preprocess,
  run?: RunIdentity,
  segments?: readonly string[],
): Uint8Array {
  const dtype = state.model.params instanceof Float64Array ? "float64" : "float32";
  const segmented = segments !== undefined && segments.length > 0;
  const header: CheckpointHeader = {
    format: "nnc-checkpoint",
    hash,
    model,
    dtype,
    epoch: state.epoch,
    step: state.model.step,
    rng: state.model.rng,
    wait: state.wait,
    stopped: state.stopped,
    best: state.best ? { value: state.best.value, epoch: state.best.epoch } : null,
    history: segmented ? state.history.slice(segments.length * HISTORY_SEGMENT) : state.history,
    preprocess,
    ...(run ? { run } : {}),
    ...(state.position ? { position: state.position } : {}),
    ...(segmented ? { historySegments: segments } : {}),
    ...(state.plateau ? { plateau: state.plateau } : {}),
    ...(state.prune ? { prune: state.prune } : {}),
    lengths: {
      params: state.model.params.length,
      optimizer: state.model.optimizer.length,
      best: state.best ? state.best.params.length : 0,
    },
  };
  const head = new TextEncoder().encode(JSON.stringify(header));
  const el = dtype === "float64" ? 8 : 4;
  const start = align8(12 + head.length);
  const arrays: Floats[] = [state.model.params, state.model.optimizer];
  if (state.best) arrays.push(state.best.params);
  const body = arrays.reduce((s, a) => s + a.length * el, 0);
  const out = new Uint8Array(start + body + 4);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  view.setUint32(4, segmented ? SEGMENTED_CHECKPOINT_VERSION : CHECKPOINT_VERSION, true);
  view.setUint32(8, head.length, true);
  out.set(head, 12);
  let p = start;
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++, p += el) {
      if (el === 8) view.setFloat64(p, a[i]!, true);
      else view.setFloat32(p, a[i]!, true);
    }
  }
  view.setUint32(p, fnv32(out.subarray(0, p)), true);
  return out;
}

/** Decodes and verifies; a string says what is wrong (the caller wraps it in NN5003). */
export function decodeCheckpoint(bytes: Uint8Array): Checkpoint | string {
  if (bytes.length < 16 || MAGIC.some((b, i) => bytes[i] !== b)) return "it is not an nnc checkpoint";
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!READABLE.has(view.getUint32(4, true))) return `unsupported version ${view.getUint32(4, true)}`;
  const sum = view.getUint32(bytes.length - 4, true);
  if (fnv32(bytes.subarray(0, bytes.length - 4)) !== sum) return "its checksum does not match (the file is truncated or altered)";
  const version = view.getUint32(4, true);
  const headLen = view.getUint32(8, true);
  if (12 + headLen > bytes.length - 4) return "its header is longer than the file";
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headLen)));
  } catch {
    return "its header is not valid JSON";
  }
  const problem = headerProblem(parsed, version);
  if (problem !== undefined) return `its header is malformed: ${problem}`;
  const header = parsed as CheckpointHeader;
  const el = header.dtype === "float64" ? 8 : 4;
  const Arr = header.dtype === "float64" ? Float64Array : Float32Array;
  const { lengths } = header;
  let p = align8(12 + headLen);
  if (p + (lengths.params + lengths.optimizer + lengths.best) * el + 4 !== bytes.length) return "its size does not match its header";
  const read = (n: number): Floats => {
    const a = new Arr(n);
    for (let i = 0; i < n; i++, p += el) a[i] = el === 8 ? view.getFloat64(p, true) : view.getFloat32(p, true);
    return a;
  };
  const params = read(lengths.params);
  const optimizer = read(lengths.optimizer);
  const bestParams = read(lengths.best);
  if (!allFinite(params)) return "its weights hold a value that is not a finite number";
  if (!allFinite(optimizer)) return "its optimizer state holds a value that is not a finite number";
  if (!allFinite(bestParams)) return "its best weights hold a value that is not a finite number";
  const best = lengths.best > 0 && header.best ? { ...header.best, params: bestParams } : undefined;
  return {
    header,
    state: {
      epoch: header.epoch,
      model: { params, optimizer, step: header.step, rng: header.rng },
      history: header.history,
      best,
      wait: header.wait,
      stopped: header.stopped,
      ...(header.position ? { position: header.position } : {}),
      ...(header.plateau ? { plateau: header.plateau } : {}),
      ...(header.prune ? { prune: header.prune } : {}),
    },
  };
}

/** A history segment file's text: its epochs as a JSON array. */
export function encodeHistorySegment(records: readonly EpochRecord[]): string {
  return JSON.stringify(records);
}

/** The hash a version-3 header records for a segment file's text. */
export function historySegmentHash(text: string): string {
  return fnv64(text);
}

/**
 * The checkpoint with its whole history: the segment files' texts (in order) checked against
 * the header's hashes and schema, then the header's own epochs after them. A string says what is
 * wrong (the caller wraps it in NN5003).
 */
export function withSegments(c: Checkpoint, texts: readonly string[]): Checkpoint | string {
  const hashes = c.header.historySegments ?? [];
  if (texts.length !== hashes.length) return `it needs ${hashes.length} history files and ${texts.length} were given`;
  const history: EpochRecord[] = [];
  for (let k = 0; k < hashes.length; k++) {
    const text = texts[k]!;
    if (historySegmentHash(text) !== hashes[k]) return `its history file ${k} does not match the checkpoint (it is truncated or altered)`;
    let records: unknown;
    try {
      records = JSON.parse(text);
    } catch {
      return `its history file ${k} is not valid JSON`;
    }
    if (!Array.isArray(records) || records.length !== HISTORY_SEGMENT) return `its history file ${k} does not hold ${HISTORY_SEGMENT} epochs`;
    for (let i = 0; i < records.length; i++) {
      const why = recordProblem(records[i], history.length + 1);
      if (why !== undefined) return `its history file ${k} is malformed: ${why}`;
      history.push(records[i] as EpochRecord);
    }
  }
  for (const r of c.header.history) history.push(r);
  return { header: { ...c.header, history }, state: { ...c.state, history } };
}

/**
 * How a checkpoint's run differs from the run about to resume it: undefined when the seeds
 * and data match (or the checkpoint, of version 1, does not record them), else what differs
 * and how to go on.
 */
export function runMismatch(
  saved: RunIdentity | undefined,
  now: RunIdentity,
  /** The seeds the file itself declares (what a run without --seed uses), for the hint. */
  fileSeeds?: { readonly seed: number; readonly shuffleSeed: number },
): { why: string; hint: string } | undefined {
  if (!saved) return undefined;
  if (saved.seed !== now.seed || saved.shuffleSeed !== now.shuffleSeed) {
    const seeds = (r: { seed: number; shuffleSeed: number }): string => (r.seed === r.shuffleSeed ? `seed ${r.seed}` : `seed ${r.seed} (shuffle seed ${r.shuffleSeed})`);
    const how =
      fileSeeds && fileSeeds.seed === saved.seed && fileSeeds.shuffleSeed === saved.shuffleSeed
        ? "leave out --seed to continue it"
        : saved.seed === saved.shuffleSeed
          ? `pass --seed ${saved.seed} to continue it`
          : `declare ${seeds(saved)} in the file again to continue it`;
    return {
      why: `it was trained with ${seeds(saved)}, and this run has ${seeds(now)}`,
      hint: `${how}, or choose another --out (or delete the checkpoint) to start over`,
    };
  }
  if (saved.data !== now.data) {
    const n = (r: RunIdentity): string => `${r.samples.train} training${r.samples.validation > 0 ? ` and ${r.samples.validation} validation` : ""} samples`;
    const counts = saved.samples.train !== now.samples.train || saved.samples.validation !== now.samples.validation ? `it was trained on ${n(saved)}, this run has ${n(now)}` : "it was trained on the same number of samples, but other values";
    return {
      why: `its data differ from this run's (${counts})`,
      hint: "restore the data (and preprocessing) it was trained on, or choose another --out (or delete the checkpoint) to start over",
    };
  }
  return undefined;
}

function isFiniteNumber(x: unknown): x is number {
  return typeof x === "number" && Number.isFinite(x);
}

function isPosition(p: unknown): p is EpochPosition {
  const o = p as EpochPosition;
  return (
    typeof p === "object" &&
    p !== null &&
    Number.isSafeInteger(o.batch) &&
    Number.isSafeInteger(o.batches) &&
    o.batch >= 0 &&
    o.batch <= o.batches &&
    isFiniteNumber(o.lr) &&
    isFiniteNumber(o.seconds) &&
    typeof o.running === "object" &&
    o.running !== null &&
    Array.isArray(o.running.confusion)
  );
}

function isRun(r: unknown): r is RunIdentity {
  const o = r as RunIdentity;
  return (
    typeof r === "object" &&
    r !== null &&
    isFiniteNumber(o.seed) &&
    isFiniteNumber(o.shuffleSeed) &&
    typeof o.data === "string" &&
    typeof o.samples === "object" &&
    o.samples !== null &&
    Number.isSafeInteger(o.samples.train) &&
    Number.isSafeInteger(o.samples.validation)
  );
}

function allFinite(a: Floats): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return false;
  return true;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function isCount(x: unknown): x is number {
  return Number.isSafeInteger(x) && (x as number) >= 0;
}

/** Most values a header array may hold (a bound far above any real run, so a hand-made header cannot ask for gigabytes). */
const MAX_LENGTH = 2 ** 31 - 1;

/** What is wrong with a history record expected to be epoch `epoch`, or undefined. */
function recordProblem(r: unknown, epoch: number): string | undefined {
  if (!isObject(r)) return `epoch ${epoch} is not a record`;
  if (r["epoch"] !== epoch) return `record ${epoch} is of epoch ${JSON.stringify(r["epoch"]) ?? "undefined"}`;
  for (const k of ["lr", "seconds", "samplesPerSecond"] as const) {
    if (typeof r[k] !== "number" && r[k] !== null) return `epoch ${epoch}: \`${k}\` is not a number`;
  }
  const values = r["values"];
  if (!isObject(values)) return `epoch ${epoch}: \`values\` is not an object`;
  for (const k of Object.keys(values)) {
    if (typeof values[k] !== "number" && values[k] !== null) return `epoch ${epoch}: the value of \`${k.slice(0, 40)}\` is not a number`;
  }
  return undefined;
}

/**
 * What is wrong with a decoded header, or undefined: every field the trainer will use, checked
 * for its type and range (a file can have a valid checksum and still be hand-made or written
 * by a buggy tool).
 */
export function headerProblem(h: unknown, version: number): string | undefined {
  if (!isObject(h)) return "it is not an object";
  if (h["format"] !== "nnc-checkpoint") return "`format` is not \"nnc-checkpoint\"";
  if (typeof h["hash"] !== "string") return "`hash` is not a string";
  if (typeof h["model"] !== "string") return "`model` is not a string";
  if (h["dtype"] !== "float32" && h["dtype"] !== "float64") return "`dtype` is neither float32 nor float64";
  for (const k of ["epoch", "step", "wait"] as const) if (!isCount(h[k])) return `\`${k}\` is not a whole number ≥ 0`;
  if (!isFiniteNumber(h["rng"])) return "`rng` is not a number";
  if (typeof h["stopped"] !== "boolean") return "`stopped` is not true or false";
  const best = h["best"];
  if (best !== null && !(isObject(best) && isFiniteNumber(best["value"]) && isCount(best["epoch"]))) return "`best` is neither null nor { value, epoch }";
  if (!isObject(h["preprocess"])) return "`preprocess` is not an object";
  const lengths = h["lengths"];
  if (!isObject(lengths)) return "`lengths` is not an object";
  for (const k of ["params", "optimizer", "best"] as const) {
    const n = lengths[k];
    if (!isCount(n) || n > MAX_LENGTH) return `\`lengths.${k}\` is not a whole number ≥ 0`;
  }
  const np = lengths["params"] as number;
  const no = lengths["optimizer"] as number;
  if (no > 0 && (np === 0 || no % np !== 0)) return `its optimizer state holds ${no} values, which is not a multiple of its ${np} weights`;
  if (lengths["best"] !== 0 && lengths["best"] !== np) return `its best weights hold ${String(lengths["best"])} values, and its weights ${np}`;
  if (lengths["best"] !== 0 && best === null) return "it holds best weights but no `best` record";
  const segments = h["historySegments"];
  if (segments !== undefined && (version < SEGMENTED_CHECKPOINT_VERSION || !Array.isArray(segments) || !segments.every((x) => typeof x === "string")))
    return "`historySegments` is not a list of hashes of a version-3 checkpoint";
  const history = h["history"];
  if (!Array.isArray(history)) return "`history` is not a list";
  const first = (Array.isArray(segments) ? segments.length : 0) * HISTORY_SEGMENT;
  for (let i = 0; i < history.length; i++) {
    const why = recordProblem(history[i], first + i + 1);
    if (why !== undefined) return `\`history\`: ${why}`;
  }
  if (first + history.length > (h["epoch"] as number)) return `\`history\` holds ${first + history.length} epochs, more than the ${String(h["epoch"])} trained`;
  if (h["position"] !== undefined && !isPosition(h["position"])) return "its position inside an epoch is malformed";
  if (h["run"] !== undefined && !isRun(h["run"])) return "its record of the run's seeds and data is malformed";
  if (h["plateau"] !== undefined) {
    const why = plateauProblem(h["plateau"]);
    if (why !== undefined) return `\`plateau\`: ${why}`;
  }
  if (h["prune"] !== undefined) {
    const why = pruneProblem(h["prune"]);
    if (why !== undefined) return `\`prune\`: ${why}`;
  }
  return undefined;
}

function align8(n: number): number {
  return (n + 7) & ~7;
}
