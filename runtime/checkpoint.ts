/**
 * Checkpoint encoding (browser-safe; the Node side writes it atomically). Layout:
 *
 *     "NNCK"  u32 version  u32 header-bytes  header (UTF-8 JSON)  padding to 8
 *     params  optimizer  best-params          (raw little-endian float32 or float64)
 *     u32 FNV-1a checksum of everything before it
 *
 * The header holds the model hash, epoch, optimizer step, RNG state, early-stopping state,
 * history and preprocessing statistics; since version 2 also the run's seeds and a fingerprint
 * of its data (`run`), and, for a run stopped inside an epoch, where (`position`).
 */
import type { Floats } from "../compiler/model-api.js";
import type { Preprocess } from "./preprocess.js";
import { fnv32 } from "./hash.js";
import type { EpochPosition, EpochRecord, TrainerState } from "./train.js";

const MAGIC = [0x4e, 0x4e, 0x43, 0x4b]; // "NNCK"
export const CHECKPOINT_VERSION = 2;
/** Versions this nnc reads: 1 has no `run` and no `position`. */
const READABLE = new Set([1, 2]);

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
  readonly lengths: { readonly params: number; readonly optimizer: number; readonly best: number };
}

export interface Checkpoint {
  readonly header: CheckpointHeader;
  readonly state: TrainerState;
}

export function encodeCheckpoint(state: TrainerState, hash: string, model: string, preprocess: Preprocess, run?: RunIdentity): Uint8Array {
  const dtype = state.model.params instanceof Float64Array ? "float64" : "float32";
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
    history: state.history,
    preprocess,
    ...(run ? { run } : {}),
    ...(state.position ? { position: state.position } : {}),
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
  view.setUint32(4, CHECKPOINT_VERSION, true);
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
  const headLen = view.getUint32(8, true);
  let header: CheckpointHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headLen))) as CheckpointHeader;
  } catch {
    return "its header is not valid JSON";
  }
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
  if (header.position !== undefined && !isPosition(header.position)) return "its position inside an epoch is malformed";
  if (header.run !== undefined && !isRun(header.run)) return "its record of the run's seeds and data is malformed";
  const params = read(lengths.params);
  const optimizer = read(lengths.optimizer);
  const best = lengths.best > 0 && header.best ? { ...header.best, params: read(lengths.best) } : undefined;
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
    },
  };
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

function align8(n: number): number {
  return (n + 7) & ~7;
}
