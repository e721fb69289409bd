/**
 * Reading a checkpoint for `--resume` and checking that it belongs to this run: the same
 * model (NN5002), intact (NN5003), the same seeds and data (NN5009). Checkpoints are written
 * like every other file, through `writeFileAtomic` (atomic.ts).
 */
import { readFileSync } from "node:fs";
import { diag, type Diagnostic, type Result } from "../../grammar/diagnostics.js";
import { FILE_START } from "../../grammar/span.js";
import { decodeCheckpoint, runMismatch, type Checkpoint, type RunIdentity } from "../checkpoint.js";

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
  },
): Result<Checkpoint | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const why = (e as { code?: string }).code === "ENOENT" ? "no such file" : String(e);
    return { value: undefined, diagnostics: [diag("fileNotFound", FILE_START, [shown, why])] };
  }
  const c = decodeCheckpoint(bytes);
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
  const mismatch = run ? runMismatch(c.header.run, run.identity(), run.fileSeeds) : undefined;
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
