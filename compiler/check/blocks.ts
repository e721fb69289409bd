/**
 * The `block`s of a file: `block name(params) { … }` declarations read and checked (their
 * headers, duplicate names, parameters and defaults), the warnings about them once the model
 * is read (a block never used, a parameter its body never mentions), and the substitution of a
 * use's arguments for the parameters (a block is a macro with a scope: `graph.ts` expands each
 * use in place, reading its body with this substitution).
 */
import type { Arg, Expr, Name, Statement } from "../../grammar/ast.js";
import type { Span } from "../../grammar/span.js";
import { LAYERS, MODEL_SETTINGS, names } from "../vocabulary.js";
import type { Checker } from "./checker.js";

/** A checked `block name(params) { … }` declaration. */
export interface BlockDef {
  readonly name: Name;
  /** Parameters in order, with their default expressions. */
  readonly params: readonly { readonly name: Name; readonly default: Expr | undefined }[];
  /** Its `x = input` statements, in order; none = one input, which its first statement takes. */
  readonly inputs: readonly Statement[];
  readonly body: readonly Statement[];
  readonly span: Span;
}

/** Reads the `block` statements of a file: their headers, with problems reported. */
export function checkBlocks(ck: Checker, statements: readonly Statement[]): Map<string, BlockDef> {
  const blocks = new Map<string, BlockDef>();
  const layerWords = names(LAYERS);
  for (const s of statements) {
    const head = s.args[0]?.value;
    const header = head?.kind === "call" ? { callee: head.callee, args: head.args } : head?.kind === "name" ? { callee: { name: head.name, span: head.span }, args: [] } : undefined;
    if (header === undefined || s.args.length > 1 || s.args[0]?.name !== undefined) {
      ck.report("badBlockHeader", s.args[0]?.span ?? s.keyword.span, [], "e.g. `block residual(width) {` … `}`");
      continue;
    }
    if (s.block === undefined) {
      ck.report("blockExpected", s.keyword.span, ["block"], `write \`block ${header.callee.name}(…) {\`, its layers one per line, then \`}\``);
      continue;
    }
    const name = header.callee;
    if (layerWords.includes(name.name) || names(MODEL_SETTINGS).includes(name.name) || name.name === "repeat") {
      ck.report("badBlockHeader", name.span, [], `\`${name.name}\` is already a word of the language: give the block another name`);
      continue;
    }
    const prior = blocks.get(name.name);
    if (prior !== undefined) {
      ck.report("duplicateBlock", name.span, [`block ${name.name}`], "give each block its own name", [{ message: "first declared here", span: prior.name.span }]);
      continue;
    }
    const params: { name: Name; default: Expr | undefined }[] = [];
    let ok = true;
    for (const a of header.args) {
      const pname = a.name ?? (a.value.kind === "name" ? { name: a.value.name, span: a.value.span } : undefined);
      if (pname === undefined) {
        ck.report("badBlockHeader", a.span, [], "parameters are names, with a default after `:` (`block residual(width, stride: 1)`)");
        ok = false;
        continue;
      }
      if (params.some((p) => p.name.name === pname.name)) {
        ck.report("duplicateArgument", pname.span, [pname.name]);
        ok = false;
        continue;
      }
      params.push({ name: pname, default: a.name === undefined ? undefined : a.value });
    }
    const inputs = s.block.statements.filter((st) => st.keyword.name === "input");
    if (ok) blocks.set(name.name, { name, params, inputs, body: s.block.statements, span: s.span });
  }
  return blocks;
}

/** Warnings about blocks at their declaration: unused parameters; blocks never used. */
export function reportBlockUse(ck: Checker, blocks: ReadonlyMap<string, BlockDef>, used: ReadonlySet<string>): void {
  for (const b of blocks.values()) {
    if (!used.has(b.name.name)) ck.report("unusedBlock", b.name.span, [b.name.name], "use it in the model (`" + b.name.name + " …`), or remove it");
    const mentioned = new Set<string>();
    const visit = (e: Expr): void => {
      switch (e.kind) {
        case "name":
          mentioned.add(e.name);
          return;
        case "call":
          mentioned.add(e.callee.name);
          e.args.forEach((a) => visit(a.value));
          return;
        case "list":
          e.items.forEach(visit);
          return;
        case "unary":
        case "percent":
          visit(e.operand);
          return;
        case "paren":
          visit(e.inner);
          return;
        case "binary":
          visit(e.left);
          visit(e.right);
          return;
        default:
          return;
      }
    };
    const walk = (sts: readonly Statement[]): void => {
      for (const st of sts) {
        st.args.forEach((a) => visit(a.value));
        if (st.block !== undefined) walk(st.block.statements);
      }
    };
    walk(b.body);
    for (const p of b.params) if (!mentioned.has(p.name.name)) ck.report("unusedBlockParam", p.name.span, [p.name.name], "use it in the block's layers, or remove it");
  }
}

/** `e` with every parameter name replaced by its argument's expression. */
export function substitute(e: Expr, env: ReadonlyMap<string, Expr>): Expr {
  if (env.size === 0) return e;
  switch (e.kind) {
    case "name":
      return env.get(e.name) ?? e;
    case "call":
      return { ...e, args: e.args.map((a) => substituteArg(a, env)) };
    case "list":
      return { ...e, items: e.items.map((x) => substitute(x, env)) };
    case "unary":
    case "percent":
      return { ...e, operand: substitute(e.operand, env) };
    case "paren":
      return { ...e, inner: substitute(e.inner, env) };
    case "binary":
      return { ...e, left: substitute(e.left, env), right: substitute(e.right, env) };
    default:
      return e;
  }
}

export function substituteArg(a: Arg, env: ReadonlyMap<string, Expr>): Arg {
  return { ...a, value: substitute(a.value, env) };
}
