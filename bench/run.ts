/**
 * `npm run bench`: nnc against its peers, side by side, in one process (PyTorch in a child).
 *
 *   node --expose-gc dist/bench/run.js [--quick] [--only W1,W2,W3,W4,CNN,LSTM,TRANSFORMER,INT8] [--systems a,b,...] [--cnn-cpu]
 *
 * Workloads (issue 6): W1 MLP training 784-128-64-10 on Fashion-MNIST (SGD, Adam), W2 2-16-16-1
 * tanh per-sample SGD on a spiral, W3 one-sample inference latency on the trained W1 network,
 * W4 nnc compile time, the CNN of issue 8 (`bench/cnn.ts`), and the LSTM and transformer of
 * issue 14 beside PyTorch (`bench/sequence.ts`), and int8 inference of issue 18 (`bench/int8.ts`). PyTorch runs on 1
 * thread and on 2 (`torch-2t`, W1 and the CNN), beside nnc with 2 workers (`bench/multicore.ts`).
 * Prints a table and writes bench/results/bench-<time>.json and bench/results/latest.json.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { initWeights, loadFashion, spiral } from "./data.js";
import {
  forwardMacs,
  measureLatency,
  measureTraining,
  trainFlops,
  type OptKind,
  type Trainer,
  type TrainSetup,
} from "./harness.js";
import { brainTrainer } from "./systems/brain.js";
import { nncStatus, nncTrainer } from "./systems/nnc.js";
import { probeTrainer } from "./systems/probe.js";
import { renderTwoThreads, torchCnnRows, torchRows, type SystemRow } from "./multicore.js";
import { tfjsTrainer, useBackend } from "./systems/tfjs.js";
import { measureCompileTimes, type CompileTime } from "./compile-time.js";
import type { CnnRow } from "./cnn.js";

// ── options ─────────────────────────────────────────────────────────────────────
const argv = process.argv.slice(2);
const flag = (name: string): boolean => argv.includes(`--${name}`);
const option = (name: string): string | undefined => {
  const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return undefined;
  const a = argv[i]!;
  return a.includes("=") ? a.slice(a.indexOf("=") + 1) : argv[i + 1];
};
const quick = flag("quick");
const only = new Set((option("only") ?? "W1,W2,W3,W4,CNN,LSTM,TRANSFORMER,INT8").toUpperCase().split(","));
const systemsOpt = option("systems");
const wanted = (id: string): boolean => !systemsOpt || systemsOpt.split(",").includes(id);

const cfg = {
  w1Samples: quick ? 5_120 : 20_000,
  w2Steps: quick ? 5_000 : 20_000,
  /** brain.js trains W1 one sample at a time, ~50× slower: a prefix of the epoch. */
  brainW1Samples: quick ? 640 : 3_200,
  warmupW1: quick ? 5 : 20,
  warmupW2: quick ? 3_000 : 5_000,
  chunks: 10,
  latencyReps: quick ? 500 : 2_000,
  compileReps: quick ? 5 : 15,
  /** CNN (issue 8): Adam steps of batch 64 per system. */
  cnnSteps: quick ? 10 : 20,
  /** LSTM and TRANSFORMER (issue 14): timed Adam steps of batch 32 (TypeScript kernels: a prefix). */
  seqSteps: quick ? 10 : 30,
  seqJsSteps: quick ? 5 : 10,
};

// ── systems ─────────────────────────────────────────────────────────────────────
interface SystemDef {
  readonly id: string;
  readonly label: string;
  /** Before creating trainers (backend selection); returns a note, or throws to skip. */
  prepare?(): Promise<string>;
  create(setup: TrainSetup, workload: "W1" | "W2"): Trainer | undefined | Promise<Trainer | undefined>;
  readonly opts: readonly OptKind[];
  readonly maxSteps?: (w: "W1" | "W2", setup: TrainSetup) => number;
}

/** nnc compiled in-process, with one kind of kernels (and `workers`: sharded, `nnc train --workers`). */
function nncSystem(id: string, label: string, kernels: "js" | "wasm", note: string, workers?: number): SystemDef {
  return {
    id,
    label,
    opts: ["sgd", "adam"],
    async prepare() {
      const s = await nncStatus();
      if (s) throw new Error(s);
      return note;
    },
    // Sharded rows only for W1: W2 trains one sample per step, which cannot be split.
    create: (setup, w) => (workers !== undefined && w === "W2" ? undefined : nncTrainer(setup, w, kernels, workers)),
  };
}

