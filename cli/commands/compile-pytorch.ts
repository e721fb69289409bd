/**
 * `nnc compile FILE --target pytorch -o model.py`: the Python script (`compiler/codegen/pytorch/`)
 * and, beside it, `model.nndata`: what the script trains on, prepared by nnc exactly as
 * `nnc train` prepares it — the splits read, split and preprocessed, the seeded initial
 * weights, each epoch's shuffle order (as `runtime/train.ts` draws it) and each step's
 * learning rate — plus the header of the weights.json the script writes back.
 *
 * The data file is `NNCDATA1`, a little-endian u32 header length, the header (JSON: the
 * settings and, per array, its dtype, shape and byte offset), then the raw arrays, each at a
 * multiple of 8 bytes: numpy reads them with `np.frombuffer`, no other dependency.
 */
import { mkdirSync } from "node:fs";
import { basename, dirname, extname } from "node:path";
import { emitPytorch } from "../../compiler/codegen/pytorch/index.js";
import { diag, type Diagnostic } from "../../grammar/diagnostics.js";
import { FILE_START } from "../../grammar/span.js";
import type { Program } from "../../compiler/program.js";
import { writeFileAtomic } from "../../runtime/node/atomic.js";
import { compileModel } from "../../runtime/node/model.js";
import { deriveSeed, Rng } from "../../runtime/rng.js";
import { learningRate } from "../../runtime/schedule.js";
import { encodeWeights } from "../../runtime/weights.js";
import type { Split } from "../../runtime/prepare.js";
import type { Session } from "../../runtime/session.js";
import { CliError } from "../errors.js";
import { renderFor } from "../load.js";
import { failOnErrors, openSession } from "../session.js";

export const DATA_MAGIC = "NNCDATA1";

/**
 * Writes the script and its data file; any problem ends in a CliError. `opened`: a session of
 * this program already open (the tests train it in nnc too), instead of opening one.
 */
export async function compilePytorch(file: string, source: string, program: Program, output: string, opened?: Session): Promise<void> {
  const dataFile = basename(output, extname(output)) + ".nndata";
  const emitted = emitPytorch(program, { dataFile, script: basename(output), source: basename(file) });
  failOnErrors(emitted.diagnostics.map((d) => ({ ...d, file })), file, source);
  const session = opened ?? (await openPytorchSession(file, source, program));
  const refused = dataProblem(session);
  if (refused) failOnErrors([{ ...refused, file }], file, source);
  const bytes = dataBytes(session);
  try {
    mkdirSync(dirname(output), { recursive: true }); // the script's own folder, for it and its data
  } catch {
    // writeFileAtomic below says what is wrong with the path
  }
  const dataPath = output.slice(0, output.length - basename(output).length) + dataFile;
  for (const [path, content] of [[dataPath, bytes], [output, emitted.value as string]] as const) {
    const failed = writeFileAtomic(path, content);
    if (failed) throw new CliError(renderFor([failed], undefined, "text", process.stderr));
  }
  process.stderr.write(`wrote ${output} and ${dataPath}\n`);
}

/** The session whose data and initial weights the script gets; the initial weights do not depend on the kernels: the TypeScript ones, without wasm's notes. */
export async function openPytorchSession(file: string, source: string, program: Program): Promise<Session> {
  const compiled = compileModel(program, "float32", "js");
  failOnErrors(compiled.diagnostics.map((d) => ({ ...d, file })), file, source);
  return openSession(file, source, program, {}, undefined, compiled.value);
}

/** Runs the script cannot repeat from prepared arrays (NN5045), or undefined. */
function dataProblem(s: Session): Diagnostic | undefined {
  const span = s.program.data?.span ?? FILE_START;
  if (s.data.train.ids !== undefined) return diag("pytorchData", span, ["a language model's targets (one class per step) are not carried yet"], { hint: "use `--target ts`" });
  if (s.program.train.schedule.kind === "reduce_on_plateau")
    return diag("pytorchData", s.program.train.schedule.span, ["`reduce_on_plateau` sets the rate from the metrics of each epoch, which the prepared rates cannot hold"], { hint: "use a `step`, `exponential` or `cosine` schedule" });
  return undefined;
}

