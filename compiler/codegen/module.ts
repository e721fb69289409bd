/**
 * Stage 4: the fused graph → one standalone module (TypeScript or JavaScript from the same
 * emitter; the JS is the TS without type annotations). The module implements
 * `compiler/model-api.ts`: every buffer is allocated once in `createModel`, every size is a
 * literal, and `trainStep` allocates nothing.
 *
 * Layout of the generated `createModel`:
 *   buffers                 params, grads and optimizer moments; one arena (an ArrayBuffer)
 *                           and the typed views the buffer plan (`buffers.ts`) places in it:
 *                           activations, adjoints, masks, positions, scratch, sharing memory
 *                           where their lifetimes do not overlap (with wasm kernels, the arena
 *                           is inside the kernels' memory: `wasm/module.ts`)
 *   run(x, n[, training])   forward nodes, in graph order
 *   lossOf(y, n)            the loss node
 *   backward(x, y, n)       backward nodes, writing parameter gradients into `grads`
 *   update(lr)              the optimizer, one fused pass over the flat parameter array
 *                           (`trainStep` ends with it; `applyGradient` is it alone, for a
 *                           gradient summed from shards: `runtime/node/shards.ts`)
 *   init(seed)              seeded initializers
 *   return { … }            the public methods (`api.ts`; the explain methods `api-explain.ts`)
 *
 * This file emits each node through a recording context, places the plan, and assembles the
 * text; the buffers' declarations are `declarations.ts`.
 */
import type { Graph, IrNode } from "../ir.js";
import { isBatched, nodeOf, shapeSize } from "../ir.js";
import type { Program } from "../program.js";
import { describeOptimizer, momentCount, optimizerDef } from "../optimizers/index.js";
import { updateFunction } from "./update.js";
import { penaltyFunctions, penaltyRanges } from "./penalty.js";
import { isElementwiseActivation, opDef } from "../ops/registry.js";
import type { EmitContext, ScratchType } from "./ts/context.js";
import { activationCode as activationDef } from "./ts/activations.js";
import { lowerTs } from "./ts/lowering.js";
import { lowerWasm, type Kernels } from "./wasm/lowering.js";
import { commentText, numberLiteral, PACKED_INPUTS, scratchName, stringLiteral } from "./names.js";
import { MODEL_API_TYPES, namedInputTypes } from "./types.js";
import { indent } from "./indent.js";
import { WasmKernels } from "./wasm/module.js";
import { ELEMENT_BYTES, keptValues, planBuffers, storagePlan, type BufferPlan, type ElementType } from "./buffers.js";
import { ARRAY, declarations, type Recording } from "./declarations.js";
import { initFunction } from "./init.js";
import { explainApi, explainTypes, type ExplainApi } from "./api-explain.js";
import { apiHelpers, apiObject, metaLines, methodParts, packedInputs, type ApiContext } from "./api.js";

export interface CodegenOptions {
  readonly target: "ts" | "js";
  readonly dtype: "float32" | "float64";
  readonly maxBatch: number;
  /**
   * "wasm": the matrix products run as WebAssembly SIMD kernels that nnc writes into the
   * module (float32 only); "js" (default): everything is TypeScript.
   */
  readonly kernels?: "js" | "wasm";
  /** False: every buffer gets memory of its own, no sharing (tests compare the two). Default true. */
  readonly shareBuffers?: boolean;
}

/** The module's source and, with wasm kernels, the kernels in the WebAssembly text format. */
export interface Generated {
  readonly code: string;
  readonly wat?: string;
  /** Set when wasm kernels were asked for but their memory would pass `WASM_MEMORY_LIMIT`: the code has TypeScript kernels. */
  readonly wasmMemory?: number;
  /** Where the module keeps every value (`buffers.ts`). */
  readonly plan: BufferPlan;
}

/** Largest memory a generated module asks the engine for (browsers on small devices refuse more). */
export const WASM_MEMORY_LIMIT = 2 ** 31;

export function generate(graph: Graph, program: Program, options: CodegenOptions): Generated {
  const first = generateModule(graph, program, options);
  if (first.wasmBytes === undefined || first.wasmBytes <= WASM_MEMORY_LIMIT) return { code: first.code, plan: first.plan, ...(first.wat !== undefined ? { wat: first.wat } : {}) };
  const js = generateModule(graph, program, { ...options, kernels: "js" });
  return { code: js.code, plan: js.plan, wasmMemory: first.wasmBytes };
}


