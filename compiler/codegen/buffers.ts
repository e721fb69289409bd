/**
 * Buffer planning: where every value of the graph lives in the generated module, decided from
 * the graph's typed values and from what each node's code reads (recorded through the
 * `EmitContext` while it is emitted), never from the emitted text. Both emitters read the
 * plan: the TypeScript module (one `ArrayBuffer`, typed views at the planned offsets) and the
 * wasm kernels' memory layout (`wasm/module.ts`: the same arena, inside the kernels' memory).
 *
 * Two steps, around code emission:
 *
 *   storagePlan(graph)   before: each node's storage — a view of `params` or `grads`, an alias
 *                        of another node (reshape), the loss scalar, the `x`/`y` arguments, or
 *                        a buffer of its own, with its element count and type (the model's
 *                        float type, or int32 for an integer value such as a max pool's
 *                        positions). Names do not depend on offsets, so the ops emit their
 *                        code from this.
 *   planBuffers(…)       after: each buffer's lifetime over the schedule and its byte offset in
 *                        the one arena; buffers whose lifetimes do not overlap share memory,
 *                        whatever their element types (greedy first fit, the best of a few
 *                        orders).
 *
 * An elementwise op (`OpDef.inPlace`) may write its output over an input that it is the last to
 * read (same shape and type): the two buffers are one slot, the output's lifetime starting in
 * the step where the input's ends (`PlannedBuffer.inPlaceOf`).
 *
 * Besides the values, a node's code may ask for scratch memory of its own (`EmitContext.scratch`:
 * a convolution's unfolded windows, a product's gathered row, a wasm kernel's transposed
 * operand), named after the node (`h1Windows`): a planned buffer that lives in that node's step
 * alone, so the scratch of every convolution shares the same bytes. One scratch buffer is
 * asked for by name from several steps: the wasm input copy (`xIn`), live from the start of
 * `run` to the last kernel that reads it.
 *
 * The schedule is the order the module runs the nodes in: forward nodes in graph order (`run`),
 * then loss nodes (`lossOf`), then backward nodes (`backward`); every entry point that reaches
 * a later phase runs the earlier ones first in the same call. A buffer lives from its node's
 * step (or the first step that touches it, if earlier) to the last step that touches it (for a
 * reshape's buffer, through any alias of it). Two buffers share memory only when one's last
 * step comes strictly before the other's first, so a node's output never shares with its own
 * inputs (no op is assumed to be safe in place). Never shared: parameter and gradient views
 * (they are `params` and `grads`), and the model's output (`forward`/`predict`/`output()` hand
 * out views of it that must stay valid after the call).
 *
 * "Touches" are what a node's emitter asked the `EmitContext` for (`ref`, `scratch`, and the
 * wasm kernels' scratch), recorded while it emits — the only way a buffer's name reaches code.
 * That is the node's inputs as a rule, but sharper: a dropout mask is read by the backward
 * product that applies it, and a max pool's positions are written by the pool's own pass (its
 * argmax node has no code), so lifetimes follow the code, not only the graph's edges.
 */
import type { Graph, IrNode } from "../ir.js";
import { isBatched, nodeOf, shapeSize } from "../ir.js";
import { opDef } from "../ops/registry.js";

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