interface ArrayOut {
  readonly name: string;
  readonly dtype: "<f4" | "<u4" | "<f8";
  readonly shape: readonly number[];
  readonly data: Float32Array | Uint32Array | Float64Array;
}

/** The data file's bytes for a session: its header, then the arrays. */
export function dataBytes(s: Session): Uint8Array {
  const { model, data, trainer, program } = s;
  trainer.init();
  const config = trainer.config;
  const n = data.train.n;
  const batch = Math.max(1, Math.min(config.batch, model.meta.maxBatch));
  const batches = trainer.batches;
  // Each epoch's order, as `Trainer.beginEpoch` draws it (the parity test trains both and compares).
  const order = new Uint32Array(config.epochs * n);
  const lr = new Float64Array(config.epochs * batches);
  const plan = { base: config.lr, schedule: config.schedule, warmup: config.warmup, epochs: config.epochs, stepsPerEpoch: batches };
  for (let e = 0; e < config.epochs; e++) {
    const o = order.subarray(e * n, (e + 1) * n);
    for (let i = 0; i < n; i++) o[i] = i;
    if (config.shuffle) new Rng(deriveSeed(config.shuffleSeed, e)).shuffle(o);
    for (let b = 0; b < batches; b++) lr[e * batches + b] = learningRate(plan, e, b);
  }
  const split = (name: string, sp: Split | undefined): ArrayOut[] =>
    sp === undefined
      ? []
      : [
          { name: `${name}_x`, dtype: "<f4", shape: [sp.n, sp.features], data: sp.x },
          { name: `${name}_y`, dtype: "<f4", shape: [sp.n, sp.y.length / Math.max(1, sp.n)], data: sp.y },
        ];
  const arrays: ArrayOut[] = [
    { name: "init", dtype: "<f4", shape: [model.params.length], data: Float32Array.from(model.params) },
    { name: "order", dtype: "<u4", shape: [config.epochs, n], data: order },
    { name: "lr", dtype: "<f8", shape: [config.epochs, batches], data: lr },
    ...split("train", data.train),
    ...split("validation", data.validation),
    ...split("test", data.test),
  ];
  const { params: _params, ...weights } = JSON.parse(encodeWeights(model, data.preprocess, s.task, 0)) as Record<string, unknown>;
  const header = (offsets: readonly number[]): string =>
    JSON.stringify({
      format: "nnc-pytorch-data",
      version: 1,
      seed: program.model.seed,
      epochs: config.epochs,
      batch,
      task: s.task,
      weights,
      arrays: Object.fromEntries(arrays.map((a, i) => [a.name, { dtype: a.dtype, shape: a.shape, offset: offsets[i] }])),
    });
  // The offsets depend on the header's length and it on them: lay out twice, with room to spare.
  const place = (start: number): number[] => {
    let at = Math.ceil(start / 8) * 8;
    return arrays.map((a) => {
      const here = at;
      at = Math.ceil((at + a.data.byteLength) / 8) * 8;
      return here;
    });
  };
  const offsets = place(12 + new TextEncoder().encode(header(place(0).map(() => 0))).length + 64 * arrays.length);
  const text = new TextEncoder().encode(header(offsets));
  if (12 + text.length > (offsets[0] as number)) throw new Error("bug: the data header outgrew its room");
  const last = arrays.length - 1;
  const out = new Uint8Array((offsets[last] as number) + (arrays[last] as ArrayOut).data.byteLength);
  out.set(new TextEncoder().encode(DATA_MAGIC), 0);
  new DataView(out.buffer).setUint32(8, text.length, true);
  out.set(text, 12);
  out.fill(0x20, 12 + text.length, offsets[0]); // spaces: the header stays valid JSON if read whole
  arrays.forEach((a, i) => out.set(new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength), offsets[i]));
  return out;
}
