/**
 * What a lowering may ask of the module generator (`codegen/module.ts`): the identifiers of a
 * node's buffers and of its scratch memory, safe literals, and the names of the generated
 * function's locals. Every target's lowering gets this same context; the WebAssembly table also
 * gets the kernels (`wasm/lowering.ts`). A TypeScript lowering never asks for wasm.
 */
import type { IrNode } from "../../ir.js";

/** Element types of scratch memory: the model's float type, or a fixed one. */
export type ScratchType = "float" | "float64" | "int32";

export interface EmitContext {
  /** Identifier holding a node's values (a preallocated buffer, a view, `x` or `y`). */
  ref(id: number): string;
  /**
   * Scratch memory for the node being emitted: `elements` values of `type` ("float": the
   * model's float type), by role (`windows` → `h1Windows`). It lives in this node's step alone
   * (the buffer plan lets every node's scratch share the same bytes), so its contents never
   * outlast the node's code.
   */
  scratch(role: string, elements: number, comment: string, type?: ScratchType): string;
  /** The largest batch a call may pass (scratch that holds a row per sample). */
  readonly maxBatch: number;
  /** A numeric literal, safe to paste into code. */
  num(x: number): string;
  node(id: number): IrNode;
  /** The nodes that read a node's value (in graph order). */
  readers(id: number): readonly IrNode[];
  /** Name of the inline uniform generator `() => [0, 1)`, for dropout. */
  readonly rand: string;
  /** Name of the local that receives the loss value. */
  readonly lossVar: string;
  /** Name of the boolean that is true in training mode (for ops with `usesTraining`). */
  readonly training: string;
}

/**
 * Scratch for a product's single rows: the positions and values of one input row's non-zero
 * entries (`gemm`'s gather), `width` of each.
 */
export function gatherScratch(ctx: EmitContext, width: number): { readonly idx: string; readonly val: string } {
  return {
    idx: ctx.scratch("gatherIdx", width, "positions of one input row's non-zero values", "int32"),
    val: ctx.scratch("gatherVal", width, "those values", "float64"),
  };
}

/**
 * The TypeScript lowering of one op: statements computing the node's buffer (or `ctx.lossVar`
 * for a loss) for `n` samples, inside a block of their own; "" for leaves and aliases.
 */
export type TsLowering = (node: IrNode, ctx: EmitContext) => string;
