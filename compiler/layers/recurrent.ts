/**
 * Recurrent layers over a sequence [T, D]: `lstm` and `gru`, unrolled over the T steps from
 * primitives (matmul, bias_add, slice, sigmoid, tanh, mul, add, sub), so they need no adjoint
 * of their own — the gradient through time is reverse-mode differentiation of the unrolled
 * graph — and every buffer of every step is planned once (the steps allocate nothing). The
 * matrix products run through the same kernels as `dense` (wasm included).
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
import { showShape } from "../ir.js";
import type { InitializerKind, LayerBase } from "../program.js";
import { layerOutputName } from "../codegen/names.js";
import { arg, namedPart } from "./common.js";
import { sequenceInput } from "./sequence.js";
import { defineLayer, type LowerContext } from "./types.js";

export interface RecurrentLayer extends LayerBase {
  readonly kind: "lstm" | "gru";
  readonly units: number;
  readonly returnSequences: boolean;
  readonly bidirectional: boolean;
  readonly mask: boolean;
  readonly init: InitializerKind;
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

/** Whether T steps are worth unrolling (beyond this the module grows too large to read). */
const MAX_STEPS = 256;

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
    }),
    describe: (l) => `${word}${namedPart(l)} ${l.units}${l.returnSequences ? ", return_sequences" : ""}${l.bidirectional ? ", bidirectional" : ""}${l.mask ? ", mask" : ""}`,
    lower(layer, input, ctx) {
      const seq = sequenceInput(word, input, ctx);
      if (seq === undefined) return input;
      const [t, d] = seq;
      if (t > MAX_STEPS) {
        ctx.report("layerNeedsSequenceInput", [word, `${showShape([t, d])} (at most ${MAX_STEPS} steps are unrolled)`], "use shorter sequences (`tokenize …, length:`), or `conv1d` and pooling first");
        return input;
      }
      const h = layer.units;
      const k = ctx.k;
      const direction = (tensor: string, tag: string): Direction => {
        const fan = { in: d + h, out: gates * h };
        return {
          wi: ctx.param(`${tensor}weight_ih`, [gates * h, d], layer.init, `${tag}Wi`, { in: d, out: gates * h }),
          wh: ctx.param(`${tensor}weight_hh`, [gates * h, h], layer.init, `${tag}Wh`, { in: h, out: gates * h }),
          b: ctx.param(`${tensor}bias${word === "gru" ? "_ih" : ""}`, [gates * h], "zeros", `${tag}B`, fan),
          bh: word === "gru" ? ctx.param(`${tensor}bias_hh`, [gates * h], "zeros", `${tag}Bh`, fan) : undefined,
          tag,
        };
      };
      // Each step's input [n, D] and, with `mask`, whether it is a real step [n, 1].
      const steps = Array.from({ length: t }, (_, s) => {
        const xs = ctx.add("reshape", [ctx.add("slice", [input], `${word}${k}x${s}Cut`, { axis: 1, start: s, end: s + 1 })], `${word}${k}x${s}`, { to: `n,${d}` });
        const m = layer.mask ? ctx.add("nonzero", [ctx.add("sum", [ctx.add("mul", [xs, xs], `${word}${k}x${s}Sq`)], `${word}${k}x${s}Norm`, { axis: 1 })], `${word}${k}m${s}`) : undefined;
        return { xs, m };
      });
      const run = (dir: Direction, order: readonly number[]): number[] => {
        const states: number[] = new Array<number>(t);
        let state: { h: number; c: number | undefined } | undefined;
        for (const s of order) {
          const step = steps[s] as { xs: number; m: number | undefined };
          const next = word === "lstm" ? lstmStep(ctx, dir, step.xs, state, h, `${dir.tag}${s}`) : { h: gruStep(ctx, dir, step.xs, state?.h, h, `${dir.tag}${s}`), c: undefined };
          state = step.m === undefined ? next : carry(ctx, step.m, next, state, `${dir.tag}${s}`);
          states[s] = state.h;
        }
        return states;
      };
      const forward = run(direction("", `${word}${k}f`), steps.map((_, s) => s));
      const backward = layer.bidirectional ? run(direction("reverse_", `${word}${k}b`), steps.map((_, s) => t - 1 - s)) : undefined;
      const out = layerOutputName(k);
      if (!layer.returnSequences) {
        const last = forward[t - 1] as number;
        return backward === undefined ? last : ctx.add("concat", [last, backward[0] as number], out, { axis: 1 });
      }
      const perStep = forward.map((f, s) => {
        const both = backward === undefined ? f : ctx.add("concat", [f, backward[s] as number], `${word}${k}o${s}`, { axis: 1 });
        return ctx.add("reshape", [both], `${word}${k}o${s}Step`, { to: `n,1,${backward === undefined ? h : 2 * h}` });
      });
      return ctx.add("concat", perStep, out, { axis: 1 });
    },
    diagram: { color: "#2dd4bf", connects: "all" },
  });
}

