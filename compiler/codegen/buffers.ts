/**
 * Buffer planning: where every value of the graph lives in the generated module, decided from
 * the graph's typed values and from what each node's code reads (recorded through the
 * `EmitContext` while it is emitted), never from the emitted text. Both emitters read the
 * plan: the TypeScript module (one typed array per element type, views at the planned
 * offsets) and the wasm kernels' memory layout (`wasm/module.ts`: addresses).
 *
 * Two steps, around code emission:
 *
 *   storagePlan(graph)   before: each node's storage — a view of `params` or `grads`, an alias
 *                        of another node (reshape), the loss scalar, the `x`/`y` arguments, or
 *                        a buffer of its own — and each op's aux buffers (`OpDef.auxBuffers`:
 *                        a dropout mask, a max-pool argmax), with element counts and types.
 *                        Names do not depend on offsets, so the ops emit their code from this.
 *   planBuffers(…)       after: each buffer's lifetime over the schedule and its offset in the
 *                        arena of its element type; buffers whose lifetimes do not overlap
 *                        share memory (greedy first fit, largest first).
 *
 * The schedule is the order the module runs the nodes in: forward nodes in graph order (`run`),
 * then loss nodes (`lossOf`), then backward nodes (`backward`); every entry point that reaches
 * a later phase runs the earlier ones first in the same call. A buffer lives from the node
 * that writes it to the last node that reads it (itself or, for a reshape's buffer, through
 * any alias of it). Two buffers share memory only when one's last step comes strictly before
 * the other's first, so a node's output never shares with its own inputs (no op is assumed
 * to be safe in place). Never shared: parameter and gradient views (they are `params` and
 * `grads`), and the model's output (`forward`/`predict`/`output()` hand out views of it that
 * must stay valid after the call).
 *
 * "Reads" are what a node's emitter asked the `EmitContext` for (`ref`, `aux`, `gather`, and the
 * wasm kernels' scratch), recorded while it emits — the only way a buffer's name reaches code.
 * That is the node's inputs as a rule, but sharper: a max-pool gradient reads the pool's
 * argmax, not its output, and a convolution reads its im2col rows, not the image (which stays
 * an input for its adjoint), so those values die earlier than the graph's edges say.
 */
import type { Graph, IrNode } from "../ir.js";
import { isBatched, nodeOf, shapeSize } from "../ir.js";
import { opDef } from "../ops/registry.js";
import { auxName } from "./names.js";

export type ElementType = "float32" | "float64" | "int32";

export const ELEMENT_BYTES: Readonly<Record<ElementType, number>> = { float32: 4, float64: 8, int32: 4 };

/** Offsets and sizes in every arena are multiples of 16 bytes (a wasm SIMD vector). */
export const ALIGN_BYTES = 16;

/** Where a node's values are. */
export type Storage =
  /** The `x` argument of `run`/`backward`. */
  | { readonly kind: "input" }
  /** The `y` argument of `lossOf`/`backward`. */
  | { readonly kind: "label" }
  /** A scalar: the local `value` of `lossOf`. */
  | { readonly kind: "loss" }
  /** `params.subarray(offset, offset + elements)`. */
  | { readonly kind: "param"; readonly offset: number; readonly elements: number }
  /** `grads.subarray(offset, offset + elements)`: the gradient of parameter node `param`. */
  | { readonly kind: "grad"; readonly offset: number; readonly elements: number; readonly param: number }
  /** The storage of node `of` (never itself an alias), under another shape. */
  | { readonly kind: "alias"; readonly of: number }
  /** A buffer of its own (an activation, a loss-phase value or an adjoint), `maxBatch` rows when batched. */
  | { readonly kind: "buffer"; readonly elements: number; readonly type: ElementType };

/** An extra buffer an op declares (`OpDef.auxBuffers`), the size of its owner's output. */
export interface AuxBuffer {
  readonly owner: number;
  readonly what: string;
  readonly name: string;
  readonly elements: number;
  readonly type: ElementType;
}

export interface StoragePlan {
  readonly paramCount: number;
  /** Element offset of each parameter node in `params` (and of its gradient in `grads`). */
  readonly paramOffsets: ReadonlyMap<number, number>;
  /** By node id. */
  readonly storage: readonly Storage[];
  readonly aux: readonly AuxBuffer[];
  /** The identifier holding a node's values (`x`, `y`, `value`, its own name or its alias target's). */
  name(id: number): string;
  auxName(owner: number, what: string): string;
  /** The node whose storage `id` uses (itself unless it is an alias). */
  root(id: number): number;
}

