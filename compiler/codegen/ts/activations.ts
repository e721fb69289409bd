/**
 * The TypeScript code of each elementwise activation (`ops/activations.ts` declares them): its
 * forward expression, its derivative, and the module-level helpers they call. The elementwise
 * lowerings, `activation_grad` and the matrix-product epilogues of `gemm.ts` all render from
 * here.
 *
 * V8's `Math.tanh` is an out-of-line call, about half of a small tanh network's step; the
 * `tanh` helper computes it from `Math.expm1` (inlined) to within 2 ulp, and saturates past
 * ±20. gelu is the tanh approximation (as in BERT/GPT-2 and Keras' `approximate=True`):
 * 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
 */

export interface ActivationCode {
  /** y as an expression of the expression `x` (and the literal `alpha`). */
  fwd(x: string, alpha: string): string;
  /** dL/dx as an expression of `g` = dL/dy and `v` = the saved value (`ops/activations.ts` says which: y or x). */
  grad(g: string, v: string, alpha: string): string;
  /** Module-level helper functions the expressions call (emitted once, only when called). */
  readonly helpers?: readonly string[];
}

const TANH = `function tanh(x: number): number {
  if (x > 20) return 1;
  if (x < -20) return -1;
  const e = Math.expm1(2 * x);
  return e / (e + 2);
}`;

const GELU = `function gelu(x: number): number {
  return 0.5 * x * (1 + tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
}`;

const GELU_GRAD = `function geluGrad(x: number): number {
  const t = tanh(0.7978845608028654 * (x + 0.044715 * x * x * x));
  return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * 0.7978845608028654 * (1 + 0.134145 * x * x);
}`;

const CODE: ReadonlyMap<string, ActivationCode> = new Map(
  Object.entries({
  // max(x, 0); from the output: 1 where y > 0.
  relu: {
    fwd: (x) => `${x} > 0 ? ${x} : 0`,
    grad: (g, y) => `${y} > 0 ? ${g} : 0`,
  },
  // alpha ≥ 0, so y > 0 exactly where x > 0.
  leaky_relu: {
    fwd: (x, a) => `${x} > 0 ? ${x} : ${a} * ${x}`,
    grad: (g, y, a) => `${y} > 0 ? ${g} : ${a} * ${g}`,
  },
  // For x ≤ 0 the derivative is y + alpha.
  elu: {
    fwd: (x, a) => `${x} > 0 ? ${x} : ${a} * (Math.exp(${x}) - 1)`,
    grad: (g, y, a) => `${y} > 0 ? ${g} : ${g} * (${y} + ${a})`,
  },
  sigmoid: {
    fwd: (x) => `1 / (1 + Math.exp(-${x}))`,
    grad: (g, y) => `${g} * ${y} * (1 - ${y})`,
  },
  tanh: {
    fwd: (x) => `tanh(${x})`,
    grad: (g, y) => `${g} * (1 - ${y} * ${y})`,
    helpers: [TANH],
  },
  // The derivative reads the input.
  gelu: {
    fwd: (x) => `gelu(${x})`,
    grad: (g, x) => `${g} * geluGrad(${x})`,
    helpers: [TANH, GELU, GELU_GRAD],
  },
} satisfies Record<string, ActivationCode>),
);

/** The activations this target has code for (`targets.test.ts` checks it is every one). */
export const ACTIVATION_KINDS: readonly string[] = [...CODE.keys()];

export function activationCode(kind: string): ActivationCode {
  const c = CODE.get(kind);
  if (c === undefined) throw new Error(`bug: the TypeScript target has no code for activation ${kind}`);
  return c;
}

/**
 * `act(v)` stored at `target`, as short as it reads: inline when the expression reads its
 * argument once (`tanh(v)`, the sigmoid), else through a local `v` (ReLU reads it twice).
 */
export function storeActivated(target: string, v: string, kind: string, alpha: string): string {
  const act = activationCode(kind);
  const shape = act.fwd("\u0000", alpha);
  if (/^[\w.]+\(\u0000\)$/.test(shape)) return `${target} = ${act.fwd(v, alpha)};`;
  if (shape.split("\u0000").length === 2) return `${target} = ${act.fwd(`(${v})`, alpha)};`;
  return `{\nconst v = ${v};\n${target} = ${act.fwd("v", alpha)};\n}`;
}
