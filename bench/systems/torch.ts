/**
 * PyTorch peer: Debian's `python3-torch` through `/usr/bin/python3` (the `python3` on the PATH
 * may be another interpreter without it), one thread (or `threads`: `torch.set_num_threads`
 * and the OpenMP/OpenBLAS thread counts), OpenBLAS first on the library path when
 * `libopenblas0-openmp` or `libopenblas0-pthread` is installed, or when `NNC_BENCH_OPENBLAS`
 * names a folder holding OpenBLAS's `libblas.so.3` (e.g. the pthread package unpacked with
 * `dpkg-deb -x`, without installing it system-wide); otherwise Debian's torch uses the slow
 * reference BLAS.
 * glibc's allocator is tuned as PyTorch's CPU performance guide advises (there: jemalloc or
 * TCMalloc): PyTorch allocates and frees its tensors at every step, and with glibc's defaults
 * each one over 128 KiB is a fresh mmap whose pages fault in again (about 2,000 faults a step
 * on the bench's transformer, half its speed, and the cause of runs at 2× their neighbours'
 * speed). `NNC_BENCH_TORCH_MALLOC=default` measures PyTorch as installed.
 * The bench writes its data and initial weights to a temporary folder; `torch_bench.py`
 * trains with the same protocol and prints JSON.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { OptKind, TrainResult, TrainSetup } from "../harness.js";

export const PYTHON = "/usr/bin/python3";
const OPENBLAS = [process.env.NNC_BENCH_OPENBLAS, "/usr/lib/x86_64-linux-gnu/openblas-openmp", "/usr/lib/x86_64-linux-gnu/openblas-pthread"];

export interface TorchWorkload {
  readonly id: string;
  readonly setup: TrainSetup;
  readonly opts: readonly OptKind[];
  /** Measure one-sample latency after the SGD run (W3). */
  readonly latency: boolean;
}

export interface TorchRun {
  readonly version: string;
  readonly blas: string;
  readonly results: Record<string, TrainResult & { latencyUs?: number }>;
}

/** Freed memory stays in the heap: no mmap below 1 GiB, no trim below 2 GiB. */
export const TUNED_MALLOC = "glibc.malloc.mmap_threshold=1073741824:glibc.malloc.trim_threshold=2147483648";

/** How the rows say which allocator PyTorch ran with. */
export const mallocNote = (): string => (process.env.NNC_BENCH_TORCH_MALLOC === "default" ? "glibc malloc as installed" : "glibc malloc tuned");

/** The child's environment: `threads` for OpenMP and the BLAS (PyTorch's intra-op threads and OpenBLAS's pool), OpenBLAS first on the library path. */
export function torchEnv(threads = 1): NodeJS.ProcessEnv {
  const n = String(threads);
  const e: NodeJS.ProcessEnv = { ...process.env, OMP_NUM_THREADS: n, OPENBLAS_NUM_THREADS: n, MKL_NUM_THREADS: n };
  const blas = OPENBLAS.find((d) => d !== undefined && d !== "" && existsSync(join(d, "libblas.so.3")));
  if (blas) e.LD_LIBRARY_PATH = [blas, process.env.LD_LIBRARY_PATH].filter(Boolean).join(":");
  if (process.env.NNC_BENCH_TORCH_MALLOC !== "default") e.GLIBC_TUNABLES = TUNED_MALLOC;
  return e;
}

/** Why PyTorch cannot run here, or undefined when it can. */
export function torchMissing(): string | undefined {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  const r = spawnSync(PYTHON, ["-c", "import torch"], { env: torchEnv(), encoding: "utf8" });
  if (r.status !== 0) return "python3-torch not installed (apt-get install python3-torch)";
  return undefined;
}

export function write(path: string, a: Float32Array | Uint8Array): void {
  writeFileSync(path, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
}

/** Runs bench/systems/<script> on DIR with `threads` threads; its stdout. */
export function runScript(script: string, dir: string, threads: number): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // Next to this file when run from source; in the source tree when run from dist/.
  const path = [join(here, script), join(here, "../../../bench/systems", script)].find((p) => existsSync(p));
  if (!path) throw new Error(`bench/systems/${script} not found`);
  const r = spawnSync(PYTHON, [path, dir], { env: torchEnv(threads), encoding: "utf8", maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`${script} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

export function runTorch(
  workloads: readonly TorchWorkload[],
  o: { warmupSteps: number; chunks: number; latencyReps: number; threads?: number },
): TorchRun {
  const threads = o.threads ?? 1;
  const dir = mkdtempSync(join(tmpdir(), "nnc-bench-torch-"));
  try {
    const cfg = {
      threads,
      warmupSteps: o.warmupSteps,
      chunks: o.chunks,
      latencyReps: o.latencyReps,
      workloads: workloads.map(({ id, setup: s, opts, latency }) => {
        s.init.forEach((d, l) => {
          write(join(dir, `${id}_w${l}.f32`), d.w);
          write(join(dir, `${id}_b${l}.f32`), d.b);
        });
        const f = s.sizes[0]!, k = s.sizes[s.sizes.length - 1]!;
        write(join(dir, `${id}_x.f32`), s.x.subarray(0, s.steps * s.batch * f));
        write(join(dir, `${id}_y.f32`), s.y.subarray(0, s.steps * s.batch * k));
        write(join(dir, `${id}_ex.f32`), s.evalX);
        write(join(dir, `${id}_el.u8`), s.evalLabels);
        return { id, sizes: s.sizes, hidden: s.hidden, head: s.head, batch: s.batch, steps: s.steps, lr: s.lr, opts, latency };
      }),
    };
    writeFileSync(join(dir, "config.json"), JSON.stringify(cfg));
    const out = JSON.parse(runScript("torch_bench.py", dir, threads)) as { torch: string; blas: string; results: TorchRun["results"] };
    return { version: out.torch, blas: out.blas, results: out.results };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
