/**
 * The body of a `model` as a graph: named values (`skip = dense 64`), the values a statement
 * takes (`side -> dense 16`, or the one before it), merges (`add skip`, `concat a, b`), inputs
 * (`image = input [28, 28]`), `repeat N { … }` and the uses of `block`s, expanded in place.
 *
 * A block is a macro with a scope: at each use its parameters are replaced by the arguments'
 * expressions, its body is checked again (problems inside it point at the use too, and are
 * reported once), and its layers are named `<use>.<layer>` (`residual_2.conv2d_1`), as PyTorch
 * names the parameters of nested modules. Values are numbered: inputs first, then one per layer.
 * The declarations of blocks, and the substitution of a use's arguments, are `blocks.ts`.
 */
import type { Expr, Name, Statement } from "../../grammar/ast.js";
import type { Span } from "../../grammar/span.js";
import type { GraphNode, InitializerKind, Layer, ModelInput } from "../program.js";
import { ACTIVATIONS, LAYERS, MODEL_SETTINGS, names } from "../vocabulary.js";
import { layerArgs, layerDef } from "../layers/index.js";
import { closest, didYouMean } from "../suggest.js";
import { expectNoBlock, misplacedHint, type Checker } from "./checker.js";
import { substitute, substituteArg, type BlockDef } from "./blocks.js";

/** Above this many layers (after expansion) a model is refused (NN2043). */
export const MAX_GRAPH_LAYERS = 10_000;
/** The largest `repeat` count. */
export const MAX_REPEAT = 1000;

/** A name in scope: its value and where it was defined. */
interface Binding {
  readonly value: number;
  readonly span: Span;
}

/** Where a statement list is being read: its names, parameters and naming. */
interface Frame {
  readonly scope: Map<string, Binding>;
  /** A `repeat` body reads its enclosing frame's names (a block's body does not). */
  readonly parent: Frame | undefined;
  readonly env: ReadonlyMap<string, Expr>;
  /** Prefix of the layer names made here (`residual_2.`). */
  readonly prefix: string;
  readonly counters: Map<string, number>;
  readonly via: readonly Span[];
  /** Blocks being expanded (to report a block that uses itself). */
  readonly stack: readonly string[];
  /** In a block's body: the block, and the values its `input` statements stand for. */
  readonly block: { readonly def: BlockDef; readonly inputs: readonly number[] } | undefined;
  /** Whether this is the model's own body (settings and shaped inputs live there). */
  readonly top: boolean;
}

export interface GraphResult {
  readonly inputs: readonly ModelInput[];
  readonly nodes: readonly GraphNode[];
  readonly output: number | undefined;
  readonly ok: boolean;
}

/** Reads a model body. `settings` handles `seed` and `init` (the model's own statements). */
export class GraphReader {
  readonly inputs: ModelInput[] = [];
  readonly nodes: GraphNode[] = [];
  /** Per value: where it was made, its name (if any) and whether anything reads it. */
  private readonly values: { span: Span; name: Name | undefined; label: string; uses: number }[] = [];
  /** Blocks used at least once. */
  readonly usedBlocks = new Set<string>();
  private ok = true;
  private tooLarge = false;
  /** Layer statements read so far (inputs must come before the first). */
  private layersSeen = 0;
  private readonly layerNames = new Map<string, Span>();

  constructor(
    private readonly ck: Checker,
    private readonly blocks: ReadonlyMap<string, BlockDef>,
    private readonly defaultInit: () => InitializerKind | undefined,
    private readonly setting: (st: Statement) => boolean,
  ) {}

  read(body: readonly Statement[]): GraphResult {
    const frame: Frame = { scope: new Map(), parent: undefined, env: new Map(), prefix: "", counters: new Map(), via: [], stack: [], block: undefined, top: true };
    const output = this.statements(body, frame, undefined);
    if (output !== undefined) this.reportUnused(output);
    return { inputs: this.inputs, nodes: this.nodes, output, ok: this.ok };
  }

