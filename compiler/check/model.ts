/**
 * The `model { … }` block: `input`, `seed`, `init`, then one layer per line. Each layer's
 * arguments are bound against its definition's schema (`layers/`) and built by it; this file
 * owns what every layer shares: its name (given or generated), unknown and duplicate names.
 */
import type { Statement } from "../../grammar/ast.js";
import type { Span } from "../../grammar/span.js";
import { ACTIVATIONS, LAYERS, MODEL_SETTINGS, names } from "../vocabulary.js";
import type { InitializerKind, Layer, Model } from "../program.js";
import { layerArgs, layerDef } from "../layers/index.js";
import { closest, didYouMean } from "../suggest.js";
import { describeExpr, expectNoBlock, misplacedHint, single, word, type Checker } from "./checker.js";

export function checkModel(ck: Checker, s: Statement): Model | undefined {
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
  let input: number[] | undefined;
  let inputSpan: Span | undefined;
  let seed = 0;
  let defaultInit: InitializerKind | undefined;
  const layers: Layer[] = [];
  const settings = new Map<string, Statement>();
  const layerNames = new Map<string, Span>();
  const counters = new Map<string, number>();
  let ok = true;
  const settingNames = names(MODEL_SETTINGS);
  const layerWords = names(LAYERS);

  for (const st of s.block.statements) {
    const k = st.keyword.name;
    if (settingNames.includes(k)) {
      const prior = settings.get(k);
      if (prior !== undefined) {
        ck.report("duplicateBlock", st.keyword.span, [k], "keep one of them", [{ message: "first declared here", span: prior.keyword.span }]);
        continue;
      }
      settings.set(k, st);
      const bound = single(ck, st, word(MODEL_SETTINGS, k), k === "input" ? "a shape, e.g. `input 2` or `input [28, 28]`" : "a value");
      const v = bound?.values().next().value?.expr;
      if (v === undefined) {
        if (k === "input") ok = false;
        continue;
      }
      if (k === "input") {
        if (layers.length > 0) ck.report("inputNotFirst", st.keyword.span, [], "move `input` to the top of the model");
        input = ck.shape(v);
        inputSpan = st.span;
        if (input === undefined) ok = false;
      } else if (k === "seed") {
        seed = ck.seed(v, "seed") ?? seed;
      } else if (k === "init") {
        defaultInit = ck.initializer(v);
      }
      continue;
    }
    if (!layerWords.includes(k)) {
      const isActivation = names(ACTIVATIONS).includes(k);
      ck.report(
        "unknownLayer",
        st.keyword.span,
        [k],
        misplacedHint(k, "model") ?? (isActivation ? `\`${k}\` is an activation: write it after a layer (\`dense 64, ${k}\`) or as \`activation ${k}\`` : closest(k, [...layerWords, ...settingNames]) !== undefined ? didYouMean(k, [...layerWords, ...settingNames], "layers") : didYouMean(k, layerWords, "layers")),
      );
      ok = false;
      continue;
    }
    expectNoBlock(ck, st);
    const n = (counters.get(k) ?? 0) + 1;
    counters.set(k, n);
    const layer = checkLayer(ck, st, `${k}_${n}`, defaultInit);
    if (layer === undefined) {
      ok = false;
      continue;
    }
    const prior = layerNames.get(layer.name);
    if (prior !== undefined) {
      ck.report("duplicateLayerName", st.span, [layer.name], "give each layer its own name", [{ message: "first used here", span: prior }]);
      ok = false;
    }
    layerNames.set(layer.name, st.span);
    layers.push(layer);
  }
  if (input === undefined && !settings.has("input")) {
    ck.report("missingInput", s.keyword.span, [], "add a line such as `input 2` or `input [28, 28]` at the top of the model");
    ok = false;
  }
  if (layers.length === 0 && ok) {
    ck.report("noLayers", s.keyword.span, [], "add a layer, e.g. `dense 1, sigmoid`");
    ok = false;
  }
  if (!ok || input === undefined || inputSpan === undefined) return undefined;
  return { name: modelName, input, inputSpan, layers, seed, span: s.span };
}

function checkLayer(ck: Checker, st: Statement, defaultName: string, defaultInit: InitializerKind | undefined): Layer | undefined {
  const def = layerDef(st.keyword.name);
  const a = ck.bindArgs(st.keyword, layerArgs(def), st.args, def.usage);
  if (a === undefined) return undefined;
  let name = defaultName;
  let named = false;
  if (a.given("name")) {
    const t = a.str("name");
    if (t.length === 0 || t.length > 64) ck.report("badName", a.span("name") ?? st.span, [t], "use 1 to 64 characters");
    else {
      name = t;
      named = true;
    }
  }
  return def.build(a, {
    defaultInit,
    base: { kind: def.word, name, named, span: st.span },
    report: (m, span, args, hint) => ck.report(m, span, args ?? [], hint),
  });
}
