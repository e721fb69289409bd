/**
 * The shape of an elementwise activation op. Each activation is one file (`relu.ts`, …) that
 * gives its forward expression and its derivative; this helper turns that into an op whose
 * adjoint is an `activation_grad` node, and which `fuse.ts` can fold into a matmul epilogue.
 */
import type { OpDef } from "./types.js";
import { alphaOf, eachElement } from "./types.js";

export interface ActivationDef {
  readonly kind: string;
  /** y as an expression of the identifier `x` (and the literal `alpha`). */
  fwd(x: string, alpha: string): string;
  /** What the derivative reads: the output `y` ("out") or the input `x` ("in"). */
  readonly uses: "out" | "in";
  /** dL/dx as an expression of `g` = dL/dy and `v` = the saved value. */
  grad(g: string, v: string, alpha: string): string;
  /** Module-level helper functions the expressions call (emitted once). */
  readonly helpers?: readonly string[];
}

export function activationOp(def: ActivationDef): OpDef {
  return {
    name: def.kind,
    doc: `elementwise ${def.kind}`,
    shape: (inputs) => inputs[0] ?? [],
    saves: [def.uses === "out" ? "out" : 0],
    adjoint(node, dOut, g) {
      if (dOut === undefined) throw new Error("bug: activation as loss");
      const saved = def.uses === "out" ? node.id : (node.inputs[0] as number);
      const src = node.inputs[0] as number;
      return [g.add("activation_grad", [dOut, saved], { act: def.kind, ...(node.attrs["alpha"] !== undefined ? { alpha: alphaOf(node.attrs) } : {}) }, g.gradName(src), node.origin)];
    },
    emit(node, ctx) {
      const x = ctx.ref(node.inputs[0] as number);
      const alpha = ctx.num(alphaOf(node.attrs));
      return eachElement(node, `const v = ${x}[i];\n${ctx.ref(node.id)}[i] = ${def.fwd("v", alpha)};`);
    },
  };
}
