/**
 * The types a generated TypeScript module declares for itself (it imports nothing): the
 * parts of `compiler/model-api.ts` it implements. A test checks that a generated module is
 * assignable to `GeneratedModule`, so the two cannot drift apart.
 */
export const MODEL_API_TYPES = `export type Floats = Float32Array | Float64Array;

export interface ParamEntry {
  readonly name: string;
  readonly shape: readonly number[];
  readonly offset: number;
  readonly size: number;
  readonly trainable: boolean;
}

export interface ModelMeta {
  readonly name: string;
  readonly inputShape: readonly number[];
  readonly inputSize: number;
  readonly outputShape: readonly number[];
  readonly outputSize: number;
  readonly maxBatch: number;
  readonly paramCount: number;
  readonly loss: string;
  readonly optimizer: string;
  readonly dtype: "float32" | "float64";
  readonly bytes: number;
}

export interface ModelState {
  readonly params: Floats;
  readonly optimizer: Floats;
  readonly step: number;
  readonly rng: number;
}

export interface CompiledModel {
  readonly meta: ModelMeta;
  readonly layout: readonly ParamEntry[];
  readonly params: Floats;
  readonly grads: Floats;
  init(seed: number): void;
  forward(x: Floats, n: number, training?: boolean): Floats;
  predict(x: Floats, n: number): Floats;
  loss(x: Floats, y: Floats, n: number): number;
  lossAndGrad(x: Floats, y: Floats, n: number): number;
  trainStep(x: Floats, y: Floats, n: number, lr: number): number;
  applyGradient(lr: number): void;
  seedDropout(state: number): void;
  output(): Floats;
  getState(): ModelState;
  setState(state: ModelState): void;
}`;


/**
 * The types of a module with several named inputs: `meta.inputs` says where each input's values
 * sit in a packed row, and every method that takes `x` also takes the inputs by name.
 */
export function namedInputTypes(): string {
  return MODEL_API_TYPES.replace("  readonly bytes: number;\n}", "  readonly bytes: number;\n  readonly inputs: readonly InputEntry[];\n}")
    .replace(/\bx: Floats\b/g, "x: Floats | Inputs")
    .concat(`

/** One named input: its values sit at [offset, offset + size) of each packed row of \`x\`. */
export interface InputEntry {
  readonly name: string;
  readonly shape: readonly number[];
  readonly offset: number;
  readonly size: number;
}

/** Each input by name, n × its size, row-major (or \`x\` already packed: n × inputSize). */
export type Inputs = { readonly [name: string]: Floats };`);
}
