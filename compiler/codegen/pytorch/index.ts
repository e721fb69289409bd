/**
 * `nnc compile --target pytorch`: the checked program → one readable Python file: the model as
 * a `torch.nn.Module` (`module.ts`), nnc's weights in and out of it (`load_nnc_weights`,
 * `save_nnc_weights`), and a training script under `if __name__ == "__main__":` that trains on
 * the data nnc prepared (`nnc compile` writes it beside the script: the splits preprocessed,
 * the seeded initial weights, every epoch's shuffle order and every step's learning rate), with
 * the file's loss and optimizer, and with `DistributedDataParallel` when launched with
 * WORLD_SIZE > 1 (gloo): each rank takes its slice of every global batch, so any number of ranks
 * trains on the same batches as one process.
 *
 * Browser-safe (it returns text); the CLI writes the data file (`cli/commands/compile-pytorch.ts`).
 */
import { diag, type Diagnostic, type Result } from "../../../grammar/diagnostics.js";
import type { Program } from "../../program.js";
import { emitModule } from "./module.js";
import { pyComment, pyString } from "./quote.js";
import { clipLines, HELPERS, penaltyLines, PYTORCH_LOSSES, PYTORCH_OPTIMIZERS } from "./training.js";
import { WEIGHTS_PART, MAIN_PART } from "./script.js";

export interface PytorchOptions {
  /** The data file's name, as the script finds it beside itself by default. */
  readonly dataFile: string;
  /** The script's own file name, for its usage lines. */
  readonly script: string;
  /** The `.nn` file's name, for the header comment. */
  readonly source: string;
}

export function emitPytorch(program: Program, options: PytorchOptions): Result<string | undefined> {
  const diagnostics: Diagnostic[] = [];
  const mod = emitModule(program, diagnostics);
  const loss = PYTORCH_LOSSES[program.loss.kind];
  const optimizer = PYTORCH_OPTIMIZERS[program.optimizer.kind];
  if (loss === undefined) diagnostics.push(diag("pytorchNoLowering", program.loss.span, [`loss \`${program.loss.kind}\``, "the target has no entry for it"]));
  if (optimizer === undefined) diagnostics.push(diag("pytorchNoLowering", program.optimizer.span, [`optimizer \`${program.optimizer.kind}\``, "the target has no entry for it"]));
  if (program.train.earlyStop !== undefined) {
    diagnostics.push(diag("pytorchNotCarried", program.train.earlyStop.span, ["`early_stop`", "the script trains every epoch and keeps the last weights"]));
  }
  if (program.train.classWeight !== undefined) {
    diagnostics.push(diag("pytorchNotCarried", program.train.classWeight.span, ["`class_weight`", "the script weighs every sample alike"]));
  }
  if (mod === undefined || loss === undefined || optimizer === undefined) return { value: undefined, diagnostics };

  const helpers = [...mod.helpers, ...(program.optimizer.kind === "lion" ? ["Lion"] : [])];
  const l = loss(program);
  const clip = clipLines(program.optimizer);
  const script = pyComment(options.script);
  const body = [
    ...helpers.flatMap((h) => [HELPERS[h] as string, ``, ``]),
    mod.code,
    ``,
    ``,
    WEIGHTS_PART,
    ``,
    ``,
    `def loss_sum(scores, y):`,
    `    """The loss of a batch, summed over its samples (${program.loss.kind}${mod.head ? `, from the scores before the ${mod.head}` : ""})."""`,
    `    return ${l.sum}`,
    ``,
    ``,
    `def loss_count(n, outputs):`,
    `    """What the summed loss of n samples is divided by: nnc's loss is the mean over the ${l.perSample === "1" ? "samples" : "samples and outputs"}."""`,
    `    return n${l.perSample === "1" ? "" : " * outputs"}`,
    ``,
    ``,
    ...penaltyLines(program),
    ``,
    ``,
    `def make_optimizer(params):`,
    `    return ${optimizer(program.optimizer)}`,
    ``,
    ``,
    `def clip_gradients(model):`,
    ...(clip.length > 0 ? clip.map((c) => `    ${c}`) : ["    pass  # the file sets no clipping"]),
    ``,
    ``,
    MAIN_PART.replaceAll("MODEL_CLASS", mod.name),
    ``,
  ].join("\n");
  const text = [
    `"""${pyComment(program.model.name)}: a PyTorch module and its training script, written by \`nnc compile --target pytorch\``,
    `from ${pyComment(options.source)}.`,
    ``,
    `    python3 ${script}                      # trains on the data nnc prepared beside it`,
    `    torchrun --standalone --nproc_per_node=2 --redirects 2 --tee 1 ${script}   # the same batches on 2 ranks`,
    `    python3 ${script} --help`,
    ``,
    `It writes model.pt (the state dict) and weights.json (nnc's format, which \`nnc eval\`, \`nnc predict\``,
    `and \`nnc export\` load). Needs torch and numpy only.`,
    `"""`,
    `import argparse`,
    `import json`,
    ...(body.includes("math.") ? [`import math`] : []),
    `import os`,
    ``,
    `import numpy as np`,
    `import torch`,
    `import torch.distributed as dist`,
    `import torch.nn as nn`,
    `import torch.nn.functional as F`,
    ``,
    `DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), ${pyString(options.dataFile)})`,
    ``,
    ``,
    body,
  ].join("\n");
  return { value: text, diagnostics };
}
