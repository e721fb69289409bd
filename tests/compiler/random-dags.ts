/**
 * A seeded generator of small graph programs (`.nn` source text): several named inputs (flat,
 * sometimes one image with conv2d branches), fan-out, residual `add`s, `concat`s of branches of
 * different widths, blocks used several times and `repeat`. Besides the source it predicts what
 * the compiler must make of it: every trainable tensor's name (so the count, and the
 * `<block>_<k>.` prefixes of block uses), and which graph features the program exercises.
 *
 * Every value the generator makes is read (the last one is the output), so a generated program
 * must check without a single diagnostic, warnings included.
 */
import { mulberry32 } from "../../bench/data.js";

/** mulberry32: small, seeded, deterministic (`bench/data.ts`'s). */
export const rng = mulberry32;

export type Feature = "fanOut" | "add" | "concat" | "concatWidths" | "inputs" | "image" | "block" | "blockTwice" | "blockTwoInputs" | "repeat" | "namedUse";

export interface GeneratedProgram {
  readonly seed: number;
  readonly source: string;
  /** The trainable tensors the compiler must make (layout names), sorted. */
  readonly tensors: readonly string[];
  /** `<block>_<k>.` (or `<name>.`) prefixes of the block uses, in order. */
  readonly blockPrefixes: readonly string[];
  readonly features: ReadonlySet<Feature>;
  readonly loss: string;
}

type Shape = readonly number[];

interface Stmt {
  target: string | undefined;
  readonly text: string;
  /** The trainable tensors this statement makes, given its final target name. */
  readonly tensors: (target: string | undefined) => string[];
  /** A `repeat` body, indented under it. */
  body?: Stmt[];
  /** The block-use prefixes it makes, given its final target name. */
  prefixes: (target: string | undefined) => string[];
}

interface Value {
  readonly shape: Shape;
  readonly stmt: Stmt | undefined;
  name: string | undefined;
  used: boolean;
}

/**
 * `elu` with α ≠ 1: with α = 1 its derivative is continuous but its curvature is not, and a
 * zero bias after a relu whose outputs are all 0 sits exactly on that point, where central
 * differences are off by O(h) (about 1e-5 relative): not a compiler bug, so out of the way. With
 * α = 0.7 the point is a kink, which the check detects and skips.
 */
const ELU = "elu(alpha: 0.7)";
const HIDDEN = ["relu", "tanh", "sigmoid", "gelu", ELU, "leaky_relu", "linear"];

/** The blocks a program may declare (only the used ones are written). */
const BLOCKS = {
  residual: ["block residual(width, act: relu) {", "  x = input", "  dense width, act", "  dense width", "  add x", "}"],
  pair: ["block pair(width, act: tanh) {", "  a = input", "  b = input", "  a -> dense width, act", "  p = layernorm", "  b -> dense width, act", "  add p", "  dense width", "}"],
  stem: ["block stem(filters, k: 3) {", "  c = conv2d filters, k, tanh, padding: same", "  conv2d filters, k, padding: same", "  add c", "}"],
  proj: ["block proj(width) {", "  dense width, gelu", "  layernorm", "}"],
} as const;
type BlockName = keyof typeof BLOCKS;
/** Each block's trainable tensors, relative to its use's prefix. */
const BLOCK_TENSORS: Record<BlockName, string[]> = {
  residual: ["dense_1.weight", "dense_1.bias", "dense_2.weight", "dense_2.bias"],
  pair: ["dense_1.weight", "dense_1.bias", "layernorm_1.gamma", "layernorm_1.beta", "dense_2.weight", "dense_2.bias", "dense_3.weight", "dense_3.bias"],
  stem: ["conv2d_1.weight", "conv2d_1.bias", "conv2d_2.weight", "conv2d_2.bias"],
  proj: ["dense_1.weight", "dense_1.bias", "layernorm_1.gamma", "layernorm_1.beta"],
};
const LAYER_TENSORS: Record<string, string[]> = {
  dense: ["weight", "bias"],
  conv2d: ["weight", "bias"],
  layernorm: ["gamma", "beta"],
  batchnorm: ["gamma", "beta"],
};

