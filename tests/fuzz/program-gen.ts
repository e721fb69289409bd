/**
 * Random valid `.nn` sources: any layer sequence, activation, initializer, loss, optimizer
 * (with any of its arguments) and schedule the language offers, with shapes kept consistent
 * so the checker accepts them. Shared by the suite and the long campaign.
 */
import fc from "fast-check";

const HIDDEN_ACTS = ["linear", "sigmoid", "tanh", "relu", "leaky_relu", "leaky_relu(alpha: 0.2)", "elu", "elu(alpha: 0.7)", "gelu"];
const INITS = ["he", "he_uniform", "xavier", "xavier_normal", "lecun", "normal", "uniform"];

interface Head {
  readonly act: string;
  readonly loss: string;
  /** Output units: a fixed count, or "any" (1..4). */
  readonly units: number | "any";
}
const HEADS: readonly Head[] = [
  { act: "softmax", loss: "cross_entropy", units: "any" },
  { act: "sigmoid", loss: "binary_cross_entropy", units: "any" },
  { act: "linear", loss: "mse", units: "any" },
  { act: "linear", loss: "mae", units: "any" },
  { act: "linear", loss: "huber", units: "any" },
  { act: "linear", loss: "huber(delta: 0.3)", units: "any" },
  { act: "tanh", loss: "mse", units: "any" },
  { act: "softmax", loss: "mse", units: "any" },
  { act: "sigmoid", loss: "mse", units: "any" },
];

const num = (lo: number, hi: number): fc.Arbitrary<number> => fc.double({ min: lo, max: hi, noNaN: true, noDefaultInfinity: true });
const short = (x: number): string => String(Math.round(x * 1e4) / 1e4);

const commonOpt = fc.record(
  {
    weight_decay: num(0, 0.01).map(short),
    clip_norm: fc.constantFrom("0", "1", "5"),
    clip_value: fc.constantFrom("0", "0.5", "2"),
  },
  { requiredKeys: [] },
);
const optimizer: fc.Arbitrary<string> = fc
  .tuple(
    fc.constantFrom("sgd", "adam", "adamw", "rmsprop"),
    num(1e-4, 0.3).map(short),
    commonOpt,
    fc.record({ momentum: fc.constantFrom("0", "0.5", "0.9"), nesterov: fc.constantFrom("true", "false"), beta1: fc.constantFrom("0.8", "0.9"), beta2: fc.constantFrom("0.99", "0.999"), rho: fc.constantFrom("0.8", "0.9"), epsilon: fc.constantFrom("1e-7", "1e-8") }, { requiredKeys: [] }),
  )
  .map(([kind, lr, common, extra]) => {
    const allowed: Record<string, readonly string[]> = {
      sgd: ["momentum", "nesterov"],
      adam: ["beta1", "beta2", "epsilon"],
      adamw: ["beta1", "beta2", "epsilon"],
      rmsprop: ["rho", "momentum", "epsilon"],
    };
    const args = [`lr: ${lr}`, ...Object.entries(common).map(([k, v]) => `${k}: ${v}`)];
    for (const [k, v] of Object.entries(extra)) {
      if (!(allowed[kind] as readonly string[]).includes(k)) continue;
      if (k === "nesterov" && v === "true" && (extra.momentum ?? "0") === "0") continue; // needs momentum > 0 (NN2026)
      args.push(`${k}: ${v}`);
    }
    return `${kind}(${args.join(", ")})`;
  });

const schedule = fc.constantFrom("constant", "cosine", "step(every: 2, gamma: 0.5)", "exponential(gamma: 0.9)", "cosine(min_lr: 0.0001)");

/** A flat (1-D) hidden layer. */
const flatLayer: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(fc.integer({ min: 1, max: 9 }), fc.constantFrom(...HIDDEN_ACTS), fc.option(fc.constantFrom(...INITS)), fc.boolean()).map(([u, a, init, bias]) => `dense ${u}, ${a}${init ? `, init: ${init}` : ""}${bias ? "" : ", bias: false"}`) },
  { weight: 1, arbitrary: fc.constantFrom("dropout 0.3", "dropout 10%", "dropout 0") },
  { weight: 1, arbitrary: fc.constantFrom(...HIDDEN_ACTS.map((a) => `activation ${a}`)) },
  { weight: 1, arbitrary: fc.constantFrom("batchnorm", "batchnorm momentum: 0.9, epsilon: 0.01") },
);

export interface GeneratedProgram {
  readonly source: string;
  readonly loss: string;
}

