/**
 * The `quantize` setting of `train { … }` against the model (the setting's own arguments are
 * checked in `check/train.ts`): every layer needs an int8 product or a float step in the plan
 * (NN2082, at the setting, the layer related), and a plan whose every step stays float gains
 * nothing (NN2083, naming the steps).
 */
import type { Checker } from "../check/checker.js";
import type { Model, QuantizeSetting } from "../program.js";
import { stepsOf, SUPPORTED } from "./plan.js";

export function checkQuantizable(ck: Checker, q: QuantizeSetting, model: Model): void {
  const { plan, refusals } = stepsOf(model);
  for (const r of refusals) ck.report("quantizeLayer", q.span, [r.layer, r.kind, r.why], `remove \`quantize\`, or ${SUPPORTED}`, [{ message: `layer \`${r.layer}\``, span: r.span }]);
  if (refusals.length > 0 || plan.steps.some((s) => s.kind === "product")) return;
  const steps = plan.steps.map((s) => (s.kind === "activation" ? `${s.layer} (${s.activation.kind})` : s.layer));
  ck.report("quantizeNothing", q.span, [steps.join(", ") || "none"], "int8 runs dense and conv2d layers; without one, remove `quantize`");
}