const systems: SystemDef[] = [
  nncSystem("nnc", "nnc (generated TypeScript)", "js", "compiled in-process from a .nn source"),
  nncSystem("nnc-wasm", "nnc (TypeScript + generated wasm SIMD kernels)", "wasm", "compiled in-process with kernels: wasm"),
  nncSystem("nnc-wasm-1w", "nnc wasm, 4 shards on 1 thread (--workers 1)", "wasm", "each batch as 4 shards summed in order, in-process", 1),
  nncSystem("nnc-wasm-2w", "nnc wasm, 4 shards on 2 threads (--workers 2)", "wasm", "each batch as 4 shards on the main thread and a worker thread", 2),
  { id: "probe-tiled", label: "specialized JS, register-tiled (probe)", opts: ["sgd", "adam"], create: (s) => probeTrainer(s, [4, 3], "probe-tiled", s.batch === 1 ? 2 : 8) },
  {
    id: "probe-sparse",
    label: "specialized JS, tiled + zero-skipping inference (probe)",
    opts: ["sgd"],
    create: (s, w) => (w === "W1" ? probeTrainer(s, [4, 3], "probe-sparse", 8, true) : undefined),
  },
  { id: "probe-plain", label: "specialized JS, plain loops (probe)", opts: ["sgd", "adam"], create: (s) => probeTrainer(s, [0, 0], "probe-plain") },
  {
    id: "tfjs-wasm",
    label: "TensorFlow.js 4.22 wasm, custom loop",
    opts: ["sgd", "adam"],
    prepare: () => useBackend("wasm"),
    create: (s) => tfjsTrainer(s, "tfjs-wasm"),
  },
  {
    id: "tfjs-cpu",
    label: "TensorFlow.js 4.22 cpu, custom loop",
    opts: ["sgd", "adam"],
    prepare: () => useBackend("cpu"),
    create: (s) => tfjsTrainer(s, "tfjs-cpu"),
  },
  {
    id: "brain",
    label: "brain.js 1.6.1 (batch 1, MSE only)",
    opts: ["sgd"],
    create: (s, w) => brainTrainer(s, "brain", w === "W1" ? Math.ceil(cfg.brainW1Samples / s.batch) : s.steps, w === "W1" ? 0.01 : s.lr.sgd),
    maxSteps: (w, s) => (w === "W1" ? Math.ceil(cfg.brainW1Samples / s.batch) : s.steps),
  },
];

// ── results ─────────────────────────────────────────────────────────────────────
type Row = SystemRow;
const rows: Row[] = [];

/** A system that fails on one workload loses that cell, not the whole bench. */
function failed(row: Row, workload: string, e: unknown): void {
  const msg = `${workload} failed: ${(e as Error).message.split("\n")[0]}`;
  row.errors = [...(row.errors ?? []), msg];
  log(`${row.system}: ${msg}`);
}
const log = (s: string): void => void process.stderr.write(s + "\n");

