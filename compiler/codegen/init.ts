/**
 * The generated `init(seed)`: each parameter tensor drawn from its initializer with a seeded
 * generator (mulberry32; Box–Muller for the normal ones), the optimizer state and gradients
 * zeroed, and the dropout generator reseeded.
 */
import type { Graph } from "../ir.js";
import { nodeOf, shapeSize } from "../ir.js";
import { commentText, numberLiteral } from "./names.js";

const INIT_DOC: Record<string, string> = {
  he: "normal, std √(2 / fan_in)",
  he_uniform: "uniform, limit √(6 / fan_in)",
  xavier: "uniform, limit √(6 / (fan_in + fan_out))",
  xavier_normal: "normal, std √(2 / (fan_in + fan_out))",
  lecun: "normal, std √(1 / fan_in)",
  normal: "normal, std 0.05",
  uniform: "uniform, limit 0.05",
  zeros: "0",
  ones: "1",
};

/** The draw expression of one initializer (`normal()`/`uniform()` are helpers of `init`). */
function initExpr(kind: string, fanIn: number, fanOut: number): { expr: string; uses: "normal" | "uniform" | "none" } {
  const n = (std: number): { expr: string; uses: "normal" } => ({ expr: `normal() * ${numberLiteral(std)}`, uses: "normal" });
  const u = (limit: number): { expr: string; uses: "uniform" } => ({ expr: `(2 * next() - 1) * ${numberLiteral(limit)}`, uses: "uniform" });
  switch (kind) {
    case "he":
      return n(Math.sqrt(2 / fanIn));
    case "he_uniform":
      return u(Math.sqrt(6 / fanIn));
    case "xavier":
      return u(Math.sqrt(6 / (fanIn + fanOut)));
    case "xavier_normal":
      return n(Math.sqrt(2 / (fanIn + fanOut)));
    case "lecun":
      return n(Math.sqrt(1 / fanIn));
    case "normal":
      return n(0.05);
    case "uniform":
      return u(0.05);
    case "zeros":
      return { expr: "0", uses: "none" };
    case "ones":
      return { expr: "1", uses: "none" };
    default:
      throw new Error(`bug: unknown initializer ${kind}`);
  }
}

/**
 * The lines of `function init(seed) {…}`. Each parameter is filled through its view (named
 * after its node); `moments`, `grads`, `step` and (with dropout) `rngState` are the module's.
 */
export function initFunction(graph: Graph, opts: { readonly moments: boolean; readonly dropout: boolean; readonly T: (type: string) => string }): string[] {
  const { T } = opts;
  const lines: string[] = [];
  let usesNormal = false;
  let usesUniform = false;
  for (const p of graph.params) {
    const n = nodeOf(graph, p.node);
    const e = initExpr(p.init, p.fanIn, p.fanOut);
    if (e.uses === "normal") usesNormal = true;
    if (e.uses === "uniform") usesUniform = true;
    lines.push(`// ${commentText(p.name)}: ${p.init} (${INIT_DOC[p.init] ?? p.init})`);
    if (e.uses === "none") lines.push(`${n.name}.fill(${e.expr});`);
    else lines.push(`for (let i = 0; i < ${shapeSize(n.shape)}; i++) ${n.name}[i] = ${e.expr};`);
  }
  const draws = usesNormal || usesUniform;
  return [
    `function init(${draws || opts.dropout ? "seed" : "_seed"}${T(": number")})${T(": void")} {`,
    ...(draws
      ? [
          `let s = seed >>> 0;`,
          `const next = ()${T(": number")} => {`,
          `let t = (s = (s + 0x6d2b79f5) >>> 0);`,
          `t = Math.imul(t ^ (t >>> 15), t | 1);`,
          `t ^= t + Math.imul(t ^ (t >>> 7), t | 61);`,
          `return ((t ^ (t >>> 14)) >>> 0) / 4294967296;`,
          `};`,
        ]
      : []),
    ...(usesNormal ? [`const normal = ()${T(": number")} => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());`] : []),
    ...lines,
    ...(opts.moments ? [`moments.fill(0);`] : []),
    `grads.fill(0);`,
    `step = 0;`,
    ...(opts.dropout ? [`rngState[0] = (seed ^ 0x5bd1e995) >>> 0;`] : []),
    `}`,
  ];
}
