/** The interface between the ONNX target's lowerings (`lowering.ts`, `recurrent.ts`) and the walker (`emit.ts`). */
import type { IrNode } from "../../ir.js";
import type { OnnxAttrs } from "./graph.js";

/** What a lowering can ask of the graph being built (`emit.ts` implements it). */
export interface OnnxContext {
  node(id: number): IrNode;
  /** The ONNX value of IR node `id` in nnc's layout (NHWC). */
  ref(id: number): string;
  /** The ONNX value of an image node as NCHW, [n, C, H, W] (a [n, H, W] value as one channel). */
  nchw(id: number): string;
  /** One ONNX node computing (part of) the current IR node; `part` suffixes its name (`h1_tanh`). */
  emit(opType: string, inputs: readonly string[], attrs?: OnnxAttrs, part?: string): string;
  /** A constant 1-D int64 tensor (shapes, axes, starts and ends). */
  int64s(values: readonly number[], part: string): string;
  /** A constant float of shape [1] (broadcasts like nnc's `constant`). */
  scalar(value: number): string;
  /** A constant bool tensor. */
  bools(dims: readonly number[], values: readonly number[], part: string): string;
  /**
   * The float tensor `id` (a parameter, through reshapes: an initializer of its own; else
   * Reshape and Transpose nodes) viewed as shape `from`, its axes permuted by `perm`.
   */
  weight(id: number, from: readonly number[], perm: readonly number[]): string;
  /** The NCHW name of an image node that has no NHWC one yet (made by a Conv, a pool, a batchnorm); else undefined. */
  nchwOnly(id: number): string | undefined;
  /** The graph input bound to an `input` node or to a named input's slice of it; undefined for any other node. */
  modelInput(id: number): string | undefined;
}

/** A lowering's value: its NHWC name, its NCHW name, or none (a value its reader computes itself). */
export type Lowered = string | { readonly nchw: string } | undefined;
export type OnnxLowering = (node: IrNode, ctx: OnnxContext) => Lowered;
