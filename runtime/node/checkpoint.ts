/**
 * Reading a checkpoint for `--resume` and checking that it belongs to this run: the same
 * model (NN5002), intact (NN5003), the same seeds and data (NN5009). Checkpoints are written
 * like every other file, through `writeFileAtomic` (atomic.ts).
 *
 * `CheckpointWriter` keeps a long history out of each checkpoint: every full segment of
 * `HISTORY_SEGMENT` epochs is written once, to a file of its own beside the checkpoint
 * (`checkpoint.nnck.history-0`, …, atomically, before the checkpoint that names it), and the
 * checkpoint holds only the later epochs and the segments' hashes (version 3). A checkpoint
 * every epoch then costs a bounded write, and a run of n epochs O(n) in all.
 */
import { basename, dirname, join } from "node:path";
import { diag, type Diagnostic, type Result } from "../../grammar/diagnostics.js";
import { FILE_START } from "../../grammar/span.js";
import {
  decodeCheckpoint,
  encodeCheckpoint,
  encodeHistorySegment,
  HISTORY_SEGMENT,
  historySegmentHash,
  runMismatch,
  withSegments,
  type Checkpoint,
  type RunIdentity,
} from "../checkpoint.js";
import type { Preprocess } from "../preprocess.js";
import type { EpochRecord, TrainerState } from "../train.js";
import { listNames } from "../span.js";
import { readBounded, readBoundedText } from "./read.js";

/** The file name of history segment `k` of the checkpoint named `checkpoint`. */
export function historySegmentName(checkpoint: string, k: number): string {
  return `${checkpoint}.history-${k}`;
}

/** Where a writer puts files: `RunOutput` (output.ts) or anything with its `path` and `write`. */
export interface CheckpointFolder {
  path(name: string): string;
  write(name: string, content: Uint8Array | string, hint?: string): Diagnostic | undefined;
}

/**
 * Writes the checkpoints of one run. Segments already on disk are remembered by the epoch
 * records they hold (the trainer's history only grows, its records are never replaced), so
 * each `write` writes at most the segments that filled since the last one and a checkpoint of
 * fewer than `HISTORY_SEGMENT` epochs of history.
 */
export class CheckpointWriter {
  /** Per segment written: its hash and its last record (the same object while the history is the same). */
  private readonly written: { hash: string; last: EpochRecord }[] = [];

  constructor(
    private readonly folder: CheckpointFolder,
    private readonly name: string,
  ) {}

  /** Writes the full segments not yet written, then the checkpoint; undefined, or the NN5005 of the failed write. */
  write(state: TrainerState, hash: string, model: string, preprocess: Preprocess, run?: RunIdentity): Diagnostic | undefined {
    const h = state.history;
    // Forget segments whose records are not this history's (another trainer, or a restore).
    let keep = 0;
    while (keep < this.written.length && h[(keep + 1) * HISTORY_SEGMENT - 1] === this.written[keep]!.last) keep++;
    this.written.length = keep;
    for (let k = keep; (k + 1) * HISTORY_SEGMENT <= h.length; k++) {
      const text = encodeHistorySegment(h.slice(k * HISTORY_SEGMENT, (k + 1) * HISTORY_SEGMENT));
      const d = this.folder.write(historySegmentName(this.name, k), text);
      if (d) return d;
      this.written.push({ hash: historySegmentHash(text), last: h[(k + 1) * HISTORY_SEGMENT - 1]! });
    }
    const segments = this.written.map((w) => w.hash);
    return this.folder.write(this.name, encodeCheckpoint(state, hash, model, preprocess, run, segments));
  }
}

/**
 * Reads and decodes a checkpoint with its whole history (its segment files read from beside
 * it and checked against its hashes); a string says what is wrong.
 */
export function loadCheckpointFile(path: string): Checkpoint | string {
  const read = readBounded(path);
  return "bytes" in read ? attachSegments(decodeCheckpoint(read.bytes), path) : `it cannot be read (${read.why})`;
}

/** A decoded checkpoint (of the file at `path`) with the epochs of its segment files put back. */
function attachSegments(c: Checkpoint | string, path: string): Checkpoint | string {
  if (typeof c === "string" || c.header.historySegments === undefined) return c;
  const texts: string[] = [];
  for (let k = 0; k < c.header.historySegments.length; k++) {
    const seg = join(dirname(path), historySegmentName(basename(path), k));
    const read = readBoundedText(seg);
    if (!("text" in read)) return `its history file ${basename(seg)} cannot be read (${read.why})`;
    texts.push(read.text);
  }
  return withSegments(c, texts);
}