/** Columns [g·H, (g + 1)·H) of a stacked gate value [n, gates·H]. */
function gate(ctx: LowerContext, z: number, g: number, h: number, name: string): number {
  return ctx.add("slice", [z], name, { axis: 1, start: g * h, end: (g + 1) * h });
}

/** One LSTM step: i, f, g, o from x·Wiᵀ + h·Whᵀ + b; c' = f⊙c + i⊙g; h' = o⊙tanh(c'). */
function lstmStep(ctx: LowerContext, dir: Direction, x: number, prev: { h: number; c: number | undefined } | undefined, h: number, at: string): { h: number; c: number } {
  let z = ctx.add("matmul", [x, dir.wi], `${at}Zx`);
  if (prev !== undefined) z = ctx.add("add", [z, ctx.add("matmul", [prev.h, dir.wh], `${at}Zh`)], `${at}Zsum`);
  z = ctx.add("bias_add", [z, dir.b], `${at}Z`);
  const i = ctx.add("sigmoid", [gate(ctx, z, 0, h, `${at}Ipre`)], `${at}I`);
  const f = prev === undefined ? undefined : ctx.add("sigmoid", [gate(ctx, z, 1, h, `${at}Fpre`)], `${at}F`);
  const g = ctx.add("tanh", [gate(ctx, z, 2, h, `${at}Gpre`)], `${at}G`);
  const o = ctx.add("sigmoid", [gate(ctx, z, 3, h, `${at}Opre`)], `${at}O`);
  const ig = ctx.add("mul", [i, g], `${at}IG`);
  const c = f === undefined || prev?.c === undefined ? ig : ctx.add("add", [ctx.add("mul", [f, prev.c], `${at}FC`), ig], `${at}C`);
  return { h: ctx.add("mul", [o, ctx.add("tanh", [c], `${at}Ct`)], `${at}H`), c };
}

/** One GRU step (PyTorch's): r, z from the sums; n = tanh(x·Wnᵀ + b_in + r⊙(h·Wnᵀ + b_hn)); h' = n + z⊙(h − n). */
function gruStep(ctx: LowerContext, dir: Direction, x: number, prev: number | undefined, h: number, at: string): number {
  const zx = ctx.add("bias_add", [ctx.add("matmul", [x, dir.wi], `${at}Xw`), dir.b], `${at}X`);
  const bh = dir.bh as number;
  // h·Whᵀ + b_hh; at the first step the state is zero, so b_hh alone.
  const zh = prev === undefined ? undefined : ctx.add("bias_add", [ctx.add("matmul", [prev, dir.wh], `${at}Hw`), bh], `${at}Hz`);
  const part = (g: number, name: string): number => (zh !== undefined ? gate(ctx, zh, g, h, name) : ctx.add("slice", [bh], name, { axis: 0, start: g * h, end: (g + 1) * h }));
  const r = ctx.add("sigmoid", [ctx.add("add", [gate(ctx, zx, 0, h, `${at}Rx`), part(0, `${at}Rh`)], `${at}Rpre`)], `${at}R`);
  const z = ctx.add("sigmoid", [ctx.add("add", [gate(ctx, zx, 1, h, `${at}Zx`), part(1, `${at}Zh`)], `${at}Zpre`)], `${at}Z`);
  const n = ctx.add("tanh", [ctx.add("add", [gate(ctx, zx, 2, h, `${at}Nx`), ctx.add("mul", [r, part(2, `${at}Nh`)], `${at}RNh`)], `${at}Npre`)], `${at}N`);
  // h' = n + z⊙(h − n), which is n − z⊙n at the first step.
  return prev === undefined ? ctx.add("sub", [n, ctx.add("mul", [z, n], `${at}Zn`)], `${at}H`) : ctx.add("add", [n, ctx.add("mul", [z, ctx.add("sub", [prev, n], `${at}Hn`)], `${at}Zd`)], `${at}H`);
}

/** With a mask m [n, 1]: the new state where m = 1, the previous one (or zero) where m = 0. */
function carry(ctx: LowerContext, m: number, next: { h: number; c: number | undefined }, prev: { h: number; c: number | undefined } | undefined, at: string): { h: number; c: number | undefined } {
  const keep = (v: number, p: number | undefined, name: string): number =>
    p === undefined ? ctx.add("mul", [m, v], name) : ctx.add("add", [p, ctx.add("mul", [m, ctx.add("sub", [v, p], `${name}Delta`)], `${name}Step`)], name);
  return { h: keep(next.h, prev?.h, `${at}Hm`), c: next.c === undefined ? undefined : keep(next.c, prev?.c, `${at}Cm`) };
}

export const lstm = recurrent("lstm", 4, "Long short-term memory over the steps of a sequence [T, D]: `lstm 32` (the last state) or `lstm 32, return_sequences: true`.");
export const gru = recurrent("gru", 3, "Gated recurrent unit over the steps of a sequence [T, D]: `gru 32`.");