export interface StoragePlan {
  readonly paramCount: number;
  /** Element offset of each parameter node in `params` (and of its gradient in `grads`). */
  readonly paramOffsets: ReadonlyMap<number, number>;
  /** By node id. */
  readonly storage: readonly Storage[];
  /** The model's float type: values and most scratch. */
  readonly float: ElementType;
  /** The identifier holding a node's values (`x`, `y`, `value`, its own name or its alias target's). */
  name(id: number): string;
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
  // A parameter's gradient is written into its view of `grads`. When the gradient is a reshape
  // (a parameter used under another shape, as `stepwise` uses a dense weight as filters), the
  // node it reshapes is the one that writes there, and the reshape stays an alias of it.
  const gradOf = new Map<number, number>();
  for (const [p, d] of graph.grads) {
    let id = d;
    while (opDef(nodeOf(graph, id).op).alias === true) id = nodeOf(graph, id).inputs[0] as number;
    if (gradOf.has(id) || ["input", "label", "param"].includes(nodeOf(graph, id).op)) throw new Error(`bug: the gradient of parameter node ${p} has no storage of its own`);
    gradOf.set(id, p);
  }
  const rows = (n: IrNode): number => (isBatched(n.shape) ? maxBatch : 1) * shapeSize(n.shape);
  const storage: Storage[] = [];
  for (const n of graph.nodes) {
    const op = opDef(n.op);
    let s: Storage;
    if (n.op === "input") s = { kind: "input" };
    else if (n.op === "label") s = n.id === graph.explain?.seed ? { kind: "buffer", elements: rows(n), type: dtype } : { kind: "label" };
    else if (n.op === "param") s = { kind: "param", offset: paramOffsets.get(n.id) as number, elements: shapeSize(n.shape) };
    else if (gradOf.has(n.id)) {
      const p = gradOf.get(n.id) as number;
      s = { kind: "grad", offset: paramOffsets.get(p) as number, elements: shapeSize(n.shape), param: p };
    } else if (op.alias === true) {
      const of = n.inputs[0] as number;
      const target = storage[of] as Storage;
      s = { kind: "alias", of: target.kind === "alias" ? target.of : of };
    } else if (n.shape.length === 0) s = { kind: "loss" };
    else s = { kind: "buffer", elements: rows(n), type: n.dtype === "i32" ? "int32" : dtype };
    storage.push(s);
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
    float: dtype,
    root,
    name: (id) => {
      const r = root(id);
      const s = storage[r] as Storage;
      return s.kind === "loss" ? "value" : nodeOf(graph, r).name;
    },
  };
}

/** Memory a node's code asks for beyond the graph's values (a convolution's windows, gather lists, a kernel's transposed operand). */
export interface ScratchRequest {
  /**
   * A node's own scratch is named after it (`h1Windows`) and lives in its step alone. Requests
   * with the same name are one buffer: the largest size, live from the first request to the last.
   */
  readonly name: string;
  readonly elements: number;
  readonly type: ElementType;
  readonly comment: string;
}

/** What one node's code touches, recorded while it is emitted. */
export interface NodeAccess {
  /** Nodes whose values it reads or writes (`EmitContext.ref`; its own output included). */
  readonly values: ReadonlySet<number>;
  readonly scratch: readonly ScratchRequest[];
}

/** `RUN_START`: the step before the first node (the wasm input copy is made there). */
export const RUN_START = -1;

export interface PlannedBuffer {
  readonly name: string;
  readonly what: "value" | "output" | "kept" | "scratch";
  /** value/output: its node; scratch: undefined. */
  readonly node: number | undefined;
  readonly type: ElementType;
  readonly elements: number;
  /** First and last step it is live (positions in `schedule`; `RUN_START` before the first); the output: ±Infinity. */
  readonly first: number;
  readonly last: number;
  /** Byte offset in the arena, a multiple of 16. */
  readonly offset: number;
  readonly comment: string;
  /** The buffer whose bytes this one takes over in its first step (an elementwise op writing over an input it reads last: `OpDef.inPlace`). */
  readonly inPlaceOf?: string;
}

export interface BufferPlan {
  /** Node ids in the order the module runs them. */
  readonly schedule: readonly number[];
  /** Every buffer that is not a parameter or gradient view, in declaration order. */
  readonly buffers: readonly PlannedBuffer[];
  /** Bytes of the arena: the end of its last buffer. */
  readonly bytes: number;
  /** Bytes the same buffers would take without sharing. */
  readonly unsharedBytes: number;
}

