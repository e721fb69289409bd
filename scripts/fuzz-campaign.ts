/**
 * The long fuzzing campaign (the suite runs a short version of the same properties):
 *
 *   npx tsx scripts/fuzz-campaign.ts --cases 300000 --programs 2000 --kills 100 [--seed 1] [--minutes 60]
 *
 * Front end: `--cases` inputs (mutated examples, token soups, statement soups, random text)
 * through tokenize/parse/checkSource against the contract of tests/fuzz/frontend-oracle.ts,
 * timing each one. Compiler: `--programs` random valid programs through compile, float64
 * gradient check, float32 training steps, and a strict type-check of their TypeScript.
 * Crash safety: `--kills` real `nnc train` children SIGKILLed at random moments (start-up,
 * inside and between checkpoint writes), each checked and resumed to bit-identical weights
 * (tests/reliability/kill-loop.ts; needs `npm run build`). Stops early after `--minutes`. Prints figures as it goes and a JSON summary at the end
 * (also written to `--out`, default .nnc/fuzz-campaign.json); exits 1 if anything broke.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import fc from "fast-check";
import { runFrontEnd } from "../tests/fuzz/frontend-oracle.js";
import { compileCase } from "../tests/fuzz/compile-case.js";
import { validImageProgram, validProgram } from "../tests/fuzz/program-gen.js";
import { exampleSources, mutatedExample, randomText, statementSoup, tokenSoup } from "../tests/fuzz/text-gen.js";
import { typeCheckModules } from "../tests/fuzz/typecheck.js";
import { killOnce, randomMoment, reference } from "../tests/reliability/kill-loop.js";
import { streamFrom } from "../runtime/rng.js";

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const outIndex = process.argv.indexOf("--out");
const OUT = outIndex >= 0 ? (process.argv[outIndex + 1] as string) : ".nnc/fuzz-campaign.json";
const CASES = option("cases", 300_000);
const PROGRAMS = option("programs", 2000);
const KILLS = option("kills", 0);
const SEED = option("seed", 1);
const DEADLINE = Date.now() + option("minutes", 24 * 60) * 60_000;
const CHUNK = 500;

const sources = [...exampleSources().values()];
const families: Record<string, fc.Arbitrary<string>> = {
  mutated: mutatedExample(sources),
  tokenSoup,
  statementSoup,
  randomText,
};
const WEIGHTS: Record<string, number> = { mutated: 4, tokenSoup: 2, statementSoup: 2, randomText: 2 };

interface Failure {
  readonly kind: string;
  readonly problem: string;
  readonly input: string;
}
const failures = new Map<string, Failure>();
function record(kind: string, problem: string, input: string): void {
  const key = `${kind}: ${problem.split("\n")[0]?.replace(/\d+/g, "N").slice(0, 160)}`;
  if (!failures.has(key)) failures.set(key, { kind, problem: problem.slice(0, 2000), input: input.length > 4000 ? input.slice(0, 4000) + "…" : input });
}

const stats = {
  frontEnd: { cases: 0, accepted: 0, byFamily: {} as Record<string, number>, slowestMs: 0, slowestLength: 0, over1s: 0, totalMs: 0, bytes: 0 },
  programs: { cases: 0, compiled: 0, refusedBatchnorm: 0, typeChecked: 0, failed: 0 },
  kills: { runs: 0, killed: 0, insideWrite: 0, withCheckpoint: 0, failed: 0 },
};

async function kills(): Promise<void> {
  if (KILLS <= 0) return;
  const { mkdtempSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const dir = mkdtempSync(join(tmpdir(), "nnc-kill-campaign-"));
  const ref = await reference(join(dir, "ref"));
  const rand = streamFrom(SEED * 31 + 7);
  for (let i = 0; i < KILLS && Date.now() < DEADLINE; i++) {
    const moment = randomMoment(rand);
    const o = await killOnce(ref, join(dir, `k${i}`), moment, 40);
    const k = stats.kills;
    k.runs++;
    if (!o.finished) k.killed++;
    if (o.temps > 0) k.insideWrite++;
    if (o.checkpointEpoch > 0) k.withCheckpoint++;
    if (o.problems.length > 0) k.failed++;
    for (const p of o.problems) record("kill", p, JSON.stringify(moment));
    if (i % 10 === 9) progress();
  }
}

function frontEnd(): void {
  const totalWeight = Object.values(WEIGHTS).reduce((a, b) => a + b, 0);
  let chunk = 0;
  while (stats.frontEnd.cases < CASES && Date.now() < DEADLINE) {
    for (const [name, arb] of Object.entries(families)) {
      const n = Math.max(1, Math.round((CHUNK * (WEIGHTS[name] as number)) / totalWeight));
      for (const input of fc.sample(arb, { numRuns: n, seed: SEED * 1_000_003 + chunk * 17 + name.length })) {
        const t = performance.now();
        const r = runFrontEnd(input);
        const ms = performance.now() - t;
        const s = stats.frontEnd;
        s.cases++;
        s.byFamily[name] = (s.byFamily[name] ?? 0) + 1;
        s.totalMs += ms;
        s.bytes += input.length;
        if (r.accepted) s.accepted++;
        if (ms > s.slowestMs) {
          s.slowestMs = ms;
          s.slowestLength = input.length;
        }
        if (ms > 1000) {
          s.over1s++;
          record("slow", `${ms.toFixed(0)} ms for ${input.length} characters`, input);
        }
        for (const p of r.problems) record("front end", p, input);
      }
    }
    chunk++;
    if (chunk % 20 === 0) progress();
  }
}

function programs(): void {
  let batch: { ts: string; source: string }[] = [];
  const flush = (): void => {
    if (batch.length === 0) return;
    const errors = typeCheckModules(batch.map((b) => b.ts));
    stats.programs.typeChecked += batch.length;
    for (const e of errors) {
      const m = /^\/gen\/m(\d+)\.ts/.exec(e);
      record("type-check", e, m ? (batch[Number(m[1])]?.source ?? "") : "(generated TypeScript)");
    }
    batch = [];
  };
  let round = 0;
  while (stats.programs.cases < PROGRAMS && Date.now() < DEADLINE) {
    const arb = round % 2 === 0 ? validProgram : validImageProgram;
    for (const [p, seed] of fc.sample(fc.tuple(arb, fc.integer({ min: 1, max: 1000 })), { numRuns: 50, seed: SEED * 7919 + round })) {
      stats.programs.cases++;
      try {
        const c = compileCase(p, seed);
        if (c.ts !== undefined) {
          stats.programs.compiled++;
          batch.push({ ts: c.ts, source: p.source });
        } else stats.programs.refusedBatchnorm++;
      } catch (e) {
        stats.programs.failed++;
        record("program", e instanceof Error ? (e.stack ?? e.message) : String(e), p.source);
      }
    }
    if (batch.length >= 100) flush();
    round++;
    progress();
  }
  flush();
}

function summary(): object {
  const s = stats.frontEnd;
  return {
    seed: SEED,
    frontEnd: { ...s, meanMs: s.cases ? s.totalMs / s.cases : 0, meanLength: s.cases ? s.bytes / s.cases : 0 },
    programs: stats.programs,
    kills: stats.kills,
    failures: [...failures.values()],
  };
}

function progress(): void {
  const s = stats.frontEnd;
  process.stderr.write(
    `front end ${s.cases} cases (${s.accepted} accepted, slowest ${s.slowestMs.toFixed(0)} ms), programs ${stats.programs.cases} (${stats.programs.compiled} compiled), kills ${stats.kills.runs} (${stats.kills.killed} mid-run), failures ${failures.size}\n`,
  );
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, JSON.stringify(summary(), null, 2));
}

frontEnd();
programs();
await kills();
progress();
const result = summary();
process.stdout.write(JSON.stringify(result, null, 2) + "\n");
process.exitCode = failures.size > 0 ? 1 : 0;
