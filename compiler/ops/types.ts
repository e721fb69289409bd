/**
 * What every op declares — its name, a one-line doc, its shape rule, its adjoint (reverse-mode)
 * rule and a few flags the code generator reads — and the attribute helpers the ops share.
 * An op says what it computes, never how: each target lowers it in its own table
 * (`codegen/ts/lowering.ts`, `codegen/wasm/lowering.ts`).
 */
import type { Attrs, ElementKind, IrNode, IrShape, Origin } from "../ir.js";

/** What an adjoint rule may do: append backward nodes. */
export interface AdjointBuilder {
  add(op: string, inputs: readonly number[], attrs: Attrs, name: string, origin?: Origin): number;
  node(id: number): IrNode;
  /** Whether the gradient of this value is needed (it depends on a parameter). */
  needsGrad(id: number): boolean;
  /** The adjoint's name for a value: `h2` → `dh2`. */
  gradName(id: number): string;
}

export interface OpDef {
  readonly name: string;
  /** One line: what the op computes (shown by `targets.test.ts` when a target lacks the op). */
  readonly doc: string;
  /** Output shape from input shapes (user shape errors are caught earlier, in `lower`). */
  shape(inputs: readonly IrShape[], attrs: Attrs): IrShape;
  /**
   * Reverse-mode rule: the adjoints of the inputs, given the adjoint of the output
   * (`undefined` for the loss itself: the seed 1). `undefined` entries: no gradient.
   */
  adjoint?(node: IrNode, dOut: number | undefined, g: AdjointBuilder): readonly (number | undefined)[];
  /**
   * Multiply-adds per sample, for an op whose work is not one operation per output value (the
   * products): `inputs` are its input shapes with the batch axis at 1. Only an estimate of
   * cost (`compiler/work.ts`: how many threads a training step is worth); ops without it count
   * one operation per output value.
   */
  macs?(inputs: readonly (readonly number[])[], attrs: Attrs): number;
  /** The output shares its input's buffer (reshape): no code, no memory. */
  readonly alias?: boolean;
  /** The output's element type when it is not the model's float type (a max pool's positions: "i32"). */
  readonly dtype?: ElementKind;
  /**
   * The output carries no gradient back to its inputs (a random dropout mask, integer
   * positions): autodiff treats it as a constant, and no adjoint reaches it. Implied by `dtype`.
   */
  readonly noGradient?: boolean;
  /**
   * Elementwise: element i of the output is computed from element i of each input that has the
   * output's shape (others broadcast), read before element i is written. The buffer plan may
   * then give the output the bytes of such an input that no later node reads, and every
   * target's lowering must keep to this (the TypeScript loops do; no wasm kernel lowers these).
   */
  readonly inPlace?: boolean;
  /** The forward code reads the training flag (dropout; batchnorm's batch statistics). */
  readonly usesTraining?: boolean;
}

/** The number of values of a shape with the batch axis at 1. */
export function elements(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function attrNum(attrs: Attrs, key: string): number {
  const v = attrs[key];
  if (typeof v !== "number") throw new Error(`bug: attribute ${key} is not a number`);
  return v;
}

export function attrStr(attrs: Attrs, key: string): string {
  const v = attrs[key];
  if (typeof v !== "string") throw new Error(`bug: attribute ${key} is not a string`);
  return v;
}

/** The `alpha` of leaky_relu/elu; 0 for activations without one. */
export function alphaOf(attrs: Attrs): number {
  const v = attrs["alpha"];
  return typeof v === "number" ? v : 0;
}

/** The `to` attribute of an op whose output takes another node's shape (reshape, the adjoints of pools and convolutions). */
export function toShape(shape: IrShape): string {
  return shape.join(",");
}

/** The shape a `to` attribute names (see `toShape`). */
export function shapeOfTo(attrs: Attrs): IrShape {
  return attrStr(attrs, "to")
    .split(",")
    .map((d) => (d === "n" ? "n" : Number(d)));
}