const isImage = (s: Shape): boolean => s.length === 3;
const width = (s: Shape): number => s.reduce((a, b) => a * b, 1);

class Builder {
  readonly features = new Set<Feature>();
  readonly blocksUsed = new Set<BlockName>();
  private readonly counters = new Map<string, number>();
  private last: Value | undefined;
  private nextName = 1;
  private inRepeat = 0;
  readonly values: Value[] = [];
  /** Where statements go (the model body, or a repeat body being written). */
  private out: Stmt[];

  constructor(
    readonly r: () => number,
    readonly body: Stmt[],
  ) {
    this.out = body;
  }

  int(lo: number, hi: number): number {
    return lo + Math.floor(this.r() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.r() * xs.length)] as T;
  }
  chance(p: number): boolean {
    return this.r() < p;
  }
  act(): string {
    return this.pick(HIDDEN);
  }

  private count(word: string): number {
    const n = (this.counters.get(word) ?? 0) + 1;
    this.counters.set(word, n);
    return n;
  }

  /** The name of a value, naming its statement if it has none yet. */
  ref(v: Value): string {
    v.used = true;
    if (v.name === undefined) {
      if (v.stmt === undefined) throw new Error("bug: an unnamed input");
      v.name = `v${this.nextName++}`;
      v.stmt.target = v.name;
    }
    return v.name;
  }

  input(name: string | undefined, shape: Shape): Value {
    const text = shape.length === 1 ? `input ${shape[0]}` : `input [${shape.join(", ")}]`;
    const stmt: Stmt = { target: name, text, tensors: () => [], prefixes: () => [] };
    this.out.push(stmt);
    const v: Value = { shape, stmt: undefined, name, used: false };
    this.values.push(v);
    this.last = v;
    return v;
  }

  /** Writes a statement reading `from` (implicitly when it is the value before). */
  private statement(from: readonly Value[], text: string, shape: Shape, tensors: (target: string | undefined) => string[]): Value {
    let line = text;
    if (from.length === 1 && from[0] === this.last) (from[0] as Value).used = true;
    else if (from.length > 0) line = `${from.map((v) => this.ref(v)).join(", ")} -> ${text}`;
    const stmt: Stmt = { target: undefined, text: line, tensors, prefixes: () => [] };
    this.out.push(stmt);
    const v: Value = { shape, stmt, name: undefined, used: false };
    this.values.push(v);
    this.last = v;
    return v;
  }

  /** A layer with parameters named `<word>_<k>.<tensor>` (k counted per word, as the checker does). */
  layer(from: Value, word: string, args: string, shape: Shape): Value {
    const n = this.count(word);
    const names = (LAYER_TENSORS[word] ?? []).map((t) => `${word}_${n}.${t}`);
    return this.statement([from], args === "" ? word : `${word} ${args}`, shape, () => names);
  }

  /** `add a, b` / `add skip` / `a, b -> add`; the same for concat. */
  merge(word: "add" | "concat", vs: readonly Value[], shape: Shape): Value {
    this.count(word);
    this.features.add(word);
    if (this.chance(0.2)) return this.statement(vs, word, shape, () => []);
    const lastIndex = vs.indexOf(this.last as Value);
    if (vs.length === 2 && lastIndex >= 0 && this.chance(0.7)) {
      (this.last as Value).used = true;
      const other = vs[1 - lastIndex] as Value;
      return this.statement([], `${word} ${this.ref(other)}`, shape, () => []);
    }
    return this.statement([], `${word} ${vs.map((v) => this.ref(v)).join(", ")}`, shape, () => []);
  }

  useBlock(block: BlockName, from: readonly Value[], args: string, shape: Shape): Value {
    this.blocksUsed.add(block);
    this.features.add(this.features.has("block") ? "blockTwice" : "block");
    const n = this.count(block);
    // (A named use inside `repeat` would name every copy's layers alike.)
    const named = this.inRepeat === 0 && this.chance(0.2);
    const v = this.statement(from, `${block} ${args}`, shape, (target) => BLOCK_TENSORS[block].map((t) => `${target ?? `${block}_${n}`}.${t}`));
    (v.stmt as Stmt).prefixes = (target) => [`${target ?? `${block}_${n}`}.`];
    if (named) {
      this.features.add("namedUse");
      this.ref(v);
    }
    return v;
  }

  /** `repeat n { … }`: `body` writes one copy of the statements, and is called once per copy (to count the names). */
  repeat(from: Value, n: number, body: (b: Builder, cur: Value) => Value): Value {
    this.features.add("repeat");
    const saved = this.out;
    const outer = this.last;
    let cur: Value = { shape: from.shape, stmt: undefined, name: "(repeat)", used: false };
    const copies: Stmt[][] = [];
    this.inRepeat++;
    for (let i = 0; i < n; i++) {
      const copy: Stmt[] = [];
      this.out = copy;
      this.last = cur;
      cur = body(this, cur);
      copies.push(copy);
    }
    this.inRepeat--;
    cur.used = true;
    this.out = saved;
    this.last = outer;
    const v = this.statement([from], `repeat ${n}`, cur.shape, () => copies.flatMap((c) => c.flatMap((s) => s.tensors(s.target))));
    const stmt = v.stmt as Stmt;
    stmt.body = copies[0] as Stmt[];
    stmt.prefixes = () => copies.flatMap((c) => c.flatMap((s) => s.prefixes(s.target)));
    return v;
  }

  get lastValue(): Value | undefined {
    return this.last;
  }
}

