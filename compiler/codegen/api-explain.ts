/**
 * The text of an explain module's additions (`compile({ explain: true })`; the contract is
 * `ExplainMethods` in `model-api.ts`): `meta.explain`, the `explain(x, n)` function that runs the
 * explain phase (`compiler/explain.ts`), and the `explain` object of methods around it. A
 * module compiled without `explain` has none of this text.
 *
 * Each method runs the forward pass in inference mode, fills the seed (the adjoint of the
 * scores) for what is asked — a class's score, its probability, the loss — runs `explain`, and
 * hands out a view of a kept buffer (`buffers.ts`, `keptValues`). Views are made once per batch
 * size and kept, so no call allocates after the first at that size.
 */
import type { Graph } from "../ir.js";
import { nodeOf, shapeSize } from "../ir.js";
import type { Program } from "../program.js";
import type { StoragePlan } from "./buffers.js";
import { stringLiteral } from "./names.js";

export interface ExplainApiOptions {
  readonly T: (type: string) => string;
  /** The float typed array's name (`Float32Array`). */
  readonly F: string;
  readonly inSize: number;
  /** The identifier of the output buffer. */
  readonly outputName: string;
  /** The call that runs the forward pass in inference mode (`run(x, n, false);`). */
  readonly runCall: string;
  /** `const x = pack(inputs, n);` with several named inputs, else nothing. */
  readonly packX: readonly string[];
  /** The methods' first parameter (`x: Floats` or `inputs: Floats | Inputs`). */
  readonly X: string;
  /** The code of the explain phase's nodes, and whether it reads `x` and `n`. */
  readonly code: string;
  readonly readsX: boolean;
  readonly readsN: boolean;
}

export interface ExplainApi {
  /** Lines of the `meta` object. */
  readonly meta: readonly string[];
  /** Lines of `createModel` before its `return`: the view caches and `explain(x, n)`. */
  readonly body: readonly string[];
  /** The `explain: { … },` entry of the returned object. */
  readonly methods: readonly string[];
  /** Buffers the methods name (with wasm kernels they must be declared in TypeScript). */
  readonly names: readonly string[];
}

/** The model's seed for the loss's gradient at the scores, or undefined for a loss/output pair it does not cover. */
function lossSeed(loss: string, outputOp: string, K: number): string | undefined {
  if (loss === "cross_entropy" && outputOp === "softmax") return `(p[i] - y[i]) / n`;
  if (loss === "binary_cross_entropy" && outputOp === "sigmoid") return `(p[i] - y[i]) / (n * ${K})`;
  if (outputOp === "softmax" || outputOp === "sigmoid") return undefined;
  if (loss === "mse") return `(2 * (p[i] - y[i])) / (n * ${K})`;
  if (loss === "mae") return `Math.sign(p[i] - y[i]) / (n * ${K})`;
  return undefined;
}

