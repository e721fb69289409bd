/**
 * Stage 4: the fused graph → one standalone module (TypeScript or JavaScript from the same
 * emitter; the JS is the TS without type annotations). The module implements
 * `compiler/model-api.ts`: every buffer is allocated once in `createModel`, every size is a
 * literal, and `trainStep` allocates nothing.
 *
 * Layout of the generated `createModel`:
 *   buffers (params/grads views, activations, adjoints, masks, optimizer moments)
 *   run(x, n[, training])   forward nodes, in graph order
 *   lossOf(y, n)            the loss node
 *   backward(x, y, n)       backward nodes, writing parameter gradients into `grads`
 *   update(lr)              the optimizer, one fused pass over the flat parameter array
 *   init(seed)              seeded initializers
 */
import type { Graph, IrNode } from "../ir.js";
import { isBatched, nodeOf, shapeSize } from "../ir.js";
import type { Optimizer, Program } from "../program.js";
import { activationDef, isElementwiseActivation, opDef } from "../ops/registry.js";
import type { EmitContext } from "../ops/types.js";
import { auxName, commentText, numberLiteral, stringLiteral } from "./names.js";
import { MODEL_API_TYPES } from "./types.js";
import { indent } from "./indent.js";
import { WasmKernels } from "./wasm/module.js";

export interface CodegenOptions {
  readonly target: "ts" | "js";
  readonly dtype: "float32" | "float64";
  readonly maxBatch: number;
  /**
   * "wasm": the matrix products run as WebAssembly SIMD kernels that nnc writes into the
   * module (float32 only); "js" (default): everything is TypeScript.
   */
  readonly kernels?: "js" | "wasm";
}

interface Buffer {
  readonly name: string;
  /** `new Float32Array(…)` or `params.subarray(…)`. */
  readonly init: string;
  readonly elements: number;
  readonly comment: string;
  /** A view of the parameter or gradient array at this element offset. */
  readonly view?: { readonly of: "params" | "grads"; readonly offset: number };
}

/** Number of moment arrays (each the size of `params`) an optimizer keeps. */
export function momentCount(o: Optimizer): number {
  switch (o.kind) {
    case "sgd":
      return o.momentum > 0 ? 1 : 0;
    case "adam":
    case "adamw":
      return 2;
    case "rmsprop":
      return o.momentum > 0 ? 2 : 1;
  }
}

export function describeOptimizer(o: Optimizer): string {
  const parts: string[] = [`lr ${o.lr}`];
  if (o.kind === "sgd" && o.momentum > 0) parts.push(`momentum ${o.momentum}${o.nesterov ? ", nesterov" : ""}`);
  if (o.kind === "adam" || o.kind === "adamw") parts.push(`beta1 ${o.beta1}`, `beta2 ${o.beta2}`, `epsilon ${o.epsilon}`);
  if (o.kind === "rmsprop") parts.push(`rho ${o.rho}`, `epsilon ${o.epsilon}`, ...(o.momentum > 0 ? [`momentum ${o.momentum}`] : []));
  if (o.weightDecay > 0) parts.push(`weight_decay ${o.weightDecay}`);
  if (o.clipNorm > 0) parts.push(`clip_norm ${o.clipNorm}`);
  if (o.clipValue > 0) parts.push(`clip_value ${o.clipValue}`);
  return `${o.kind}(${parts.join(", ")})`;
}

const INIT_DOC: Record<string, string> = {
  he: "normal, std √(2 / fan_in)",
  he_uniform: "uniform, limit √(6 / fan_in)",
  xavier: "uniform, limit √(6 / (fan_in + fan_out))",
  xavier_normal: "normal, std √(2 / (fan_in + fan_out))",
  lecun: "normal, std √(1 / fan_in)",
  normal: "normal, std 0.05",
  uniform: "uniform, limit 0.05",
  zeros: "0",
  ones: "1",
};

