/**
 * What a lowering may ask of the module generator (`codegen/module.ts`): the identifiers of a
 * node's buffers, safe literals, and the names of the generated function's locals. Every
 * target's lowering gets this same context; the WebAssembly table also gets the kernels
 * (`wasm/lowering.ts`). A TypeScript lowering never asks for wasm.
 */
import type { IrNode } from "../../ir.js";

export interface EmitContext {
  /** Identifier holding a node's values (a preallocated buffer, a view, `x` or `y`). */
  ref(id: number): string;
  /** Identifier of a node's extra buffer, e.g. its dropout mask. */
  aux(id: number, what: string): string;
  /** A numeric literal, safe to paste into code. */
  num(x: number): string;
  node(id: number): IrNode;
  /** Name of the inline uniform generator `() => [0, 1)`, for dropout. */
  readonly rand: string;
  /** Name of the local that receives the loss value. */
  readonly lossVar: string;
  /** Name of the boolean that is true in training mode (for ops with `usesTraining`). */
  readonly training: string;
  /**
   * Scratch buffers for the non-zero entries of one input row of `width` values (their
   * positions and values), shared by every op that asks; allocated once by `createModel`.
   */
  gather(width: number): { readonly idx: string; readonly val: string };
}

/**
 * The TypeScript lowering of one op: statements computing the node's buffer (or `ctx.lossVar`
 * for a loss) for `n` samples, inside a block of their own; "" for leaves and aliases.
 */
export type TsLowering = (node: IrNode, ctx: EmitContext) => string;