function render(stmts: readonly Stmt[], indent: string): string[] {
  return stmts.flatMap((s) => {
    const head = `${indent}${s.target !== undefined ? `${s.target} = ` : ""}${s.text}`;
    return s.body === undefined ? [head] : [`${head} {`, ...render(s.body, indent + "  "), `${indent}}`];
  });
}

// ── the operations on a value ──

function flatOp(b: Builder, v: Value, depth: number): Value {
  const w = width(v.shape);
  const roll = b.r();
  if (depth > 0 && roll < 0.14) return diamond(b, v, depth);
  if (depth > 0 && roll < 0.24) {
    // A residual connection written out: s … dense w, add s.
    const u = b.int(2, 6);
    const mid = b.layer(v, "dense", `${u}, ${b.act()}`, [u]);
    const back = b.layer(mid, "dense", `${w}`, [w]);
    return b.merge("add", [back, v], [w]);
  }
  if (depth > 0 && roll < 0.34) return b.useBlock("residual", [v], b.chance(0.5) ? `${w}` : `${w}, act: ${b.pick(["tanh", ELU, "gelu"])}`, [w]);
  if (depth > 0 && roll < 0.42) {
    const n = b.int(1, 3);
    const kind = b.int(0, 2);
    return b.repeat(v, n, (bb, cur) => {
      if (kind === 0) return bb.useBlock("residual", [cur], `${w}`, [w]);
      if (kind === 1) return bb.layer(cur, "dense", `${w}, ${bb.pick(["tanh", ELU, "sigmoid"])}`, [w]);
      const s = bb.layer(cur, "dense", `${w}, tanh`, [w]);
      bb.ref(s);
      const t = bb.layer(s, "dense", `${w}`, [w]);
      return bb.merge("add", [t, s], [w]);
    });
  }
  if (depth > 0 && roll < 0.48) {
    const u = b.int(2, 6);
    return b.useBlock("proj", [v], `${u}`, [u]);
  }
  if (roll < 0.7) {
    const u = b.int(2, 6);
    return b.layer(v, "dense", `${u}, ${b.act()}`, [u]);
  }
  if (roll < 0.8) return b.layer(v, "activation", b.pick(["relu", "tanh", "sigmoid", "gelu", ELU, "leaky_relu"]), v.shape);
  if (roll < 0.88 && w >= 2) return b.layer(v, "layernorm", "", v.shape);
  if (roll < 0.93) return b.layer(v, "batchnorm", "", v.shape);
  return b.layer(v, "dropout", "0", v.shape);
}

