/**
 * Two threads in `npm run bench` (issue 16): PyTorch with `torch.set_num_threads(2)` on W1 and
 * the CNN, beside nnc with 2 workers (`nnc train --workers 2`: `nnc-wasm-2w`), and the table
 * that sets them side by side.
 *
 * PyTorch's W1 rows run `torch_bench.py` once per thread count (`torch`, `torch-2t`); its CNN
 * rows run `torch_cnn.py` (`bench/systems/torch-cnn.ts`). The table "Two threads" gives, for W1
 * SGD, W1 Adam and the CNN, each system's samples/s on one thread and on two, wall clock and over
 * the process's CPU time (both threads counted), the speed-up from one thread to two, and nnc's
 * ratio to PyTorch at two threads. On a machine shared with other work, whether the second core
 * was free changes from minute to minute: the CPU-time columns say what each thread cost.
 */
import type { OptKind, TrainResult, TrainSetup } from "./harness.js";
import type { CnnRow } from "./cnn.js";
import { mallocNote, runTorch, torchMissing, type TorchWorkload } from "./systems/torch.js";

/** What the bench's report keeps of a system on W1–W3 (`bench/run.ts`'s rows). */
export interface SystemRow {
  system: string;
  label: string;
  note?: string;
  w1?: Partial<Record<OptKind, TrainResult>>;
  w2?: TrainResult;
  w3?: number;
  skipped?: string;
  errors?: string[];
}

/** PyTorch's thread counts in the bench, and their rows' ids. */
export const TORCH_THREADS = [
  { id: "torch", threads: 1 },
  { id: "torch-2t", threads: 2 },
] as const;

export interface TorchRowsOptions {
  readonly w1?: TrainSetup;
  readonly w2?: TrainSetup;
  /** Which of W1 and W3 to measure with the W1 setup. */
  readonly w1Train: boolean;
  readonly w3: boolean;
  readonly warmupSteps: number;
  readonly chunks: number;
  readonly latencyReps: number;
  readonly wanted: (id: string) => boolean;
  readonly log: (s: string) => void;
}

/** PyTorch's rows (one thread: W1, W2, W3; two threads: W1), each in a child process; the version and BLAS it reported. */
export function torchRows(o: TorchRowsOptions): { rows: SystemRow[]; info?: { version: string; blas: string } } {
  const rows: SystemRow[] = [];
  let info: { version: string; blas: string } | undefined;
  const missing = torchMissing();
  for (const { id, threads } of TORCH_THREADS) {
    if (!o.wanted(id)) continue;
    const label = (version: string): string => `PyTorch${version}, ${threads} thread${threads > 1 ? "s" : ""}`;
    const row: SystemRow = { system: id, label: label("") };
    rows.push(row);
    if (missing) {
      row.skipped = missing;
      o.log(`${id}: skipped — ${missing}`);
      continue;
    }
    const ws: TorchWorkload[] = [];
    // Two threads: W1 training only (W2 is one sample a step, W3 one sample).
    if (o.w1 && (o.w1Train || (o.w3 && threads === 1)))
      ws.push({ id: "w1", setup: o.w1, opts: o.w1Train ? ["sgd", "adam"] : ["sgd"], latency: o.w3 && threads === 1 });
    if (o.w2 && threads === 1) ws.push({ id: "w2", setup: o.w2, opts: ["sgd"], latency: false });
    if (ws.length === 0) {
      rows.pop();
      continue;
    }
    try {
      const out = runTorch(ws, { warmupSteps: o.warmupSteps, chunks: o.chunks, latencyReps: o.latencyReps, threads });
      info = { version: out.version, blas: out.blas };
      row.label = label(` ${out.version}`);
      row.note = `BLAS: ${out.blas}; ${mallocNote()}`;
      const r = out.results;
      if (r.w1_sgd || r.w1_adam) row.w1 = { ...(r.w1_sgd && { sgd: r.w1_sgd }), ...(r.w1_adam && { adam: r.w1_adam }) };
      if (r.w1_sgd?.latencyUs !== undefined) row.w3 = r.w1_sgd.latencyUs;
      if (r.w2_sgd) row.w2 = r.w2_sgd;
      o.log(`${id} ${out.version} (${out.blas}): ${JSON.stringify(Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Math.round(v.rate)])))}`);
    } catch (e) {
      const msg = `PyTorch failed: ${(e as Error).message.split("\n")[0]}`;
      row.errors = [...(row.errors ?? []), msg];
      o.log(`${id}: ${msg}`);
    }
  }
  return info ? { rows, info } : { rows };
}

