/**
 * INT8 (issue 18): inference throughput of `nnc quantize`'s int8 module against the float32
 * model on WebAssembly SIMD kernels, on the Fashion-MNIST MLP and CNN examples, batches of 64
 * test images. The weights are the seeded initial ones (the kernels' speed does not depend on
 * their values), calibrated by minmax on 1000 training images. Accuracy before and after needs
 * trained weights: `docs/compression.md` gives the `nnc quantize` commands that print it.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { checkSource } from "../compiler/check.js";
import { compileToModule } from "../compiler/load.js";
import { hasErrors } from "../grammar/diagnostics.js";
import { compareThroughput, instantiate, quantize } from "../runtime/quantize.js";
import { loadFashion } from "./data.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = here.includes(`${"/"}dist${"/"}`) || here.endsWith(`${"/"}dist${"/"}bench`) ? join(here, "..", "..") : join(here, "..");
const BATCH = 64;

export interface Int8Row {
  readonly model: string;
  /** Samples per second, the better of two timings each (float and int8 alternate). */
  readonly float32: number;
  readonly int8: number;
  readonly speedup: number;
  readonly int8Layers: readonly string[];
  readonly floatSteps: readonly string[];
}

export function benchInt8(log: (s: string) => void, ms = 1500): { rows?: Int8Row[]; note?: string } {
  const data = loadFashion(1000);
  if (!data) return { note: "skipped: Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)" };
  const rows: Int8Row[] = [];
  for (const name of ["fashion-mnist", "fashion-cnn"]) {
    const file = join(root, "examples", `${name}.nn`);
    const checked = checkSource(readFileSync(file, "utf8"));
    if (!checked.value || hasErrors(checked.diagnostics)) return { note: `${file} does not check` };
    const compiled = compileToModule(checked.value, { maxBatch: BATCH, kernels: "wasm" });
    if (!compiled.value) return { note: `${file} does not compile` };
    const model = compiled.value.createModel();
    model.init(checked.value.model.seed);
    const q = quantize(checked.value.model, model, data.train, { calibrate: 1000, calibration: "minmax", maxBatch: BATCH });
    if (!q.value) return { note: `${name}: ${q.diagnostics.map((d) => d.message).join("; ")}` };
    const int8 = instantiate(q.value.int8.js);
    const speed = compareThroughput((x, m) => model.forward(x, m, false), (x, m) => int8.forward(x, m), data.test, model.meta.inputSize, BATCH, ms);
    const row = { model: name, float32: speed.a, int8: speed.b, int8Layers: q.value.int8.int8, floatSteps: q.value.int8.float };
    rows.push({ ...row, speedup: row.int8 / row.float32 });
    log(`INT8 ${name}: float32 ${Math.round(row.float32)}/s, int8 ${Math.round(row.int8)}/s`);
  }
  return { rows };
}

export function renderInt8Section(rows: readonly Int8Row[] | undefined, note: string | undefined, table: (head: string[], body: string[][]) => string): string {
  if (!rows) return note ? `\n\nINT8: ${note}` : "";
  const body = rows.map((r) => [r.model, String(Math.round(r.float32)), String(Math.round(r.int8)), `${r.speedup.toFixed(2)}×`, r.int8Layers.join(", "), r.floatSteps.join(", ")]);
  return (
    "\n\nINT8 (issue 18): inference, samples/s, batches of 64 Fashion-MNIST test images; float32 = WebAssembly SIMD kernels, int8 = `nnc quantize`'s module\n" +
    table(["model", "float32", "int8", "int8 / float32", "int8 products", "float steps"], body)
  );
}
