/**
 * The `train { … }` settings that shape what a run keeps and shows rather than how it steps:
 * `class_weight` (each sample's loss weighed by its class, Keras' semantics), `print every N`
 * and `keep_best` (the best epoch's weights without early stopping).
 */
import type { Expr } from "../../grammar/ast.js";
import { TRAIN_SETTINGS } from "../vocabulary.js";
import type { ClassWeight, Data, KeepBest, Loss, Train } from "../program.js";
import { expectNoBlock, word, type Checker, type Section } from "./checker.js";

export interface FitSettings {
  readonly classWeight?: ClassWeight;
  readonly printEvery?: number;
  readonly keepBest?: KeepBest;
}

/** The settings above from an open `train` section; undefined after reporting a problem. */
export function checkFitSettings(ck: Checker, section: Section, monitorOf: (ck: Checker, e: Expr) => string | undefined): FitSettings | undefined {
  let ok = true;
  const out: { classWeight?: ClassWeight; printEvery?: number; keepBest?: KeepBest } = {};
  const cw = section.value("class_weight", "`balanced` or one weight per class, e.g. `class_weight [1, 5]`");
  const cwE = cw?.values().next().value?.expr;
  if (cwE !== undefined) {
    const weights = classWeights(ck, cwE);
    if (weights === undefined) ok = false;
    else out.classWeight = { weights, span: section.st.get("class_weight")!.span };
  }
  const pe = section.value("print", "a number of epochs, e.g. `print every 10`")?.values().next().value?.expr;
  if (pe !== undefined) {
    const every = ck.posInt(pe, "print every", 1_000_000);
    if (every === undefined) ok = false;
    else out.printEvery = every;
  }
  const kb = section.st.get("keep_best");
  if (kb !== undefined) {
    expectNoBlock(ck, kb);
    const b = ck.bind(kb.keyword, word(TRAIN_SETTINGS, "keep_best"), kb.args);
    const m = b.get("monitor");
    const monitor = m === undefined ? "val_loss" : monitorOf(ck, m.expr);
    const d = b.get("min_delta");
    const minDelta = d === undefined ? 0 : ck.ranged(d.expr, "min_delta", 0, 1e9, "a number ≥ 0");
    if (monitor === undefined || minDelta === undefined) ok = false;
    else out.keepBest = { monitor, minDelta, span: kb.span };
    if (section.st.has("early_stop"))
      ck.report("conflictingSettings", kb.keyword.span, ["`keep_best` and `early_stop` both keep the best epoch's weights"], "keep one: `early_stop` also stops the run when the metric stops improving");
  }
  return ok ? out : undefined;
}

/** `balanced`, or a list of weights ≥ 0 (not all 0). */
function classWeights(ck: Checker, e: Expr): ClassWeight["weights"] | undefined {
  if (e.kind === "name" || e.kind === "string") return ck.choice(e, "class_weight", ["balanced"] as const);
  if (e.kind !== "list") {
    if (e.kind !== "missing") ck.report("wrongType", e.span, ["class_weight", "`balanced` or a list of weights, e.g. `[1, 5]`", e.kind === "number" ? "a single number" : "something else"]);
    return undefined;
  }
  if (e.items.length < 2) {
    ck.report("wrongType", e.span, ["class_weight", "one weight per class (two or more)", `a list of ${e.items.length}`], "e.g. `class_weight [1, 5]` for classes 0 and 1");
    return undefined;
  }
  const ws = e.items.map((item) => ck.ranged(item, "a class weight", 0, 1e6, "a number from 0 to 1000000"));
  if (!ws.every((w): w is number => w !== undefined)) return undefined;
  if (ws.every((w) => w === 0)) {
    ck.report("outOfRange", e.span, ["class_weight", "at least one weight above 0", "all 0"]);
    return undefined;
  }
  return ws;
}

/** `normalize_target` standardizes a regression's targets: not class labels. */
export function checkTargetLoss(ck: Checker, data: Data | undefined, loss: Loss | undefined): void {
  if (data?.normalizeTarget === undefined || loss === undefined || (loss.kind !== "cross_entropy" && loss.kind !== "binary_cross_entropy")) return;
  ck.report("conflictingSettings", data.normalizeTarget.span, [`\`normalize_target\` standardizes a regression's targets, but \`${loss.kind}\` takes class labels`], "remove `normalize_target`, or use a regression loss such as `mse`");
}

/**
 * `class_weight` weighs classes: cross-entropy's, or the two of one sigmoid unit with
 * binary cross-entropy (`lower.ts` checks the unit count); not a regression's.
 */
export function checkClassWeightLoss(ck: Checker, train: Train, loss: Loss | undefined): void {
  if (train.classWeight === undefined || loss === undefined || loss.kind === "cross_entropy" || loss.kind === "binary_cross_entropy") return;
  ck.report("conflictingSettings", train.classWeight.span, [`\`class_weight\` weighs classes, but the loss is \`${loss.kind}\`, a regression's`], "remove `class_weight`, or use `loss cross_entropy` (or `binary_cross_entropy` with one sigmoid unit) for classes");
}
