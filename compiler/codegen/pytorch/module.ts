/**
 * The model as a `torch.nn.Module`: one attribute per layer that has a module, `forward` in
 * graph order through `layers.ts`'s table, and `NNC_TENSORS`, where each nnc tensor lives in
 * the module's state dict. `forward` takes the rows nnc's data gives (several inputs side by
 * side, as `meta.inputs` packs them) and returns the scores before the softmax or sigmoid that
 * the loss applies itself; `probabilities` applies it.
 */
import { diag, type Diagnostic } from "../../../grammar/diagnostics.js";
import type { Program } from "../../program.js";
import { describeLayer } from "../../lower.js";
import { PYTORCH_LAYERS, type PyLayerCode, type PyValue } from "./layers.js";
import { pyComment, pyIdent, pyString } from "./quote.js";

/** Attributes `nn.Module` has itself: a layer of that name gets a prefix. */
const MODULE_ATTRS = new Set(
  "training forward parameters buffers children modules state_dict load_state_dict train eval to cuda cpu float double half bfloat16 type apply zero_grad register_buffer register_parameter register_module add_module named_parameters named_buffers named_children named_modules requires_grad_ share_memory extra_repr probabilities get_submodule get_parameter get_buffer dump_patches call_super_init xpu ipu to_empty".split(" "),
);

export interface PyModule {
  readonly code: string;
  /** The class name. */
  readonly name: string;
  /** The output activation left to the loss (`softmax`, `sigmoid`), if any. */
  readonly head: string | undefined;
  /** Helper classes the layers use. */
  readonly helpers: ReadonlySet<string>;
}

/** The activation that the loss applies itself, when the output layer ends with it. */
export function headOf(program: Program): string | undefined {
  const model = program.model;
  const node = model.nodes[model.output - model.inputs.length];
  const last = node?.layer.activation?.kind;
  if (program.loss.kind === "cross_entropy" && last === "softmax") return "softmax";
  if (program.loss.kind === "binary_cross_entropy" && last === "sigmoid") return "sigmoid";
  return undefined;
}

export function emitModule(program: Program, diagnostics: Diagnostic[]): PyModule | undefined {
  const model = program.model;
  const head = headOf(program);
  const className = pyIdent(model.name, "Model");
  const init: string[] = [];
  const forward: string[] = [];
  const tensors: string[] = [];
  const helpers = new Set<string>();
  const used = new Set<string>();
  let failed = false;
  /** Values after a refused layer whose shape is unknown: the layers reading them are not checked. */
  const unknown = new Set<number>();

  // ── the inputs: nnc's packed rows, each input viewed in PyTorch's layout ──
  const values: PyValue[] = [];
  let offset = 0;
  model.inputs.forEach((inp, i) => {
    const size = inp.shape.reduce((a, b) => a * b, 1);
    const name = model.inputs.length === 1 ? "x" : pyIdent(`x_${inp.name ?? i + 1}`, "x");
    const cols = model.inputs.length === 1 ? "x" : `x[:, ${offset}:${offset + size}]`;
    offset += size;
    const [h, w, c] = inp.shape as [number, number?, number?];
    if (inp.shape.length === 1) {
      if (cols !== name) forward.push(`${name} = ${cols}`);
      values.push({ name, shape: inp.shape, kind: "flat" });
    } else if (inp.shape.length === 2) {
      forward.push(`${name} = ${cols}.reshape(-1, ${h}, ${w})`);
      values.push({ name, shape: inp.shape, kind: "grid" });
    } else {
      forward.push(`${name} = ${cols}.reshape(-1, ${h}, ${w}, ${c}).permute(0, 3, 1, 2)  # NHWC → NCHW`);
      values.push({ name, shape: inp.shape, kind: "image" });
    }
  });

  // ── the layers, in graph order ──
  model.nodes.forEach((node, index) => {
    const layer = node.layer;
    const k = index + 1;
    const isOutput = model.inputs.length + index === model.output;
    let attr = pyIdent(layer.name);
    if (MODULE_ATTRS.has(attr) || attr.startsWith("_")) attr = `layer_${attr}`;
    while (used.has(attr)) attr = `${attr}_${k}`;
    used.add(attr);
    const inputs = node.inputs.map((v) => values[v] as PyValue);
    const value = model.inputs.length + index;
    if (node.inputs.some((v) => unknown.has(v))) {
      unknown.add(value);
      values.push(inputs[0] as PyValue);
      return;
    }
    const rule = PYTORCH_LAYERS[layer.kind];
    const refuse = (reason: string, out?: PyValue): PyLayerCode => {
      diagnostics.push(diag("pytorchNoLowering", layer.span, [`\`${layer.kind}\``, reason], {
        hint: "compile it with `--target ts` (nnc's own target), or change the layer",
        related: node.via.map((span) => ({ message: "in the block used here", span })),
      }));
      failed = true;
      if (out === undefined) unknown.add(value);
      return { init: [], forward: [], out: out ?? (inputs[0] as PyValue), params: [] };
    };
    const code =
      rule === undefined
        ? refuse("the target has no entry for this layer kind")
        : "refuse" in rule
          ? refuse(rule.refuse)
          : rule.emit(layer, inputs, { attr, out: `h${k}`, head: isOutput ? head : undefined, refuse });
    // The layer's line in the .nn file: after its first line of code, or above it when that line has a comment of its own.
    const comment = `# line ${layer.span.line}: ${pyComment(describeLayer(layer))}`;
    const annotate = (lines: readonly string[]): string[] => (lines[0] === undefined ? [] : lines[0].includes("  # ") ? [comment, ...lines] : [`${lines[0]}  ${comment}`, ...lines.slice(1)]);
    init.push(...annotate(code.init));
    forward.push(...(code.init.length === 0 ? annotate(code.forward) : code.forward));
    for (const p of code.params) tensors.push(`    ${pyString(`${layer.name}.${p.tensor}`)}: (${pyString(p.key === "" ? attr : `${attr}.${p.key}`)}, ${p.permute ? `(${p.permute.join(", ")})` : "None"}),`);
    for (const h of code.helpers ?? []) helpers.add(h);
    values.push(code.out);
  });
  if (failed) return undefined;

  const out = values[model.output] as PyValue;
  const result = out.kind === "flat" ? out.name : out.kind === "image" ? `${out.name}.permute(0, 2, 3, 1).flatten(1)` : `${out.name}.flatten(1)`;
  const probs =
    head === "softmax" ? "torch.softmax(self(x), dim=-1)" : head === "sigmoid" ? "torch.sigmoid(self(x))" : "self(x)";
  const lines = [
    `class ${className}(nn.Module):`,
    `    """${pyComment(model.name)}, as nnc compiled it. \`forward\` takes nnc's rows (preprocessed as in training) and`,
    `    returns ${head ? `the scores before the ${head} (the loss applies it)` : "the outputs"}; \`probabilities\` ${head ? `applies the ${head}` : "is the same"}."""`,
    ``,
    `    def __init__(self):`,
    `        super().__init__()`,
    ...(init.length > 0 ? init.map((l) => `        ${l}`) : ["        pass"]),
    ``,
    `    def forward(self, x):`,
    ...forward.map((l) => `        ${l}`),
    `        return ${result}`,
    ``,
    `    def probabilities(self, x):`,
    `        return ${probs}`,
    ``,
    ``,
    `# Each nnc tensor: its key in the module's state dict, and nnc's axes in the module's order (None: the same layout).`,
    `NNC_TENSORS = {`,
    ...tensors,
    `}`,
  ];
  return { code: lines.join("\n"), name: className, head, helpers };
}
