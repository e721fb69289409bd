/**
 * An ONNX graph as plain data, built node by node: nodes, initializers (constant tensors: the
 * weights and the small int64 shapes and axes that opset 17 takes as inputs), inputs and
 * outputs, every value name unique. `model.ts` turns it into protobuf; nothing here knows the
 * wire format, so the lowering can be read and tested without it.
 *
 * Names are data, never code: a name from the `.nn` file (an input, a layer's parameter) is
 * kept as written, and only made unique (`fresh`).
 */

/** One attribute, typed as ONNX types it. */
export type OnnxAttr = { readonly int: number } | { readonly float: number } | { readonly ints: readonly number[] };

export type OnnxAttrs = Readonly<Record<string, OnnxAttr>>;

export const int = (v: number): OnnxAttr => ({ int: v });
export const float = (v: number): OnnxAttr => ({ float: v });
export const ints = (v: readonly number[]): OnnxAttr => ({ ints: v });

export interface OnnxNode {
  readonly opType: string;
  readonly name: string;
  readonly inputs: readonly string[];
  readonly output: string;
  readonly attrs: OnnxAttrs;
  /** The `.nn` layer it came from (`dense 64, relu (line 4)`), one line. */
  readonly doc: string;
}

/** The element types used here, by their ONNX `TensorProto.DataType` numbers. */
export const FLOAT = 1;
export const BOOL = 9;
export const INT64 = 7;
export type ElementType = typeof FLOAT | typeof BOOL | typeof INT64;

export interface Initializer {
  readonly name: string;
  readonly type: ElementType;
  readonly dims: readonly number[];
  readonly values: ArrayLike<number>;
}

/** A graph input or output: its element type and shape (`"batch"`: the dynamic batch dimension). */
export interface OnnxValueInfo {
  readonly name: string;
  readonly type: ElementType;
  readonly shape: readonly (number | "batch")[];
}

export class OnnxGraph {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: Initializer[] = [];
  readonly inputs: OnnxValueInfo[] = [];
  readonly outputs: OnnxValueInfo[] = [];
  private readonly taken = new Set<string>();

  /** `base`, or `base_2`, `base_3`, … : a value name no other value has. */
  fresh(base: string): string {
    let name = base;
    for (let k = 2; this.taken.has(name); k++) name = `${base}_${k}`;
    this.taken.add(name);
    return name;
  }

  input(name: string, shape: OnnxValueInfo["shape"], type: ElementType = FLOAT): string {
    const unique = this.fresh(name);
    this.inputs.push({ name: unique, type, shape });
    return unique;
  }

  node(opType: string, inputs: readonly string[], attrs: OnnxAttrs, output: string, doc: string): string {
    const name = this.fresh(output);
    this.nodes.push({ opType, name, inputs, output: name, attrs, doc });
    return name;
  }

  constant(name: string, type: ElementType, dims: readonly number[], values: ArrayLike<number>): string {
    const unique = this.fresh(name);
    this.initializers.push({ name: unique, type, dims, values });
    return unique;
  }

  /**
   * The graph's output `name`, computed as `value`: the node making `value` is renamed (and its
   * readers follow); a value no node makes (an input, a constant) gets an Identity.
   */
  output(name: string, value: string, shape: OnnxValueInfo["shape"]): void {
    const maker = this.nodes.findIndex((n) => n.output === value);
    const unique = this.fresh(name);
    if (maker < 0) {
      this.nodes.push({ opType: "Identity", name: unique, inputs: [value], output: unique, attrs: {}, doc: "the model's output" });
    } else {
      const m = this.nodes[maker] as OnnxNode;
      this.nodes[maker] = { ...m, name: unique, output: unique };
      for (let i = maker + 1; i < this.nodes.length; i++) {
        const n = this.nodes[i] as OnnxNode;
        if (n.inputs.includes(value)) this.nodes[i] = { ...n, inputs: n.inputs.map((v) => (v === value ? unique : v)) };
      }
    }
    this.outputs.push({ name: unique, type: FLOAT, shape });
  }

  /** Drops the nodes and initializers no output depends on (the layout conversions nobody read, …). */
  prune(): void {
    const needed = new Set(this.outputs.map((o) => o.name));
    const kept: OnnxNode[] = [];
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const n = this.nodes[i] as OnnxNode;
      if (!needed.has(n.output)) continue;
      kept.push(n);
      for (const v of n.inputs) needed.add(v);
    }
    this.nodes.splice(0, this.nodes.length, ...kept.reverse());
    const used = this.initializers.filter((t) => needed.has(t.name));
    this.initializers.splice(0, this.initializers.length, ...used);
  }
}
