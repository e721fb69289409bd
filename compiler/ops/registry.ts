/**
 * Every op, by name. An op is what it computes — its shape rule, its adjoint and a few flags
 * (`types.ts`) — never code: each target lowers it in its own table (`codegen/ts/lowering.ts`,
 * `codegen/wasm/lowering.ts`), and `tests/compiler/targets.test.ts` fails when a table lacks
 * an op listed here. Adding an op = its definition in this folder + one line here + its
 * lowering in each target + one gradient check in `tests/compiler`.
 *
 * File names in this folder are snake_case. A file is named after the op it defines, and also
 * holds the backward ops that only its adjoint appends (`matmul.ts`: matmul, matmul_nn,
 * matmul_tn); ops declared together from one table, or sharing rules, are named after their
 * family (`activations.ts`, `losses.ts`, `elementwise.ts`, `reduce.ts`, `layout.ts`); the rest
 * is named after what it holds (`types.ts`, `conv_geometry.ts`, this registry).
 */
import type { OpDef } from "./types.js";
import { input, label, param } from "./leaves.js";
import { matmul, matmulNn, matmulTn } from "./matmul.js";
import { biasAdd, sumRows } from "./bias_add.js";
import { dense } from "./dense.js";
import { ACTIVATION_OPS, activationGrad } from "./activations.js";
import { softmax, softmaxGrad } from "./softmax.js";
import { dropoutMask } from "./dropout.js";
import { reshape } from "./reshape.js";
import { LOSS_OPS, lossGrad } from "./losses.js";
import { softmaxCrossEntropy, softmaxCrossEntropyGrad } from "./softmax_cross_entropy.js";
import { sigmoidBce, sigmoidBceGrad } from "./sigmoid_bce.js";
import { conv2d, conv2dDb, conv2dDw, conv2dDx } from "./conv2d.js";
import { maxpool2d, maxpool2dArgmax, maxpool2dGrad } from "./maxpool2d.js";
import { avgpool2d, avgpool2dGrad } from "./avgpool2d.js";
import { batchnorm, batchnormDbeta, batchnormDgamma, batchnormDx, batchnormStats } from "./batchnorm.js";
import { add, constant, div, exp, log, mul, neg, nonzero, rsqrt, sub } from "./elementwise.js";
import { broadcast, mean, sum, sumTo } from "./reduce.js";
import { concat, slice, sliceGrad, transpose } from "./layout.js";
import { gather, scatterAdd } from "./gather.js";
import { bmm, causalMask } from "./bmm.js";
import { recurrentDwh, recurrentScan, recurrentScanGrad, recurrentStates } from "./recurrent_scan.js";

const OPS: readonly OpDef[] = [
  // leaves and aliases
  input,
  label,
  param,
  reshape,
  // dense layers
  matmul,
  matmulNn,
  matmulTn,
  biasAdd,
  sumRows,
  dense,
  ...ACTIVATION_OPS,
  activationGrad,
  softmax,
  softmaxGrad,
  dropoutMask,
  // losses, and the fused ones computed from the logits
  ...LOSS_OPS,
  lossGrad,
  softmaxCrossEntropy,
  softmaxCrossEntropyGrad,
  sigmoidBce,
  sigmoidBceGrad,
  // the convolutional family
  conv2d,
  conv2dDx,
  conv2dDw,
  conv2dDb,
  maxpool2dArgmax,
  maxpool2d,
  maxpool2dGrad,
  avgpool2d,
  avgpool2dGrad,
  batchnormStats,
  batchnorm,
  batchnormDgamma,
  batchnormDbeta,
  batchnormDx,
  // primitives: layers written from these need no gradient rule of their own (autodiff also sums adjoints with `add`)
  add,
  sub,
  mul,
  div,
  constant,
  neg,
  nonzero,
  exp,
  log,
  rsqrt,
  sum,
  mean,
  broadcast,
  sumTo,
  concat,
  slice,
  sliceGrad,
  transpose,
  gather,
  scatterAdd,
  // attention: batches of products, and the causal mask
  bmm,
  causalMask,
  // recurrent layers: the loop over the steps, and the backward pass through time
  recurrentScan,
  recurrentStates,
  recurrentScanGrad,
  recurrentDwh,
];

const BY_NAME: ReadonlyMap<string, OpDef> = new Map(OPS.map((o) => [o.name, o]));
if (BY_NAME.size !== OPS.length) throw new Error("bug: two ops share a name");

export function opDef(name: string): OpDef {
  const op = BY_NAME.get(name);
  if (op === undefined) throw new Error(`bug: unknown op ${name}`);
  return op;
}

/** Every op, in the order above (for the targets' coverage tests). */
export function allOps(): readonly OpDef[] {
  return OPS;
}

export { activationDef, isElementwiseActivation } from "./activations.js";
export { poolComputesArgmax } from "./maxpool2d.js";

/** Whether autodiff treats the op's output as a constant (`OpDef.noGradient`, or an integer value). */
export function hasNoGradient(name: string): boolean {
  const op = opDef(name);
  return op.noGradient === true || op.dtype !== undefined;
}
export { lossDef } from "./losses.js";