/** Reads and verifies a checkpoint; refuses one written for another model (NN5002) or another run (NN5009). */
export function readCheckpoint(
  path: string,
  shown: string,
  hash: string,
  paramCount?: number,
  /** The run about to continue it: its seeds and data, and its batches per epoch. */
  run?: {
    readonly identity: () => RunIdentity;
    readonly batches: number;
    /** The epochs the run is to train in all. */
    readonly epochs?: number;
    readonly fileSeeds?: { readonly seed: number; readonly shuffleSeed: number };
    /** Values of the model's optimizer state (`model.getState().optimizer.length`). */
    readonly optimizerCount?: number;
    /** The class names this run's data gives (undefined: numbered classes or regression). */
    readonly classes?: readonly string[];
  },
): Result<Checkpoint | undefined> {
  const read = readBounded(path);
  if (!("bytes" in read)) return { value: undefined, diagnostics: [diag("fileNotFound", FILE_START, [shown, read.why], read.hint === undefined ? {} : { hint: read.hint })] };
  const bytes: Uint8Array = read.bytes;
  const c = attachSegments(decodeCheckpoint(bytes), path);
  const fail = (d: Diagnostic): Result<undefined> => ({ value: undefined, diagnostics: [{ ...d, file: shown }] });
  if (typeof c === "string")
    return fail(diag("checkpointCorrupt", FILE_START, [shown, c], { hint: "delete it to start over, or restore a backup" }));
  if (c.header.hash !== hash)
    return fail(
      diag("checkpointOtherModel", FILE_START, [shown], {
        hint: `it belongs to model \`${c.header.model}\` as it was then; the model, loss or optimizer changed since. Use another --out folder, or delete the checkpoint to start over`,
      }),
    );
  if (paramCount !== undefined && c.state.model.params.length !== paramCount)
    return fail(
      diag("checkpointCorrupt", FILE_START, [shown, `it holds ${c.state.model.params.length} parameters, the model has ${paramCount}`], {
        hint: "it was written by another version of nnc; delete it to start over",
      }),
    );
  if (run?.optimizerCount !== undefined && c.state.model.optimizer.length !== run.optimizerCount)
    return fail(
      diag("checkpointCorrupt", FILE_START, [shown, `its optimizer state holds ${c.state.model.optimizer.length} values, the model's optimizer needs ${run.optimizerCount}`], {
        hint: "delete it to start over, or restore a backup",
      }),
    );
  const mismatch = run ? (classMismatch(c.header.preprocess.classes, run.classes) ?? runMismatch(c.header.run, run.identity(), run.fileSeeds)) : undefined;
  if (mismatch) return fail(diag("checkpointOtherRun", FILE_START, [shown, mismatch.why], { hint: mismatch.hint }));
  const pos = c.state.position;
  if (run && pos && pos.batches !== run.batches)
    return fail(
      diag("checkpointOtherRun", FILE_START, [shown, `it stopped after batch ${pos.batch} of ${pos.batches} in epoch ${c.state.epoch + 1}, and this run has ${run.batches} batches per epoch`], {
        hint: "restore the batch size it was trained with, or choose another --out (or delete the checkpoint) to start over",
      }),
    );
  if (run?.epochs !== undefined && pos && pos.batch > 0 && run.epochs <= c.state.epoch)
    return fail(
      diag("checkpointOtherRun", FILE_START, [shown, `it stopped inside epoch ${c.state.epoch + 1}, and this run ends after epoch ${run.epochs}`], {
        hint: `resume with --epochs ${c.state.epoch + 1} or more (or without --epochs)`,
      }),
    );
  return { value: c, diagnostics: [] };
}

/**
 * Class names that differ between a checkpoint and this run's data: output k meant another class
 * when it was trained, so resuming would train with the labels swapped (issue 22, item 5).
 */
export function classMismatch(saved: readonly string[] | undefined, now: readonly string[] | undefined): { why: string; hint: string } | undefined {
  const a = saved ?? [];
  const b = now ?? [];
  if (a.length === b.length && a.every((c, i) => c === b[i])) return undefined;
  const shown = (cs: readonly string[]): string => (cs.length === 0 ? "numbered classes" : listNames(cs));
  return {
    why: `its classes are ${shown(a)}, and this run's data give ${shown(b)}`,
    hint: "restore the labels it was trained with (the outputs follow the classes' order), or choose another --out (or delete the checkpoint) to start over",
  };
}