async function main(): Promise<void> {
  const started = new Date();
  const cpu = cpus()[0]?.model ?? "unknown CPU";
  const loadStart = loadavg()[0]!;
  log(`nnc bench — ${started.toISOString()} — ${cpu}, ${cpus().length} cores, Node ${process.version}, load ${loadStart.toFixed(1)}${quick ? " — QUICK" : ""}`);

  // ── data and setups ──
  const W1_SIZES = [784, 128, 64, 10];
  const W2_SIZES = [2, 16, 16, 1];
  let w1: TrainSetup | undefined;
  let w1Note: string | undefined;
  if (only.has("W1") || only.has("W3")) {
    const fm = loadFashion(cfg.w1Samples);
    if (!fm) w1Note = "Fashion-MNIST not installed (apt-get install dataset-fashion-mnist): W1 and W3 skipped";
    else {
      const batch = 64;
      w1 = {
        sizes: W1_SIZES, hidden: "relu", head: "softmax_ce", batch, lr: { sgd: 0.1, adam: 1e-3 },
        init: initWeights(W1_SIZES, 1234), x: fm.train.x, y: fm.train.y, steps: Math.floor(fm.train.n / batch),
        evalX: fm.test.x, evalLabels: fm.test.labels,
      };
    }
  }
  if (w1Note) log(w1Note);
  let w2: TrainSetup | undefined;
  if (only.has("W2")) {
    const pts = spiral(2_000, 7, 0.1, 1);
    const steps = cfg.w2Steps;
    const x = new Float32Array(steps * 2), y = new Float32Array(steps);
    for (let s = 0; s < steps; s++) {
      const i = s % pts.n;
      x[2 * s] = pts.x[2 * i]!;
      x[2 * s + 1] = pts.x[2 * i + 1]!;
      y[s] = pts.y[i]!;
    }
    w2 = {
      sizes: W2_SIZES, hidden: "tanh", head: "sigmoid_bce", batch: 1, lr: { sgd: 0.02, adam: 1e-3 },
      init: initWeights(W2_SIZES, 99), x, y, steps, evalX: pts.x, evalLabels: pts.labels,
    };
  }

  // ── JS systems, one after another in this process ──
  const training = w1 !== undefined || w2 !== undefined;
  for (const sys of systems) {
    if (!wanted(sys.id) || !training) continue;
    const row: Row = { system: sys.id, label: sys.label };
    rows.push(row);
    try {
      if (sys.prepare) row.note = await sys.prepare();
    } catch (e) {
      row.skipped = (e as Error).message;
      log(`${sys.id}: skipped — ${row.skipped}`);
      continue;
    }
    if (w1 && (only.has("W1") || only.has("W3"))) {
      try {
        const t = await sys.create(w1, "W1");
        if (t) {
          row.w1 = {};
          const opts = only.has("W1") ? sys.opts : (["sgd"] as const);
          for (const opt of opts) {
            const r = measureTraining(t, w1, opt, { warmupSteps: cfg.warmupW1, chunks: cfg.chunks, maxSteps: sys.maxSteps?.("W1", w1) });
            row.w1[opt] = r;
            log(`${sys.id} W1 ${opt}: ${fmt(r.rate)} samples/s, test accuracy ${r.accuracy.toFixed(4)} (${r.samples} samples, ${r.seconds.toFixed(1)} s)`);
            if (opt === "sgd" && only.has("W3")) {
              row.w3 = measureLatency(t, w1.evalX, 784, cfg.latencyReps);
              log(`${sys.id} W3: ${row.w3.toFixed(1)} µs`);
            }
          }
          t.dispose();
        }
      } catch (e) {
        failed(row, "W1", e);
      }
    }
    if (w2) {
      try {
        const t = await sys.create(w2, "W2");
        if (t) {
          row.w2 = measureTraining(t, w2, "sgd", { warmupSteps: cfg.warmupW2, chunks: cfg.chunks });
          log(`${sys.id} W2: ${fmt(row.w2.rate)} steps/s, accuracy ${row.w2.accuracy.toFixed(3)} (${row.w2.seconds.toFixed(1)} s)`);
          t.dispose();
        }
      } catch (e) {
        failed(row, "W2", e);
      }
    }
  }

  // ── PyTorch, in child processes: 1 thread, then 2 (bench/multicore.ts) ──
  let torchInfo: { version: string; blas: string } | undefined;
  if (training) {
    const t = torchRows({ w1, w2, w1Train: only.has("W1"), w3: only.has("W3"), warmupSteps: cfg.warmupW1, chunks: cfg.chunks, latencyReps: cfg.latencyReps, wanted, log });
    rows.push(...t.rows);
    torchInfo = t.info;
  }

  // ── W4 ──
  let compile: CompileTime[] | undefined;
  let compileNote: string | undefined;
  if (only.has("W4") && wanted("nnc")) {
    const c = await measureCompileTimes(cfg.compileReps);
    if (typeof c === "string") compileNote = c;
    else compile = c;
  }

  // ── CNN (issue 8): nnc and TF.js on examples/fashion-cnn.nn ──
  let cnn: CnnRow[] | undefined;
  let cnnNote: string | undefined;
  if (only.has("CNN")) {
    // TF.js cpu needs minutes for a few conv steps: only with --cnn-cpu.
    const ids = ["nnc", "nnc-wasm", "nnc-wasm-1w", "nnc-wasm-2w", "tfjs-wasm", ...(flag("cnn-cpu") ? ["tfjs-cpu"] : [])].filter(wanted);
    try {
      // Loaded on demand: cnn.ts imports the compiler statically.
      const { measureCnn } = await import("./cnn.js");
      const r = ids.length ? await measureCnn(cfg.cnnSteps, ids) : [];
      // Then PyTorch on 1 and 2 threads (bench/multicore.ts).
      const all = typeof r === "string" ? r : [...r, ...(await torchCnnRows(cfg.cnnSteps, wanted, log))];
      if (typeof all === "string") cnnNote = all;
      else if (all.length === 0) cnnNote = "no CNN system selected";
      else cnn = all;
    } catch (e) {
      cnnNote = `failed: ${(e as Error).message.split("\n")[0]}`;
    }
    if (cnnNote) log(`CNN: ${cnnNote}`);
  }

  // ── LSTM and TRANSFORMER (issue 14): nnc and PyTorch on bench/models/*.nn ──
  // Loaded on demand, as cnn.ts: sequence.ts imports the compiler statically.
  const seqIds = ["LSTM", "TRANSFORMER"].filter((id) => only.has(id));
  const sequences = seqIds.length > 0 ? await import("./sequence.js") : undefined;
  const { result: seq, note: seqNote } = sequences?.benchSequences(seqIds, { steps: cfg.seqSteps, jsSteps: cfg.seqJsSteps, systems: ["nnc", "nnc-wasm", "torch"].filter(wanted), log }) ?? {};

  // ── INT8 (issue 18): the int8 module against the float32 wasm kernels (loaded on demand, as cnn.ts) ──
  const int8Bench = only.has("INT8") ? await import("./int8.js") : undefined;
  const int8 = int8Bench?.benchInt8(log);
  // ── report ──
  const loadEnd = loadavg()[0]!;
  const header = `nnc bench, ${started.toISOString().slice(0, 16).replace("T", " ")} UTC, ${cpu} (${cpus().length} cores), Node ${process.version}, 1-min load ${loadStart.toFixed(1)} → ${loadEnd.toFixed(1)}${quick ? ", --quick" : ""}`;
  // The W1–W4 tables only when one of them ran (`--only CNN` or `--only LSTM` alone skip them).
  const mlp = w1 !== undefined || w2 !== undefined || compile !== undefined || compileNote !== undefined || w1Note !== undefined;
  const table = header + (mlp ? "\n\n" + render(w1, w2, compile, compileNote) : "") + renderCnn(cnn, cnnNote) + renderTwoThreads(rows, cnn, markdownTable, fmt) + (sequences?.renderSequenceSection(seq, seqNote, markdownTable) ?? "") + (int8Bench?.renderInt8Section(int8?.rows, int8?.note, markdownTable) ?? "");
  process.stdout.write(table + "\n");
  const result = {
    date: started.toISOString(),
    machine: { cpu, cores: cpus().length, node: process.version, loadStart, loadEnd },
    quick,
    config: cfg,
    torch: torchInfo,
    flops: {
      w1TrainPerSample: trainFlops(W1_SIZES),
      w2TrainPerStep: trainFlops(W2_SIZES),
      w3ForwardPerSample: 2 * forwardMacs(W1_SIZES),
    },
    rows,
    compile,
    compileNote,
    cnn,
    cnnNote,
    seq,
    seqNote,
    int8,
    table,
  };
  const dir = join(process.cwd(), "bench", "results");
  mkdirSync(dir, { recursive: true });
  const stamp = started.toISOString().replace(/[:.]/g, "-");
  const json = JSON.stringify(result, null, 2);
  writeFileSync(join(dir, `bench-${stamp}.json`), json);
  writeFileSync(join(dir, "latest.json"), json);
  log(`wrote bench/results/bench-${stamp}.json and bench/results/latest.json`);
}