/** The order the module runs the nodes in. */
export function scheduleOf(graph: Graph): number[] {
  const order: number[] = [];
  for (const phase of ["forward", "loss", "backward", "explain"] as const) for (const n of graph.nodes) if (n.phase === phase) order.push(n.id);
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

  // First and last step each value is touched (by its root node), and each scratch name.
  const touched = new Map<number, [number, number]>();
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
      const seen = touched.get(r);
      touched.set(r, seen === undefined ? [s, s] : [Math.min(seen[0], s), Math.max(seen[1], s)]);
    }
    for (const r of a.scratch) touchScratch(r, s);
  }

  const output = storage.root(graph.output);
  const kept = keptValues(graph, storage);
  const wanted: Wanted[] = [];
  for (const n of graph.nodes) {
    const s = storage.storage[n.id] as Storage;
    if (s.kind !== "buffer") continue;
    const pinned = n.id === output || kept.has(n.id);
    const [first, last] = touched.get(n.id) ?? [at(n.id), at(n.id)];
    wanted.push({
      name: n.name,
      what: n.id === output ? "output" : pinned ? "kept" : "value",
      node: n.id,
      type: s.type,
      elements: s.elements,
      first: pinned ? -Infinity : Math.min(first, at(n.id)),
      last: pinned ? Infinity : Math.max(last, at(n.id)),
      comment: `[${n.shape.join(", ")}]${s.type === "int32" ? " int32" : ""}`,
    });
  }
  for (const { request, first, last } of scratch.values()) {
    wanted.push({ name: request.name, what: "scratch", node: undefined, type: request.type, elements: request.elements, first, last, comment: request.comment });
  }
  const names = new Set<string>();
  for (const b of wanted) {
    if (names.has(b.name)) throw new Error(`bug: two planned buffers named ${b.name}`);
    names.add(b.name);
  }

  // Elementwise ops may write over an input they read last (`OpDef.inPlace`): such a chain of
  // buffers is one slot, live from its first member's first step to its last member's last.
  const slots = share ? inPlaceChains(graph, storage, wanted, at) : wanted.map((b) => [b]);
  const slotItems = slots.map((members) => ({ ...(members[0] as Wanted), first: Math.min(...members.map((m) => m.first)), last: Math.max(...members.map((m) => m.last)) }));
  const placed = firstFit(slotItems, share);
  const offsetOf = new Map<string, number>();
  const inPlaceOf = new Map<string, string>();
  slots.forEach((members) => {
    const offset = placed.offsets.get((members[0] as Wanted).name) as number;
    members.forEach((m, k) => {
      offsetOf.set(m.name, offset);
      if (k > 0) inPlaceOf.set(m.name, (members[k - 1] as Wanted).name);
    });
  });
  const buffers = wanted.map((b) => {
    const over = inPlaceOf.get(b.name);
    return { ...b, offset: offsetOf.get(b.name) as number, ...(over !== undefined ? { inPlaceOf: over } : {}) };
  });
  return {
    schedule,
    buffers,
    bytes: placed.bytes,
    unsharedBytes: wanted.reduce((t, b) => t + bytesOf(b), 0),
  };
}

/**
 * The values an explain module (`explain.ts`) hands out after a call, never shared: the seed,
 * the scores, the input's gradient, every layer's value and its gradient (by their root).
 */
export function keptValues(graph: Graph, storage: StoragePlan): Set<number> {
  const e = graph.explain;
  const kept = new Set<number>();
  if (e === undefined) return kept;
  const ids = [e.seed, e.scores, ...(e.inputGrad !== undefined ? [e.inputGrad] : [])];
  for (const l of e.layers) ids.push(l.node, ...(l.grad !== undefined ? [l.grad] : []));
  for (const id of ids) {
    const r = storage.root(id);
    if ((storage.storage[r] as Storage).kind === "buffer") kept.add(r);
  }
  return kept;
}

/**
 * The buffers grouped into slots: each value written by an `inPlace` op joins the slot of a
 * same-shaped input (same type and size, not the output) whose last step is this node's —
 * the op reads each element of it before writing that element of its own output — when no
 * other node has taken that slot over already. Every other buffer is a slot of its own.
 */