  private fail(): undefined {
    this.ok = false;
    return undefined;
  }

  private newValue(span: Span, name: Name | undefined, label: string): number {
    this.values.push({ span, name, label, uses: 0 });
    return this.values.length - 1;
  }

  /** Reads statements in order; returns the last value (what the list stands for). */
  private statements(sts: readonly Statement[], f: Frame, prev: number | undefined): number | undefined {
    let cur = prev;
    for (const st of sts) {
      if (this.tooLarge) return cur;
      if (f.top && this.setting(st)) continue;
      const v = this.statement(st, sts, f, cur);
      if (v === undefined) continue;
      cur = v;
      if (st.target !== undefined) this.define(f, st.target, v);
    }
    return cur;
  }

  private define(f: Frame, name: Name, value: number): void {
    const prior = f.scope.get(name.name);
    if (prior !== undefined) {
      this.ck.report("duplicateValueName", name.span, [name.name], "give each value its own name", [{ message: "first defined here", span: prior.span }]);
      this.ok = false;
      return;
    }
    f.scope.set(name.name, { value, span: name.span });
    if (this.values[value] !== undefined && this.values[value].name === undefined) this.values[value].name = name;
  }

  private visible(f: Frame): string[] {
    const out: string[] = [];
    for (let fr: Frame | undefined = f; fr !== undefined; fr = fr.parent) out.push(...fr.scope.keys());
    return out;
  }

  /** The value a name stands for; reports an unknown name, or one defined later (which would make a cycle). */
  private resolve(name: Name, f: Frame, siblings: readonly Statement[]): number | undefined {
    for (let fr: Frame | undefined = f; fr !== undefined; fr = fr.parent) {
      const b = fr.scope.get(name.name);
      if (b !== undefined) {
        const v = this.values[b.value];
        if (v !== undefined) v.uses++;
        return b.value;
      }
    }
    const later = siblings.find((s) => s.target?.name === name.name);
    if (later?.target !== undefined) {
      this.ck.report("valueUsedBeforeDefined", name.span, [name.name, later.target.span.line], "move this statement after the one that defines it", [{ message: "defined here", span: later.target.span }]);
    } else {
      const known = this.visible(f);
      this.ck.report("unknownValue", name.span, [name.name], known.length === 0 ? "name a value first, e.g. `skip = dense 64`" : didYouMean(name.name, known, "values"));
    }
    return this.fail();
  }

  private statement(st: Statement, siblings: readonly Statement[], f: Frame, prev: number | undefined): number | undefined {
    const k = st.keyword.name;
    if (k === "input") return this.input(st, f);
    if (k === "repeat") return this.repeat(st, siblings, f, prev);
    if (names(MODEL_SETTINGS).includes(k)) {
      this.ck.report("notInBlock", st.keyword.span, [k], "move it to the model's own lines");
      return this.fail();
    }
    const block = this.blocks.get(k);
    if (block !== undefined) return this.useBlock(st, block, siblings, f, prev);
    if (!names(LAYERS).includes(k)) {
      this.unknownWord(st, f);
      return this.fail();
    }
    return this.layer(st, siblings, f, prev);
  }

  private unknownWord(st: Statement, f: Frame): void {
    const k = st.keyword.name;
    const words = [...names(LAYERS), ...this.blocks.keys(), "repeat", "input"];
    const all = f.top ? [...words, ...names(MODEL_SETTINGS)] : words;
    const isActivation = names(ACTIVATIONS).includes(k);
    this.ck.report(
      "unknownLayer",
      st.keyword.span,
      [k],
      misplacedHint(k, "model") ??
        (isActivation ? `\`${k}\` is an activation: write it after a layer (\`dense 64, ${k}\`) or as \`activation ${k}\`` : closest(k, all) !== undefined ? didYouMean(k, all, "layers") : didYouMean(k, [...names(LAYERS), ...this.blocks.keys()], this.blocks.size > 0 ? "layers and blocks" : "layers")),
    );
  }