export function explainApi(graph: Graph, program: Program, storage: StoragePlan, o: ExplainApiOptions): ExplainApi {
  const e = graph.explain;
  if (e === undefined) throw new Error("bug: explainApi without an explain pass");
  const { T, F } = o;
  const output = nodeOf(graph, graph.output);
  const K = shapeSize(output.shape);
  const scoresAre = e.scores === graph.output ? "output" : "logits";
  const p = o.outputName;

  // The kept buffers the methods hand out, each with its view cache (index k).
  const views: { name: string; size: number }[] = [];
  const viewOf = (id: number): number => {
    const name = storage.name(id);
    const size = shapeSize(nodeOf(graph, id).shape);
    const k = views.findIndex((v) => v.name === name && v.size === size);
    if (k >= 0) return k;
    views.push({ name, size });
    return views.length - 1;
  };
  const view = (k: number): string => `keptView(${k}, ${(views[k] as { name: string }).name}, ${(views[k] as { size: number }).size}, lastN)`;
  const scoresView = viewOf(e.scores);
  const inputView = e.inputGrad !== undefined ? viewOf(e.inputGrad) : undefined;
  const seen = new Set<string>();
  const layers = e.layers.filter((l) => {
    const kind = storage.storage[storage.root(l.node)]?.kind;
    if (kind !== "buffer" || seen.has(l.name)) return false;
    seen.add(l.name);
    return true;
  });
  const layerCases = layers.map((l) => `case ${stringLiteral(l.name)}: return ${view(viewOf(l.node))};`);
  const gradCases = layers.filter((l) => l.grad !== undefined && storage.storage[storage.root(l.grad)]?.kind === "buffer").map((l) => `case ${stringLiteral(l.name)}: return ${view(viewOf(l.grad as number))};`);
  const lossCode = lossSeed(program.loss.kind, output.op, K);

  const meta = [
    `explain: {`,
    `scores: ${stringLiteral(scoresAre)},`,
    `inputGradient: ${inputView !== undefined},`,
    `lossGradient: ${lossCode !== undefined && inputView !== undefined},`,
    `layers: [`,
    ...layers.map((l) => {
      const hasGrad = l.grad !== undefined && storage.storage[storage.root(l.grad)]?.kind === "buffer";
      return `{ name: ${stringLiteral(l.name)}, kind: ${stringLiteral(l.kind)}, shape: [${nodeOf(graph, l.node).shape.slice(1).join(", ")}], gradient: ${hasGrad} },`;
    }),
    `],`,
    `},`,
  ];

  const seedName = storage.name(e.seed);
  const body = [
    `const explainViews${T(`: ${F}[][]`)} = [${views.map(() => "[]").join(", ")}]; // per kept value, a view per batch size, made once`,
    `function keptView(k${T(": number")}, of${T(`: ${F}`)}, size${T(": number")}, n${T(": number")})${T(`: ${F}`)} {`,
    `const cache = explainViews[k]${T(` as ${F}[]`)};`,
    `let v = cache[n];`,
    `if (v === undefined) {`,
    `v = of.subarray(0, n * size);`,
    `cache[n] = v;`,
    `}`,
    `return v;`,
    `}`,
    `function explain(${o.readsX ? "x" : "_x"}${T(": Floats")}, ${o.readsN ? "n" : "_n"}${T(": number")})${T(": void")} {`,
    o.code,
    `}`,
  ];

  const noGradient = `throw new Error("no gradient reaches this model's input: it is read only as integer tokens");`;
  const start = [...o.packX, `checkBatch(x, n);`, o.runCall, `lastN = n;`];
  const finish = inputView !== undefined ? [`explain(x, n);`, `return ${view(inputView)};`] : [noGradient];
  const seedLines =
    scoresAre === "output"
      ? [`${seedName}[i * ${K} + c] = 1; // the output is the score: its probability is itself`]
      : output.op === "softmax"
        ? [`if (of === "probability") {`, `const pc = ${p}[i * ${K} + c];`, `for (let j = 0; j < ${K}; j++) ${seedName}[i * ${K} + j] = pc * ((j === c ? 1 : 0) - ${p}[i * ${K} + j]);`, `} else ${seedName}[i * ${K} + c] = 1;`]
        : [`${seedName}[i * ${K} + c] = of === "probability" ? ${p}[i * ${K} + c] * (1 - ${p}[i * ${K} + c]) : 1;`];
  const usesOf = scoresAre !== "output";
  const methods = [
    `explain: {`,
    `inputGradient(${o.X}, n${T(": number")}, target${T(": number | Int32Array")}, ${usesOf ? "of" : "_of"}${T(': "score" | "probability"')} = "score")${T(`: ${F}`)} {`,
    ...start,
    `for (let i = 0; i < n * ${K}; i++) ${seedName}[i] = 0;`,
    `for (let i = 0; i < n; i++) {`,
    `const c = typeof target === "number" ? target : target[i];`,
    `if (c === undefined || !(Number.isInteger(c) && c >= 0 && c < ${K})) throw new RangeError("target " + c + " is not an output in 0..${K - 1}");`,
    ...seedLines,
    `}`,
    ...finish,
    `},`,
    `gradientOf(${o.X}, n${T(": number")}, seed${T(": Floats")})${T(`: ${F}`)} {`,
    ...start,
    `if (seed.length < n * ${K}) throw new RangeError("seed holds " + seed.length + " values; " + n + " samples need " + n * ${K});`,
    `for (let i = 0; i < n * ${K}; i++) ${seedName}[i] = seed[i];`,
    ...finish,
    `},`,
    ...(lossCode !== undefined && inputView !== undefined
      ? [
          `lossGradient(${o.X}, y${T(": Floats")}, n${T(": number")})${T(`: ${F}`)} {`,
          ...start,
          `if (y.length < n * ${K}) throw new RangeError("y holds " + y.length + " values; " + n + " samples need " + n * ${K});`,
          `const p = ${p};`,
          `for (let i = 0; i < n * ${K}; i++) ${seedName}[i] = ${lossCode};`,
          ...finish,
          `},`,
        ]
      : []),
    `scores()${T(`: ${F}`)} {`,
    `return ${view(scoresView)};`,
    `},`,
    `activations(layer${T(": string")})${T(`: ${F}`)} {`,
    `switch (layer) {`,
    ...layerCases,
    `default: throw new RangeError("no layer named " + layer);`,
    `}`,
    `},`,
    `activationGradient(layer${T(": string")})${T(`: ${F}`)} {`,
    `switch (layer) {`,
    ...gradCases,
    `default: throw new RangeError("no gradient kept for a layer named " + layer);`,
    `}`,
    `},`,
    `},`,
  ];
  return { meta, body, methods, names: [...views.map((v) => v.name), seedName] };
}

/** The generated module's own types, with `meta.explain` and the `explain` methods. */
export function explainTypes(types: string, named: boolean): string {
  const X = named ? "x: Floats | Inputs" : "x: Floats";
  return types
    .replace(/(export interface ModelMeta \{[^}]*)\n\}/, `$1\n  readonly explain: ExplainMeta;\n}`)
    .replace(/(export interface CompiledModel \{[\s\S]*?)\n\}/, `$1\n  readonly explain: ExplainMethods;\n}`)
    .concat(`

export interface LayerEntry {
  readonly name: string;
  readonly kind: string;
  readonly shape: readonly number[];
  readonly gradient: boolean;
}

export interface ExplainMeta {
  readonly scores: "logits" | "output";
  readonly inputGradient: boolean;
  readonly lossGradient: boolean;
  readonly layers: readonly LayerEntry[];
}

export interface ExplainMethods {
  inputGradient(${X}, n: number, target: number | Int32Array, of?: "score" | "probability"): Floats;
  gradientOf(${X}, n: number, seed: Floats): Floats;
  lossGradient?(${X}, y: Floats, n: number): Floats;
  scores(): Floats;
  activations(layer: string): Floats;
  activationGradient(layer: string): Floats;
}`);
}
