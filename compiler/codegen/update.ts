/**
 * The optimizer's TypeScript `update(lr)`: gradient clipping, an L2 term, then the optimizer's
 * own per-parameter body (`optimizers/<word>.ts`), in one pass over each run of trainable
 * tensors of the flat parameter array (a global-norm clip needs one reduction pass first).
 */
import type { Optimizer } from "../program.js";
import { describeOptimizer, optimizerDef } from "../optimizers/index.js";
import { commentText } from "./names.js";

/** `note`: appended to the comment line (why it is TypeScript under `--kernels wasm`). */
export function updateFunction(o: Optimizer, count: number, ranges: readonly (readonly [number, number])[], T: (t: string) => string, num: (x: number) => string, note = ""): string {
  if (ranges.length === 0) return `// optimizer: nothing to train\nfunction update(_lr${T(": number")})${T(": void")} {\nstep++;\n}`;
  const def = optimizerDef(o.kind);
  const pre: string[] = [`step++;`];
  if (o.clipNorm > 0) {
    pre.push(
      `let squares = 0;`,
      ...ranges.map(([a, b]) => `for (let i = ${a}; i < ${b}; i++) squares += grads[i] * grads[i];`),
      `const norm = Math.sqrt(squares);`,
      `const clip = norm > ${num(o.clipNorm)} ? ${num(o.clipNorm)} / norm : 1; // global norm clipping`,
    );
  }
  const l2 = o.weightDecay > 0 && def.decay === "l2";
  const loop: string[] = [`${o.clipValue > 0 || l2 ? "let" : "const"} g = grads[i]${o.clipNorm > 0 ? " * clip" : ""};`];
  if (o.clipValue > 0) loop.push(`g = g > ${num(o.clipValue)} ? ${num(o.clipValue)} : g < -${num(o.clipValue)} ? -${num(o.clipValue)} : g;`);
  if (l2) loop.push(`g += ${num(o.weightDecay)} * params[i]; // L2 weight decay`);
  const own = def.update(o, { num, moment: (k) => (k === 0 ? "moments[i]" : `moments[i + ${k * count}]`) });
  pre.push(...own.pre);
  loop.push(...own.loop);
  // One loop per run of trainable tensors (all of them, for dense models).
  const loops = ranges.flatMap(([a, b]) => [`for (let i = ${a}; i < ${b}; i++) {`, ...loop, `}`]);
  return [`// optimizer: ${commentText(describeOptimizer(o))}${note}`, `function update(lr${T(": number")})${T(": void")} {`, ...pre, ...loops, `}`].join("\n");
}
