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
 *
 * One sigmoid unit with binary cross-entropy (classes 0 and 1) is not linear in its target, so
 * there the target carries the weight instead (`binaryTarget`), and the loss the compiler writes
 * for `class_weight` (attribute `weighted`, `codegen/ts/losses.ts`) reads it back: w·BCE and
 * w·(p − t), with w to float32 precision (it travels in a float32 target). Plain 0 and 1 stay
 * themselves (weight 1): held-out labels pass unchanged. Soft labels (0.8) have no class to weigh
 * and are refused with `class_weight`.
 */
import type { ClassWeight } from "../compiler/program.js";
import { diag, type Diagnostic, type Result } from "../grammar/diagnostics.js";
import type { Split } from "./prepare.js";
import type { Floats } from "../compiler/model-api.js";

/**
 * One weight per class from the setting and the training split (one-hot rows of `classes`, or
 * ids; `binary`: one 0/1 target per sample, classes 0 and 1).
 */
export function resolveClassWeights(cw: ClassWeight, train: Split, classes: number, names?: readonly string[], binary = false): Result<readonly number[] | undefined> {
  if (binary) {
    // A class weight needs a class: a soft label (0.8) has none, and would be rounded to one.
    const soft = train.y.findIndex((v) => v !== 0 && v !== 1);
    if (soft >= 0) {
      const d = diag("conflictingSettings", cw.span, [`\`class_weight\` weighs classes 0 and 1, but the training labels hold ${train.y[soft]}, which is neither`], { hint: "remove `class_weight`, or give labels that are exactly 0 or 1" });
      return { value: undefined, diagnostics: [d] };
    }
  }
  if (cw.weights !== "balanced") {
    if (cw.weights.length === classes) return { value: cw.weights, diagnostics: [] };
    const d: Diagnostic = diag("conflictingSettings", cw.span, [`\`class_weight\` gives ${cw.weights.length} weights, but the model has ${classes} classes`], { hint: `give one weight per class, in class order${names ? ` (${names.slice(0, 6).join(", ")}${names.length > 6 ? ", …" : ""})` : ""}, or write \`class_weight balanced\`` });
    return { value: undefined, diagnostics: [d] };
  }
  const count = new Float64Array(classes);
  if (train.ids !== undefined) {
    for (let i = 0; i < train.y.length; i++) count[train.y[i]!]!++;
  } else if (binary) {
    for (let i = 0; i < train.y.length; i++) count[train.y[i]! >= 0.5 ? 1 : 0]!++;
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

/**
 * `out` = the n target rows of `y` (each `width` wide, classes along the last axis) scaled by
 * their class's weight; with one output (`width` 1: a sigmoid unit, cross-entropy needs two or
 * more), each 0/1 target as `binaryTarget` writes it.
 */
export function weighTargets(y: Floats, out: Floats, n: number, width: number, weights: readonly number[]): void {
  if (width === 1) {
    for (let i = 0; i < n; i++) out[i] = binaryTarget((y[i] as number) >= 0.5 ? 1 : 0, weights[(y[i] as number) >= 0.5 ? 1 : 0]!);
    return;
  }
  const k = weights.length;
  for (let i = 0; i < n * width; i++) out[i] = (y[i] as number) * weights[i % k]!;
}

/**
 * A binary target carrying its class's weight w: 2 + w for class 1, −1 − w for class 0 (ranges
 * that 0 and 1, weight 1, never reach, and w = 0 included). The generated loss decodes it.
 */
export function binaryTarget(cls: 0 | 1, w: number): number {
  return cls === 1 ? 2 + w : -1 - w;
}
