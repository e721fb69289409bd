/**
 * Recurrent layers over a sequence [T, D]: `lstm` and `gru`. Per direction, x·Wiᵀ + b of every
 * step is one product (`stepwise`, the kernels of `dense`, wasm included); the loop over the
 * steps is one op, `recurrent_scan`, and the backward pass through time its twin
 * (`ops/recurrent_scan.ts`): the generated code is a loop, the same size for any T, whose
 * per-step products run through the wasm kernels too. Every buffer is planned once (the steps
 * allocate nothing).
 *
 * Conventions: PyTorch's (`torch.nn.LSTM`/`GRU`): gates stacked in its order (LSTM i, f, g, o;
 * GRU r, z, n), `weight_ih` [gates·H, D], `weight_hh` [gates·H, H]; the LSTM has one bias
 * [4H] (PyTorch's b_ih + b_hh), the GRU two (its b_hh sits inside r ⊙ (W_hn h + b_hn)). The
 * state starts at zero. Initialization is Glorot uniform for both matrices and zero biases
 * (Keras' kernel default; not PyTorch's ±1/√H, nor Keras' orthogonal recurrent matrix).
 *
 * `mask: true` skips steps whose input is all zeros (Keras' `Masking`), carrying the state over
 * them — with `embedding …, mask_zero: true`, the padding of short texts. `return_sequences`
 * gives every step's state [T, H] (a masked step repeats the one before) instead of the last
 * [H]; `bidirectional` adds a second layer reading the steps backwards, its states
 * concatenated after the forward ones (Keras' `Bidirectional(merge_mode="concat")`).
 */
import type { InitializerKind, LayerBase } from "../program.js";
import type { Penalty } from "../ir.js";
import { layerOutputName } from "../codegen/names.js";
import { arg, describePenalty, namedPart, penaltyArgs, penaltyOf } from "./common.js";
import { sequenceInput, stepwise } from "./sequence.js";
import { defineLayer } from "./types.js";

export interface RecurrentLayer extends LayerBase {
  readonly kind: "lstm" | "gru";
  readonly units: number;
  readonly returnSequences: boolean;
  readonly bidirectional: boolean;
  readonly mask: boolean;
  readonly init: InitializerKind;
  /** `l1:`/`l2:` on both matrices (Keras' `kernel_regularizer` and `recurrent_regularizer` alike), not the biases. */
  readonly penalty: Penalty;
}

/** What one direction's steps need: the layer's values for that direction. */
interface Direction {
  readonly wi: number;
  readonly wh: number;
  readonly b: number;
  readonly bh: number | undefined;
  /** Prefix of its generated names (`lstm3f`, `lstm3b`). */
  readonly tag: string;
}

function recurrent(word: "lstm" | "gru", gates: number, doc: string) {
  return defineLayer<RecurrentLayer>({
    word,
    doc,
    args: [
      arg.required(arg.int("units", "size of the state", 1, 1 << 14), "a state size"),
      arg.bool("return_sequences", "every step's state [T, units] instead of the last [units]", false),
      arg.bool("bidirectional", "a second layer reading the steps backwards, its states after the forward ones", false),
      arg.bool("mask", "skip steps whose input is all zeros (padding), carrying the state over them", false),
      arg.initializer("init", "initializer of both matrices", "xavier"),
      ...penaltyArgs,
    ],
    usage: `e.g. \`${word} 32\``,
    build: (a, ctx) => ({
      ...ctx.base,
      kind: word,
      units: a.num("units"),
      returnSequences: a.bool("return_sequences"),
      bidirectional: a.bool("bidirectional"),
      mask: a.bool("mask"),
      init: a.str("init") as InitializerKind,
      penalty: penaltyOf(a),
    }),
    describe: (l) => `${word}${namedPart(l)} ${l.units}${l.returnSequences ? ", return_sequences" : ""}${l.bidirectional ? ", bidirectional" : ""}${l.mask ? ", mask" : ""}${describePenalty(l.penalty)}`,
    lower(layer, input, ctx) {
      const seq = sequenceInput(word, input, ctx);
      if (seq === undefined) return input;
      const d = seq[1];
      const h = layer.units;
      const k = ctx.k;
      const direction = (tensor: string, tag: string): Direction => {
        const fan = { in: d + h, out: gates * h };
        return {
          wi: ctx.param(`${tensor}weight_ih`, [gates * h, d], layer.init, `${tag}Wi`, { in: d, out: gates * h }, true, layer.penalty),
          wh: ctx.param(`${tensor}weight_hh`, [gates * h, h], layer.init, `${tag}Wh`, { in: h, out: gates * h }, true, layer.penalty),
          b: ctx.param(`${tensor}bias${word === "gru" ? "_ih" : ""}`, [gates * h], "zeros", `${tag}B`, fan),
          bh: word === "gru" ? ctx.param(`${tensor}bias_hh`, [gates * h], "zeros", `${tag}Bh`, fan) : undefined,
          tag,
        };
      };
      // With `mask`, whether each step is real: [n, T, 1], 0 where its input is all zeros.
      const mask = layer.mask ? ctx.add("nonzero", [ctx.add("sum", [ctx.add("mul", [input, input], `${word}${k}Sq`)], `${word}${k}Norm`, { axis: 2 })], `${word}${k}m`) : undefined;
      const linear = { kind: "linear", alpha: 0, span: layer.span } as const;
      const run = (dir: Direction, reverse: boolean, last: boolean, name: string): number => {
        // x·Wiᵀ + b at every step in one product, then the loop over the steps.
        const zx = stepwise(ctx, input, dir.wi, dir.b, linear, { tag: `${dir.tag}X`, pre: `${dir.tag}Zx`, out: `${dir.tag}Zx` });
        const attrs = { cell: word, units: h, reverse: reverse ? 1 : 0, masked: mask !== undefined ? 1 : 0 };
        const rest = [...(dir.bh !== undefined ? [dir.bh] : []), ...(mask !== undefined ? [mask] : [])];
        const tape = ctx.add("recurrent_scan", [zx, dir.wh, ...rest], `${dir.tag}Tape`, attrs);
        return ctx.add("recurrent_states", [tape, zx, dir.wh, ...rest], name, { ...attrs, last: last ? 1 : 0 });
      };
      const last = !layer.returnSequences;
      const out = layerOutputName(k);
      const forward = run(direction("", `${word}${k}f`), false, last, layer.bidirectional ? `${word}${k}fH` : out);
      const backward = layer.bidirectional ? run(direction("reverse_", `${word}${k}b`), true, last, `${word}${k}bH`) : undefined;
      if (backward === undefined) return forward;
      return ctx.add("concat", [forward, backward], out, { axis: last ? 1 : 2 });
    },
    diagram: { color: "#2dd4bf", connects: "all" },
  });
}

export const lstm = recurrent("lstm", 4, "Long short-term memory over the steps of a sequence [T, D]: `lstm 32` (the last state) or `lstm 32, return_sequences: true`.");
export const gru = recurrent("gru", 3, "Gated recurrent unit over the steps of a sequence [T, D]: `gru 32`.");