  /** `input [28, 28]`, `image = input [28, 28]`; in a block, `x = input` (its shape comes from the use). */
  private input(st: Statement, f: Frame): number | undefined {
    expectNoBlock(this.ck, st);
    if (st.sources.length > 0) this.ck.report("tooManySources", st.sources[0]?.span ?? st.span, ["input", st.sources.length], "an input takes no values");
    if (!f.top) {
      if (f.block === undefined) {
        this.ck.report("notInBlock", st.keyword.span, ["input"], "declare inputs in the model");
        return this.fail();
      }
      if (st.args.length > 0) this.ck.report("tooManyArguments", st.args[0]?.span ?? st.span, ["input", 0, "s"], "a block's input takes its shape from where the block is used: write `x = input`");
      return f.block.inputs[f.block.def.inputs.indexOf(st)];
    }
    const arg = st.args[0];
    if (arg === undefined || arg.name !== undefined) {
      this.ck.report("missingRequired", st.keyword.span, ["input", "a shape, e.g. `input 2` or `input [28, 28]`"]);
      return this.fail();
    }
    if (st.args.length > 1) this.ck.report("tooManyArguments", st.args[1]?.span ?? st.span, ["input", 1, ""], "write the shape as a list: `input [28, 28]`");
    const unnamed = st.target === undefined;
    if (this.layersSeen > 0) {
      // Values are numbered inputs first.
      this.ck.report("inputNotFirst", st.keyword.span, [], unnamed ? "move `input` to the top of the model" : "declare every input before the first layer");
      return this.fail();
    }
    const shape = this.ck.shape(substitute(arg.value, f.env));
    if (shape === undefined) {
      this.ok = false;
      return this.newValue(st.span, st.target, st.target?.name ?? "input");
    }
    if (this.inputs.some((i) => i.name === undefined) || (unnamed && this.inputs.length > 0)) {
      this.ck.report("inputNeedsName", st.keyword.span, [], "write e.g. `image = input [28, 28]` and `side = input [4]`");
      this.ok = false;
    }
    this.inputs.push({ name: st.target?.name, shape, span: st.span });
    return this.newValue(st.span, undefined, st.target?.name ?? "input");
  }

  /** `repeat N { … }`: the body N times, each reading the value the last one made. */
  private repeat(st: Statement, siblings: readonly Statement[], f: Frame, prev: number | undefined): number | undefined {
    const countArg = st.args[0];
    if (countArg === undefined || st.args.length > 1 || countArg.name !== undefined) {
      this.ck.report("missingRequired", st.keyword.span, ["repeat", "a count, e.g. `repeat 3 { … }`"]);
      return this.fail();
    }
    if (st.block === undefined) {
      this.ck.report("blockExpected", st.keyword.span, ["repeat"], "write `repeat 3 {`, the layers to repeat one per line, then `}`");
      return this.fail();
    }
    const n = this.ck.posInt(substitute(countArg.value, f.env), "repeat", MAX_REPEAT);
    if (n === undefined) return this.fail();
    let cur: number | undefined = this.sources(st, siblings, f, prev)[0] ?? prev;
    for (let i = 0; i < n && !this.tooLarge; i++) {
      const child: Frame = { ...f, scope: new Map(), parent: f, top: false };
      cur = this.statements(st.block.statements, child, cur);
    }
    return cur;
  }

  /** The values named before `->`, or the value before the statement. */
  private sources(st: Statement, siblings: readonly Statement[], f: Frame, prev: number | undefined): number[] {
    if (st.sources.length > 0) {
      const out: number[] = [];
      for (const s of st.sources) {
        const v = this.resolve(s, f, siblings);
        if (v !== undefined) out.push(v);
      }
      return out;
    }
    if (prev === undefined) return [];
    const v = this.values[prev];
    if (v !== undefined) v.uses++;
    return [prev];
  }

