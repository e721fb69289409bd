/**
 * The sequence workloads (issue 14): an LSTM text classifier (`bench/models/lstm.nn`) and a
 * small causal transformer with the shape of examples/moby-dick.nn (`bench/models/transformer.nn`),
 * trained with Adam by nnc (TypeScript kernels and wasm SIMD kernels) and by PyTorch on one
 * thread (`bench/systems/torch_seq.py`), from the same initial weights (nnc's, copied by name
 * through `layout`) on the same batches.
 *
 *   npm run build && node dist/bench/sequence.js [--only LSTM,TRANSFORMER] [--steps 30] [--systems nnc,nnc-wasm,torch] [--json]
 *
 * The data are synthetic and seeded, so that nothing needs downloading and the models have
 * something to learn: the LSTM sorts 48-token sequences into 4 classes, each class drawing a
 * third of its tokens from its own quarter of a 64-token vocabulary; the transformer predicts the
 * next character of text from a random Markov chain over 98 characters (each character
 * followed by one of 3 favourites 85% of the time).
 *
 * Each system: warm-up steps (at least 3 and 1.5 s, at most 6 s), a reset to the shared weights
 * and a fresh Adam, then the timed steps in chunks of 5; the rate is the median chunk, in wall
 * time and in CPU time (the fairer number on a shared machine). Every step's loss is kept, and
 * each nnc row is checked against PyTorch's losses at the same steps: the first (the same
 * weights on the same batch: ≤ 1e-4 relative) and the mean of the last 5 (the same training:
 * ≤ 2% relative). The TypeScript kernels are slow enough that they run a prefix of the steps.
 * `bench/run.ts --only LSTM,TRANSFORMER` prints the same table within `npm run bench`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { checkSource } from "../compiler/check.js";
import { compileToModule } from "../compiler/load.js";
import type { CompiledModel, ParamEntry } from "../compiler/model-api.js";
import { hasErrors } from "../grammar/diagnostics.js";
import { mulberry32 } from "./data.js";
import { mallocNote, PYTHON, torchEnv, torchMissing } from "./systems/torch.js";
import { median } from "./harness.js";

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root, from `bench/` under tsx or `dist/bench/` when built. */
const root = here.endsWith(join("dist", "bench")) ? join(here, "..", "..") : join(here, "..");

const CHUNK = 5;
/** Warm-up of every system before its timed steps: at least 3 steps and this long (at most 6 s). */
const WARMUP_MS = 1500;
/** Relative tolerances of the loss check: the first step, and the mean of the last 5. */
export const FIRST_TOLERANCE = 1e-4;
export const FINAL_TOLERANCE = 0.02;

export interface SeqWorkload {
  readonly id: "LSTM" | "TRANSFORMER";
  readonly file: string;
  readonly batch: number;
  /** Sequence length T. */
  readonly steps: number;
  readonly vocab: number;
  /** Targets per sample: 1 (a class) or T (the next token at every step). */
  readonly targets: number;
  /** Output classes (at every step for a language model). */
  readonly classes: number;
  /** What torch_seq.py builds. */
  readonly torch: Record<string, number | string>;
}

export const WORKLOADS: readonly SeqWorkload[] = [
  { id: "LSTM", file: "lstm.nn", batch: 32, steps: 48, vocab: 64, targets: 1, classes: 4, torch: { kind: "lstm", dim: 32, units: 64 } },
  { id: "TRANSFORMER", file: "transformer.nn", batch: 32, steps: 64, vocab: 98, targets: 64, classes: 98, torch: { kind: "transformer", dim: 64, heads: 4, hidden: 256, blocks: 2 } },
];

/** A workload's batches: token ids as floats [S, B, T], targets as ids [S, B, targets], one-hot [S, B, targets, classes]. */
export interface SeqData {
  readonly x: Float32Array;
  readonly ids: BigInt64Array;
  readonly y: Float32Array;
}


