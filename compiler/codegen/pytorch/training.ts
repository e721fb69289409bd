/**
 * The training part of the PyTorch script, per target table: the loss (summed over a batch's
 * samples, so that any slicing of a global batch over ranks divides by the same count), the
 * optimizer with nnc's semantics (PyTorch's own classes, whose update nnc already follows;
 * Lion written out), gradient clipping as nnc clips, and the helper classes a layer needs.
 * A loss or optimizer without an entry is refused with NN3045.
 */
import type { Optimizer, Program } from "../../program.js";
import { lower } from "../../lower.js";
import { pyNumber, pyString } from "./quote.js";

export interface PyLoss {
  /** The body of `loss_sum(scores, y)`: the loss summed over the samples. */
  readonly sum: string;
  /** What one sample's loss is divided by (1, or the outputs for the losses that are a mean over them). */
  readonly perSample: "1" | "outputs";
}

export const PYTORCH_LOSSES: Readonly<Record<string, (p: Program) => PyLoss>> = {
  cross_entropy: () => ({ sum: "-(y * F.log_softmax(scores, dim=-1)).sum()", perSample: "1" }),
  binary_cross_entropy: () => ({ sum: 'F.binary_cross_entropy_with_logits(scores, y, reduction="sum")', perSample: "outputs" }),
  mse: () => ({ sum: "((scores - y) ** 2).sum()", perSample: "outputs" }),
  mae: () => ({ sum: "(scores - y).abs().sum()", perSample: "outputs" }),
  huber: (p) => ({ sum: `F.huber_loss(scores, y, reduction="sum", delta=${pyNumber(p.loss.delta)})`, perSample: "outputs" }),
};

const num = (o: Optimizer, name: string): string => pyNumber(o.settings[name] as number);

/** Per optimizer word: the expression that makes it over `params` (the rate is set per step). */
export const PYTORCH_OPTIMIZERS: Readonly<Record<string, (o: Optimizer) => string>> = {
  sgd: (o) => `torch.optim.SGD(params, lr=${pyNumber(o.lr)}, momentum=${num(o, "momentum")}, nesterov=${o.settings["nesterov"] === true ? "True" : "False"}, weight_decay=${pyNumber(o.weightDecay)})`,
  adam: (o) => `torch.optim.Adam(params, lr=${pyNumber(o.lr)}, betas=(${num(o, "beta1")}, ${num(o, "beta2")}), eps=${num(o, "epsilon")}, weight_decay=${pyNumber(o.weightDecay)}, amsgrad=${o.settings["amsgrad"] === true ? "True" : "False"})`,
  adamw: (o) => `torch.optim.AdamW(params, lr=${pyNumber(o.lr)}, betas=(${num(o, "beta1")}, ${num(o, "beta2")}), eps=${num(o, "epsilon")}, weight_decay=${pyNumber(o.weightDecay)}, amsgrad=${o.settings["amsgrad"] === true ? "True" : "False"})`,
  rmsprop: (o) => `torch.optim.RMSprop(params, lr=${pyNumber(o.lr)}, alpha=${num(o, "rho")}, eps=${num(o, "epsilon")}, momentum=${num(o, "momentum")}, weight_decay=${pyNumber(o.weightDecay)})`,
  adagrad: (o) => `torch.optim.Adagrad(params, lr=${pyNumber(o.lr)}, eps=${num(o, "epsilon")}, weight_decay=${pyNumber(o.weightDecay)})`,
  lion: (o) => `Lion(params, lr=${pyNumber(o.lr)}, betas=(${num(o, "beta1")}, ${num(o, "beta2")}), weight_decay=${pyNumber(o.weightDecay)})`,
};

