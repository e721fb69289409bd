/**
 * How much arithmetic a training step is: the multiply-adds of every node of the differentiated
 * graph (forward, loss, backward) per sample, from each op's `macs` (the products: matmul,
 * bmm, conv2d, the recurrent scans) or one operation per output value (everything else).
 * An estimate of cost, not a count of instructions: `nnc train` uses it to decide whether a
 * batch is worth spreading over threads (`runtime/shards.ts`, `defaultThreads`).
 */
import type { Graph, IrShape } from "./ir.js";
import type { Program } from "./program.js";
import { lower } from "./lower.js";
import { autodiff } from "./autodiff.js";
import { opDef } from "./ops/registry.js";
import { elements } from "./ops/types.js";

/** A shape with the batch axis at 1. */
const perSample = (shape: IrShape): number[] => shape.map((d) => (d === "n" ? 1 : d));

/**
 * Multiply-adds of every node of `graph` on a batch of `batch`: a product's `macs` per sample
 * times the batch; any other op one per value it computes (per sample for a value with the
 * batch axis, once for one without: a bias's gradient, a sum); leaves (parameters, inputs,
 * labels) and aliases nothing.
 */
export function graphMacs(graph: Graph, batch: number): number {
  let total = 0;
  for (const node of graph.nodes) {
    const op = opDef(node.op);
    if (op.alias || node.inputs.length === 0) continue;
    if (op.macs) total += batch * op.macs(node.inputs.map((i) => perSample(graph.nodes[i]!.shape)), node.attrs);
    else total += (node.shape.includes("n") ? batch : 1) * elements(perSample(node.shape));
  }
  return total;
}

/** The differentiated graph of a training step on a batch of `program.train.batch`; undefined when the program does not lower. */
function stepGraph(program: Program): Graph | undefined {
  const lowered = lower(program, { maxBatch: program.train.batch, dtype: "float32" });
  return lowered.value === undefined ? undefined : autodiff(lowered.value).value;
}

/** Multiply-adds of one training step on a batch of `program.train.batch` samples; undefined when the program does not lower. */
export function stepMacs(program: Program): number | undefined {
  const graph = stepGraph(program);
  return graph === undefined ? undefined : graphMacs(graph, program.train.batch);
}

/**
 * The step's multiply-adds as the default sharding judges them (`defaultThreads`), or undefined
 * for a model that shards would change beyond rounding: batchnorm normalizes each shard by its
 * own statistics (over 16 samples of a batch of 64), so such a model keeps the whole-batch
 * step unless `--workers` or `--shards` asks.
 */
export function shardingMacs(program: Program): number | undefined {
  const graph = stepGraph(program);
  if (graph === undefined || graph.nodes.some((n) => n.op === "batchnorm_stats")) return undefined;
  return graphMacs(graph, program.train.batch);
}