/** PyTorch's CNN rows for the ids asked for (`torch`, `torch-2t`), and a note for each that could not run. */
export async function torchCnnRows(steps: number, wanted: (id: string) => boolean, log: (s: string) => void): Promise<CnnRow[]> {
  const ids = TORCH_THREADS.filter((t) => wanted(t.id));
  if (ids.length === 0) return [];
  const { torchCnn } = await import("./systems/torch-cnn.js");
  const rows: CnnRow[] = [];
  for (const { id, threads } of ids) {
    try {
      const r = torchCnn(steps, threads);
      if (typeof r === "string") log(`CNN ${id}: skipped — ${r}`);
      else {
        rows.push(r);
        log(`CNN ${id}: ${Math.round(r.trainRate)} samples/s (CPU ${Math.round(r.trainCpuRate)}), test accuracy ${r.testAccuracy.toFixed(4)}`);
      }
    } catch (e) {
      log(`CNN ${id}: failed — ${(e as Error).message.split("\n")[0]}`);
    }
  }
  return rows;
}

type Table = (head: string[], body: string[][]) => string;

interface Rates {
  readonly wall: number;
  readonly cpu: number;
}

/**
 * The table "Two threads": nnc (plain step, 1 thread; 4 shards on 2 threads) and PyTorch (1 and
 * 2 threads) on W1 SGD, W1 Adam and the CNN. Empty when neither two-thread system ran.
 */
export function renderTwoThreads(rows: readonly SystemRow[], cnn: readonly CnnRow[] | undefined, table: Table, fmt: (x: number) => string): string {
  const w1 = (id: string, opt: OptKind): Rates | undefined => {
    const r = rows.find((x) => x.system === id && !x.skipped)?.w1?.[opt];
    return r && { wall: r.rate, cpu: r.cpuRate };
  };
  const conv = (id: string): Rates | undefined => {
    const r = cnn?.find((x) => x.system === id && Number.isFinite(x.trainRate));
    return r && { wall: r.trainRate, cpu: r.trainCpuRate };
  };
  const workloads: [string, (id: string) => Rates | undefined][] = [
    ["W1 SGD", (id) => w1(id, "sgd")],
    ["W1 Adam", (id) => w1(id, "adam")],
    ["CNN", conv],
  ];
  const cell = (r: Rates | undefined): string => (r ? `${fmt(r.wall)} (${fmt(r.cpu)})` : "–");
  const times = (a: number | undefined, b: number | undefined): string => (a === undefined || b === undefined ? "–" : `${(a / b).toFixed(2)}×`);
  const body = workloads
    .map(([name, get]) => {
      const [n1, n2, t1, t2] = ["nnc-wasm", "nnc-wasm-2w", "torch", "torch-2t"].map(get);
      return { name, n1, n2, t1, t2 };
    })
    .filter((r) => r.n2 !== undefined || r.t2 !== undefined)
    .map(({ name, n1, n2, t1, t2 }) => [
      name,
      cell(n1),
      cell(n2),
      times(n2?.wall, n1?.wall),
      cell(t1),
      cell(t2),
      times(t2?.wall, t1?.wall),
      times(n2?.wall, t2?.wall),
      times(n2?.cpu, t2?.cpu),
    ]);
  if (body.length === 0) return "";
  return [
    "",
    "",
    "Two threads (issue 16): samples/s, wall clock (over the process's CPU time, both threads counted); nnc 1 thread = the plain step (`nnc-wasm`), 2 threads = `--workers 2` (`nnc-wasm-2w`); ratio > 1: nnc with 2 workers is faster than PyTorch with 2 threads",
    table(
      ["workload", "nnc 1 thread", "nnc 2 workers", "nnc 2÷1", "PyTorch 1 thread", "PyTorch 2 threads", "PyTorch 2÷1", "nnc÷PyTorch at 2", "the same over CPU time"],
      body,
    ),
  ].join("\n");
}