/** A model over a flat input, or an image input through flatten. */
export const validProgram: fc.Arbitrary<GeneratedProgram> = fc
  .record({
    input: fc.oneof(fc.integer({ min: 1, max: 6 }).map(String), fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })).map(([h, w]) => `[${h}, ${w}]`)),
    hidden: fc.array(flatLayer, { maxLength: 4 }),
    head: fc.constantFrom(...HEADS),
    units: fc.integer({ min: 1, max: 4 }),
    optimizer,
    schedule,
    init: fc.option(fc.constantFrom(...INITS)),
    seed: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    batch: fc.integer({ min: 1, max: 9 }),
    name: fc.constantFrom("Net", "M", "constructor", "__proto__", "toString", "valueOf", "hasOwnProperty", "prototype", "x"),
  })
  .map((r) => {
    let units = r.head.units === "any" ? r.units : r.head.units;
    if (r.head.act === "softmax" && units < 2 && r.head.loss === "cross_entropy") units = 2;
    const layers = [...(r.input.startsWith("[") ? ["flatten"] : []), ...r.hidden, `dense ${units}, ${r.head.act}`];
    const source = [
      `model ${r.name} {`,
      `  seed ${r.seed}`,
      `  input ${r.input}`,
      ...(r.init ? [`  init ${r.init}`] : []),
      ...layers.map((l) => `  ${l}`),
      "}",
      `loss ${r.head.loss}`,
      `optimizer ${r.optimizer}`,
      `train {`,
      `  epochs 1`,
      `  batch ${r.batch}`,
      `  schedule ${r.schedule}`,
      `}`,
      "",
    ].join("\n");
    return { source, loss: r.head.loss };
  });

/** An image layer stack over [h, w, c]: convolutions, pooling, batchnorm, then flatten and a head. */
interface Img {
  h: number;
  w: number;
  c: number;
}
type ImgStep = { kind: "conv"; f: number; k: number; s: number; same: boolean; act: string } | { kind: "pool"; max: boolean; size: number; same: boolean } | { kind: "bn" } | { kind: "act"; act: string } | { kind: "dropout" };
const imgStep: fc.Arbitrary<ImgStep> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("conv" as const), f: fc.integer({ min: 1, max: 3 }), k: fc.integer({ min: 1, max: 3 }), s: fc.integer({ min: 1, max: 2 }), same: fc.boolean(), act: fc.constantFrom(...HIDDEN_ACTS) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("pool" as const), max: fc.boolean(), size: fc.integer({ min: 1, max: 2 }), same: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("bn" as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("act" as const), act: fc.constantFrom(...HIDDEN_ACTS) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("dropout" as const) }) },
);

function applyStep(shape: Img, st: ImgStep): { line: string; shape: Img } | undefined {
  const out = (k: number, s: number, same: boolean, n: number): number => (same ? Math.ceil(n / s) : Math.floor((n - k) / s) + 1);
  switch (st.kind) {
    case "conv": {
      if (!st.same && (st.k > shape.h || st.k > shape.w || (shape.h - st.k) % st.s !== 0 || (shape.w - st.k) % st.s !== 0)) return undefined;
      const h = out(st.k, st.s, st.same, shape.h);
      const w = out(st.k, st.s, st.same, shape.w);
      if (h < 1 || w < 1) return undefined;
      const extra = `${st.s > 1 ? `, stride: ${st.s}` : ""}${st.same ? ", padding: same" : ""}`;
      return { line: `conv2d ${st.f}, ${st.k}, ${st.act}${extra}`, shape: { h, w, c: st.f } };
    }
    case "pool": {
      if (!st.same && (st.size > shape.h || st.size > shape.w || (shape.h - st.size) % st.size !== 0 || (shape.w - st.size) % st.size !== 0)) return undefined;
      const h = out(st.size, st.size, st.same, shape.h);
      const w = out(st.size, st.size, st.same, shape.w);
      if (h < 1 || w < 1) return undefined;
      return { line: `${st.max ? "maxpool2d" : "avgpool2d"} ${st.size}${st.same ? ", padding: same" : ""}`, shape: { h, w, c: shape.c } };
    }
    case "bn":
      return { line: "batchnorm", shape };
    case "act":
      return { line: `activation ${st.act}`, shape };
    case "dropout":
      return { line: "dropout 0.2", shape };
  }
}

export const validImageProgram: fc.Arbitrary<GeneratedProgram> = fc
  .record({
    h: fc.integer({ min: 2, max: 6 }),
    w: fc.integer({ min: 2, max: 6 }),
    c: fc.integer({ min: 1, max: 2 }),
    steps: fc.array(imgStep, { minLength: 1, maxLength: 4 }),
    head: fc.constantFrom(...HEADS),
    units: fc.integer({ min: 2, max: 3 }),
    optimizer,
    batch: fc.integer({ min: 1, max: 5 }),
  })
  .map((r) => {
    let shape: Img = { h: r.h, w: r.w, c: r.c };
    const lines: string[] = [];
    for (const st of r.steps) {
      const next = applyStep(shape, st);
      if (next === undefined) continue;
      lines.push(next.line);
      shape = next.shape;
    }
    const source = [
      "model Img {",
      `  input [${r.h}, ${r.w}, ${r.c}]`,
      ...lines.map((l) => `  ${l}`),
      "  flatten",
      `  dense ${r.units}, ${r.head.act}`,
      "}",
      `loss ${r.head.loss}`,
      `optimizer ${r.optimizer}`,
      `train { batch ${r.batch} }`,
      "",
    ].join("\n");
    return { source, loss: r.head.loss };
  });
