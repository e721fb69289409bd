/** Evaluating a module `emitQuantized` wrote, in-process (as `compiler/load.ts` does for a model module). */

export interface QuantizedModel {
  readonly meta: { readonly name: string; readonly inputSize: number; readonly outputSize: number; readonly maxBatch: number; readonly bytes: number; readonly kind: "int8" | "float" };
  /** n × outputSize, a view valid until the next call. */
  forward(x: Float32Array, n: number): Float32Array;
  predict(x: Float32Array, n: number): Float32Array;
}

/** Called by the float module with each product's input: its index in the plan's products, the values, how many. */
export type Observe = (product: number, values: Float32Array, count: number) => void;

export interface QuantizedModule {
  readonly meta: QuantizedModel["meta"];
  createModel(observe?: Observe): QuantizedModel;
}

export function loadQuantized(js: string): QuantizedModule {
  // The emitter puts `export` only at the start of a line, before `const` or `function`.
  const body = js.replace(/^export (const|function) /gm, "$1 ") + "\nreturn { meta, createModel };\n";
  return (new Function(body) as () => QuantizedModule)();
}