export function storagePlan(graph: Graph, maxBatch: number, dtype: "float32" | "float64"): StoragePlan {
  const paramOffsets = new Map<number, number>();
  let paramCount = 0;
  for (const p of graph.params) {
    paramOffsets.set(p.node, paramCount);
    paramCount += shapeSize(nodeOf(graph, p.node).shape);
  }
  const gradOf = new Map<number, number>();
  for (const [p, d] of graph.grads) gradOf.set(d, p);
  const rows = (n: IrNode): number => (isBatched(n.shape) ? maxBatch : 1) * shapeSize(n.shape);
  const storage: Storage[] = [];
  const aux: AuxBuffer[] = [];
  const auxByKey = new Map<string, AuxBuffer>();
  for (const n of graph.nodes) {
    const op = opDef(n.op);
    let s: Storage;
    if (n.op === "input") s = { kind: "input" };
    else if (n.op === "label") s = { kind: "label" };
    else if (n.op === "param") s = { kind: "param", offset: paramOffsets.get(n.id) as number, elements: shapeSize(n.shape) };
    else if (gradOf.has(n.id)) {
      const p = gradOf.get(n.id) as number;
      s = { kind: "grad", offset: paramOffsets.get(p) as number, elements: shapeSize(n.shape), param: p };
    } else if (op.alias === true) {
      const of = n.inputs[0] as number;
      const target = storage[of] as Storage;
      s = { kind: "alias", of: target.kind === "alias" ? target.of : of };
    } else if (n.shape.length === 0) s = { kind: "loss" };
    else s = { kind: "buffer", elements: rows(n), type: dtype };
    storage.push(s);
    for (const what of op.auxBuffers ?? []) {
      const b: AuxBuffer = { owner: n.id, what, name: auxName(n.name, what), elements: rows(n), type: dtype };
      aux.push(b);
      auxByKey.set(`${n.id}:${what}`, b);
    }
  }
  const root = (id: number): number => {
    const s = storage[id];
    if (s === undefined) throw new Error(`bug: no node ${id}`);
    return s.kind === "alias" ? s.of : id;
  };
  return {
    paramCount,
    paramOffsets,
    storage,
    aux,
    root,
    name: (id) => {
      const r = root(id);
      const s = storage[r] as Storage;
      return s.kind === "loss" ? "value" : nodeOf(graph, r).name;
    },
    auxName: (owner, what) => {
      const b = auxByKey.get(`${owner}:${what}`);
      if (b === undefined) throw new Error(`bug: no ${what} buffer for node ${owner}`);
      return b.name;
    },
  };
}

/** Memory a node's code asks for beyond the graph's values (gather lists, a kernel's transposed operand). */
export interface ScratchRequest {
  /** Requests with the same name are one buffer: the largest size, live from the first request to the last. */
  readonly name: string;
  readonly elements: number;
  readonly type: ElementType;
  readonly comment: string;
}

/** What one node's code touches, recorded while it is emitted. */
export interface NodeAccess {
  /** Nodes whose values it reads or writes (`EmitContext.ref`; its own output included). */
  readonly values: ReadonlySet<number>;
  /** Aux buffers it reads or writes, as `owner:what` (`EmitContext.aux`). */
  readonly aux: ReadonlySet<string>;
  readonly scratch: readonly ScratchRequest[];
}

/** `RUN_START`: the step before the first node (the wasm input copy is made there). */
export const RUN_START = -1;

export interface PlannedBuffer {
  readonly name: string;
  readonly what: "value" | "output" | "aux" | "scratch";
  /** value/output: its node; aux: its owner; scratch: undefined. */
  readonly node: number | undefined;
  readonly type: ElementType;
  readonly elements: number;
  /** First and last step it is live (positions in `schedule`; `RUN_START` before the first); the output: ±Infinity. */
  readonly first: number;
  readonly last: number;
  /** Element offset in the arena of its type, a multiple of 16 bytes. */
  readonly offset: number;
  readonly comment: string;
}

export interface Arena {
  readonly type: ElementType;
  /** Elements: the end of its last buffer. */
  readonly elements: number;
  readonly buffers: number;
}

export interface BufferPlan {
  /** Node ids in the order the module runs them. */
  readonly schedule: readonly number[];
  /** Every buffer that is not a parameter or gradient view, in declaration order. */
  readonly buffers: readonly PlannedBuffer[];
  readonly arenas: readonly Arena[];
  /** Bytes of all arenas. */
  readonly bytes: number;
  /** Bytes the same buffers would take without sharing. */
  readonly unsharedBytes: number;
}

/** The order the module runs the nodes in. */
export function scheduleOf(graph: Graph): number[] {
  const order: number[] = [];
  for (const phase of ["forward", "loss", "backward"] as const) for (const n of graph.nodes) if (n.phase === phase) order.push(n.id);
  return order;
}

/**
 * Lifetimes and offsets. `access` is by node id (nodes without code may be missing);
 * `runStart`: scratch live from `RUN_START` (the wasm input copy, made before the first node).
 * `share: false` gives every buffer memory of its own (tests compare the two).
 */
