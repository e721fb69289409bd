/**
 * Per-op goldens: for every op of the registry, the code each target writes for one small
 * representative node (`op-samples.ts`), pinned in `tests/golden/ops/`:
 *
 *   <sample>.ts.txt     the TypeScript lowering
 *   <sample>.wasm.txt   for ops in the wasm table: what the lowering asks of the kernels (each
 *                       request, keys sorted) and the statement it returns — or that these
 *                       settings have no kernel. The kernels here accept every request and
 *                       answer `kernels.<out>(n);`, so the golden shows the lowering alone.
 *
 * A change to one op's code changes its own golden, not every example's. Policy for missing
 * goldens: `tests/golden/expect-golden.ts`.
 */
import { describe, expect, it } from "vitest";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { allOps } from "../../compiler/ops/registry.js";
import type { EmitContext } from "../../compiler/codegen/ts/context.js";
import { lowerTs } from "../../compiler/codegen/ts/lowering.js";
import { lowerWasm, WASM_LOWERINGS, type Kernels } from "../../compiler/codegen/wasm/lowering.js";
import { expectGolden, updatingGoldens } from "../golden/expect-golden.js";
import { opSamples, sampleContext } from "./op-samples.js";

const dir = join(import.meta.dirname, "..", "golden", "ops");
const samples = opSamples();

function sorted(value: unknown): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  const o = value as Record<string, unknown>;
  return Object.fromEntries(
    Object.keys(o)
      .sort()
      .map((k) => [k, sorted(o[k])]),
  );
}

/** Kernels that accept every request, recording it. */
function recordingKernels(): { kernels: Kernels; log: string[] } {
  const log: string[] = [];
  const accept =
    (method: string, out: (r: never) => string) =>
    (r: object): string => {
      log.push(`${method} ${JSON.stringify(sorted(r))}`);
      return `kernels.${out(r as never)}(n);`;
    };
  return {
    log,
    kernels: {
      request: accept("request", (r: { out: string }) => r.out),
      conv: accept("conv", (r: { product: { out: string } }) => r.product.out),
      maxpool: accept("maxpool", (r: { out: string }) => r.out),
      maxpoolGrad: accept("maxpoolGrad", (r: { dx: string }) => r.dx),
      reluApplied: new Map(),
      convDx: accept("convDx", (r: { dx: string }) => r.dx),
      bmm: (r, per) => accept("bmm", (q: { out: string }) => q.out)({ ...r, per }),
      step: (r, index) => accept("step", (q: { out: string }) => q.out)({ ...r, index }),
      cell: (r) => accept("cell", (q: { tape: string }) => `${q.tape}Cell`)(r),
      cellGrad: (r) => accept("cellGrad", (q: { dz: string }) => `${q.dz}Cell`)(r),
      nests: accept("nests", (r: { out: string }) => r.out),
      rows: accept("rows", (r: { out: string }) => r.out),
    },
  };
}

describe("per-op goldens", () => {
  it("every op of the registry has a sample", () => {
    const sampled = new Set(samples.map((s) => s.op));
    expect(allOps().filter((o) => !sampled.has(o.name)).map((o) => `${o.name}: ${o.doc}`)).toEqual([]);
  });

  it("samples have distinct names, and no golden is left without its sample", () => {
    const files = new Set(samples.flatMap((s) => [`${s.id}.ts.txt`, ...(WASM_LOWERINGS.has(s.op) ? [`${s.id}.wasm.txt`] : [])]));
    expect(files.size).toBe(samples.length + samples.filter((s) => WASM_LOWERINGS.has(s.op)).length);
    if (updatingGoldens) return;
    const stale = readdirSync(dir).filter((f) => !files.has(f));
    expect(stale, "golden files no sample writes: delete them").toEqual([]);
  });

  for (const s of samples) {
    it(`${s.id}: TypeScript`, () => {
      const ctx: EmitContext = sampleContext(s.graph);
      expectGolden(join(dir, `${s.id}.ts.txt`), lowerTs(s.node, ctx) + "\n");
    });
    if (WASM_LOWERINGS.has(s.op)) {
      it(`${s.id}: WebAssembly`, () => {
        const { kernels, log } = recordingKernels();
        const call = lowerWasm(s.node, sampleContext(s.graph), kernels);
        const text = call === undefined ? ["no kernel for these settings: the TypeScript lowering runs", ...log] : [...log, "", call];
        expectGolden(join(dir, `${s.id}.wasm.txt`), text.join("\n") + "\n");
      });
    }
  }
});
