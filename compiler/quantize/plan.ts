/**
 * What a quantized model computes, layer by layer: the checked model's graph read as a chain of
 * steps (`nnc quantize` runs models whose every layer takes the one before it). Dense layers on
 * a flat input and 2-D convolutions are products (int8 in the quantized module); pooling,
 * activations and softmax are float steps (the "float fallbacks", named in the CLI's output);
 * flatten and dropout change nothing at inference. Any other layer is NN5052.
 */
import { diag, type Diagnostic, type Result } from "../../grammar/diagnostics.js";
import type { Span } from "../../grammar/span.js";
import type { Activation, Layer, Model } from "../program.js";
import type { ParamEntry } from "../model-api.js";
import { geometry, type Geometry } from "../ops/conv_geometry.js";
import { ACTIVATION_KINDS } from "../codegen/ts/activations.js";

/** A product: a dense layer (one window of the whole input) or a convolution (a window per output pixel). */
export interface ProductStep {
  readonly kind: "product";
  readonly layer: string;
  readonly word: "dense" | "conv2d";
  /** Values per window (dense: the input size; conv: kh·kw·c). */
  readonly k: number;
  /** Output channels. */
  readonly m: number;
  /** Windows per sample: 1 for dense, oh·ow for a convolution. */
  readonly windows: number;
  /** A convolution's geometry. */
  readonly g?: Geometry;
  readonly activation: Activation;
  /** Where the weights ([m, k] row-major) and bias ([m]) sit in the float model's parameters. */
  readonly weight: ParamEntry;
  readonly bias?: ParamEntry;
}

export interface PoolStep {
  readonly kind: "pool";
  readonly layer: string;
  readonly op: "max" | "avg";
  readonly g: Geometry;
}

export interface ActivationStep {
  readonly kind: "activation";
  readonly layer: string;
  readonly activation: Activation;
}

export type Step = (ProductStep | PoolStep | ActivationStep) & {
  /** Values per sample read and written. */
  readonly inSize: number;
  readonly outSize: number;
};

export interface Plan {
  readonly name: string;
  readonly inputShape: readonly number[];
  readonly steps: readonly Step[];
  /** Layers that change nothing at inference (flatten, dropout). */
  readonly identities: readonly string[];
  readonly outputSize: number;
}

/** The activations a step can apply: the elementwise ones of the TypeScript target, softmax, linear. */
function knownActivation(a: Activation): boolean {
  return a.kind === "linear" || a.kind === "softmax" || ACTIVATION_KINDS.includes(a.kind);
}

type Shape = readonly number[];
const size = (s: Shape): number => s.reduce((a, b) => a * b, 1);
const image = (s: Shape): readonly [number, number, number] | undefined =>
  s.length === 2 ? [s[0] as number, s[1] as number, 1] : s.length === 3 ? [s[0] as number, s[1] as number, s[2] as number] : undefined;

/**
 * The plan of a model whose parameters sit as `layout` says; without a layout (the checker, before
 * any compilation) the steps alone, their parameters at offset 0.
 */
export function planOf(model: Model, layout?: readonly ParamEntry[]): Result<Plan | undefined> {
  const { plan, refusals } = stepsOf(model, layout);
  const diagnostics: Diagnostic[] = refusals.map((r) => diag("quantizeUnsupported", r.span, [r.layer, r.kind, r.why], r.layer === "input" ? {} : { hint: SUPPORTED }));
  return { value: diagnostics.length > 0 ? undefined : plan, diagnostics };
}

/** What a quantized model is made of, as a hint. */
export const SUPPORTED = "quantize a model made of dense, conv2d, pooling, activation, flatten and dropout layers";

/** A layer the plan has no step for, and why. */
export interface Refusal {
  readonly layer: string;
  readonly kind: string;
  readonly why: string;
  readonly span: Span;
}

/** The plan, and every layer it cannot run (the plan is whole only when there is none). */
export function stepsOf(model: Model, layout?: readonly ParamEntry[]): { readonly plan: Plan; readonly refusals: readonly Refusal[] } {
  const refusals: Refusal[] = [];
  const refuse = (l: Layer, why: string): void => void refusals.push({ layer: l.name, kind: l.kind, why, span: l.span });
  if (model.inputs.length !== 1) {
    refusals.push({ layer: "input", kind: "input", why: "the model has several named inputs", span: model.inputSpan });
    return { plan: { name: model.name, inputShape: model.input, steps: [], identities: [], outputSize: 0 }, refusals };
  }
  const steps: Step[] = [];
  const identities: string[] = [];
  const param = (l: Layer, tensor: string): ParamEntry | undefined =>
    layout === undefined ? { name: `${l.name}.${tensor}`, shape: [], offset: 0, size: 0, trainable: true } : layout.find((p) => p.name === `${l.name}.${tensor}`);
  let shape: Shape = model.input;
  model.nodes.forEach((node, i) => {
    const l = node.layer as Layer & Record<string, unknown>;
    const previous = model.inputs.length + i - 1;
    if (node.inputs.length !== 1 || node.inputs[0] !== previous) return refuse(l, "it does not take the layer before it (only chains of layers are quantized)");
    if (l.activation !== undefined && !knownActivation(l.activation)) return refuse(l, `no code for the activation \`${l.activation.kind}\``);
    const inSize = size(shape);
    switch (l.kind) {
      case "flatten":
      case "dropout":
        identities.push(l.name);
        shape = l.kind === "flatten" ? [inSize] : shape;
        return;
      case "activation":
        steps.push({ kind: "activation", layer: l.name, activation: l.activation as Activation, inSize, outSize: inSize });
        return;
      case "dense": {
        if (shape.length === 3) return refuse(l, "a dense layer over a sequence or an image");
        const weight = param(l, "weight");
        if (weight === undefined) return refuse(l, "its weights are not in the model's layout");
        const m = l.units as number;
        steps.push({ kind: "product", layer: l.name, word: "dense", k: inSize, m, windows: 1, activation: l.activation as Activation, weight, bias: param(l, "bias"), inSize, outSize: m });
        shape = [m];
        return;
      }
      case "conv2d": {
        const im = image(shape);
        const weight = param(l, "weight");
        if (im === undefined || weight === undefined) return refuse(l, "its input is not an image");
        const g = geometry(im, l.kernel as [number, number], l.stride as [number, number], l.padding as "same" | "valid");
        const m = l.filters as number;
        steps.push({ kind: "product", layer: l.name, word: "conv2d", k: g.kh * g.kw * g.c, m, windows: g.oh * g.ow, g, activation: l.activation as Activation, weight, bias: param(l, "bias"), inSize, outSize: g.oh * g.ow * m });
        shape = [g.oh, g.ow, m];
        return;
      }
      case "maxpool2d":
      case "avgpool2d": {
        const im = image(shape);
        if (im === undefined) return refuse(l, "its input is not an image");
        const g = geometry(im, l.size as [number, number], l.stride as [number, number], l.padding as "same" | "valid");
        steps.push({ kind: "pool", layer: l.name, op: l.kind === "maxpool2d" ? "max" : "avg", g, inSize, outSize: g.oh * g.ow * g.c });
        shape = [g.oh, g.ow, g.c];
        return;
      }
      default:
        return refuse(l, "no int8 kernel and no float fallback for this kind of layer yet");
    }
  });
  return { plan: { name: model.name, inputShape: model.input, steps, identities, outputSize: size(shape) }, refusals };
}
