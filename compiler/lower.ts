/**
 * Stage 1: the checked `Program` → IR (forward graph + loss), with the shape and setting
 * checks that need shapes (NN3xxx). Each layer lowers itself (`layers/<kind>.ts`); this file
 * lends it a `LowerContext`, then checks the output against the loss and the model against the
 * limits. Every problem is reported, not only the first: after an error, lowering carries on
 * with a plausible shape so later layers are still checked.
 */
import type { Diagnostic, Result } from "../grammar/diagnostics.js";
import { diag, hasErrors } from "../grammar/diagnostics.js";
import type { Span } from "../grammar/span.js";
import type { Activation, Layer, ModelInput, Program } from "./program.js";
import type { Graph, IrShape, Origin } from "./ir.js";
import { GraphBuilder, shapeSize, showShape } from "./ir.js";
import { opDef, isElementwiseActivation } from "./ops/registry.js";
import { layerDef } from "./layers/index.js";
import type { LowerContext } from "./layers/types.js";
import { INPUT_NAME, inputName, inputSliceName, LABEL_NAME, layerOutputName, LOSS_NAME } from "./codegen/names.js";

export interface LowerOptions {
  /** Largest batch the generated code accepts. */
  readonly maxBatch: number;
  readonly dtype: "float32" | "float64";
}

/** Above this many parameters a model is refused (NN3009). */
export const MAX_PARAMS = 50_000_000;
/** Above this many bytes of preallocated buffers a model is refused (NN3011). */
export const MAX_BUFFER_BYTES = 1 << 30;

/** A one-line description of a layer for comments and dumps (user text: sanitized later). */
export function describeLayer(layer: Layer): string {
  return layerDef(layer.kind).describe(layer);
}

function formatBytes(b: number): string {
  return b >= 1 << 20 ? `${(b / (1 << 20)).toFixed(1)} MiB` : `${Math.ceil(b / 1024)} KiB`;
}