/** The draw expression of one initializer (`normal()`/`uniform()` are helpers of `init`). */
function initExpr(kind: string, fanIn: number, fanOut: number): { expr: string; uses: "normal" | "uniform" | "none" } {
  const n = (std: number): { expr: string; uses: "normal" } => ({ expr: `normal() * ${numberLiteral(std)}`, uses: "normal" });
  const u = (limit: number): { expr: string; uses: "uniform" } => ({ expr: `(2 * next() - 1) * ${numberLiteral(limit)}`, uses: "uniform" });
  switch (kind) {
    case "he":
      return n(Math.sqrt(2 / fanIn));
    case "he_uniform":
      return u(Math.sqrt(6 / fanIn));
    case "xavier":
      return u(Math.sqrt(6 / (fanIn + fanOut)));
    case "xavier_normal":
      return n(Math.sqrt(2 / (fanIn + fanOut)));
    case "lecun":
      return n(Math.sqrt(1 / fanIn));
    case "normal":
      return n(0.05);
    case "uniform":
      return u(0.05);
    case "zeros":
      return { expr: "0", uses: "none" };
    case "ones":
      return { expr: "1", uses: "none" };
    default:
      throw new Error(`bug: unknown initializer ${kind}`);
  }
}

/** The module's source and, with wasm kernels, the kernels in the WebAssembly text format. */
export interface Generated {
  readonly code: string;
  readonly wat?: string;
  /** Set when wasm kernels were asked for but their memory would pass `WASM_MEMORY_LIMIT`: the code has TypeScript kernels. */
  readonly wasmMemory?: number;
}

/** Largest memory a generated module asks the engine for (browsers on small devices refuse more). */
export const WASM_MEMORY_LIMIT = 2 ** 31;

export function generate(graph: Graph, program: Program, options: CodegenOptions): Generated {
  const first = generateModule(graph, program, options);
  if (first.wasmBytes === undefined || first.wasmBytes <= WASM_MEMORY_LIMIT) return { code: first.code, ...(first.wat !== undefined ? { wat: first.wat } : {}) };
  return { code: generateModule(graph, program, { ...options, kernels: "js" }).code, wasmMemory: first.wasmBytes };
}