/** Fan-out: v read by 2–3 branches, merged by `add` (same widths) or `concat` (any widths). */
function diamond(b: Builder, v: Value, depth: number): Value {
  b.features.add("fanOut");
  b.ref(v);
  const k = b.chance(0.25) ? 3 : 2;
  const useAdd = b.chance(0.4);
  const common = b.int(2, 6);
  const ends: Value[] = [];
  for (let i = 0; i < k; i++) {
    let cur = v;
    const steps = b.int(0, 1);
    for (let j = 0; j < steps; j++) cur = flatOp(b, cur, depth - 1);
    const u = useAdd ? common : b.int(2, 6);
    if (!useAdd || width(cur.shape) !== u || cur === v) cur = b.layer(cur, "dense", `${u}, ${b.act()}`, [u]);
    ends.push(cur);
  }
  if (useAdd) return b.merge("add", ends, [common]);
  const total = ends.reduce((a, e) => a + width(e.shape), 0);
  if (new Set(ends.map((e) => width(e.shape))).size > 1) b.features.add("concatWidths");
  return b.merge("concat", ends, [total]);
}

function imageOp(b: Builder, v: Value, depth: number): Value {
  const [h, w, c] = v.shape as [number, number, number];
  const roll = b.r();
  if (depth > 0 && roll < 0.25) {
    // Two conv branches from v: concat along the channels, or add.
    b.features.add("fanOut");
    b.ref(v);
    const useAdd = b.chance(0.4);
    const f1 = b.int(1, 3);
    const f2 = useAdd ? f1 : b.int(1, 3);
    const x1 = b.layer(v, "conv2d", `${f1}, ${b.int(1, 3)}, ${b.act()}, padding: same`, [h, w, f1]);
    const x2 = b.layer(v, "conv2d", `${f2}, ${b.int(1, 2)}, ${b.act()}, padding: same`, [h, w, f2]);
    return useAdd ? b.merge("add", [x2, x1], [h, w, f1]) : b.merge("concat", [x1, x2], [h, w, f1 + f2]);
  }
  if (depth > 0 && roll < 0.4) {
    const f = b.int(1, 3);
    return b.useBlock("stem", [v], b.chance(0.5) ? `${f}` : `${f}, k: 2`, [h, w, f]);
  }
  if (roll < 0.6) {
    const f = b.int(1, 3);
    const k = b.int(1, Math.min(3, h, w));
    return b.chance(0.5) ? b.layer(v, "conv2d", `${f}, ${k}, ${b.act()}, padding: same`, [h, w, f]) : b.layer(v, "conv2d", `${f}, ${k}, ${b.act()}`, [h - k + 1, w - k + 1, f]);
  }
  if (roll < 0.8 && h >= 2 && w >= 2) {
    const word = b.pick(["maxpool2d", "avgpool2d"]);
    return h % 2 === 0 && w % 2 === 0 ? b.layer(v, word, "2", [h / 2, w / 2, c]) : b.layer(v, word, "2, padding: same", [Math.ceil(h / 2), Math.ceil(w / 2), c]);
  }
  if (roll < 0.9) return b.layer(v, "batchnorm", "", v.shape);
  return b.layer(v, "activation", b.pick(["tanh", ELU, "gelu"]), v.shape);
}

const HEADS = [
  { act: "softmax", loss: "cross_entropy", min: 2 },
  { act: "sigmoid", loss: "binary_cross_entropy", min: 1 },
  { act: "linear", loss: "mse", min: 1 },
  { act: "tanh", loss: "mse", min: 1 },
] as const;