export function lower(program: Program, options: LowerOptions): Result<Graph | undefined> {
  const diagnostics: Diagnostic[] = [];
  const model = program.model;
  const g = new GraphBuilder();
  const add = (op: string, inputs: number[], name: string, origin: Origin | undefined, attrs = {}): number =>
    g.add({
      op,
      inputs,
      shape: opDef(op).shape(
        inputs.map((i) => g.node(i).shape),
        attrs,
      ),
      attrs,
      name,
      phase: "forward",
      origin,
      dtype: opDef(op).dtype,
    });

  // ── inputs: one `input` node; with several inputs, each is a slice of its columns ──
  const shapes = model.inputs.map((inp) => {
    const ok = inp.shape.length >= 1 && inp.shape.length <= 3 && inp.shape.every((d) => Number.isInteger(d) && d > 0);
    if (!ok) {
      diagnostics.push(
        diag("inputShapeInvalid", inp.span, [showShape(inp.shape), "1 to 3 sizes, each a whole number ≥ 1"], {
          hint: "write e.g. `input [784]`, `input [28, 28]` or `input [28, 28, 1]`",
        }),
      );
    }
    return ok ? inp.shape : [Math.max(1, shapeSize(inp.shape.filter((d) => d > 0)))];
  });
  const packed: IrShape = ["n", ...(shapes.length === 1 ? (shapes[0] as readonly number[]) : [shapes.reduce((t, sh) => t + shapeSize(sh), 0)])];
  const x = g.add({ op: "input", inputs: [], shape: packed, name: INPUT_NAME, phase: "forward", origin: undefined });
  const values: number[] = [];
  let offset = 0;
  shapes.forEach((shape, i) => {
    if (shapes.length === 1) {
      values.push(x);
      return;
    }
    const size = shapeSize(shape);
    const inp = model.inputs[i] as ModelInput;
    const origin: Origin = { text: `${inp.name ?? "x"} = input ${showShape(shape)}`, line: inp.span.line, span: inp.span };
    const cols = add("slice", [x], inputSliceName(i + 1, shape.length > 1), origin, { axis: 1, start: offset, end: offset + size });
    values.push(shape.length > 1 ? add("reshape", [cols], inputName(i + 1), origin, { to: ["n", ...shape].join(",") }) : cols);
    offset += size;
  });
  const spans: Span[] = [...model.inputs.map((inp) => inp.span), ...model.nodes.map((nd) => nd.layer.span)];

  // ── layers, each after the values it takes ──
  model.nodes.forEach((gn, index) => {
    const layer = gn.layer;
    const k = index + 1;
    const origin: Origin = { text: describeLayer(layer), line: layer.span.line, span: layer.span };
    const via = gn.via.map((span) => ({ message: "in the block used here", span }));
    const isOutput = model.inputs.length + index === model.output;
    const inputs = gn.inputs.map((v) => values[v] as number);
    const ctx: LowerContext = {
      k,
      inputs,
      inputSpans: gn.inputs.map((v) => spans[v] as Span),
      add: (op, ins, name, attrs) => add(op, [...ins], name, origin, attrs),
      param(tensor, shape, init, name, fan, trainable = true, penalty) {
        const id = g.add({ op: "param", inputs: [], shape, attrs: { tensor: `${layer.name}.${tensor}`, init }, name, phase: "forward", origin });
        const penalized = penalty !== undefined && (penalty.l1 > 0 || penalty.l2 > 0);
        g.addParam({ node: id, name: `${layer.name}.${tensor}`, init, fanIn: fan.in, fanOut: fan.out, ...(trainable ? {} : { trainable: false }), ...(penalized ? { penalty } : {}) });
        return id;
      },
      activate(a: Activation, value: number): number {
        if (a.kind === "linear") return value;
        if (a.kind === "softmax") {
          if (!isOutput) {
            diagnostics.push(diag("softmaxNotLast", a.span, [], { hint: "use `relu` (or another elementwise activation) here and `softmax` only on the output layer" }));
          }
          return add("softmax", [value], layerOutputName(k), origin);
        }
        if (!isElementwiseActivation(a.kind)) throw new Error(`bug: unknown activation ${a.kind}`);
        return add(a.kind, [value], layerOutputName(k), origin, a.kind === "leaky_relu" || a.kind === "elu" ? { alpha: a.alpha } : {});
      },
      node: (id) => g.node(id),
      report: (name, args, hint, related) => diagnostics.push(diag(name, layer.span, args, { hint, related: [...(related ?? []), ...via] })),
    };
    values.push(layerDef(layer.kind).lower(layer, inputs[0] as number, ctx));
  });
  const cur = values[model.output] as number;

  // ── output against loss ──
  const out = g.node(cur);
  const lossSpan = program.loss.span;
  // A sequence output [T, V] takes a class per step: a language model's next tokens (a `text(…)` source), a tagger's tags (`tagged(…)`).
  const perStep = program.loss.kind === "cross_entropy" && out.shape.length === 3;
  const textData = program.data === undefined || (typeof program.data.train === "object" && (program.data.train.kind === "text" || program.data.train.kind === "tagged"));
  if (perStep && !textData) {
    diagnostics.push(
      diag("lossOutputMismatch", lossSpan, [program.loss.kind, `the output has shape ${showShape(out.shape.slice(1))}, a class per step, which only a language model's text (a \`text(…)\` source) or tagged sentences (\`tagged(…)\`) give`], {
        hint: "for one class per sample, add `flatten` or `globalmaxpool1d` before the last `dense`",
      }),
    );
  } else if (!perStep && typeof program.data?.train === "object" && program.data.train.kind === "tagged") {
    diagnostics.push(
      diag("lossOutputMismatch", lossSpan, [program.loss.kind, `the output has shape ${showShape(out.shape.slice(1))}, but tagged sentences take a class per step`], {
        hint: "keep the steps to the end (`return_sequences: true`) and end with `dense <tags>, softmax` at every step",
      }),
    );
  } else if (out.shape.length !== 2 && !perStep) {
    diagnostics.push(
      diag("lossOutputMismatch", lossSpan, [program.loss.kind, `the output has shape ${showShape(out.shape.slice(1))}`], {
        hint: "end the model with a `dense` layer (after `flatten`)",
      }),
    );
  }
  const outputs = shapeSize(out.shape);
  const lastAct = out.op;
  if (program.loss.kind === "cross_entropy") {
    if (lastAct !== "softmax") {
      diagnostics.push(
        diag("lossOutputMismatch", lossSpan, ["cross_entropy", "it needs class probabilities from a `softmax` output layer"], {
          hint: outputs === 1 && lastAct === "sigmoid" ? "for two classes with 1 sigmoid unit, use `binary_cross_entropy`" : "end the model with `dense <classes>, softmax`",
        }),
      );
    } else if ((out.shape[out.shape.length - 1] as number) < 2) {
      diagnostics.push(
        diag("lossOutputMismatch", lossSpan, ["cross_entropy", "a softmax over 1 unit is always 1"], {
          hint: "use 2 or more softmax units, or 1 sigmoid unit with `binary_cross_entropy`",
        }),
      );
    }
  } else if (program.loss.kind === "binary_cross_entropy" && lastAct !== "sigmoid") {
    diagnostics.push(
      diag(
        "lossOutputMismatch",
        lossSpan,
        [
          "binary_cross_entropy",
          lastAct === "softmax" ? `it needs a \`sigmoid\` output, not a ${outputs}-way softmax` : "it needs probabilities from a `sigmoid` output layer",
        ],
        { hint: lastAct === "softmax" ? "use `cross_entropy` with softmax, or a `sigmoid` output" : "end the model with `dense <outputs>, sigmoid`" },
      ),
    );
  } else if (lastAct === "softmax" && program.data !== undefined && program.data.train.kind !== "json") {
    // A regression loss on class probabilities: the data's labels (one number each) cannot fit.
    diagnostics.push(
      diag("lossOutputMismatch", lossSpan, [program.loss.kind, `a softmax gives class probabilities, and \`${program.loss.kind}\` compares the outputs with numbers`], {
        hint: "for classes, write `loss cross_entropy`; for numbers, end the model with a `dense` layer without softmax",
      }),
    );
  }
  // `class_weight` on a binary cross-entropy: one sigmoid unit, whose two classes are 0 and 1.
  const weighted = program.train.classWeight !== undefined && program.loss.kind === "binary_cross_entropy";
  if (weighted && outputs !== 1 && lastAct === "sigmoid") {
    diagnostics.push(
      diag("conflictingSettings", program.train.classWeight!.span, [`\`class_weight\` weighs the two classes of one sigmoid unit, but the output has ${outputs} (several yes/no labels)`], {
        hint: "remove `class_weight`, or use one sigmoid unit (`dense 1, sigmoid`)",
      }),
    );
  }

  // ── limits ──
  const params = g.size === 0 ? 0 : countParams(g);
  if (params > MAX_PARAMS) {
    diagnostics.push(diag("tooManyParameters", model.span, [params, MAX_PARAMS], { hint: "use fewer or smaller layers" }));
  }
  const bytesPer = options.dtype === "float64" ? 8 : 4;
  let buffers = params * 4; // params, grads, up to two optimizer moments
  for (let i = 0; i < g.size; i++) {
    const n = g.node(i);
    if (n.shape[0] === "n" && n.op !== "input" && n.op !== "reshape") buffers += 3 * shapeSize(n.shape) * options.maxBatch;
  }
  if (buffers * bytesPer > MAX_BUFFER_BYTES) {
    diagnostics.push(
      diag("bufferTooLarge", model.span, [formatBytes(buffers * bytesPer), options.maxBatch, formatBytes(MAX_BUFFER_BYTES)], {
        hint: "lower the batch size (`--max-batch`) or the layer sizes",
      }),
    );
  }

  if (hasErrors(diagnostics)) return { value: undefined, diagnostics };

  const y = g.add({ op: "label", inputs: [], shape: out.shape, name: LABEL_NAME, phase: "loss", origin: undefined });
  const lossOrigin: Origin = { text: `loss ${program.loss.kind}`, line: lossSpan.line, span: lossSpan };
  const loss = g.add({
    op: program.loss.kind,
    inputs: [cur, y],
    shape: [],
    // `weighted`: the training targets carry their class weights (`runtime/class-weight.ts`), which the loss reads (`codegen/ts/losses.ts`).
    attrs: program.loss.kind === "huber" ? { delta: program.loss.delta } : weighted ? { weighted: 1 } : {},
    name: LOSS_NAME,
    phase: "loss",
    origin: lossOrigin,
  });
  const layers = model.nodes.map((gn, i) => ({ name: gn.layer.name, kind: gn.layer.kind, node: values[model.inputs.length + i] as number }));
  return { value: g.finish(cur, loss, new Map(), { layers }), diagnostics };
}

function countParams(g: GraphBuilder): number {
  let total = 0;
  for (let i = 0; i < g.size; i++) {
    const n = g.node(i);
    if (n.op === "param") total += shapeSize(n.shape);
  }
  return total;
}