function generateModule(graph: Graph, program: Program, options: CodegenOptions): { code: string; wat?: string; wasmBytes?: number } {
  const ts = options.target === "ts";
  const T = (type: string): string => (ts ? type : "");
  const F = options.dtype === "float64" ? "Float64Array" : "Float32Array";
  const bytesPer = options.dtype === "float64" ? 8 : 4;
  const maxBatch = options.maxBatch;
  const opt = program.optimizer;
  const num = numberLiteral;

  // ── parameters: one flat array, laid out in graph order ──
  const offsets = new Map<number, number>();
  let paramCount = 0;
  for (const p of graph.params) {
    offsets.set(p.node, paramCount);
    paramCount += shapeSize(nodeOf(graph, p.node).shape);
  }
  const gradOf = new Map<number, number>();
  for (const [p, d] of graph.grads) gradOf.set(d, p);

  // ── buffers and references ──
  const refs = new Map<number, string>();
  const buffers: Buffer[] = [];
  const auxRefs = new Map<string, string>();
  const hasDropout = graph.nodes.some((n) => n.op === "dropout");
  const usesTraining = graph.nodes.some((n) => opDef(n.op).usesTraining === true);
  const frozen = new Set(graph.params.filter((p) => p.trainable === false).map((p) => p.node));
  for (const n of graph.nodes) {
    const op = opDef(n.op);
    if (n.op === "input" || n.op === "label") {
      refs.set(n.id, n.name);
    } else if (n.op === "param") {
      const off = offsets.get(n.id) as number;
      const size = shapeSize(n.shape);
      refs.set(n.id, n.name);
      buffers.push({ name: n.name, init: `params.subarray(${off}, ${off + size})`, elements: 0, view: { of: "params", offset: off }, comment: `${String(n.attrs["tensor"] ?? "")} [${n.shape.join(", ")}]` });
    } else if (gradOf.has(n.id)) {
      const p = gradOf.get(n.id) as number;
      const off = offsets.get(p) as number;
      const size = shapeSize(n.shape);
      refs.set(n.id, n.name);
      buffers.push({ name: n.name, init: `grads.subarray(${off}, ${off + size})`, elements: 0, view: { of: "grads", offset: off }, comment: `gradient of ${nodeOf(graph, p).name}` });
    } else if (op.alias === true) {
      refs.set(n.id, refs.get(n.inputs[0] as number) as string);
    } else if (n.shape.length === 0) {
      refs.set(n.id, "value");
    } else {
      const elements = (isBatched(n.shape) ? maxBatch : 1) * shapeSize(n.shape);
      refs.set(n.id, n.name);
      buffers.push({ name: n.name, init: `new ${F}(${elements})`, elements, comment: `[${n.shape.join(", ")}]` });
    }
    for (const what of op.auxBuffers ?? []) {
      const name = auxName(n.name, what);
      const elements = (isBatched(n.shape) ? maxBatch : 1) * shapeSize(n.shape);
      auxRefs.set(`${n.id}:${what}`, name);
      buffers.push({ name, init: `new ${F}(${elements})`, elements, comment: `${what} of ${n.name}` });
    }
  }
  const moments = momentCount(opt);

  // With wasm kernels every float buffer lives in the kernels' linear memory, at an address
  // fixed now, so the kernels can name it as a constant.
  const wasm = options.kernels === "wasm" && options.dtype === "float32" ? new WasmKernels(buffers, paramCount, moments, maxBatch * shapeSize((graph.nodes.find((n) => n.op === "input") as IrNode).shape.slice(1)), maxBatch) : undefined;
  const inputName = (graph.nodes.find((n) => n.op === "input") as IrNode).name;

  const ctx: EmitContext = {
    ref: (id) => {
      const r = refs.get(id);
      if (r === undefined) throw new Error(`bug: no buffer for node ${id}`);
      return r;
    },
    aux: (id, what) => {
      const r = auxRefs.get(`${id}:${what}`);
      if (r === undefined) throw new Error(`bug: no ${what} buffer for node ${id}`);
      return r;
    },
    num,
    node: (id) => nodeOf(graph, id),
    rand: "rand",
    lossVar: "value",
    training: "training",
    gather: (width) => {
      gatherWidth = Math.max(gatherWidth, width);
      return { idx: "gatherIdx", val: "gatherVal" };
    },
    ...(wasm !== undefined ? { kernel: (request) => wasm.request(request, inputName), maxpoolKernel: (request) => wasm.maxpool(request, inputName), im2colKernel: (request) => wasm.im2col(request), convDxKernel: (request) => wasm.convDx(request) } : {}),
  };
  let gatherWidth = 0;

  const describe = (n: IrNode): string => {
    const args = n.inputs.map((i) => nodeOf(graph, i).name).join(", ");
    const head = n.shape.length === 0 ? `loss = ${n.op}(${args})` : `${n.name} = ${n.op}(${args})`;
    const extra = typeof n.attrs["act"] === "string" && n.attrs["act"] !== "linear" ? ` with ${String(n.attrs["act"])}` : "";
    const from = n.origin !== undefined ? `  ·  ${commentText(n.origin.text)} (line ${n.origin.line})` : "";
    return `// ${head}${extra}${n.attrs["mask"] === true ? " and dropout mask" : ""}${from}`;
  };
  const phaseCode = (phase: IrNode["phase"]): string =>
    graph.nodes
      .filter((n) => n.phase === phase)
      .map((n) => {
        const body = opDef(n.op).emit(n, ctx);
        return body === "" ? "" : `${describe(n)}\n{\n${body}\n}`;
      })
      .filter((s) => s !== "")
      .join("\n");

  // The forward code first: it decides whether single rows gather their non-zero inputs.
  // All three before the module's text: they register the wasm kernels it embeds.
  const forwardCode = phaseCode("forward");
  const lossCode = phaseCode("loss");
  const backwardCode = phaseCode("backward");
  if (gatherWidth > 0) {
    buffers.push(
      { name: "gatherIdx", init: `new Int32Array(${gatherWidth})`, elements: gatherWidth, comment: "positions of one input row's non-zero values" },
      { name: "gatherVal", init: `new Float64Array(${gatherWidth})`, elements: 2 * gatherWidth, comment: "those values" },
    );
  }

  // Helpers (e.g. gelu) used by any node, emitted once.
  const helpers = new Set<string>();
  for (const n of graph.nodes) {
    for (const kind of [n.op, n.attrs["act"]]) {
      if (typeof kind === "string" && isElementwiseActivation(kind)) for (const h of activationDef(kind).helpers ?? []) helpers.add(h);
    }
  }
  const stripTypes = (code: string): string => (ts ? code : code.replace(/: number/g, ""));

  // ── the pieces of the module ──
  const output = nodeOf(graph, graph.output);
  const outSize = shapeSize(output.shape);
  const inputNode = graph.nodes.find((n) => n.op === "input") as IrNode;
  const inSize = shapeSize(inputNode.shape);
  const inputShape = program.model.input;
  const elementsTotal = buffers.reduce((a, b) => a + b.elements, 0) + 2 * paramCount + moments * paramCount;
  // With wasm kernels: the whole memory (it also holds the input copy and transposed weights).
  const bytes = wasm !== undefined ? wasm.memoryBytes : elementsTotal * bytesPer;

  const layoutRows = graph.params.map((p) => {
    const n = nodeOf(graph, p.node);
    const size = shapeSize(n.shape);
    return `{ name: ${stringLiteral(p.name)}, shape: [${n.shape.join(", ")}], offset: ${offsets.get(p.node)}, size: ${size}, trainable: ${p.trainable !== false} },`;
  });

  const initLines: string[] = [];
  let usesNormal = false;
  let usesUniform = false;
  for (const p of graph.params) {
    const n = nodeOf(graph, p.node);
    const e = initExpr(p.init, p.fanIn, p.fanOut);
    if (e.uses === "normal") usesNormal = true;
    if (e.uses === "uniform") usesUniform = true;
    initLines.push(`// ${commentText(p.name)}: ${p.init} (${INIT_DOC[p.init] ?? p.init})`);
    if (e.uses === "none") initLines.push(`${n.name}.fill(${e.expr});`);
    else initLines.push(`for (let i = 0; i < ${shapeSize(n.shape)}; i++) ${n.name}[i] = ${e.expr};`);
  }

  const trainingParam = usesTraining ? `, training${T(": boolean")}` : "";
  const runCall = (training: string): string => `run(x, n${usesTraining ? `, ${training}` : ""});`;

  const out: string[] = [];
  out.push(`// Generated by nnc from model ${commentText(program.model.name)}. Do not edit: change the .nn file and recompile.`);
  out.push(`// loss ${program.loss.kind} · optimizer ${commentText(describeOptimizer(opt))} · ${options.dtype} · batch ≤ ${maxBatch}`);
  out.push("");
  if (ts) out.push(MODEL_API_TYPES, "");
  out.push(`export const layout${T(": readonly ParamEntry[]")} = [\n${layoutRows.join("\n")}\n];`, "");
  out.push(
    `export const meta${T(": ModelMeta")} = {`,
    `name: ${stringLiteral(program.model.name)},`,
    `inputShape: [${inputShape.join(", ")}],`,
    `inputSize: ${inSize},`,
    `outputShape: [${output.shape.slice(1).join(", ")}],`,
    `outputSize: ${outSize},`,
    `maxBatch: ${maxBatch},`,
    `paramCount: ${paramCount},`,
    `loss: ${stringLiteral(program.loss.kind)},`,
    `optimizer: ${stringLiteral(opt.kind)},`,
    `dtype: ${stringLiteral(options.dtype)},`,
    `bytes: ${bytes},`,
    `};`,
    "",
  );
  const helpersAt = out.length;

  const ranges: [number, number][] = [];
  for (const p of graph.params) {
    if (frozen.has(p.node)) continue;
    const start = offsets.get(p.node) as number;
    const end = start + shapeSize(nodeOf(graph, p.node).shape);
    const last = ranges[ranges.length - 1];
    if (last !== undefined && last[1] === start) last[1] = end;
    else ranges.push([start, end]);
  }
  // The optimizer's loop runs as a wasm kernel when there is one for it (registered before the
  // kernels' bytes are written below).
  const updateCode = wasm?.update(opt, ranges, T, num) ?? updateFunction(opt, paramCount, ranges, T, num);
  const body: string[] = [];
  if (wasm !== undefined) {
    out.push(...wasm.moduleCode(ts).split("\n"), "");
    body.push(...wasm.instanceCode(ts));
  } else {
    body.push(`const params = new ${F}(${paramCount});`, `const grads = new ${F}(${paramCount});`);
    if (moments > 0) body.push(`const moments = new ${F}(${moments * paramCount}); // optimizer state, laid out like params`);
  }
  const declaredAt = body.length;
  for (const b of buffers) body.push(`const ${b.name} = ${wasm?.init(b) ?? b.init}; // ${commentText(b.comment)}`);
  body.push(`const outputViews${T(`: ${F}[]`)} = [];`);
  body.push(`let step = 0;`, `let lastN = 0;`);
  if (hasDropout) {
    body.push(
      `const rngState = new Uint32Array(1); // dropout mask generator (mulberry32); an array, so updating it allocates nothing`,
      `function rand()${T(": number")} {`,
      `let t = (rngState[0] + 0x6d2b79f5) >>> 0;`,
      `rngState[0] = t;`,
      `t = Math.imul(t ^ (t >>> 15), t | 1);`,
      `t ^= t + Math.imul(t ^ (t >>> 7), t | 61);`,
      `return ((t ^ (t >>> 14)) >>> 0) / 4294967296;`,
      `}`,
    );
  }
  body.push(
    `function checkBatch(x${T(": Floats")}, n${T(": number")})${T(": void")} {`,
    `if (!(Number.isInteger(n) && n >= 1 && n <= ${maxBatch})) throw new RangeError("batch size " + n + " is not a whole number in 1..${maxBatch}");`,
    `if (x.length < n * ${inSize}) throw new RangeError("x holds " + x.length + " values; " + n + " samples need " + n * ${inSize});`,
    `}`,
    `function outputView(n${T(": number")})${T(`: ${F}`)} {`,
    `let v = outputViews[n];`,
    `if (v === undefined) {`,
    `v = ${ctx.ref(graph.output)}.subarray(0, n * ${outSize});`,
    `outputViews[n] = v;`,
    `}`,
    `return v;`,
    `}`,
  );
  const copyInput = wasm?.copyInput(inputName, inSize) ?? "";
  body.push(`function run(x${T(": Floats")}, n${T(": number")}${trainingParam})${T(": void")} {`, ...(copyInput !== "" ? [copyInput] : []), forwardCode, `}`);
  body.push(
    `function lossOf(y${T(": Floats")}, n${T(": number")})${T(": number")} {`,
    `if (y.length < n * ${outSize}) throw new RangeError("y holds " + y.length + " values; " + n + " samples need " + n * ${outSize});`,
    `let value = 0;`,
    lossCode,
    `return value;`,
    `}`,
  );
  // Parameters the backward code does not read get a leading underscore (no unused names).
  const arg = (name: string): string => (new RegExp(`\\b${name}\\b`).test(withoutComments(backwardCode)) ? name : `_${name}`);
  body.push(`function backward(${arg("x")}${T(": Floats")}, ${arg("y")}${T(": Floats")}, ${arg("n")}${T(": number")})${T(": void")} {`, backwardCode, `}`);
  body.push(updateCode);
  body.push(
    `function init(${usesNormal || usesUniform || hasDropout ? "seed" : "_seed"}${T(": number")})${T(": void")} {`,
    ...(usesNormal || usesUniform
      ? [
          `let s = seed >>> 0;`,
          `const next = ()${T(": number")} => {`,
          `let t = (s = (s + 0x6d2b79f5) >>> 0);`,
          `t = Math.imul(t ^ (t >>> 15), t | 1);`,
          `t ^= t + Math.imul(t ^ (t >>> 7), t | 61);`,
          `return ((t ^ (t >>> 14)) >>> 0) / 4294967296;`,
          `};`,
        ]
      : []),
    ...(usesNormal ? [`const normal = ()${T(": number")} => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());`] : []),
    ...initLines,
    ...(moments > 0 ? [`moments.fill(0);`] : []),
    `grads.fill(0);`,
    `step = 0;`,
    ...(hasDropout ? [`rngState[0] = (seed ^ 0x5bd1e995) >>> 0;`] : []),
    `}`,
  );
  body.push(
    `init(${program.model.seed >>> 0});`,
    `return {`,
    `meta,`,
    `layout,`,
    `params,`,
    `grads,`,
    `init,`,
    `forward(x${T(": Floats")}, n${T(": number")}${usesTraining ? `, training = false` : ""})${T(`: ${F}`)} {`,
    `checkBatch(x, n);`,
    runCall("training"),
    `lastN = n;`,
    `return outputView(n);`,
    `},`,
    `predict(x${T(": Floats")}, n${T(": number")})${T(`: ${F}`)} {`,
    `checkBatch(x, n);`,
    runCall("false"),
    `lastN = n;`,
    `return ${ctx.ref(graph.output)}.slice(0, n * ${outSize});`,
    `},`,
    `loss(x${T(": Floats")}, y${T(": Floats")}, n${T(": number")})${T(": number")} {`,
    `checkBatch(x, n);`,
    runCall("false"),
    `lastN = n;`,
    `return lossOf(y, n);`,
    `},`,
    `lossAndGrad(x${T(": Floats")}, y${T(": Floats")}, n${T(": number")})${T(": number")} {`,
    `checkBatch(x, n);`,
    runCall("true"),
    `lastN = n;`,
    `const value = lossOf(y, n);`,
    `backward(x, y, n);`,
    `return value;`,
    `},`,
    `trainStep(x${T(": Floats")}, y${T(": Floats")}, n${T(": number")}, lr${T(": number")})${T(": number")} {`,
    `checkBatch(x, n);`,
    runCall("true"),
    `lastN = n;`,
    `const value = lossOf(y, n);`,
    `backward(x, y, n);`,
    `update(lr);`,
    `return value;`,
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
    `};`,
  );
  if (wasm !== undefined) {
    // Buffers that only the kernels touch need no TypeScript name.
    const rest = withoutComments([...body.slice(0, declaredAt), ...body.slice(declaredAt + buffers.length)].join("\n"));
    const kept = buffers.map((b, i) => (new RegExp(`(?<![.\\w$])${b.name}\\b`).test(rest) ? body[declaredAt + i] : undefined)).filter((l) => l !== undefined);
    body.splice(declaredAt, buffers.length, ...(kept as string[]));
  }
  out.push(`export function createModel()${T(": CompiledModel")} {\n${body.join("\n")}\n}`);
  out.splice(helpersAt, 0, ...usedHelpers(helpers, out.join("\n")).flatMap((h) => [stripTypes(h), ""]));
  const code = indent(out.join("\n")) + "\n";
  return wasm !== undefined ? { code, wat: wasm.wat(), wasmBytes: wasm.memoryBytes } : { code };
}