// ── rendering ───────────────────────────────────────────────────────────────────
function fmt(x: number): string {
  if (x >= 100) return Math.round(x).toLocaleString("en-US");
  if (x >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

/** GFLOP/s with two significant digits below 1. */
function gf(x: number): string {
  return x >= 1 ? x.toFixed(2) : x.toPrecision(2);
}

function ratio(nnc: number | undefined, peer: number | undefined, lowerIsBetter = false): string {
  if (nnc === undefined || peer === undefined) return "–";
  const r = lowerIsBetter ? peer / nnc : nnc / peer;
  return `${r >= 10 ? r.toFixed(0) : r.toFixed(2)}×`;
}

function table(head: string[], body: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |`;
  return [line(head), `|${widths.map((w, i) => (i === 0 ? ":" : "") + "-".repeat(w + 1) + (i === 0 ? "" : ":")).join("|")}|`, ...body.map(line)].join("\n");
}

function render(w1: TrainSetup | undefined, w2: TrainSetup | undefined, compile: CompileTime[] | undefined, compileNote: string | undefined): string {
  // The ratios are taken against nnc with wasm kernels (what `nnc train` runs) when it ran.
  const nnc = rows.find((r) => r.system === "nnc-wasm" && !r.skipped) ?? rows.find((r) => r.system === "nnc" && !r.skipped);
  const live = rows.filter((r) => !r.skipped);
  const out: string[] = [];
  const w1f = trainFlops([784, 128, 64, 10]), w2f = trainFlops([2, 16, 16, 1]), w3f = 2 * forwardMacs([784, 128, 64, 10]);
  const g = (rate: number | undefined, flops: number): string => (rate === undefined ? "–" : gf((rate * flops) / 1e9));

  out.push(`Summary (medians; ratio = the speed of ${nnc?.label ?? "nnc"} / the peer's, > 1 means nnc is faster)`);
  out.push(
    table(
      ["system", "W1 SGD samples/s", "W1 Adam samples/s", "W2 steps/s", "W3 µs", "nnc× W1 SGD", "nnc× W1 Adam", "nnc× W2", "nnc× W3"],
      live.map((r) => [
        r.label,
        r.w1?.sgd ? fmt(r.w1.sgd.rate) : "–",
        r.w1?.adam ? fmt(r.w1.adam.rate) : "–",
        r.w2 ? fmt(r.w2.rate) : "–",
        r.w3 !== undefined ? r.w3.toFixed(1) : "–",
        r === nnc ? "" : ratio(nnc?.w1?.sgd?.rate, r.w1?.sgd?.rate),
        r === nnc ? "" : ratio(nnc?.w1?.adam?.rate, r.w1?.adam?.rate),
        r === nnc ? "" : ratio(nnc?.w2?.rate, r.w2?.rate),
        r === nnc ? "" : ratio(nnc?.w3, r.w3, true),
      ]),
    ),
  );
  out.push("");
  out.push("The same throughput over process CPU time (counts only the time each system ran: steadier when the machine is shared)");
  out.push(
    table(
      ["system", "W1 SGD samples/s", "W1 Adam samples/s", "W2 steps/s", "nnc× W1 SGD", "nnc× W1 Adam", "nnc× W2"],
      live.map((r) => [
        r.label,
        r.w1?.sgd ? fmt(r.w1.sgd.cpuRate) : "–",
        r.w1?.adam ? fmt(r.w1.adam.cpuRate) : "–",
        r.w2 ? fmt(r.w2.cpuRate) : "–",
        r === nnc ? "" : ratio(nnc?.w1?.sgd?.cpuRate, r.w1?.sgd?.cpuRate),
        r === nnc ? "" : ratio(nnc?.w1?.adam?.cpuRate, r.w1?.adam?.cpuRate),
        r === nnc ? "" : ratio(nnc?.w2?.cpuRate, r.w2?.cpuRate),
      ]),
    ),
  );
  out.push("");
  out.push("Work done and arithmetic rate (accuracy after the run: W1 on the 10,000 test images, W2 on the 2,000 spiral points)");
  out.push(
    table(
      ["system", "W1 SGD acc", "W1 Adam acc", "W2 acc", "W1 SGD GFLOP/s", "W1 Adam GFLOP/s", "W2 GFLOP/s", "W3 GFLOP/s", "note"],
      live.map((r) => [
        r.label,
        r.w1?.sgd ? r.w1.sgd.accuracy.toFixed(4) + (r.w1.sgd.samples < (w1?.steps ?? 0) * 64 ? ` (${r.w1.sgd.samples} samples)` : "") : "–",
        r.w1?.adam ? r.w1.adam.accuracy.toFixed(4) : "–",
        r.w2 ? r.w2.accuracy.toFixed(3) : "–",
        g(r.w1?.sgd?.rate, w1f),
        g(r.w1?.adam?.rate, w1f),
        g(r.w2?.rate, w2f),
        r.w3 !== undefined ? gf(w3f / (r.w3 * 1000)) : "–",
        r.note ?? "",
      ]),
    ),
  );
  // Same weights, same batches: the systems that can express the same network must agree.
  if (nnc) {
    const checks: string[] = [];
    const comparable = live.filter((r) => r !== nnc && r.system !== "brain" && r.system !== "probe-sparse");
    const cmp = (what: string, mine: number | undefined, theirs: (r: Row) => number | undefined): void => {
      if (mine === undefined) return;
      const others = comparable.filter((r) => theirs(r) !== undefined);
      if (!others.length) return;
      const off = others.filter((r) => Math.abs(theirs(r)! - mine) > 0.003);
      checks.push(
        off.length
          ? `${what}: nnc ${mine.toFixed(4)} DIFFERS from ${off.map((r) => `${r.system} ${theirs(r)!.toFixed(4)}`).join(", ")}`
          : `${what}: nnc ${mine.toFixed(4)} = ${others.map((r) => r.system).join(", ")} (within 0.003)`,
      );
    };
    cmp("W1 SGD accuracy", nnc.w1?.sgd?.accuracy, (r) => r.w1?.sgd?.accuracy);
    cmp("W1 Adam accuracy", nnc.w1?.adam?.accuracy, (r) => r.w1?.adam?.accuracy);
    cmp("W2 accuracy", nnc.w2?.accuracy, (r) => r.w2?.accuracy);
    if (checks.length) out.push("", "Same work (same initial weights and batches):", ...checks.map((c) => `- ${c}`));
  }
  const skipped = rows.filter((r) => r.skipped || r.errors);
  if (skipped.length) {
    out.push("");
    for (const r of skipped) {
      if (r.skipped) out.push(`skipped: ${r.system} — ${r.skipped}`);
      for (const e of r.errors ?? []) out.push(`error: ${r.system} — ${e}`);
    }
  }
  if (!w1 && (only.has("W1") || only.has("W3"))) out.push("skipped: W1/W3 — Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)");
  void w2;
  if (compile) {
    out.push("");
    out.push("W4 compile time (ms; cold = `nnc compile` in a fresh process, start-up and formatting included, median of 3; in-process = check + compile + load, median after warm-up)");
    out.push(
      table(
        ["example", "cold CLI ms", "cold CLI CPU ms", "in-process ms", "in-process CPU ms", "params"],
        compile.map((c) => [
          c.example,
          c.coldMs === undefined ? "–" : c.coldMs.toFixed(0),
          c.coldCpuMs === undefined ? "–" : c.coldCpuMs.toFixed(0),
          c.inProcessMs.toFixed(2),
          c.inProcessCpuMs.toFixed(2),
          c.params === undefined ? "–" : String(c.params),
        ]),
      ),
    );
  } else if (compileNote) out.push(`\nW4: ${compileNote}`);
  return out.join("\n");
}

/** `table` under a name that `main`'s own `table` (the report) does not hide. */
const markdownTable = (head: string[], body: string[][]): string => table(head, body);

function renderCnn(cnn: CnnRow[] | undefined, note: string | undefined): string {
  if (!cnn) return note ? `\n\nCNN: ${note}` : "";
  const nnc = cnn.find((r) => r.system === "nnc-wasm") ?? cnn.find((r) => r.system === "nnc");
  return [
    "",
    "",
    `CNN (examples/fashion-cnn.nn, Adam, batch 64, ${cfg.cnnSteps} timed steps; test accuracy on 2,048 images after them; ratio over CPU time)`,
    table(
      ["system", "train samples/s", "train samples/s (CPU)", "infer samples/s", "test acc", "nnc× (CPU)", "note"],
      cnn.map((r) => [
        r.system,
        fmt(r.trainRate),
        fmt(r.trainCpuRate),
        fmt(r.inferRate),
        r.testAccuracy.toFixed(4),
        r === nnc ? "" : ratio(nnc?.trainCpuRate, r.trainCpuRate),
        r.note,
      ]),
    ),
  ].join("\n");
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
