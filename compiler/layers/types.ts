/**
 * What one layer kind declares, in one record (`defineLayer`): its word and docs, its typed
 * argument schema, how its checked form is built from the bound arguments, a one-line
 * description for comments and dumps, how it lowers to IR (with its shape checks), and how the
 * playground draws it. `index.ts` lists the records; the checker, the vocabulary (so the docs,
 * completion and hover), the lowering and the network diagram all read them.
 */
import type { MessageName } from "../../grammar/diagnostics.js";
import type { Span } from "../../grammar/span.js";
import type { Attrs, IrNode, Penalty } from "../ir.js";
import type { Activation, InitializerKind, LayerBase } from "../program.js";
import type { ArgSchema, BoundArgs } from "../schema.js";

/** What `build` may ask of the checker. */
export interface BuildContext {
  /** The model's `init` setting, if any. */
  readonly defaultInit: InitializerKind | undefined;
  /** The layer's name and span, to spread into the built layer. */
  readonly base: LayerBase;
  report(name: MessageName, span: Span, args?: readonly (string | number)[], hint?: string): void;
}

/** What a layer's `lower` may ask of the lowering (`lower.ts`). */
export interface LowerContext {
  /** The layer's position in the model (1-based): generated names are numbered by it (`w3`, `h3`). */
  readonly k: number;
  /** Every value the layer takes (the first is `lower`'s `input`); merges take several. */
  readonly inputs: readonly number[];
  /** Where each of `inputs` was made (for messages that point at both branches of a merge). */
  readonly inputSpans: readonly Span[];
  /** Appends a forward node of this layer; its shape comes from the op's rule. */
  add(op: string, inputs: readonly number[], name: string, attrs?: Attrs): number;
  /** Appends a parameter tensor `<layer>.<tensor>` of this layer (`penalty`: the layer's `l1:`/`l2:`, on its weights only). */
  param(tensor: string, shape: readonly number[], init: string, name: string, fan: { readonly in: number; readonly out: number }, trainable?: boolean, penalty?: Penalty): number;
  /** Applies an activation as its own op, named as the layer's output (with the softmax-last check). */
  activate(a: Activation, value: number): number;
  node(id: number): IrNode;
  /** Reports a shape problem (NN3xxx) at the layer (and at `related` places). */
  report(name: MessageName, args: readonly (string | number)[], hint: string, related?: readonly { readonly message: string; readonly span: Span }[]): void;
}

export interface LayerDef<L extends LayerBase = LayerBase> {
  /** The word that starts the layer's line. */
  readonly word: string;
  /** One line of docs (reference, hover, completion). */
  readonly doc: string;
  /** Arguments in positional order (every layer also takes `name`, added by the registry). */
  readonly args: readonly ArgSchema[];
  /** The hint when a required argument is missing: "e.g. `dense 64, relu`". */
  readonly usage: string;
  /** A merge: its positional arguments name the values it takes (`add skip`), resolved by the model checker. */
  readonly merge?: true;
  /** The checked layer from its bound arguments; undefined after reporting a problem. */
  build(a: BoundArgs, ctx: BuildContext): L | undefined;
  /** One line for generated comments and IR dumps (user text: sanitized by the emitter). */
  describe(layer: L): string;
  /** The layer's IR after `input`; returns the value the next layer reads. */
  lower(layer: L, input: number, ctx: LowerContext): number;
  /** How the playground's network diagram draws it. */
  readonly diagram: { readonly color: string; readonly connects: "all" | "local" };
}

/** Registers a layer kind (the cast erases its own layer type for the registry's list). */
export function defineLayer<L extends LayerBase>(def: LayerDef<L>): LayerDef {
  return def as unknown as LayerDef;
}