export function planBuffers(graph: Graph, storage: StoragePlan, access: ReadonlyMap<number, NodeAccess>, runStart: readonly ScratchRequest[] = [], share = true): BufferPlan {
  const schedule = scheduleOf(graph);
  const step = new Map<number, number>();
  schedule.forEach((id, i) => step.set(id, i));
  const at = (id: number): number => step.get(id) as number;

  // Last step each buffer is touched: values by their root node, aux buffers by owner:what.
  const lastValue = new Map<number, number>();
  const lastAux = new Map<string, number>();
  const scratch = new Map<string, { request: ScratchRequest; first: number; last: number }>();
  const touchScratch = (r: ScratchRequest, s: number): void => {
    const seen = scratch.get(r.name);
    if (seen === undefined) scratch.set(r.name, { request: r, first: s, last: s });
    else {
      if (seen.request.type !== r.type) throw new Error(`bug: scratch ${r.name} asked for as ${seen.request.type} and ${r.type}`);
      scratch.set(r.name, { request: r.elements > seen.request.elements ? r : seen.request, first: Math.min(seen.first, s), last: Math.max(seen.last, s) });
    }
  };
  for (const r of runStart) touchScratch(r, RUN_START);
  for (const id of schedule) {
    const a = access.get(id);
    if (a === undefined) continue;
    const s = at(id);
    for (const v of a.values) {
      const r = storage.root(v);
      lastValue.set(r, Math.max(lastValue.get(r) ?? s, s));
    }
    for (const key of a.aux) lastAux.set(key, Math.max(lastAux.get(key) ?? s, s));
    for (const r of a.scratch) touchScratch(r, s);
  }

  const output = storage.root(graph.output);
  const auxOf = new Map<number, AuxBuffer[]>();
  for (const b of storage.aux) auxOf.set(b.owner, [...(auxOf.get(b.owner) ?? []), b]);
  const wanted: Omit<PlannedBuffer, "offset">[] = [];
  for (const n of graph.nodes) {
    const s = storage.storage[n.id] as Storage;
    if (s.kind === "buffer") {
      const pinned = n.id === output;
      const first = at(n.id);
      wanted.push({
        name: n.name,
        what: pinned ? "output" : "value",
        node: n.id,
        type: s.type,
        elements: s.elements,
        first: pinned ? -Infinity : first,
        last: pinned ? Infinity : Math.max(first, lastValue.get(n.id) ?? first),
        comment: `[${n.shape.join(", ")}]`,
      });
    }
    for (const b of auxOf.get(n.id) ?? []) {
      const first = at(n.id);
      wanted.push({ name: b.name, what: "aux", node: n.id, type: b.type, elements: b.elements, first, last: Math.max(first, lastAux.get(`${n.id}:${b.what}`) ?? first), comment: `${b.what} of ${n.name}` });
    }
  }
  for (const { request, first, last } of scratch.values()) {
    wanted.push({ name: request.name, what: "scratch", node: undefined, type: request.type, elements: request.elements, first, last, comment: request.comment });
  }
  const names = new Set<string>();
  for (const b of wanted) {
    if (names.has(b.name)) throw new Error(`bug: two planned buffers named ${b.name}`);
    names.add(b.name);
  }

  const offsets = new Map<string, number>();
  const arenas: Arena[] = [];
  for (const type of ["float32", "float64", "int32"] as const) {
    const mine = wanted.filter((b) => b.type === type);
    if (mine.length === 0) continue;
    const align = ALIGN_BYTES / ELEMENT_BYTES[type];
    const placed = firstFit(mine, align, share);
    for (const [name, off] of placed.offsets) offsets.set(name, off);
    arenas.push({ type, elements: placed.elements, buffers: mine.length });
  }
  const buffers = wanted.map((b) => ({ ...b, offset: offsets.get(b.name) as number }));
  return {
    schedule,
    buffers,
    arenas,
    bytes: arenas.reduce((t, a) => t + a.elements * ELEMENT_BYTES[a.type], 0),
    unsharedBytes: wanted.reduce((t, b) => t + b.elements * ELEMENT_BYTES[b.type], 0),
  };
}

/** Whether two buffers are live at a common step (and so may not share memory). */
export function overlaps(a: Pick<PlannedBuffer, "first" | "last">, b: Pick<PlannedBuffer, "first" | "last">): boolean {
  return a.first <= b.last && b.first <= a.last;
}

/**
 * Greedy interval allocation: largest first (then earliest, then by name, for a stable
 * result), each at the lowest aligned offset where it fits beside every buffer already placed
 * whose lifetime overlaps its own.
 */
function firstFit(items: readonly Omit<PlannedBuffer, "offset">[], align: number, share: boolean): { offsets: Map<string, number>; elements: number } {
  const up = (x: number): number => Math.ceil(x / align) * align;
  const order = [...items].sort((a, b) => b.elements - a.elements || a.first - b.first || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const placed: { item: Omit<PlannedBuffer, "offset">; offset: number; end: number }[] = [];
  const offsets = new Map<string, number>();
  let top = 0;
  for (const item of order) {
    const size = up(item.elements);
    const busy = placed.filter((p) => !share || overlaps(p.item, item)).sort((a, b) => a.offset - b.offset);
    let offset = 0;
    for (const p of busy) {
      if (offset + size <= p.offset) break;
      offset = Math.max(offset, p.end);
    }
    placed.push({ item, offset, end: offset + size });
    offsets.set(item.name, offset);
    top = Math.max(top, offset + item.elements);
  }
  return { offsets, elements: top };
}
