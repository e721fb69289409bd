/**
 * A recurrent layer's per-step matrix product as a WebAssembly function (`ts/recurrent.ts`'s
 * `StepProduct`): called with the batch n and the step's index, it runs `products.ts`'s dot or
 * axpy loop with A, B and the output shifted by the index (`KernelSpec.sample`). The loop over
 * the steps and the cell's arithmetic stay in TypeScript; the product, most of a step's work,
 * runs here.
 */
import { Body, type WasmFunction } from "./encode.js";
import { productInto, transposeInto, type KernelSpec } from "./products.js";
import { locals } from "./loops.js";

export function stepFunction(name: string, product: KernelSpec): WasmFunction {
  const f = new Body(["i32", "i32"], ["n", "step"]);
  const L = locals(f);
  transposeInto(f, L, product);
  productInto(f, L, product, 1);
  return { name, body: f };
}
