/**
 * The text of the generated module's public API (the contract is `CompiledModel` in
 * `model-api.ts`): the exported `meta`, the checks and views the methods share (`checkBatch`,
 * `outputView`, and with several named inputs `pack`, which packs them side by side into one
 * row per sample), and the object `createModel` returns — `forward`, `predict`, `loss`,
 * `lossAndGrad`, `trainStep`, `applyGradient` (the update alone, for a gradient summed from
 * shards), `seedDropout`, `output`, `getState`/`setState`. `module.ts` emits the functions they
 * call (`run`, `lossOf`, `backward`, `update`, `init`); the explain methods are `api-explain.ts`.
 */
import type { Dim } from "../ir.js";
import type { ModelInput, Program } from "../program.js";
import { PACKED_INPUTS, stringLiteral } from "./names.js";

/** Where one of several named inputs sits in a packed row. */
export interface PackedInput {
  readonly name: string;
  readonly shape: readonly number[];
  readonly offset: number;
  readonly size: number;
}

/** What the API's text needs to know of the module around it. */
export interface ApiContext {
  readonly T: (type: string) => string;
  /** The float typed array's name (`Float32Array`). */
  readonly F: string;
  readonly maxBatch: number;
  readonly inSize: number;
  readonly outSize: number;
  /** The identifier of the output buffer. */
  readonly outputName: string;
  readonly paramCount: number;
  /** Optimizer moments per parameter. */
  readonly moments: number;
  readonly hasDropout: boolean;
  /** Some op behaves differently in training (`run` takes `training`). */
  readonly usesTraining: boolean;
  /** Several named inputs: where each sits in a packed row; undefined for one input. */
  readonly named: readonly PackedInput[] | undefined;
}

/** Where each of several named inputs sits in a packed row: in the order declared. */
export function packedInputs(inputs: readonly ModelInput[]): PackedInput[] {
  let offset = 0;
  return inputs.map((i, k) => {
    const size = i.shape.reduce((a, b) => a * b, 1);
    const entry = { name: i.name ?? `input${k + 1}`, shape: i.shape, offset, size };
    offset += size;
    return entry;
  });
}

/** The methods' first parameter, the line that packs named inputs into `x`, and the call of `run`. */
export function methodParts(c: ApiContext): { X: string; packX: string[]; runCall: (training: string) => string } {
  const { T } = c;
  return {
    X: c.named !== undefined ? `inputs${T(": Floats | Inputs")}` : `x${T(": Floats")}`,
    packX: c.named !== undefined ? [`const x = pack(inputs, n);`] : [],
    runCall: (training) => `run(x, n${c.usesTraining ? `, ${training}` : ""});`,
  };
}

/** `export const meta = { … };` (`ModelMeta`); `extra`: the explain module's `explain` entry. */
export function metaLines(c: ApiContext, program: Program, outputShape: readonly Dim[], dtype: string, bytes: number, extra: readonly string[]): string[] {
  const { T, named } = c;
  return [
    `export const meta${T(": ModelMeta")} = {`,
    `name: ${stringLiteral(program.model.name)},`,
    `inputShape: [${program.model.input.join(", ")}],`,
    `inputSize: ${c.inSize},`,
    `outputShape: [${outputShape.join(", ")}],`,
    `outputSize: ${c.outSize},`,
    `maxBatch: ${c.maxBatch},`,
    `paramCount: ${c.paramCount},`,
    `loss: ${stringLiteral(program.loss.kind)},`,
    `optimizer: ${stringLiteral(program.optimizer.kind)},`,
    `dtype: ${stringLiteral(dtype)},`,
    `bytes: ${bytes},`,
    ...(named !== undefined ? [`inputs: [`, ...named.map((i) => `{ name: ${stringLiteral(i.name)}, shape: [${i.shape.join(", ")}], offset: ${i.offset}, size: ${i.size} },`), `],`] : []),
    ...extra,
    `};`,
    "",
  ];
}

