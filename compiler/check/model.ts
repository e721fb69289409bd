/**
 * The `model { … }` block: its name, its own settings (`seed`, `init`) and its body, a graph of
 * inputs and layers read by `graph.ts` (which binds each layer's arguments against its
 * definition's schema and names it).
 */
import type { Statement } from "../../grammar/ast.js";
import { MODEL_SETTINGS, names } from "../vocabulary.js";
import type { InitializerKind, Model } from "../program.js";
import { describeExpr, single, word, type Checker } from "./checker.js";
import { GraphReader } from "./graph.js";
import { reportBlockUse, type BlockDef } from "./blocks.js";

export function checkModel(ck: Checker, s: Statement, blocks: ReadonlyMap<string, BlockDef>): Model | undefined {
  if (s.args.length > 1) ck.report("tooManyArguments", s.args[1]?.span ?? s.span, ["model", 1, ""], "write `model Name { … }`");
  const nameArg = s.args[0];
  let modelName = "Model";
  if (nameArg !== undefined) {
    if (nameArg.name !== undefined || (nameArg.value.kind !== "name" && nameArg.value.kind !== "string")) {
      ck.report("wrongType", nameArg.span, ["model", "a name", describeExpr(nameArg.value)], "write `model Name { … }`");
    } else modelName = nameArg.value.kind === "name" ? nameArg.value.name : nameArg.value.value;
  }
  if (s.block === undefined) {
    ck.report("blockExpected", s.keyword.span, ["model"], "write `model Net {`, then `input 2` and the layers one per line, then `}`");
    return undefined;
  }
  let seed = 0;
  let defaultInit: InitializerKind | undefined;
  const settings = new Map<string, Statement>();
  /** `seed` and `init`: the model's own settings, read where they appear. */
  const setting = (st: Statement): boolean => {
    const k = st.keyword.name;
    if (k === "input" || k === "repeat" || !names(MODEL_SETTINGS).includes(k)) return false;
    if (st.target !== undefined || st.sources.length > 0) ck.report("tooManySources", st.target?.span ?? st.span, [k, 1], `write \`${k} …\` on its own`);
    const prior = settings.get(k);
    if (prior !== undefined) {
      ck.report("duplicateBlock", st.keyword.span, [k], "keep one of them", [{ message: "first declared here", span: prior.keyword.span }]);
      return true;
    }
    settings.set(k, st);
    const bound = single(ck, st, word(MODEL_SETTINGS, k), "a value");
    const v = bound?.values().next().value?.expr;
    if (v === undefined) return true;
    if (k === "seed") seed = ck.seed(v, "seed") ?? seed;
    else if (k === "init") defaultInit = ck.initializer(v);
    return true;
  };
  const reader = new GraphReader(ck, blocks, () => defaultInit, setting);
  const graph = reader.read(s.block.statements);
  reportBlockUse(ck, blocks, reader.usedBlocks);
  let ok = graph.ok;
  const first = graph.inputs[0];
  if (first === undefined && !s.block.statements.some((st) => st.keyword.name === "input")) {
    ck.report("missingInput", s.keyword.span, [], "add a line such as `input 2` or `input [28, 28]` at the top of the model");
    ok = false;
  }
  if (graph.nodes.length === 0 && ok) {
    ck.report("noLayers", s.keyword.span, [], "add a layer, e.g. `dense 1, sigmoid`");
    ok = false;
  }
  if (!ok || first === undefined || graph.output === undefined) return undefined;
  const input = graph.inputs.length === 1 ? first.shape : [graph.inputs.reduce((t, i) => t + i.shape.reduce((a, b) => a * b, 1), 0)];
  return {
    name: modelName,
    inputs: graph.inputs,
    input,
    inputSpan: first.span,
    nodes: graph.nodes,
    layers: graph.nodes.map((n) => n.layer),
    output: graph.output,
    seed,
    span: s.span,
  };
}
