/**
 * `class_weight` (Keras' `fit(class_weight=…)`): each training sample's loss is weighed by its
 * class, the mean still taken over the batch's n samples, so a batch's loss is
 * Σ w[y_i] · loss_i / n. `balanced` is scikit-learn's `compute_class_weight("balanced")`, the
 * formula Keras' guides use: w[c] = n_samples / (n_classes · count of c), on the training split.
 *
 * Cross-entropy is linear in its one-hot targets, so weighing is scaling a sample's target row
 * by its class's weight: the loss becomes w·CE and its gradient w·(p − t), exactly, for the fused
 * softmax cross-entropy and the plain one alike. The trainer scales a copy of each batch's
 * targets; metrics read the unscaled ones, and held-out splits are never weighed (as in Keras).
 */
import type { ClassWeight } from "../compiler/program.js";
import { diag, type Diagnostic, type Result } from "../grammar/diagnostics.js";
import type { Split } from "./prepare.js";
import type { Floats } from "../compiler/model-api.js";

/** One weight per class from the setting and the training split (one-hot rows of `classes`, or ids). */
export function resolveClassWeights(cw: ClassWeight, train: Split, classes: number, names?: readonly string[]): Result<readonly number[] | undefined> {
  if (cw.weights !== "balanced") {
    if (cw.weights.length === classes) return { value: cw.weights, diagnostics: [] };
    const d: Diagnostic = diag("conflictingSettings", cw.span, [`\`class_weight\` gives ${cw.weights.length} weights, but the model has ${classes} classes`], { hint: `give one weight per class, in class order${names ? ` (${names.slice(0, 6).join(", ")}${names.length > 6 ? ", …" : ""})` : ""}, or write \`class_weight balanced\`` });
    return { value: undefined, diagnostics: [d] };
  }
  const count = new Float64Array(classes);
  if (train.ids !== undefined) {
    for (let i = 0; i < train.y.length; i++) count[train.y[i]!]!++;
  } else {
    for (let i = 0; i < train.y.length; i++) count[i % classes]! += train.y[i]!;
  }
  const total = count.reduce((a, b) => a + b, 0);
  const empty = count.findIndex((c) => c === 0);
  if (empty >= 0) {
    const name = names?.[empty] ?? String(empty);
    return { value: undefined, diagnostics: [diag("classWithoutSamples", cw.span, [name], { hint: "give the weights as a list, e.g. `class_weight [1, 5]`, or use data with every class in its training split" })] };
  }
  return { value: Array.from(count, (c) => total / (classes * c)), diagnostics: [] };
}

/** `out` = the n target rows of `y` (each `width` wide, classes along the last axis) scaled by their class's weight. */
export function weighTargets(y: Floats, out: Floats, n: number, width: number, weights: readonly number[]): void {
  const k = weights.length;
  for (let i = 0; i < n * width; i++) out[i] = (y[i] as number) * weights[i % k]!;
}
