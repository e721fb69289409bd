/** The ops of the convolutional family (issue 8), joined to the registry as one list. */
import type { OpDef } from "./types.js";
import { im2col } from "./conv-im2col.js";
import { conv2d } from "./conv2d.js";
import { conv2dDb, conv2dDw, conv2dDx } from "./conv2d_grad.js";
import { maxpool2d, maxpool2dGrad } from "./maxpool2d.js";
import { avgpool2d, avgpool2dGrad } from "./avgpool2d.js";
import { batchnorm, batchnormDbeta, batchnormDgamma, batchnormDx, batchnormStats } from "./batchnorm.js";

export const CONV_OPS: readonly OpDef[] = [im2col, conv2d, conv2dDx, conv2dDw, conv2dDb, maxpool2d, maxpool2dGrad, avgpool2d, avgpool2dGrad, batchnormStats, batchnorm, batchnormDgamma, batchnormDbeta, batchnormDx];
