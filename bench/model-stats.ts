/**
 * For each example (and the issue-6 W1/W2 networks): parameters, bytes of preallocated
 * buffers, compile time in-process, and the median time of one `trainStep` — a script to
 * compare later changes against, not a test.
 *
 *   npx tsx bench/model-stats.ts            (or node dist/bench/model-stats.js after a build)
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { checkSource } from "../compiler/check.js";
import { compileProgram } from "../compiler/compile.js";
import { loadModule } from "../compiler/load.js";
import type { CompiledModel } from "../compiler/model-api.js";

const root = join(import.meta.dirname, "..");
const examples = join(root, "examples");

const W1 = (opt: string): string => `model W1 {
  input 784
  dense 128, relu
  dense 64, relu
  dense 10, softmax
}
loss cross_entropy
optimizer ${opt}
train { batch 64 }
`;
const W2 = `model W2 {
  input 2
  dense 16, tanh
  dense 16, tanh
  dense 1, sigmoid
}
loss binary_cross_entropy
optimizer sgd(lr: 0.1)
train { batch 1 }
`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** Median ms of one trainStep at the module's max batch, over `rounds` timed groups. */
function timeStep(model: CompiledModel, rounds = 9): number {
  const n = model.meta.maxBatch;
  const x = new Float32Array(n * model.meta.inputSize).map((_, i) => Math.sin(i) * 0.5);
  const y = new Float32Array(n * model.meta.outputSize);
  for (let r = 0; r < n; r++) y[r * model.meta.outputSize + (r % model.meta.outputSize)] = 1;
  // Warm-up: V8 needs ~1.5 s of calls to tier up large generated functions (bench helper's finding).
  const warm = performance.now();
  while (performance.now() - warm < 1500) model.trainStep(x, y, n, 1e-3);
  // Steps per group: about 20 ms of work.
  let steps = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) model.trainStep(x, y, n, 1e-3);
    if (performance.now() - t0 > 20) break;
    steps *= 2;
  }
  const times: number[] = [];
  for (let k = 0; k < rounds; k++) {
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) model.trainStep(x, y, n, 1e-3);
    times.push((performance.now() - t0) / steps);
  }
  return median(times);
}

const rows: string[][] = [["model", "params", "bytes", "compile ms", "trainStep ms", "batch", "samples/s"]];
const sources: [string, string][] = readdirSync(examples)
  .filter((f) => f.endsWith(".nn"))
  .sort()
  .map((f) => [f, readFileSync(join(examples, f), "utf8")]);
sources.push(["W1 sgd (issue 6)", W1("sgd(lr: 0.1)")], ["W1 adam (issue 6)", W1("adam(lr: 0.001)")], ["W2 sgd (issue 6)", W2]);

for (const [name, source] of sources) {
  const checked = checkSource(source);
  if (checked.value === undefined) {
    rows.push([name, "check failed: " + checked.diagnostics.map((d) => d.code).join(", ")]);
    continue;
  }
  const compileTimes: number[] = [];
  let code = "";
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const r = compileProgram(checked.value, { target: "js" });
    compileTimes.push(performance.now() - t0);
    code = r.value?.code ?? "";
  }
  if (code === "") {
    rows.push([name, "compile failed"]);
    continue;
  }
  const model = loadModule(code).createModel();
  const ms = timeStep(model);
  rows.push([
    name,
    String(model.meta.paramCount),
    String(model.meta.bytes),
    median(compileTimes).toFixed(2),
    ms.toFixed(4),
    String(model.meta.maxBatch),
    String(Math.round((model.meta.maxBatch / ms) * 1000)),
  ]);
}

const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  "));