/** Code without its line comments (which name buffers that the code itself may not use). */
function withoutComments(code: string): string {
  return code.replace(/\/\/[^\n]*/g, "");
}

/**
 * The helpers (`function name(…) {…}`) that the code calls, directly or through another helper,
 * in a stable order: an activation's gradient helper is dead when nothing needs that gradient.
 */
function usedHelpers(candidates: ReadonlySet<string>, code: string): string[] {
  const nameOf = (h: string): string => /function\s+([A-Za-z_$][\w$]*)/.exec(h)?.[1] ?? "";
  const calls = (text: string, name: string): boolean => new RegExp(`\\b${name}\\(`).test(text);
  const used = new Set<string>();
  let frontier = code;
  for (let changed = true; changed; ) {
    changed = false;
    for (const h of candidates) {
      if (!used.has(h) && calls(frontier, nameOf(h))) {
        used.add(h);
        frontier += "\n" + h.slice(h.indexOf("{"));
        changed = true;
      }
    }
  }
  return [...candidates].filter((h) => used.has(h));
}

/** The optimizer: clipping, weight decay, moments and the update, in one pass. */
function updateFunction(o: Optimizer, count: number, ranges: readonly [number, number][], T: (t: string) => string, num: (x: number) => string): string {
  const pre: string[] = [`step++;`];
  const loop: string[] = [];
  if (o.clipNorm > 0) {
    pre.push(
      `let squares = 0;`,
      ...ranges.map(([a, b]) => `for (let i = ${a}; i < ${b}; i++) squares += grads[i] * grads[i];`),
      `const norm = Math.sqrt(squares);`,
      `const clip = norm > ${num(o.clipNorm)} ? ${num(o.clipNorm)} / norm : 1; // global norm clipping`,
    );
  }
  const reassigned = o.clipValue > 0 || (o.weightDecay > 0 && o.kind !== "adamw");
  loop.push(`${reassigned ? "let" : "const"} g = grads[i]${o.clipNorm > 0 ? " * clip" : ""};`);
  if (o.clipValue > 0) loop.push(`g = g > ${num(o.clipValue)} ? ${num(o.clipValue)} : g < -${num(o.clipValue)} ? -${num(o.clipValue)} : g;`);
  const l2 = o.weightDecay > 0 && o.kind !== "adamw";
  if (l2) loop.push(`g += ${num(o.weightDecay)} * params[i]; // L2 weight decay`);
  switch (o.kind) {
    case "sgd":
      if (o.momentum > 0) {
        loop.push(`const v = (moments[i] = ${num(o.momentum)} * moments[i] + g);`);
        loop.push(o.nesterov ? `params[i] -= lr * (g + ${num(o.momentum)} * v);` : `params[i] -= lr * v;`);
      } else loop.push(`params[i] -= lr * g;`);
      break;
    case "adam":
    case "adamw":
      pre.push(
        `const stepSize = lr / (1 - Math.pow(${num(o.beta1)}, step));`,
        `const root2 = Math.sqrt(1 - Math.pow(${num(o.beta2)}, step));`,
      );
      if (o.kind === "adamw" && o.weightDecay > 0) pre.push(`const decay = 1 - lr * ${num(o.weightDecay)}; // decoupled weight decay`);
      loop.push(
        `const m = (moments[i] = ${num(o.beta1)} * moments[i] + (1 - ${num(o.beta1)}) * g);`,
        `const v = (moments[i + ${count}] = ${num(o.beta2)} * moments[i + ${count}] + (1 - ${num(o.beta2)}) * g * g);`,
      );
      if (o.kind === "adamw" && o.weightDecay > 0) loop.push(`params[i] = params[i] * decay - stepSize * m / (Math.sqrt(v) / root2 + ${num(o.epsilon)});`);
      else loop.push(`params[i] -= stepSize * m / (Math.sqrt(v) / root2 + ${num(o.epsilon)});`);
      break;
    case "rmsprop":
      loop.push(`const v = (moments[i] = ${num(o.rho)} * moments[i] + (1 - ${num(o.rho)}) * g * g);`);
      if (o.momentum > 0) {
        loop.push(`const b = (moments[i + ${count}] = ${num(o.momentum)} * moments[i + ${count}] + g / (Math.sqrt(v) + ${num(o.epsilon)}));`);
        loop.push(`params[i] -= lr * b;`);
      } else loop.push(`params[i] -= (lr * g) / (Math.sqrt(v) + ${num(o.epsilon)});`);
      break;
  }
  // One loop per run of trainable tensors (all of them, for dense models).
  const loops = ranges.flatMap(([a, b]) => [`for (let i = ${a}; i < ${b}; i++) {`, ...loop, `}`]);
  if (ranges.length === 0) return `// optimizer: nothing to train\nfunction update(_lr${T(": number")})${T(": void")} {\nstep++;\n}`;
  return [`// optimizer: ${commentText(describeOptimizer(o))}`, `function update(lr${T(": number")})${T(": void")} {`, ...pre, ...loops, `}`].join("\n");
}
