/**
 * `nnc features FILE --weights W --layer NAME [--input FILE | --data SPLIT] [-o OUT]`: a layer's
 * values for every sample (inference mode), as extracted features for use elsewhere. CSV on
 * stdout (one row per sample, one column per value), or with `-o OUT.f32` a little-endian
 * float32 array (samples × values, row-major) and beside it `OUT.json`, its header (shape,
 * layer, sample count, dtype, byte order, value names).
 */
import type { Command } from "commander";
import { didYouMean } from "../../compiler/suggest.js";
import { inert } from "../../runtime/inert.js";
import { writeFileAtomic } from "../../runtime/node/atomic.js";
import { CliError } from "../errors.js";
import { KERNELS_HELP } from "../options.js";
import { renderRun } from "../session.js";
import { csvCell, openExplaining, optionError, type SampleOptions } from "./explain-common.js";

interface FeaturesOptions extends SampleOptions {
  layer: string;
  output?: string;
}

export function registerFeatures(program: Command): void {
  program
    .command("features")
    .description("a layer's values for every sample, as CSV or a float32 array")
    .argument("<file>", ".nn file")
    .option("--weights <file>", "weights file written by `nnc train` (default: runs/<file name>/weights.json)")
    .requiredOption("--layer <name>", "the layer whose values to write")
    .option("--input <file>", "samples: a CSV or JSON file, or - for stdin (default: --data test)")
    .option("--data <split>", "a split of the file's data: test, validation or train")
    .option("--limit <n>", "the first n samples only")
    .option("-o, --output <file>", "write OUT.f32 (float32, little-endian) and OUT.json (its header) instead of CSV on stdout")
    .option("--kernels <kind>", KERNELS_HELP)
    .action(async (file: string, opts: FeaturesOptions) => {
      await featuresCommand(file, opts);
    });
}

async function featuresCommand(file: string, opts: FeaturesOptions): Promise<void> {
  const ex = await openExplaining(file, opts, "features");
  const layers = ex.model.meta.explain?.layers ?? [];
  const layer = layers.find((l) => l.name === opts.layer);
  if (layer === undefined) optionError("--layer", "noLayerNamed", [opts.layer], didYouMean(opts.layer, layers.map((l) => l.name), "the layers"));
  const size = layer.shape.reduce((p, d) => p * d, 1);
  const values = featuresOf(ex.model, ex.x, ex.n, layer.name, size);
  const names = Array.from({ length: size }, (_, j) => `${layer.name}_${j}`);
  if (opts.output === undefined) {
    const lines = [names.map(csvCell).join(",")];
    for (let i = 0; i < ex.n; i++) lines.push(Array.from(values.subarray(i * size, (i + 1) * size), (v) => String(Number(v.toPrecision(7)))).join(","));
    const text = lines.join("\n") + "\n";
    process.stdout.write(process.stdout.isTTY ? inert(text, { keepNewlines: true }) : text);
    return;
  }
  const base = opts.output.replace(/\.(f32|json)$/, "");
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  const header = { layer: layer.name, samples: ex.n, shape: [ex.n, ...layer.shape], dtype: "float32", byteOrder: "little", from: ex.from, data: `${base.split(/[\\/]/).pop()}.f32` };
  for (const [path, data] of [
    [`${base}.f32`, bytes],
    [`${base}.json`, JSON.stringify(header, null, 2) + "\n"],
  ] as const) {
    const failed = writeFileAtomic(path, data);
    if (failed) throw new CliError(renderRun([failed], file, ex.source));
  }
  process.stderr.write(`wrote ${base}.f32 (${ex.n} × [${layer.shape.join(", ")}] float32) and ${base}.json\n`);
}

/** The layer's values for every sample, in chunks of the model's largest batch. */
export function featuresOf(model: { meta: { maxBatch: number; inputSize: number }; forward(x: Float32Array, n: number): unknown; explain: { activations(layer: string): ArrayLike<number> } }, x: Float32Array, n: number, layer: string, size: number): Float32Array {
  const out = new Float32Array(n * size);
  const bs = Math.max(1, model.meta.maxBatch);
  const inSize = model.meta.inputSize;
  for (let start = 0; start < n; start += bs) {
    const m = Math.min(bs, n - start);
    model.forward(x.subarray(start * inSize, (start + m) * inSize), m);
    const a = model.explain.activations(layer);
    for (let i = 0; i < m * size; i++) out[start * size + i] = a[i] as number;
  }
  return out;
}
