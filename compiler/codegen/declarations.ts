/**
 * The `const` declarations that open the generated `createModel`: the parameter and gradient
 * views of `params`/`grads`, the buffer plan's buffers (`buffers.ts`) as typed views of one
 * arena at their planned byte offsets, and the scratch, each with a comment saying what it
 * holds and when it is live. `module.ts` calls it once the plan is placed.
 */
import type { Graph, IrNode } from "../ir.js";
import { nodeOf } from "../ir.js";
import { commentText } from "./names.js";
import type { WasmKernels } from "./wasm/module.js";
import { RUN_START, type BufferPlan, type ElementType, type NodeAccess, type PlannedBuffer, type ScratchRequest, type Storage, type StoragePlan } from "./buffers.js";

/** The typed array of each element type. */
export const ARRAY: Readonly<Record<ElementType, string>> = { float32: "Float32Array", float64: "Float64Array", int32: "Int32Array" };
/** The arena's name in `createModel` (without wasm kernels). */
const ARENA = "arena";

/** What one node's code touched, while it is emitted (`NodeAccess`, plus whether it became wasm kernel calls). */
export interface Recording extends NodeAccess {
  readonly node: IrNode;
  readonly values: Set<number>;
  readonly scratch: ScratchRequest[];
  /** Its code is calls of wasm kernels, which read their buffers at constant addresses, not by name. */
  kernel: boolean;
  /** It emitted any code. */
  code: boolean;
}

/**
 * The `const` declarations of `createModel`, in graph order: parameter and gradient views of
 * `params`/`grads`, the plan's buffers as typed views of the arena at their planned byte
 * offsets (a buffer alone in the plan is its own array), and the scratch; with the bytes the
 * TypeScript side allocates (with wasm kernels, none: the arena is in the kernels' memory).
 *
 * With wasm kernels, a buffer only the kernels touch gets no TypeScript name. Declared are the
 * parameters (`init` fills them), the output (`forward`, `predict`, `output()`) and whatever
 * a node's TypeScript code asked the emit context for: a node whose emit got a kernel call
 * back reads its buffers through the kernel, at constant addresses.
 */
export function declarations(graph: Graph, storage: StoragePlan, plan: BufferPlan, access: ReadonlyMap<number, Recording>, wasm: WasmKernels | undefined, kept: readonly string[]): { lines: string[]; bytes: number } {
  let declared = (_name: string): boolean => true;
  if (wasm !== undefined) {
    const names = new Set<string>([storage.name(graph.output), ...graph.params.map((p) => storage.name(p.node)), ...kept]);
    for (const a of access.values()) {
      if (a.kernel) continue;
      for (const id of a.values) names.add(storage.name(id));
      for (const r of a.scratch) names.add(r.name);
    }
    declared = (name) => names.has(name);
  }
  const stepName = (step: number): string => (step === RUN_START ? "the start of run" : nodeOf(graph, plan.schedule[step] as number).name);
  const lifetime = (b: PlannedBuffer): string => {
    if (b.what === "output") return "the output, never shared";
    if (b.what === "kept") return "kept for the explain methods, never shared";
    return b.first === b.last ? `live in ${stepName(b.first)} only` : `live from ${stepName(b.first)} to ${stepName(b.last)}`;
  };
  const alone = plan.buffers.length === 1;
  const view = (b: PlannedBuffer): string => {
    if (wasm !== undefined) return wasm.view(b.name, b.type, b.elements);
    if (alone) return `new ${ARRAY[b.type]}(${b.elements})`;
    return `new ${ARRAY[b.type]}(${ARENA}, ${b.offset}, ${b.elements})`;
  };
  const views: string[] = [];
  const add = (b: PlannedBuffer | undefined): void => {
    if (b !== undefined && declared(b.name)) views.push(`const ${b.name} = ${view(b)}; // ${commentText(b.comment)} · ${lifetime(b)}`);
  };
  const byNode = new Map<number, PlannedBuffer[]>();
  for (const b of plan.buffers) if (b.node !== undefined) byNode.set(b.node, [...(byNode.get(b.node) ?? []), b]);
  for (const n of graph.nodes) {
    const s = storage.storage[n.id] as Storage;
    if (s.kind === "param" && declared(n.name)) views.push(`const ${n.name} = params.subarray(${s.offset}, ${s.offset + s.elements}); // ${commentText(`${String(n.attrs["tensor"] ?? "")} [${n.shape.join(", ")}]`)}`);
    else if (s.kind === "grad" && declared(n.name)) views.push(`const ${n.name} = grads.subarray(${s.offset}, ${s.offset + s.elements}); // gradient of ${nodeOf(graph, s.param).name}`);
    for (const b of byNode.get(n.id) ?? []) add(b);
  }
  for (const b of plan.buffers) if (b.what === "scratch") add(b);

  // The arena is allocated when a view of it is declared; a plan of one buffer is that buffer.
  if (wasm !== undefined || !plan.buffers.some((b) => declared(b.name))) return { lines: views, bytes: 0 };
  if (alone) return { lines: views, bytes: plan.bytes };
  const line = `const ${ARENA} = new ArrayBuffer(${plan.bytes}); // ${plan.buffers.length} buffers (${plan.unsharedBytes} bytes), sharing memory where their lifetimes do not overlap`;
  return { lines: [line, ...views], bytes: plan.bytes };
}
