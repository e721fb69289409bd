/**
 * `dense units, act`: every input feeds every unit. Lowers to matmul(x, w) (+ bias_add) (+ the
 * activation), w stored [units, inputs] as PyTorch's `Linear` (one row per unit); fusion makes
 * it one tiled loop with bias and activation in the epilogue. On a sequence [T, D] made by a
 * layer before it, it applies the same weights at every step ([T, units], as Keras' `Dense` and
 * PyTorch's `Linear` do). The model's input [H, W] itself (a grayscale image, most often), or an
 * image, is reported (NN3001) and flattened so that later layers are still checked.
 */
import { shapeSize, showShape } from "../ir.js";
import type { Activation, InitializerKind, LayerBase } from "../program.js";
import type { Penalty } from "../ir.js";
import { biasName, layerOutputName, matmulName, preActivationName, weightName } from "../codegen/names.js";
import { activationArg, arg, biasArg, biasInitArg, describeActivation, describePenalty, initArg, namedPart, penaltyArgs, weighted } from "./common.js";
import { stepwise } from "./sequence.js";
import { defineLayer, type LowerContext } from "./types.js";

export interface DenseLayer extends LayerBase {
  readonly kind: "dense";
  readonly units: number;
  readonly activation: Activation;
  readonly init: InitializerKind;
  readonly biasInit: InitializerKind;
  readonly useBias: boolean;
  /** `l1:`/`l2:` on the weight (not the bias). */
  readonly penalty: Penalty;
}

export const dense = defineLayer<DenseLayer>({
  word: "dense",
  doc: "Fully connected layer: every input feeds every unit. `dense 64, relu`.",
  args: [arg.required(arg.int("units", "number of neurons (outputs)", 1, 1 << 20), "a unit count"), activationArg, initArg, biasInitArg, biasArg, ...penaltyArgs],
  usage: "e.g. `dense 64, relu`",
  build: (a, ctx) => ({ ...ctx.base, kind: "dense", units: a.num("units"), ...weighted(a, ctx) }),
  describe: (l) => `dense${namedPart(l)} ${l.units}, ${describeActivation(l.activation)}${describePenalty(l.penalty)}`,
  lower(layer, input, ctx) {
    const k = ctx.k;
    let cur = input;
    const shape = ctx.node(cur).shape;
    if (shape.length === 3 && !readsModelInput(ctx, cur)) {
      // A sequence [T, D]: the same weights at every step, [T, units] (Keras' `Dense` on a 3-D input, PyTorch's `Linear`).
      const d = shape[2] as number;
      const fan = { in: d, out: layer.units };
      const w = ctx.param("weight", [layer.units, d], layer.init, weightName(k), fan, true, layer.penalty);
      const b = layer.useBias ? ctx.param("bias", [layer.units], layer.biasInit, biasName(k), fan) : undefined;
      return stepwise(ctx, cur, w, b, layer.activation, { tag: `dense${k}`, pre: preActivationName(k), out: layerOutputName(k) });
    }
    if (shape.length !== 2) {
      ctx.report("layerNeedsFlatInput", ["dense", showShape(shape.slice(1))], "add a `flatten` layer before it");
      cur = ctx.add("reshape", [cur], `flat${k}`, { to: `n,${shapeSize(shape)}` });
    }
    const fanIn = shapeSize(ctx.node(cur).shape);
    const units = layer.units;
    const fan = { in: fanIn, out: units };
    const w = ctx.param("weight", [units, fanIn], layer.init, weightName(k), fan, true, layer.penalty);
    const b = layer.useBias ? ctx.param("bias", [units], layer.biasInit, biasName(k), fan) : undefined;
    const linear = layer.activation.kind === "linear";
    let v = ctx.add("matmul", [cur, w], b !== undefined ? matmulName(k) : linear ? layerOutputName(k) : preActivationName(k));
    if (b !== undefined) v = ctx.add("bias_add", [v, b], linear ? layerOutputName(k) : preActivationName(k));
    return ctx.activate(layer.activation, v);
  },
  diagram: { color: "#f472b6", connects: "all" },
});

/** Whether a value is the model's input as given (through reshapes and the slice of a named input): a grayscale image [H, W] more often than a sequence. */
function readsModelInput(ctx: LowerContext, id: number): boolean {
  let n = ctx.node(id);
  while (n.op === "reshape" || n.op === "slice") n = ctx.node(n.inputs[0] as number);
  return n.op === "input";
}