function generateModule(graph: Graph, program: Program, options: CodegenOptions): { code: string; plan: BufferPlan; wat?: string; wasmBytes?: number } {
  const ts = options.target === "ts";
  const T = (type: string): string => (ts ? type : "");
  const F = ARRAY[options.dtype];
  const bytesPer = ELEMENT_BYTES[options.dtype];
  const maxBatch = options.maxBatch;
  const opt = program.optimizer;
  const num = numberLiteral;

  // ── where every value lives (names now; lifetimes and offsets after the code is emitted) ──
  const storage = storagePlan(graph, maxBatch, options.dtype);
  const paramCount = storage.paramCount;
  const offsets = storage.paramOffsets;
  const hasDropout = graph.nodes.some((n) => n.op === "dropout_mask");
  const usesTraining = graph.nodes.some((n) => opDef(n.op).usesTraining === true);
  const frozen = new Set(graph.params.filter((p) => p.trainable === false).map((p) => p.node));
  const moments = momentCount(opt);
  const inputNode = graph.nodes.find((n) => n.op === "input") as IrNode;
  const labelNode = graph.nodes.find((n) => n.op === "label");
  const inputName = storage.name(inputNode.id);
  const inSize = shapeSize(inputNode.shape);

  // With wasm kernels every buffer of the plan lives in the kernels' linear memory, at an
  // address fixed once the plan is placed, so the kernels can name it as a constant.
  const wasm = options.kernels === "wasm" && options.dtype === "float32" ? new WasmKernels(storage, moments, { name: inputName, elements: maxBatch * inSize }) : undefined;

  // Each node's code is emitted through this context, which records what it touches: the
  // plan's lifetimes come from these records, not from the text.
  const access = new Map<number, Recording>();
  let current: Recording | undefined;
  const recording = (): Recording => {
    if (current === undefined) throw new Error("bug: the emit context used outside a node's emit");
    return current;
  };
  const viaKernel = (call: string | undefined): string | undefined => {
    const r = recording();
    r.scratch.push(...(wasm?.drain() ?? []));
    if (call !== undefined) r.kernel = true;
    return call;
  };
  // A kernel called from a node's own TypeScript loop: its scratch is the node's, and the node still reads its buffers.
  const inLoop = (call: string | undefined): string | undefined => {
    recording().scratch.push(...(wasm?.drain() ?? []));
    return call;
  };
  const readers: IrNode[][] = graph.nodes.map(() => []);
  for (const n of graph.nodes) for (const i of n.inputs) readers[i]?.push(n);
  const scratchTypes: Readonly<Record<ScratchType, ElementType>> = { float: options.dtype, float64: "float64", int32: "int32" };
  const ctx: EmitContext = {
    ref: (id) => {
      recording().values.add(id);
      return storage.name(id);
    },
    scratch: (role, elements, comment, type = "float") => {
      const r = recording();
      const name = scratchName(r.node.name, role);
      r.scratch.push({ name, elements, type: scratchTypes[type], comment });
      wasm?.planned.add(name);
      return name;
    },
    maxBatch,
    num,
    node: (id) => nodeOf(graph, id),
    readers: (id) => readers[id] ?? [],
    rand: "rand",
    lossVar: "value",
    training: "training",
  };
  const kernels: Kernels | undefined =
    wasm !== undefined
      ? {
          request: (request) => viaKernel(wasm.request(request)),
          conv: (request) => viaKernel(wasm.conv(request)),
          maxpool: (request) => viaKernel(wasm.maxpool(request)),
          maxpoolGrad: (request) => viaKernel(wasm.maxpoolGrad(request)),
          reluApplied: wasm.reluApplied,
          convDx: (request) => viaKernel(wasm.convDx(request)),
          bmm: (request, per) => viaKernel(wasm.bmm(request, per)),
          step: (request, index) => inLoop(wasm.step(request, index)),
          cell: (request) => inLoop(wasm.cell(request)),
          cellGrad: (request) => inLoop(wasm.cellGrad(request)),
          nests: (request) => viaKernel(wasm.nests(request)),
          rows: (request) => viaKernel(wasm.rows(request)),
        }
      : undefined;

  const describe = (n: IrNode): string => {
    const args = n.inputs.map((i) => nodeOf(graph, i).name).join(", ");
    const head = n.shape.length === 0 ? `loss = ${n.op}(${args})` : `${n.name} = ${n.op}(${args})`;
    const extra = typeof n.attrs["act"] === "string" && n.attrs["act"] !== "linear" ? ` with ${String(n.attrs["act"])}` : "";
    const from = n.origin !== undefined ? `  ·  ${commentText(n.origin.text)} (line ${n.origin.line})` : "";
    return `// ${head}${extra}${n.attrs["mask"] === true ? " and dropout mask" : ""}${from}`;
  };
  const emitNode = (n: IrNode): string => {
    current = { node: n, values: new Set(), scratch: [], kernel: false, code: false };
    const body = (kernels !== undefined ? lowerWasm(n, ctx, kernels) : undefined) ?? lowerTs(n, ctx);
    current.code = body !== "";
    access.set(n.id, current);
    current = undefined;
    return body === "" ? "" : `${describe(n)}\n{\n${body}\n}`;
  };
  const phaseCode = (phase: IrNode["phase"]): string =>
    graph.nodes
      .filter((n) => n.phase === phase)
      .map(emitNode)
      .filter((s) => s !== "")
      .join("\n");

  // The forward code first: it decides whether single rows gather their non-zero inputs.
  // All three before the module's text: they register the wasm kernels it embeds.
  const forwardCode = phaseCode("forward");
  const lossCode = phaseCode("loss");
  const backwardCode = phaseCode("backward");
  const explainCode = graph.explain !== undefined ? phaseCode("explain") : undefined;
  // Several named inputs: the methods pack them side by side into one planned buffer, live from
  // the start of `run` to the last node that reads `x` (the slices that cut them out again).
  const namedInputs = program.model.inputs.length > 1;
  const packedRequest = { name: PACKED_INPUTS, elements: maxBatch * inSize, type: options.dtype, comment: "the named inputs side by side, one row per sample" } as const;
  if (namedInputs) {
    wasm?.planned.add(PACKED_INPUTS);
    for (const n of graph.nodes) if (n.inputs.includes(inputNode.id)) (access.get(n.id) as Recording | undefined)?.scratch.push(packedRequest);
  }
  const runStart = [...(wasm?.inputCopy !== undefined ? [wasm.inputCopy] : []), ...(namedInputs ? [packedRequest] : [])];
  const plan = planBuffers(graph, storage, access, runStart, options.shareBuffers !== false);

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
  const outputName = storage.name(graph.output);
  // Several named inputs: the methods also take them by name, packed side by side into `x`.
  const named = program.model.inputs.length > 1 ? packedInputs(program.model.inputs) : undefined;
  const apiContext: ApiContext = { T, F, maxBatch, inSize, outSize, outputName, paramCount, moments, hasDropout, usesTraining, named };
  const { X, packX, runCall } = methodParts(apiContext);

  const layoutRows = graph.params.map((p) => {
    const n = nodeOf(graph, p.node);
    const size = shapeSize(n.shape);
    return `{ name: ${stringLiteral(p.name)}, shape: [${n.shape.join(", ")}], offset: ${offsets.get(p.node)}, size: ${size}, trainable: ${p.trainable !== false} },`;
  });

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
  // kernels are built, once the plan is placed).
  const noKernel = wasm !== undefined && optimizerDef(opt.kind).wasm === undefined ? ` — in TypeScript: ${opt.kind} has no wasm kernel` : "";
  const updateCode = wasm?.update(opt, ranges, T, num) ?? updateFunction(opt, paramCount, ranges, T, num, noKernel);
  // The layers' `l1:`/`l2:`: in the loss `lossOf` returns and the gradient `backward` writes (`penalty.ts`).
  const penaltyCode = penaltyFunctions(penaltyRanges(graph, offsets), T, num);
  wasm?.place(plan);
  const declared = declarations(graph, storage, plan, access, wasm, [...keptValues(graph, storage)].map((id) => storage.name(id)));
  // The real total: params, grads and moments and the arena (with wasm kernels: the whole
  // memory, which holds them all).
  const bytes = (wasm !== undefined ? wasm.memoryBytes : (2 + moments) * paramCount * bytesPer) + declared.bytes;

  const trainingParam = usesTraining ? `, training${T(": boolean")}` : "";
  // Parameters the backward code does not read get a leading underscore (no unused names):
  // x and y are read when a backward node's TypeScript code asked for them (a wasm kernel reads
  // the input's copy instead), n when a backward node with code has a batched value to loop over.
  const backwardNodes = graph.nodes.filter((n) => n.phase === "backward");
  const readsInCode = (id: number | undefined, nodes = backwardNodes): boolean =>
    id !== undefined &&
    nodes.some((n) => {
      const a = access.get(n.id);
      return a !== undefined && !a.kernel && [...a.values].some((v) => storage.root(v) === id);
    });
  const batched = (n: IrNode): boolean => isBatched(n.shape) || n.inputs.some((i) => isBatched(nodeOf(graph, i).shape));
  const readsN = backwardNodes.some((n) => access.get(n.id)?.code === true && batched(n));
  const explainNodes = graph.nodes.filter((n) => n.phase === "explain");
  const api: ExplainApi | undefined =
    explainCode !== undefined
      ? explainApi(graph, program, storage, { T, F, inSize, outputName, runCall: runCall("false"), packX, X, code: explainCode, readsX: readsInCode(inputNode.id, explainNodes), readsN: explainNodes.some((n) => access.get(n.id)?.code === true && batched(n)) })
      : undefined;

  const out: string[] = [];
  out.push(`// Generated by nnc from model ${commentText(program.model.name)}. Do not edit: change the .nn file and recompile.`);
  out.push(`// loss ${program.loss.kind} · optimizer ${commentText(describeOptimizer(opt))} · ${options.dtype} · batch ≤ ${maxBatch}`);
  out.push("");
  const types = named !== undefined ? namedInputTypes() : MODEL_API_TYPES;
  if (ts) out.push(api !== undefined ? explainTypes(types, named !== undefined) : types, "");
  out.push(`export const layout${T(": readonly ParamEntry[]")} = [\n${layoutRows.join("\n")}\n];`, "");
  out.push(...metaLines(apiContext, program, output.shape.slice(1), options.dtype, bytes, api?.meta ?? []));
  const helpersAt = out.length;

  const body: string[] = [];
  if (wasm !== undefined) {
    out.push(...wasm.moduleCode(ts).split("\n"), "");
    body.push(...wasm.instanceCode(ts));
  } else {
    body.push(`const params = new ${F}(${paramCount});`, `const grads = new ${F}(${paramCount});`);
    if (moments > 0) body.push(`const moments = new ${F}(${moments * paramCount}); // optimizer state, laid out like params`);
  }
  body.push(...declared.lines);
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
  body.push(...apiHelpers(apiContext));
  const copyInput = wasm?.copyInput(inSize) ?? "";
  body.push(`function run(x${T(": Floats")}, n${T(": number")}${trainingParam})${T(": void")} {`, ...(copyInput !== "" ? [copyInput] : []), forwardCode, `}`);
  body.push(
    `function lossOf(y${T(": Floats")}, n${T(": number")})${T(": number")} {`,
    `if (y.length < n * ${outSize}) throw new RangeError("y holds " + y.length + " values; " + n + " samples need " + n * ${outSize});`,
    `let value = 0;`,
    lossCode,
    `return value${penaltyCode.length > 0 ? " + penalty()" : ""};`,
    `}`,
  );
  const arg = (name: string, used: boolean): string => (used ? name : `_${name}`);
  body.push(`function backward(${arg("x", readsInCode(inputNode.id))}${T(": Floats")}, ${arg("y", readsInCode(labelNode?.id))}${T(": Floats")}, ${arg("n", readsN)}${T(": number")})${T(": void")} {`, backwardCode, ...(penaltyCode.length > 0 ? [`addPenaltyGradient();`] : []), `}`);
  body.push(...penaltyCode);
  body.push(updateCode);
  body.push(...initFunction(graph, { moments: moments > 0, dropout: hasDropout, T }));
  body.push(...(api?.body ?? []));
  body.push(`init(${program.model.seed >>> 0});`, ...apiObject(apiContext, api?.methods ?? []));
  out.push(`export function createModel()${T(": CompiledModel")} {\n${body.join("\n")}\n}`);
  out.splice(helpersAt, 0, ...usedHelpers(helpers, out.join("\n")).flatMap((h) => [stripTypes(h), ""]));
  const code = indent(out.join("\n")) + "\n";
  return wasm !== undefined ? { code, plan, wat: wasm.wat(), wasmBytes: wasm.memoryBytes } : { code, plan };
}

/**
 * The helpers (`function name(…) {…}`) that the code calls, directly or through another helper,
 * in a stable order: an activation's gradient helper is dead when nothing needs that gradient.
 *
 * This one stays a search of the text (it decides which functions to emit, not which buffers
 * exist): an activation lists its helpers as one set (`ActivationCode.helpers`), not per use —
 * forward or derivative — and a wasm kernel that takes over a forward takes its call with it,
 * so only the emitted code knows which are called. Helper names are fixed words, never buffers.
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
