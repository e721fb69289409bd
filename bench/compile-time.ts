/**
 * W4: how long nnc takes to compile every example — `nnc compile` in a fresh Node process
 * (what a user waits for at the terminal, start-up included), and in-process (check + compile
 * + load, what the playground pays on each edit), median after warm-up.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { median, nowMs } from "./harness.js";
import { compileSource, loadCompiler } from "./systems/nnc.js";

/** Loaded into the child with `--import`: prints the process's CPU time when it exits. */
const CPU_HOOK =
  'data:text/javascript,process.on("exit",()=>{const c=process.cpuUsage();process.stderr.write("\\nNNC_BENCH_CPU_MS="+(c.user+c.system)/1000+"\\n")})';

export interface CompileTime {
  readonly example: string;
  readonly inProcessMs: number;
  /** The same over process CPU time (steadier on a shared machine). */
  readonly inProcessCpuMs: number;
  readonly coldMs: number | undefined;
  /** CPU time of that process (user + system), read by a hook loaded with `--import`. */
  readonly coldCpuMs: number | undefined;
  readonly params: number | undefined;
}

/** Compile times of every `examples/*.nn`, or a message saying why they cannot be measured. */
export async function measureCompileTimes(reps: number): Promise<CompileTime[] | string> {
  const c = await loadCompiler();
  if (typeof c === "string") return `skipped — ${c}`;
  const dir = join(process.cwd(), "examples");
  if (!existsSync(dir)) return "skipped — no examples/ folder";
  const cli = join(process.cwd(), "dist", "nnc.mjs"); // the bundled CLI that `npm run build` makes
  const files = readdirSync(dir).filter((f) => f.endsWith(".nn")).sort();
  const out: CompileTime[] = [];
  const tmp = mkdtempSync(join(tmpdir(), "nnc-bench-compile-"));
  try {
    for (const f of files) {
      const source = readFileSync(join(dir, f), "utf8");
      let params: number | undefined;
      const times: number[] = [];
      const cpuTimes: number[] = [];
      try {
        for (let i = 0; i < 3; i++) compileSource(c, source);
        for (let i = 0; i < reps; i++) {
          const c0 = process.cpuUsage();
          const t0 = nowMs();
          const m = compileSource(c, source);
          times.push(nowMs() - t0);
          const cu = process.cpuUsage(c0);
          cpuTimes.push((cu.user + cu.system) / 1000);
          params = m.meta.paramCount;
        }
      } catch (e) {
        process.stderr.write(`W4 ${f}: ${(e as Error).message}\n`);
        continue;
      }
      let coldMs: number | undefined;
      let coldCpuMs: number | undefined;
      if (existsSync(cli)) {
        const cold: number[] = [];
        const coldCpu: number[] = [];
        for (let i = 0; i < 3; i++) {
          const t0 = nowMs();
          const r = spawnSync(
            process.execPath,
            ["--import", CPU_HOOK, cli, "compile", join(dir, f), "-o", join(tmp, f.replace(/\.nn$/, ".ts"))],
            { encoding: "utf8" },
          );
          const dt = nowMs() - t0;
          if (r.status !== 0) {
            process.stderr.write(`W4 cold ${f}: exit ${r.status}: ${r.stderr.split("\n").slice(0, 3).join(" ")}\n`);
            break;
          }
          cold.push(dt);
          const m = /NNC_BENCH_CPU_MS=([\d.]+)/.exec(r.stderr);
          if (m) coldCpu.push(Number(m[1]));
        }
        if (cold.length) coldMs = median(cold);
        if (coldCpu.length) coldCpuMs = median(coldCpu);
      }
      out.push({ example: f, inProcessMs: median(times), inProcessCpuMs: median(cpuTimes), coldMs, coldCpuMs, params });
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return out;
}