  private layer(st: Statement, siblings: readonly Statement[], f: Frame, prev: number | undefined): number | undefined {
    const def = layerDef(st.keyword.name);
    this.layersSeen++;
    expectNoBlock(this.ck, st);
    let args = st.args.map((a) => substituteArg(a, f.env));
    let inputs: number[];
    // A layer whose values are missing is still checked (and stands for a value), so that one
    // problem does not hide the next.
    let broken = false;
    if (def.merge === true) {
      // Positional names are the values it merges (as written: a parameter cannot stand for a value).
      const refs = st.args.flatMap((arg, i) => (arg.name === undefined && arg.value.kind === "name" ? [{ i, name: { name: arg.value.name, span: arg.value.span } }] : []));
      args = args.filter((_, i) => !refs.some((r) => r.i === i));
      const named: number[] = [];
      for (const r of refs) {
        const v = this.resolve(r.name, f, siblings);
        if (v !== undefined) named.push(v);
      }
      // `a, b -> add …` takes its sources; `add a, b` only the values named; `add skip` also the value before it.
      inputs = [...this.sources(st, siblings, f, named.length >= 2 ? undefined : prev), ...named];
      if (refs.length !== named.length) broken = true;
      else if (inputs.length < 2) {
        this.ck.report("mergeNeedsValues", st.keyword.span, [def.word, inputs.length === 1 ? "one" : "none"], `name the other value: \`${def.word} skip\` (the value before it and \`skip\`) or \`${def.word} a, b\``);
        broken = true;
      }
    } else {
      inputs = this.sources(st, siblings, f, prev);
      if (st.sources.length > 1) {
        this.ck.report("tooManySources", st.sources[1]?.span ?? st.span, [def.word, st.sources.length], "merge them first with `add` or `concat`");
        broken = true;
      } else if (inputs.length !== 1) broken = true;
    }
    const n = (f.counters.get(def.word) ?? 0) + 1;
    f.counters.set(def.word, n);
    const a = this.ck.bindArgs(st.keyword, layerArgs(def), args, def.usage);
    if (a === undefined || broken) {
      this.ok = false;
      return this.newValue(st.span, undefined, def.word);
    }
    let name = `${f.prefix}${def.word}_${n}`;
    let named = false;
    if (a.given("name")) {
      const t = a.str("name");
      if (t.length === 0 || t.length > 64) this.ck.report("badName", a.span("name") ?? st.span, [t], "use 1 to 64 characters");
      else {
        name = `${f.prefix}${t}`;
        named = true;
      }
    }
    const layer: Layer | undefined = def.build(a, {
      defaultInit: this.defaultInit(),
      base: { kind: def.word, name, named, span: st.span },
      report: (m, span, rargs, hint) => this.ck.report(m, span, rargs ?? [], hint),
    });
    if (layer === undefined) return this.fail();
    const prior = this.layerNames.get(layer.name);
    if (prior !== undefined) {
      this.ck.report("duplicateLayerName", st.span, [layer.name], "give each layer its own name", [{ message: "first used here", span: prior }]);
      return this.fail();
    }
    this.layerNames.set(layer.name, st.span);
    if (this.nodes.length >= MAX_GRAPH_LAYERS) {
      this.ck.report("graphTooLarge", st.span, [MAX_GRAPH_LAYERS], "use fewer repeats or smaller blocks");
      this.tooLarge = true;
      return this.fail();
    }
    this.nodes.push({ layer, inputs, via: f.via });
    return this.newValue(st.span, undefined, layerDef(layer.kind).describe(layer));
  }