/** The functions the methods share: the batch check, the output's views, packing named inputs. */
export function apiHelpers(c: ApiContext): string[] {
  const { T, F, maxBatch, inSize, outSize, named } = c;
  const out = [
    `function checkBatch(x${T(": Floats")}, n${T(": number")})${T(": void")} {`,
    `if (!(Number.isInteger(n) && n >= 1 && n <= ${maxBatch})) throw new RangeError("batch size " + n + " is not a whole number in 1..${maxBatch}");`,
    `if (x.length < n * ${inSize}) throw new RangeError("x holds " + x.length + " values; " + n + " samples need " + n * ${inSize});`,
    `}`,
    `function outputView(n${T(": number")})${T(`: ${F}`)} {`,
    `let v = outputViews[n];`,
    `if (v === undefined) {`,
    `v = ${c.outputName}.subarray(0, n * ${outSize});`,
    `outputViews[n] = v;`,
    `}`,
    `return v;`,
    `}`,
  ];
  if (named !== undefined) {
    out.push(
      `function pack(inputs${T(": Floats | Inputs")}, n${T(": number")})${T(": Floats")} {`,
      `if (ArrayBuffer.isView(inputs)) return inputs;`,
      `checkBatch(${PACKED_INPUTS}, n);`,
      ...named.map((i) => `packInput(inputs[${stringLiteral(i.name)}], ${stringLiteral(i.name)}, ${i.size}, ${i.offset}, n);`),
      `return ${PACKED_INPUTS};`,
      `}`,
      `function packInput(v${T(": Floats | undefined")}, name${T(": string")}, size${T(": number")}, offset${T(": number")}, n${T(": number")})${T(": void")} {`,
      `if (v === undefined) throw new RangeError("no input named " + name);`,
      `if (v.length < n * size) throw new RangeError("input " + name + " holds " + v.length + " values; " + n + " samples need " + n * size);`,
      `for (let i = 0; i < n; i++) for (let j = 0; j < size; j++) ${PACKED_INPUTS}[i * ${inSize} + offset + j] = v[i * size + j];`,
      `}`,
    );
  }
  return out;
}

/** `return { … };`, the end of `createModel`: the model's methods; `extra`: the explain module's `explain` object. */
export function apiObject(c: ApiContext, extra: readonly string[]): string[] {
  const { T, F, outSize, outputName, paramCount, moments, hasDropout, usesTraining } = c;
  const { X, packX, runCall } = methodParts(c);
  return [
    `return {`,
    `meta,`,
    `layout,`,
    `params,`,
    `grads,`,
    `init,`,
    `forward(${X}, n${T(": number")}${usesTraining ? `, training = false` : ""})${T(`: ${F}`)} {`,
    ...packX,
    `checkBatch(x, n);`,
    runCall("training"),
    `lastN = n;`,
    `return outputView(n);`,
    `},`,
    `predict(${X}, n${T(": number")})${T(`: ${F}`)} {`,
    ...packX,
    `checkBatch(x, n);`,
    runCall("false"),
    `lastN = n;`,
    `return ${outputName}.slice(0, n * ${outSize});`,
    `},`,
    `loss(${X}, y${T(": Floats")}, n${T(": number")})${T(": number")} {`,
    ...packX,
    `checkBatch(x, n);`,
    runCall("false"),
    `lastN = n;`,
    `return lossOf(y, n);`,
    `},`,
    `lossAndGrad(${X}, y${T(": Floats")}, n${T(": number")})${T(": number")} {`,
    ...packX,
    `checkBatch(x, n);`,
    runCall("true"),
    `lastN = n;`,
    `const value = lossOf(y, n);`,
    `backward(x, y, n);`,
    `return value;`,
    `},`,
    `trainStep(${X}, y${T(": Floats")}, n${T(": number")}, lr${T(": number")})${T(": number")} {`,
    ...packX,
    `checkBatch(x, n);`,
    runCall("true"),
    `lastN = n;`,
    `const value = lossOf(y, n);`,
    `backward(x, y, n);`,
    `update(lr);`,
    `return value;`,
    `},`,
    `applyGradient(lr${T(": number")})${T(": void")} {`,
    `update(lr);`,
    `},`,
    `seedDropout(${hasDropout ? "state" : "_state"}${T(": number")})${T(": void")} {`,
    ...(hasDropout ? [`rngState[0] = state >>> 0;`] : []),
    `},`,
    `output()${T(`: ${F}`)} {`,
    `return outputView(lastN);`,
    `},`,
    `getState()${T(": ModelState")} {`,
    `return { params: params.slice(), optimizer: ${moments > 0 ? "moments.slice()" : `new ${F}(0)`}, step, rng: ${hasDropout ? "rngState[0]" : "0"} };`,
    `},`,
    `setState(state${T(": ModelState")})${T(": void")} {`,
    `if (state.params.length !== ${paramCount}) throw new RangeError("the state holds " + state.params.length + " parameters; this model has ${paramCount}");`,
    `if (state.optimizer.length !== ${moments * paramCount}) throw new RangeError("the optimizer state holds " + state.optimizer.length + " values; this model needs ${moments * paramCount}");`,
    `params.set(state.params);`,
    ...(moments > 0 ? [`moments.set(state.optimizer);`] : []),
    `step = state.step;`,
    ...(hasDropout ? [`rngState[0] = state.rng >>> 0;`] : []),
    `},`,
    ...extra,
    `};`,
  ];
}