function inPlaceChains(graph: Graph, storage: StoragePlan, wanted: readonly Wanted[], at: (id: number) => number): Wanted[][] {
  const byNode = new Map<number, Wanted>();
  for (const b of wanted) if (b.what === "value" && b.node !== undefined) byNode.set(b.node, b);
  const slotOf = new Map<Wanted, Wanted[]>();
  for (const b of wanted) slotOf.set(b, [b]);
  const order = [...byNode.values()].sort((a, b) => a.first - b.first);
  for (const b of order) {
    const n = nodeOf(graph, b.node as number);
    if (opDef(n.op).inPlace !== true) continue;
    for (const i of n.inputs) {
      const donor = byNode.get(storage.root(i));
      if (donor === undefined || donor === b || donor.type !== b.type || donor.elements !== b.elements) continue;
      if (!sameDims(nodeOf(graph, i).shape, n.shape) || donor.last !== at(n.id)) continue;
      const slot = slotOf.get(donor) as Wanted[];
      if (slot[slot.length - 1] !== donor) continue;
      slot.push(b);
      slotOf.set(b, slot);
      break;
    }
  }
  return [...new Set(slotOf.values())];
}

function sameDims(a: readonly (number | "n")[], b: readonly (number | "n")[]): boolean {
  return a.length === b.length && a.every((d, k) => d === b[k]);
}

/** Whether two buffers are live at a common step (and so may not share memory). */
export function overlaps(a: Pick<PlannedBuffer, "first" | "last">, b: Pick<PlannedBuffer, "first" | "last">): boolean {
  return a.first <= b.last && b.first <= a.last;
}

function bytesOf(b: Pick<PlannedBuffer, "elements" | "type">): number {
  return b.elements * ELEMENT_BYTES[b.type];
}

type Wanted = Omit<PlannedBuffer, "offset">;

const byName = (a: Wanted, b: Wanted): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
const span = (b: Wanted): number => (b.last === Infinity ? Number.MAX_SAFE_INTEGER : b.last - b.first + 1);

/**
 * The orders first fit tries (the smallest arena wins; ties go to the earlier order): largest
 * first, then earliest; longest-lived first; the largest size × lifetime first; earliest
 * first. Each ends by name, for a stable result.
 */
const ORDERS: readonly ((a: Wanted, b: Wanted) => number)[] = [
  (a, b) => bytesOf(b) - bytesOf(a) || a.first - b.first || byName(a, b),
  (a, b) => span(b) - span(a) || bytesOf(b) - bytesOf(a) || byName(a, b),
  (a, b) => bytesOf(b) * span(b) - bytesOf(a) * span(a) || byName(a, b),
  (a, b) => a.first - b.first || bytesOf(b) - bytesOf(a) || byName(a, b),
];

/**
 * Greedy interval allocation in bytes: each buffer, in a given order, at the lowest
 * 16-byte-aligned offset where it fits beside every buffer already placed whose lifetime
 * overlaps its own. No order is best for every graph, so a few are tried (`ORDERS`).
 */
function firstFit(items: readonly Wanted[], share: boolean): { offsets: Map<string, number>; bytes: number } {
  let best: { offsets: Map<string, number>; bytes: number } | undefined;
  for (const order of share ? ORDERS : ORDERS.slice(0, 1)) {
    const placed = placeInOrder([...items].sort(order), share);
    if (best === undefined || placed.bytes < best.bytes) best = placed;
  }
  return best as { offsets: Map<string, number>; bytes: number };
}

function placeInOrder(order: readonly Wanted[], share: boolean): { offsets: Map<string, number>; bytes: number } {
  const up = (x: number): number => Math.ceil(x / ALIGN_BYTES) * ALIGN_BYTES;
  const placed: { item: Wanted; offset: number; end: number }[] = [];
  const offsets = new Map<string, number>();
  let top = 0;
  for (const item of order) {
    const size = up(bytesOf(item));
    const busy = placed.filter((p) => !share || overlaps(p.item, item)).sort((a, b) => a.offset - b.offset);
    let offset = 0;
    for (const p of busy) {
      if (offset + size <= p.offset) break;
      offset = Math.max(offset, p.end);
    }
    placed.push({ item, offset, end: offset + size });
    offsets.set(item.name, offset);
    top = Math.max(top, offset + bytesOf(item));
  }
  return { offsets, bytes: top };
}