export function makeData(w: SeqWorkload, trainSteps: number, seed = 1): SeqData {
  const r = mulberry32(seed);
  const int = (k: number): number => Math.floor(r() * k);
  const samples = trainSteps * w.batch;
  const x = new Float32Array(samples * w.steps);
  const ids = new BigInt64Array(samples * w.targets);
  if (w.targets === 1) {
    const quarter = w.vocab / w.classes;
    for (let s = 0; s < samples; s++) {
      const c = int(w.classes);
      ids[s] = BigInt(c);
      for (let t = 0; t < w.steps; t++) x[s * w.steps + t] = r() < 1 / 3 ? c * quarter + int(quarter) : int(w.vocab);
    }
  } else {
    const favourites = Array.from({ length: w.vocab }, () => [int(w.vocab), int(w.vocab), int(w.vocab)]);
    const text = new Int32Array(200_000);
    for (let i = 1; i < text.length; i++) text[i] = r() < 0.85 ? favourites[text[i - 1]!]![int(3)]! : int(w.vocab);
    for (let s = 0; s < samples; s++) {
      const o = int(text.length - w.steps - 1);
      for (let t = 0; t < w.steps; t++) {
        x[s * w.steps + t] = text[o + t]!;
        ids[s * w.steps + t] = BigInt(text[o + t + 1]!);
      }
    }
  }
  const y = new Float32Array(samples * w.targets * w.classes);
  for (let i = 0; i < ids.length; i++) y[i * w.classes + Number(ids[i])] = 1;
  return { x, ids, y };
}

/** A workload's model compiled with one kind of kernels, its layout, initial parameters and learning rate. */
export function compileWorkload(w: SeqWorkload, kernels: "js" | "wasm"): { model: CompiledModel; initial: Float32Array; layout: readonly ParamEntry[]; lr: number } {
  const file = join(root, "bench", "models", w.file);
  const checked = checkSource(readFileSync(file, "utf8"));
  if (checked.value === undefined || hasErrors(checked.diagnostics)) throw new Error(`${file} does not check: ${JSON.stringify(checked.diagnostics)}`);
  const compiled = compileToModule(checked.value, { maxBatch: w.batch, kernels });
  if (compiled.value === undefined) throw new Error(`${file} does not compile: ${JSON.stringify(compiled.diagnostics)}`);
  const model = compiled.value.createModel();
  return { model, initial: Float32Array.from(model.params), layout: model.layout, lr: checked.value.optimizer.lr };
}

export interface SeqRun {
  readonly rate: number;
  readonly cpuRate: number;
  readonly losses: readonly number[];
}

export interface SeqRow extends SeqRun {
  readonly workload: string;
  readonly system: string;
  readonly note: string;
}

/** nnc: warm-up, reset, `steps` timed steps in chunks; every step's loss. */
export function runNnc(w: SeqWorkload, data: SeqData, kernels: "js" | "wasm", steps: number, initial?: Float32Array, warmupMs = WARMUP_MS): SeqRun {
  const c = compileWorkload(w, kernels);
  const start = initial ?? c.initial;
  const { model, lr } = c;
  const optimizer = new Float32Array(model.getState().optimizer.length);
  const reset = (): void => model.setState({ params: start, optimizer, step: 0, rng: 0 });
  const xs = w.batch * w.steps, ys = w.batch * w.targets * w.classes;
  const step = (s: number): number => model.trainStep(data.x.subarray(s * xs, (s + 1) * xs), data.y.subarray(s * ys, (s + 1) * ys), w.batch, lr);
  reset();
  const w0 = performance.now();
  for (let s = 0; s < 3 || (performance.now() - w0 < warmupMs && performance.now() - w0 < 6000); s++) step(s % steps);
  reset();
  const losses: number[] = [], wall: number[] = [], cpu: number[] = [];
  for (let first = 0; first < steps; first += CHUNK) {
    const end = Math.min(steps, first + CHUNK);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let s = first; s < end; s++) losses.push(step(s));
    const seconds = (performance.now() - t0) / 1000;
    const used = process.cpuUsage(c0);
    wall.push(((end - first) * w.batch) / seconds);
    cpu.push(((end - first) * w.batch) / ((used.user + used.system) / 1e6));
  }
  return { rate: median(wall), cpuRate: median(cpu), losses };
}

const write = (path: string, a: Float32Array | BigInt64Array): void => writeFileSync(path, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));

