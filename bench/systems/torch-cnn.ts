/**
 * PyTorch on the bench's CNN (`examples/fashion-cnn.nn`, `bench/cnn.ts`): the same network
 * (`nn.Conv2d`, `max_pool2d`, `nn.Linear`, flattened channels last as nnc does), the same initial
 * weights (nnc's, converted from its layout), the same batches, Adam with nnc's settings, and
 * the protocol of `bench/cnn.ts` (`measure`), on 1 or more threads (`torch_cnn.py`).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CnnRow } from "../cnn.js";
import { compileCnn } from "../cnn.js";
import { loadFashion } from "../data.js";
import { mallocNote, runScript, torchMissing, write } from "./torch.js";

const BATCH = 64;

/** PyTorch's CNN row with `threads` threads, or why it cannot run. */
export function torchCnn(steps: number, threads: number): CnnRow | string {
  const missing = torchMissing();
  if (missing) return missing;
  const data = loadFashion(steps * BATCH + BATCH);
  if (data === undefined) return "Fashion-MNIST is not installed";
  const { model, initial, lr } = compileCnn();
  const prefixes = (rank: number): string[] => model.layout.filter((e) => e.name.endsWith(".weight") && e.shape.length === rank).map((e) => e.name.slice(0, -".weight".length));
  const dir = mkdtempSync(join(tmpdir(), "nnc-bench-torch-cnn-"));
  try {
    write(join(dir, "params.f32"), initial);
    write(join(dir, "x.f32"), data.train.x.subarray(0, steps * BATCH * 784));
    write(join(dir, "y.f32"), data.train.y.subarray(0, steps * BATCH * 10));
    const tests = Math.min(data.test.n, 2048);
    write(join(dir, "tx.f32"), data.test.x.subarray(0, tests * 784));
    write(join(dir, "tl.u8"), data.test.labels.subarray(0, tests));
    const layout = model.layout.map(({ name, shape, offset, size }) => ({ name, shape, offset, size }));
    writeFileSync(join(dir, "config.json"), JSON.stringify({ threads, batch: BATCH, steps, chunk: 10, lr, layout, convs: prefixes(4), denses: prefixes(2) }));
    const r = JSON.parse(runScript("torch_cnn.py", dir, threads)) as Omit<CnnRow, "system" | "note"> & { torch: string; threads: number };
    const { trainRate, trainCpuRate, inferRate, inferCpuRate, testAccuracy } = r;
    return {
      system: threads === 1 ? "torch" : `torch-${threads}t`,
      note: `PyTorch ${r.torch}, torch.get_num_threads() = ${r.threads}, ${mallocNote()}`,
      trainRate,
      trainCpuRate,
      inferRate,
      inferCpuRate,
      testAccuracy,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