/** Helper classes, by name, written into the script when a layer or the optimizer uses them. */
export const HELPERS: Readonly<Record<string, string>> = {
  KerasBatchNorm: `class KerasBatchNorm(nn.Module):
    """Batch normalization over dimension 1 with Keras' conventions, as nnc: running = m·running + (1 − m)·batch
    with the biased batch variance (PyTorch keeps the unbiased one), eps inside the root."""

    def __init__(self, channels, momentum, eps):
        super().__init__()
        self.momentum, self.eps = momentum, eps
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.register_buffer("running_mean", torch.zeros(channels))
        self.register_buffer("running_var", torch.ones(channels))

    def forward(self, x):
        if self.training:
            dims = [d for d in range(x.dim()) if d != 1]
            with torch.no_grad():
                mean, var = x.mean(dims), x.var(dims, unbiased=False)
                self.running_mean.mul_(self.momentum).add_(mean, alpha=1 - self.momentum)
                self.running_var.mul_(self.momentum).add_(var, alpha=1 - self.momentum)
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, self.training, 0.0, self.eps)`,
  Lion: `class Lion(torch.optim.Optimizer):
    """Lion (Chen et al. 2023) as nnc: c = β1·m + (1 − β1)·g; p ← p·(1 − lr·wd) − lr·sign(c); m = β2·m + (1 − β2)·g."""

    def __init__(self, params, lr, betas, weight_decay):
        super().__init__(params, dict(lr=lr, betas=betas, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            lr, (b1, b2), wd = group["lr"], group["betas"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                m = self.state[p].setdefault("m", torch.zeros_like(p))
                c = b1 * m + (1 - b1) * p.grad
                p.mul_(1 - lr * wd).add_(torch.sign(c), alpha=-lr)
                m.mul_(b2).add_(p.grad, alpha=1 - b2)`,
};

/**
 * `penalty(model)`: the layers' `l1:`/`l2:` as nnc adds them to the loss, l1·Σ|w| + l2·Σw² over
 * the tensors the lowering marked (one definition: the layer's `lower`), found by their nnc names
 * through `NNC_TENSORS`. The training loop adds it to each rank's loss once (not times the
 * ranks, which DDP averages) and to the reported and evaluated loss, as `nnc train` does.
 */
export function penaltyLines(program: Program): string[] {
  const graph = lower(program, { maxBatch: 1, dtype: "float32" }).value;
  const marked = (graph?.params ?? []).filter((p) => p.penalty !== undefined && p.trainable !== false);
  const doc = `    """The layers' l1/l2 penalties, as nnc adds them to the loss: l1·Σ|w| + l2·Σw² (Keras' kernel_regularizer, no ½ on l2)."""`;
  if (marked.length === 0) return [`def penalty(model):`, doc, `    return 0.0  # the file sets no l1/l2`];
  return [
    `PENALTIES = [  # (nnc tensor, l1, l2)`,
    ...marked.map((p) => `    (${pyString(p.name)}, ${pyNumber(p.penalty!.l1)}, ${pyNumber(p.penalty!.l2)}),`),
    `]`,
    ``,
    ``,
    `def penalty(model):`,
    doc,
    `    params = dict(model.named_parameters())`,
    `    total = 0.0`,
    `    for name, l1, l2 in PENALTIES:`,
    `        w = params[NNC_TENSORS[name][0]]`,
    `        total = total + l1 * w.abs().sum() + l2 * (w * w).sum()`,
    `    return total`,
  ];
}

/** Clipping as nnc does it, before the optimizer adds any L2 term: the global norm (summed in float64), then each value. */
export function clipLines(o: Optimizer): string[] {
  const lines: string[] = [];
  if (o.clipNorm > 0) {
    lines.push(
      `norm = math.sqrt(sum(float((p.grad.double() ** 2).sum()) for p in model.parameters() if p.grad is not None))`,
      `if norm > ${pyNumber(o.clipNorm)}:  # global norm clipping`,
      `    for p in model.parameters():`,
      `        if p.grad is not None:`,
      `            p.grad.mul_(${pyNumber(o.clipNorm)} / norm)`,
    );
  }
  if (o.clipValue > 0) lines.push(`torch.nn.utils.clip_grad_value_(model.parameters(), ${pyNumber(o.clipValue)})`);
  return lines;
}