  /** A use of a block: its arguments bound to its parameters, its body read in a scope of its own. */
  private useBlock(st: Statement, block: BlockDef, siblings: readonly Statement[], f: Frame, prev: number | undefined): number | undefined {
    this.usedBlocks.add(block.name.name);
    expectNoBlock(this.ck, st);
    if (f.stack.includes(block.name.name)) {
      this.ck.report("blockRecursive", st.keyword.span, [block.name.name], "a block cannot use itself, even through another block: use `repeat` for stacks");
      return this.fail();
    }
    const bound = this.ck.bind(st.keyword, { name: block.name.name, doc: "", args: block.params.map((p) => ({ name: p.name.name, doc: "" })) }, st.args);
    const env = new Map<string, Expr>();
    const missing: string[] = [];
    for (const p of block.params) {
      const got = bound.get(p.name.name)?.expr ?? p.default;
      if (got === undefined) missing.push(`\`${p.name.name}\``);
      else env.set(p.name.name, substitute(got, f.env));
    }
    if (missing.length > 0) {
      this.ck.report("missingRequired", st.keyword.span, [block.name.name, missing.join(" and ")], `e.g. \`${block.name.name} ${block.params.map((p) => p.name.name).join(", ")}\``, [{ message: "declared here", span: block.name.span }]);
      return this.fail();
    }
    const inputs = this.sources(st, siblings, f, prev);
    const wanted = Math.max(1, block.inputs.length);
    if (inputs.length !== wanted) {
      if (st.sources.length > 0 || inputs.length > 0) {
        this.ck.report("blockInputCount", st.keyword.span, [block.name.name, wanted, wanted === 1 ? "" : "s", inputs.length], wanted > 1 ? `write \`${block.inputs.map((i) => i.target?.name ?? "x").join(", ")} -> ${block.name.name} …\`` : "give it one value", [{ message: "declared here", span: block.name.span }]);
      }
      return this.fail();
    }
    const n = (f.counters.get(block.name.name) ?? 0) + 1;
    f.counters.set(block.name.name, n);
    // A use named outside `repeat` names its layers (`r1.dense_1`); in a `repeat`, where every
    // copy would get the same name, the copies are numbered (`residual_1.`, `residual_2.`).
    const instance = st.target !== undefined && f.parent === undefined ? st.target.name : `${block.name.name}_${n}`;
    const child: Frame = {
      scope: new Map(),
      parent: undefined,
      env,
      prefix: `${f.prefix}${instance}.`,
      counters: new Map(),
      via: [...f.via, st.span],
      stack: [...f.stack, block.name.name],
      block: { def: block, inputs },
      top: false,
    };
    const outer = this.ck.via;
    this.ck.via = child.via;
    const before = this.ok;
    const out = this.statements(block.body, child, block.inputs.length === 0 ? inputs[0] : undefined);
    this.ck.via = outer;
    if (!this.ok && before) return undefined;
    if (out === undefined || (block.inputs.length > 0 && block.body.every((s) => s.keyword.name === "input"))) {
      this.ck.report("noLayers", block.name.span, [], "add the block's layers, one per line");
      return this.fail();
    }
    return out;
  }

  /** Warnings for values nothing reads: named values, layer outputs, inputs. */
  private reportUnused(output: number): void {
    const out = this.values[output];
    if (out !== undefined) out.uses++;
    const said = new Set<number>();
    this.values.forEach((v, i) => {
      if (v.uses > 0 || said.has(v.span.start)) return;
      said.add(v.span.start);
      if (i < this.inputs.length) {
        // An unnamed input among several is already an error (NN2038); it cannot be taken by name.
        if (v.name !== undefined) this.ck.report("unusedInput", v.span, [v.name.name], `take it with \`${v.name.name} -> …\`, or remove it`);
      }
      else if (v.name !== undefined) this.ck.report("unusedValue", v.name.span, [v.name.name], `use it (\`${v.name.name} -> …\`, \`add ${v.name.name}\`), or remove it`);
      else this.ck.report("unusedOutput", v.span, [v.label], "name it (`h = …`) and use it, or remove the line");
    });
  }
}