/** The program drawn from `seed`. */
export function generate(seed: number): GeneratedProgram {
  const r = rng(seed);
  const body: Stmt[] = [];
  const b = new Builder(r, body);
  // ── inputs ──
  const mode = b.pick(["one", "flat", "flat", "image"] as const);
  const declared: { name: string | undefined; shape: Shape }[] = [];
  if (mode === "one") declared.push({ name: b.chance(0.5) ? "x" : undefined, shape: [b.int(2, 6)] });
  else {
    const flats = mode === "image" ? b.int(1, 2) : b.int(2, 3);
    for (let i = 0; i < flats; i++) declared.push({ name: `in${i + 1}`, shape: [b.int(2, 6)] });
    if (mode === "image") declared.splice(b.int(0, declared.length), 0, { name: "img", shape: [b.int(3, 5), b.int(3, 5), b.int(1, 2)] });
    b.features.add("inputs");
  }
  const inputs = declared.map((d) => b.input(d.name, d.shape));
  // ── a branch per input ──
  let ends: Value[] = [];
  for (const inp of inputs) {
    let cur = inp;
    if (isImage(cur.shape)) {
      b.features.add("image");
      const steps = b.int(1, 2);
      for (let j = 0; j < steps; j++) cur = imageOp(b, cur, 1);
      cur = b.layer(cur, "flatten", "", [width(cur.shape)]);
    } else {
      // An unnamed input cannot be read by name: a plain layer first.
      if (cur.name === undefined) {
        const u = b.int(2, 6);
        cur = b.layer(cur, "dense", `${u}, ${b.act()}`, [u]);
      }
      const steps = b.int(inputs.length > 1 ? 1 : 0, 2);
      for (let j = 0; j < steps; j++) cur = flatOp(b, cur, 1);
    }
    ends.push(cur);
  }
  // ── merge the branches ──
  while (ends.length > 1) {
    const [p, q] = ends as [Value, Value];
    if (!isImage(p.shape) && !isImage(q.shape) && b.chance(0.35)) {
      const u = b.int(2, 6);
      b.features.add("blockTwoInputs");
      ends = [b.useBlock("pair", [p, q], b.chance(0.5) ? `${u}` : `${u}, act: ${b.pick([ELU, "sigmoid"])}`, [u]), ...ends.slice(2)];
    } else if (width(p.shape) === width(q.shape) && b.chance(0.5)) {
      ends = [b.merge("add", [p, q], p.shape), ...ends.slice(2)];
    } else {
      if (width(p.shape) !== width(q.shape)) b.features.add("concatWidths");
      const all = ends.length === 3 && b.chance(0.5) ? ends : [p, q];
      ends = [b.merge("concat", all, [all.reduce((a, e) => a + width(e.shape), 0)]), ...ends.slice(all.length)];
    }
  }
  // ── a trunk ──
  let cur = ends[0] as Value;
  const steps = b.int(1, 2);
  for (let j = 0; j < steps; j++) cur = flatOp(b, cur, 2);
  // ── the output layer ──
  const head = b.pick(HEADS);
  const units = b.int(head.min, 4);
  cur = b.layer(cur, "dense", head.act === "linear" ? `${units}` : `${units}, ${head.act}`, [units]);
  cur.used = true;
  const unused = b.values.filter((v) => !v.used);
  if (unused.length > 0) throw new Error(`bug in the generator (seed ${seed}): ${unused.length} values unread`);

  const blocks = (Object.keys(BLOCKS) as BlockName[]).filter((k) => b.blocksUsed.has(k));
  const lines = [
    ...blocks.flatMap((k) => [...BLOCKS[k], ""]),
    `model Dag${seed} {`,
    `  seed ${1 + (seed % 97)}`,
    ...render(body, "  "),
    "}",
    `loss ${head.loss}`,
    "optimizer sgd(lr: 0.1)",
    "train { batch 3 }",
    "",
  ];
  return {
    seed,
    source: lines.join("\n"),
    tensors: body.flatMap((s) => s.tensors(s.target)).sort(),
    blockPrefixes: body.flatMap((s) => s.prefixes(s.target)),
    features: b.features,
    loss: head.loss,
  };
}
