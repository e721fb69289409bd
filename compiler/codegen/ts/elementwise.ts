/**
 * TypeScript lowerings of the elementwise ops: the activations and their shared backward
 * (`activation_grad`), bias_add, the dropout mask, and the broadcasting primitives (add, sub,
 * mul, div, constant, neg, exp, log, rsqrt). Same-shape operands give one flat loop; broadcast
 * operands a strided nest (`loops.ts`).
 */
import { alphaOf, attrNum, attrStr } from "../../ops/types.js";
import { sameShape } from "../../ops/elementwise.js";
import { ACTIVATION_KINDS, activationCode } from "./activations.js";
import type { TsLowering } from "./context.js";
import { broadcastLoops, eachElement, perRow, readAt } from "./loops.js";

/** `out = act(x)`, element by element. */
const activation =
  (kind: string): TsLowering =>
  (node, ctx) => {
    const x = ctx.ref(node.inputs[0] as number);
    return eachElement(node, `const v = ${x}[i];\n${ctx.ref(node.id)}[i] = ${activationCode(kind).fwd("v", ctx.num(alphaOf(node.attrs)))};`);
  };

/** `out = a ⊕ b`: one flat loop when both have the output's shape, else the broadcast nest. */
const binary =
  (combine: (a: string, b: string) => string): TsLowering =>
  (node, ctx) => {
    const [a, b] = node.inputs as [number, number];
    const out = ctx.ref(node.id);
    const sa = ctx.node(a).shape;
    const sb = ctx.node(b).shape;
    if (sameShape(sa, node.shape) && sameShape(sb, node.shape)) {
      return eachElement(node, `${out}[i] = ${combine(readAt(ctx, a, "i"), readAt(ctx, b, "i"))};`);
    }
    return broadcastLoops(node.shape, [node.shape, sa, sb], ([o, ia, ib]) => `${out}[${o}] = ${combine(readAt(ctx, a, ia as string), readAt(ctx, b, ib as string))};`);
  };

/** `out = f(x)`, element by element. */
const unary =
  (expr: (x: string) => string): TsLowering =>
  (node, ctx) =>
    eachElement(node, `${ctx.ref(node.id)}[i] = ${expr(readAt(ctx, node.inputs[0] as number, "i"))};`);

export const ELEMENTWISE: Readonly<Record<string, TsLowering>> = {
  ...Object.fromEntries(ACTIVATION_KINDS.map((kind) => [kind, activation(kind)])),

  activation_grad(node, ctx) {
    const code = activationCode(attrStr(node.attrs, "act"));
    const [g, v] = node.inputs as [number, number];
    return eachElement(node, `${ctx.ref(node.id)}[i] = ${code.grad(`${ctx.ref(g)}[i]`, `${ctx.ref(v)}[i]`, ctx.num(alphaOf(node.attrs)))};`);
  },

  bias_add(node, ctx) {
    const [z, b] = node.inputs as [number, number];
    const m = perRow(node);
    const out = ctx.ref(node.id);
    return `for (let r = 0; r < n; r++) {\nfor (let j = 0; j < ${m}; j++) ${out}[r * ${m} + j] = ${ctx.ref(z)}[r * ${m} + j] + ${ctx.ref(b)}[j];\n}`;
  },

  // Training: 0 with probability rate, else 1/(1 − rate), one draw per element in order.
  // Inference: nothing — the mask is all ones, and the mul reading it copies instead.
  dropout_mask(node, ctx) {
    const rate = attrNum(node.attrs, "rate");
    const mask = ctx.ref(node.id);
    return `if (${ctx.training}) {\n${eachElement(node, `${mask}[i] = ${ctx.rand}() < ${ctx.num(rate)} ? 0 : ${ctx.num(1 / (1 - rate))};`)}\n}`;
  },

  add: binary((a, b) => `${a} + ${b}`),
  sub: binary((a, b) => `${a} - ${b}`),
  mul(node, ctx) {
    const product = binary((a, b) => `${a} * ${b}`)(node, ctx);
    // A dropout mask is computed in training only (at inference it is all ones): copy then.
    const [a, b] = node.inputs as [number, number];
    const other = ctx.node(b).op === "dropout_mask" ? a : ctx.node(a).op === "dropout_mask" ? b : undefined;
    if (other === undefined || node.phase !== "forward" || !sameShape(ctx.node(other).shape, node.shape)) return product;
    return `if (${ctx.training}) {\n${product}\n} else {\n${eachElement(node, `${ctx.ref(node.id)}[i] = ${readAt(ctx, other, "i")};`)}\n}`;
  },
  div: binary((a, b) => `${a} / ${b}`),
  // Fills its own one-element buffer (the binary ops paste the literal instead).
  constant: (node, ctx) => `${ctx.ref(node.id)}[0] = ${ctx.num(attrNum(node.attrs, "value"))};`,
  neg: unary((x) => `-${x}`),
  nonzero: unary((x) => `(${x} !== 0 ? 1 : 0)`),
  exp: unary((x) => `Math.exp(${x})`),
  log: unary((x) => `Math.log(${x})`),
  rsqrt: unary((x) => `1 / Math.sqrt(${x})`),
};
