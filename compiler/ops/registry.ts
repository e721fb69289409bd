/**
 * Every op, by name. Adding an op = one file in this folder + one line here (+ one gradient
 * check in `tests/compiler`). The convolutional family (issue 8) joins the same way.
 */
import type { OpDef } from "./types.js";
import { input, label, param } from "./leaves.js";
import { matmul } from "./matmul.js";
import { matmulNn } from "./matmul_nn.js";
import { matmulTn } from "./matmul_tn.js";
import { biasAdd } from "./bias_add.js";
import { sumRows } from "./sum_rows.js";
import { dense } from "./dense.js";
import { relu } from "./relu.js";
import { leakyRelu } from "./leaky_relu.js";
import { elu } from "./elu.js";
import { sigmoid } from "./sigmoid.js";
import { tanh } from "./tanh.js";
import { gelu } from "./gelu.js";
import { activationGrad } from "./activation_grad.js";
import { softmax } from "./softmax.js";
import { softmaxGrad } from "./softmax_grad.js";
import { dropout } from "./dropout.js";
import { dropoutGrad } from "./dropout_grad.js";
import { reshape } from "./reshape.js";
import { add } from "./add.js";
import { mse } from "./mse.js";
import { mae } from "./mae.js";
import { huber } from "./huber.js";
import { binaryCrossEntropy } from "./binary_cross_entropy.js";
import { crossEntropy } from "./cross_entropy.js";
import { lossGrad } from "./loss_grad.js";
import { softmaxCrossEntropy } from "./softmax_cross_entropy.js";
import { softmaxCrossEntropyGrad } from "./softmax_cross_entropy_grad.js";
import { sigmoidBce } from "./sigmoid_bce.js";
import { sigmoidBceGrad } from "./sigmoid_bce_grad.js";
import { CONV_OPS } from "./conv-ops.js";

const OPS: readonly OpDef[] = [
  input,
  label,
  param,
  matmul,
  matmulNn,
  matmulTn,
  biasAdd,
  sumRows,
  dense,
  relu,
  leakyRelu,
  elu,
  sigmoid,
  tanh,
  gelu,
  activationGrad,
  softmax,
  softmaxGrad,
  dropout,
  dropoutGrad,
  reshape,
  add,
  mse,
  mae,
  huber,
  binaryCrossEntropy,
  crossEntropy,
  lossGrad,
  softmaxCrossEntropy,
  softmaxCrossEntropyGrad,
  sigmoidBce,
  sigmoidBceGrad,
  ...CONV_OPS,
];

const BY_NAME = new Map(OPS.map((o) => [o.name, o]));

export function opDef(name: string): OpDef {
  const op = BY_NAME.get(name);
  if (op === undefined) throw new Error(`bug: unknown op ${name}`);
  return op;
}

export { activationDef, isElementwiseActivation } from "./activations.js";
export { lossDef } from "./losses.js";