/** PyTorch on the same data and initial weights (`torch_seq.py`), one thread. */
export function runTorchSeq(jobs: readonly { w: SeqWorkload; data: SeqData; initial: Float32Array; layout: readonly ParamEntry[]; lr: number; steps: number; warmupMs: number }[]): { version: string; blas: string; results: Record<string, SeqRun> } {
  const dir = mkdtempSync(join(tmpdir(), "nnc-bench-seq-"));
  try {
    const workloads = jobs.map(({ w, data, initial, layout, lr, steps, warmupMs }) => {
      write(join(dir, `${w.id}_params.f32`), initial);
      write(join(dir, `${w.id}_x.f32`), data.x.subarray(0, steps * w.batch * w.steps));
      write(join(dir, `${w.id}_t.i64`), data.ids.subarray(0, steps * w.batch * w.targets));
      return {
        id: w.id, ...w.torch, vocab: w.vocab, classes: w.classes, batch: w.batch, steps: w.steps, trainSteps: steps, lr, warmupMs, chunk: CHUNK,
        layout: layout.map((e) => ({ name: e.name, shape: e.shape, offset: e.offset })),
      };
    });
    writeFileSync(join(dir, "config.json"), JSON.stringify({ workloads }));
    const script = [join(here, "systems", "torch_seq.py"), join(root, "bench", "systems", "torch_seq.py")].find((p) => existsSync(p));
    if (!script) throw new Error("bench/systems/torch_seq.py not found");
    const r = spawnSync(PYTHON, [script, dir], { env: torchEnv(), encoding: "utf8", maxBuffer: 1 << 24 });
    if (r.status !== 0) throw new Error(`torch_seq.py failed (${r.status}): ${r.stderr}`);
    const out = JSON.parse(r.stdout) as { torch: string; blas: string; results: Record<string, SeqRun> };
    return { version: out.torch, blas: out.blas, results: out.results };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Relative difference of a and b. */
const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(1e-12, Math.abs(b));
const tail = (xs: readonly number[], n: number): number => xs.slice(-n).reduce((s, v) => s + v, 0) / Math.min(n, xs.length);

export interface LossCheck {
  readonly first: number;
  readonly final: number;
  readonly ok: boolean;
}

/** An nnc run's losses against PyTorch's at the same steps (its run may be a prefix). */
export function checkLosses(nnc: readonly number[], torch: readonly number[]): LossCheck {
  const n = Math.min(nnc.length, torch.length);
  const first = rel(nnc[0]!, torch[0]!);
  const final = rel(tail(nnc.slice(0, n), 5), tail(torch.slice(0, n), 5));
  return { first, final, ok: first <= FIRST_TOLERANCE && final <= FINAL_TOLERANCE };
}

export interface SeqOptions {
  /** Timed Adam steps of PyTorch and nnc-wasm; nnc with TypeScript kernels runs `jsSteps`. */
  readonly steps: number;
  readonly jsSteps: number;
  readonly systems: readonly string[];
  readonly log?: (s: string) => void;
}

export interface SeqResult {
  readonly rows: SeqRow[];
  readonly checks: Record<string, LossCheck>;
  readonly torch?: { version: string; blas: string };
  readonly notes: string[];
}

/** Every selected system on every selected workload. */
export function measureSequences(ids: readonly string[], o: SeqOptions): SeqResult {
  const log = o.log ?? (() => {});
  const rows: SeqRow[] = [];
  const notes: string[] = [];
  const checks: Record<string, LossCheck> = {};
  const jobs = WORKLOADS.filter((w) => ids.includes(w.id)).map((w) => {
    const data = makeData(w, o.steps);
    const c = compileWorkload(w, "js");
    return { w, data, initial: c.initial, layout: c.layout, lr: c.lr, steps: o.steps, warmupMs: WARMUP_MS, params: c.model.meta.paramCount };
  });
  for (const j of jobs) {
    for (const [system, kernels, steps] of [["nnc", "js", o.jsSteps], ["nnc-wasm", "wasm", o.steps]] as const) {
      if (!o.systems.includes(system)) continue;
      const r = runNnc(j.w, j.data, kernels, Math.min(steps, o.steps), j.initial);
      const note = `${kernels === "js" ? "generated TypeScript" : "TypeScript + wasm SIMD kernels"}, ${j.params} params, ${r.losses.length} steps`;
      rows.push({ workload: j.w.id, system, note, ...r });
      log(`${j.w.id} ${system}: ${r.rate.toFixed(1)} samples/s (CPU ${r.cpuRate.toFixed(1)}), loss ${r.losses[0]!.toFixed(4)} → ${r.losses[r.losses.length - 1]!.toFixed(4)}`);
    }
  }
  let torch: SeqResult["torch"];
  if (o.systems.includes("torch") && jobs.length > 0) {
    const missing = torchMissing();
    if (missing) notes.push(`PyTorch skipped: ${missing}`);
    else {
      const out = runTorchSeq(jobs);
      torch = { version: out.version, blas: out.blas };
      for (const j of jobs) {
        const r = out.results[j.w.id]!;
        rows.push({ workload: j.w.id, system: "torch", note: `PyTorch ${out.version}, 1 thread, ${blasName(out.blas)}, ${mallocNote()}`, ...r });
        log(`${j.w.id} torch: ${r.rate.toFixed(1)} samples/s (CPU ${r.cpuRate.toFixed(1)}), loss ${r.losses[0]!.toFixed(4)} → ${r.losses[r.losses.length - 1]!.toFixed(4)}`);
        for (const row of rows.filter((x) => x.workload === j.w.id && x.system !== "torch")) checks[`${j.w.id}/${row.system}`] = checkLosses(row.losses, r.losses);
      }
    }
  }
  return { rows, checks, notes, ...(torch && { torch }) };
}

/** "OpenBLAS" or "reference BLAS" (Debian's default, much slower) from the library torch mapped. */
const blasName = (path: string): string => (/openblas/i.test(path) ? "OpenBLAS" : /libblas/.test(path) ? "reference BLAS" : path);

/** The table: one line per workload and system, the ratio over CPU time against PyTorch. */
export function renderSequences(r: SeqResult, table: (head: string[], body: string[][]) => string): string {
  const body = r.rows.map((row) => {
    const peer = r.rows.find((x) => x.workload === row.workload && x.system === "torch");
    const check = r.checks[`${row.workload}/${row.system}`];
    const n = row.losses.length;
    return [
      row.workload,
      row.system,
      row.rate.toFixed(1),
      row.cpuRate.toFixed(1),
      `${row.losses[0]!.toFixed(4)} → ${tail(row.losses, 5).toFixed(4)} (${n})`,
      check ? `${check.first.toExponential(1)} · ${(100 * check.final).toFixed(2)}%${check.ok ? "" : " ✗"}` : "",
      row.system === "torch" || !peer ? "" : `${(row.cpuRate / peer.cpuRate).toFixed(2)}×`,
      row.note,
    ];
  });
  return [
    `Sequences (bench/models/*.nn, Adam, batch 32; loss: step 1 → mean of the last 5 (steps run); Δ vs PyTorch at the same steps: step 1 (≤ ${FIRST_TOLERANCE}) · last 5 (≤ ${100 * FINAL_TOLERANCE}%); ratio over CPU time)`,
    table(["workload", "system", "samples/s", "samples/s (CPU)", "loss", "Δ loss vs torch", "× torch (CPU)", "note"], body),
    ...r.notes,
  ].join("\n");
}

/** `measureSequences` for `bench/run.ts`: the result, or why there is none (a failure loses this section only). */
export function benchSequences(ids: readonly string[], o: SeqOptions): { result?: SeqResult; note?: string } {
  try {
    return { result: measureSequences(ids, o) };
  } catch (e) {
    const note = `failed: ${(e as Error).message.split("\n")[0]}`;
    o.log?.(`LSTM/TRANSFORMER: ${note}`);
    return { note };
  }
}

/** The section of `bench/run.ts`'s report: the table, or the note. */
export function renderSequenceSection(r: SeqResult | undefined, note: string | undefined, table: (head: string[], body: string[][]) => string): string {
  if (r) return "\n\n" + renderSequences(r, table);
  return note ? `\n\nLSTM/TRANSFORMER: ${note}` : "";
}

function simpleTable(head: string[], body: string[][]): string {
  return [head, ...body].map((r) => r.join(" | ")).join("\n");
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (name: string, fallback: string): string => {
    const i = args.indexOf(name);
    return i >= 0 && args[i + 1] !== undefined ? (args[i + 1] as string) : fallback;
  };
  const steps = Number(opt("--steps", "30"));
  const r = measureSequences(opt("--only", "LSTM,TRANSFORMER").toUpperCase().split(","), {
    steps,
    jsSteps: Number(opt("--js-steps", "10")),
    systems: opt("--systems", "nnc,nnc-wasm,torch").split(","),
    log: (s) => void process.stderr.write(s + "\n"),
  });
  if (args.includes("--json")) console.log(JSON.stringify(r, null, 2));
  else console.log(renderSequences(r, simpleTable));
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  await main();
}
