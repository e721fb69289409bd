/**
 * What the playground's Search panel searches (pure, no DOM): the editor's file as written
 * when it has ranges; otherwise the file with a small default space written into it — the
 * learning rate over a log range around the file's own, and the width of the first hidden
 * `dense` layer around its own — each `start:`ing at the file's value, so the first trial is
 * the file as written and the winner is never worse on the validation split. A file without
 * a `search` block gets a small one (random, 6 trials).
 */
import type { Expr, SourceFile, Statement } from "../../grammar/ast.js";
import { parse } from "../../grammar/index.js";
import { checkSource } from "../../compiler/check.js";
import { readSearch } from "../../compiler/search/index.js";
import { applyEdits, type Edit } from "./knobs/source-edits.js";

/** The search block the panel adds to a file without one. */
export const PAGE_SEARCH_BLOCK = "search {\n  algorithm random\n  trials    6\n  seed      0\n}\n";

export interface PageSpace {
  /** The file the search runs. */
  readonly source: string;
  /** What the panel says it searches, when it wrote the space itself; undefined: the file's own ranges. */
  readonly note: string | undefined;
}

/** Numbers as the search writes them: at most 4 significant digits. */
const num = (v: number): string => String(Number(v.toPrecision(4)));

function lrEdit(source: string, st: Statement, lr: number): { edit: Edit; text: string } | undefined {
  const value = st.args[0]?.value;
  if (value === undefined || st.args.length !== 1) return undefined;
  const range = `loguniform(${num(Math.min(lr, 1e-3))}, ${num(Math.max(lr, 0.1))}, start: ${num(lr)})`;
  const at = (e: Expr): Edit => ({ offset: e.span.start, length: e.span.end - e.span.start, text: "" });
  if (value.kind === "name") return { edit: { ...at(value), text: `${value.name}(lr: ${range})` }, text: range };
  if (value.kind !== "call") return undefined;
  const given = value.args.find((a) => a.name?.name === "lr");
  if (given !== undefined) return given.value.kind === "number" ? { edit: { ...at(given.value), text: range }, text: range } : undefined;
  if (value.args.some((a) => a.name === undefined)) return undefined;
  const others = value.args.map((a) => source.slice(a.span.start, a.span.end));
  return { edit: { ...at(value), text: `${value.callee.name}(${[`lr: ${range}`, ...others].join(", ")})` }, text: range };
}

/** The first `dense N` of the model that is not its last layer (the output's width is the data's). */
function widthEdit(file: SourceFile): { edit: Edit; text: string; line: number } | undefined {
  const model = file.statements.find((s) => s.keyword.name === "model" && s.block !== undefined);
  const layers = model?.block?.statements ?? [];
  const dense = layers.filter((s) => s.keyword.name === "dense");
  const first = dense.length >= 2 && dense[0] !== layers.at(-1) ? dense[0]! : undefined;
  const units = first?.args[0]?.value;
  if (first === undefined || units?.kind !== "number" || first.args[0]!.name !== undefined || !Number.isInteger(units.value) || units.value < 1) return undefined;
  const w = units.value;
  const text = `int(${Math.max(2, Math.floor(w / 4))}, ${Math.max(4, w * 2)}, start: ${w})`;
  return { edit: { offset: units.span.start, length: units.span.end - units.span.start, text }, text, line: first.span.line };
}

/**
 * The file the panel searches, or undefined with the reason when it cannot make one (the file
 * has errors, or no learning rate or width to vary).
 */
export function pageSpace(source: string): PageSpace | { readonly error: string } {
  const parsed = parse(source);
  const read = readSearch(parsed.value);
  if (!read.value) return { error: "the file's ranges or search block have problems (see Problems)" };
  const hasBlock = parsed.value.statements.some((s) => s.keyword.name === "search");
  const block = hasBlock ? "" : `${source.endsWith("\n") ? "" : "\n"}\n${PAGE_SEARCH_BLOCK}`;
  if (read.value.dims.length > 0) return { source: source + block, note: hasBlock ? undefined : "the file's ranges, with a small search block added (random, 6 trials)" };
  const program = checkSource(source).value;
  if (program === undefined) return { error: "the file has errors: fix them first (see Problems)" };
  const optimizer = parsed.value.statements.find((s) => s.keyword.name === "optimizer");
  const lr = optimizer ? lrEdit(source, optimizer, program.optimizer.lr) : undefined;
  const width = widthEdit(parsed.value);
  if (lr === undefined && width === undefined) return { error: "the file has no ranges, and no `optimizer` learning rate or hidden `dense` width to vary: write a range, e.g. `lr: loguniform(1e-3, 1e-1)`" };
  const said = [
    ...(lr ? [`the learning rate over ${lr.text}`] : []),
    ...(width ? [`the width of the first dense layer (line ${width.line}) over ${width.text}`] : []),
  ];
  const edits = [lr?.edit, width?.edit].filter((e): e is Edit => e !== undefined);
  return { source: applyEdits(source, edits) + block, note: `The file has no ranges: searching ${said.join(" and ")}, ${hasBlock ? "by the file's search block" : "by random search of 6 trials"}, after the file as written.` };
}
