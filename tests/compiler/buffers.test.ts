/**
 * The buffer plan (`compiler/codegen/buffers.ts`): values whose lifetimes do not overlap share
 * memory, and nothing else does.
 *
 * The lifetimes checked here are computed independently of the planner: from the graph's
 * schedule (forward, loss, backward nodes in graph order) and from the generated TypeScript
 * itself — which buffer names each node's block of code mentions (the planner instead records
 * what each op asked the emit context for). Then, for every example and a few small networks:
 *
 *   - no two buffers whose lifetimes overlap share memory (TS module: the views of the arena
 *     declared in its text; wasm module: the plan's offsets, and params/grads/moments parsed
 *     from its text), whatever their element types — but an elementwise op may write over an
 *     input in the step that input dies;
 *   - parameter and gradient views are not in the arena, and the output shares with nothing;
 *   - `meta.bytes` is the sum of the arrays the module allocates;
 *   - fashion-cnn's arena is as small as these lifetimes allow (their peak) and at most half of
 *     its buffers without sharing;
 *   - training with shared buffers is bit-identical to training with a buffer each.
 */
import { describe, expect, it } from "vitest";
import { readFileSync, readdirSync } from "node:fs";
import { basename, join } from "node:path";
import { compileProgram } from "../../compiler/compile.js";
import { generate, type CodegenOptions } from "../../compiler/codegen/module.js";
import type { BufferPlan } from "../../compiler/codegen/buffers.js";
import type { Graph } from "../../compiler/ir.js";
import { opDef } from "../../compiler/ops/registry.js";
import { loadModule } from "../../compiler/load.js";
import type { CompiledModel } from "../../compiler/model-api.js";
import type { Program } from "../../compiler/program.js";
import { program, source, type NetSpec } from "./programs.js";

const root = join(import.meta.dirname, "..", "..");

const NETS: Record<string, NetSpec> = {
  dropout: { input: "8", layers: ["dense 12, relu", "dropout 0.25", "dense 20, relu", "dropout 0.5", "dense 3, softmax"], loss: "cross_entropy", batch: 6 },
  everything: {
    input: "[3, 4]",
    layers: ["flatten", "dropout 0.1", "dense 7, gelu", "dropout 0.2", "dense 5, leaky_relu, bias: false", "dense 3, elu", "dense 2, sigmoid"],
    loss: "binary_cross_entropy",
    optimizer: "adamw(lr: 0.01, weight_decay: 0.1, clip_norm: 1, clip_value: 0.5)",
  },
  sparse: { input: "100", layers: ["dense 70, relu", "dense 66, sigmoid", "dense 3, softmax"], loss: "cross_entropy", batch: 4 },
  convStride: { input: "[9, 9, 4]", layers: ["conv2d 4, 3, relu, padding: same", "conv2d 8, 3, tanh, stride: 2", "maxpool2d 2", "flatten", "dense 3, softmax"], loss: "cross_entropy", batch: 3, optimizer: "adam(lr: 0.01)" },
  batchnormConv: { input: "[4, 4]", layers: ["batchnorm", "conv2d 4, 3, relu", "avgpool2d 2", "flatten", "dense 3, softmax"], loss: "cross_entropy", batch: 5, optimizer: "sgd(lr: 0.1, momentum: 0.9)" },
  noParams: { layers: ["activation tanh"], loss: "mse" },
};

const cases: { name: string; program: Program }[] = [
  ...readdirSync(join(root, "examples"))
    .filter((f) => f.endsWith(".nn"))
    .sort()
    // The language model at 16 steps and one block: the same layers, a quarter of the steps' cost.
    .map((f) => ({ name: basename(f, ".nn"), program: program(readFileSync(join(root, "examples", f), "utf8").replace(/input( +)64/, "input$116").replace("length: 64", "length: 16").replace("repeat 2", "repeat 1")) })),
  ...Object.entries(NETS).map(([name, spec]) => ({ name, program: program(source(spec)) })),
];

function build(p: Program, options: Partial<CodegenOptions> = {}): { graph: Graph; code: string; plan: BufferPlan } {
  const compiled = compileProgram(p, { target: "js" });
  if (compiled.value === undefined) throw new Error(compiled.diagnostics.map((d) => d.message).join("; "));
  const graph = compiled.value.graph;
  const g = generate(graph, p, { target: "js", dtype: "float32", maxBatch: p.train.batch, kernels: "js", ...options });
  return { graph, code: g.code, plan: g.plan };
}

// ── lifetimes, from the graph's schedule and the names each node's code mentions ──

interface Lifetimes {
  readonly schedule: readonly number[];
  /** First and last step whose code mentions the name; the output: the whole run. */
  readonly of: ReadonlyMap<string, readonly [number, number]>;
}

const identifiers = (code: string): Set<string> => new Set(code.replace(/\/\/[^\n]*/g, "").match(/[A-Za-z_$][\w$]*/g) ?? []);

/**
 * Each node's block in `run`, `lossOf` and `backward` starts with its comment line
 * (`// h1 = dense(x, w1, b1) …`, `// loss = …`) and runs to the next one; blocks are found in
 * schedule order. Names mentioned in a block are touched in that node's step.
 */
function lifetimes(graph: Graph, tsCode: string): Lifetimes {
  const schedule = (["forward", "loss", "backward"] as const).flatMap((phase) => graph.nodes.filter((n) => n.phase === phase).map((n) => n.id));
  const heads: { step: number; at: number }[] = [];
  let from = tsCode.indexOf("function run(");
  schedule.forEach((id, step) => {
    const n = graph.nodes[id]!;
    const head = n.shape.length === 0 ? `// loss = ${n.op}(` : `// ${n.name} = ${n.op}(`;
    const at = tsCode.indexOf(head, from);
    if (at < 0) return; // no code (leaves, reshapes)
    heads.push({ step, at });
    from = at + head.length;
  });
  const end = tsCode.indexOf("function update(");
  const of = new Map<string, [number, number]>();
  heads.forEach(({ step, at }, k) => {
    for (const name of identifiers(tsCode.slice(at, heads[k + 1]?.at ?? end))) {
      const seen = of.get(name);
      of.set(name, seen === undefined ? [step, step] : [seen[0], step]);
    }
  });
  // Named inputs are packed into xPacked before run, which reads it as x.
  const x = of.get("x");
  if (tsCode.includes("function pack(") && x !== undefined) of.set("xPacked", [-1, x[1]]);
  const outputName = tsCode.match(/v = (\w+)\.subarray\(0, n \* \d+\);/)?.[1];
  if (outputName !== undefined) of.set(outputName, [-Infinity, Infinity]);
  return { schedule, of };
}

const overlap = (a: readonly [number, number], b: readonly [number, number]): boolean => a[0] <= b[1] && b[0] <= a[1];

interface Region {
  readonly name: string;
  readonly memory: string;
  readonly start: number;
  readonly end: number;
}

/**
 * Every pair of regions of one memory that intersect must have disjoint lifetimes — except an
 * elementwise op's output written over an input it reads last (`inPlaceOf` in the plan): the
 * same bytes, the output's first step the input's last, and the op one of the registry's
 * `inPlace` ops.
 */
function clashes(regions: readonly Region[], live: (name: string) => readonly [number, number] | undefined, plan?: { graph: Graph; plan: BufferPlan }): string[] {
  const inPlace = (a: Region, b: Region, la: readonly [number, number], lb: readonly [number, number]): boolean => {
    const pb = plan?.plan.buffers.find((x) => x.name === b.name);
    if (plan === undefined || pb?.inPlaceOf !== a.name || a.start !== b.start || la[1] !== lb[0]) return false;
    return opDef(plan.graph.nodes[pb.node!]!.op).inPlace === true;
  };
  const bad: string[] = [];
  for (let i = 0; i < regions.length; i++) {
    for (let j = i + 1; j < regions.length; j++) {
      const [a, b] = [regions[i]!, regions[j]!];
      if (a.memory !== b.memory || a.end <= b.start || b.end <= a.start) continue;
      const [la, lb] = [live(a.name), live(b.name)];
      if (la !== undefined && lb !== undefined && (inPlace(a, b, la, lb) || inPlace(b, a, lb, la))) continue;
      if (la === undefined || lb === undefined || overlap(la, lb)) bad.push(`${a.name} [${la}] and ${b.name} [${lb}] share ${a.memory}[${Math.max(a.start, b.start)}..)`);
    }
  }
  return bad;
}

const BYTES: Readonly<Record<string, number>> = { Float32: 4, Float64: 8, Int32: 4 };

/**
 * The TypeScript module's views, from its text, in bytes: `const h1 = new Float32Array(arena, 0, 128);`,
 * a buffer alone `new Int32Array(128)`, parameter and gradient views `params.subarray(0, 128)`.
 */
function tsRegions(code: string): Region[] {
  const regions: Region[] = [];
  for (const m of code.matchAll(/const (\w+) = (params|grads)\.subarray\((\d+), (\d+)\);/g)) regions.push({ name: m[1]!, memory: m[2]!, start: Number(m[3]), end: Number(m[4]) });
  for (const m of code.matchAll(/const (\w+) = new (Float32|Float64|Int32)Array\(arena, (\d+), (\d+)\);/g)) {
    regions.push({ name: m[1]!, memory: "arena", start: Number(m[3]), end: Number(m[3]) + BYTES[m[2]!]! * Number(m[4]) });
  }
  for (const m of code.matchAll(/const (\w+) = new (Float32|Float64|Int32)Array\((\d+)\);/g)) regions.push({ name: m[1]!, memory: m[1]!, start: 0, end: BYTES[m[2]!]! * Number(m[3]) });
  return regions;
}

/** Bytes of every array and ArrayBuffer the module allocates itself (`new Float32Array(123)`, `new ArrayBuffer(456)`). */
function allocated(code: string): number {
  const arrays = [...code.matchAll(/= new (Float32|Float64|Int32)Array\((\d+)\)/g)].reduce((t, m) => t + Number(m[2]) * BYTES[m[1]!]!, 0);
  return arrays + [...code.matchAll(/= new ArrayBuffer\((\d+)\)/g)].reduce((t, m) => t + Number(m[1]), 0);
}

describe("buffer plan: shared only where lifetimes do not overlap", () => {
  for (const c of cases) {
    it(`${c.name}: TypeScript module (float32 and float64)`, () => {
      for (const dtype of ["float32", "float64"] as const) {
        const { graph, code, plan } = build(c.program, { dtype });
        const life = lifetimes(graph, code);
        const regions = tsRegions(code);
        const paramNames = new Set(graph.params.map((p) => graph.nodes[p.node]!.name));
        const gradNames = new Set([...graph.grads.values()].map((g) => graph.nodes[g]!.name));
        // Parameter and gradient views are views of params/grads, never of an arena.
        for (const r of regions) {
          if (paramNames.has(r.name)) expect(r.memory, r.name).toBe("params");
          if (gradNames.has(r.name)) expect(r.memory, r.name).toBe("grads");
        }
        // Every planned buffer is declared, at its planned offset.
        for (const b of plan.buffers) {
          const r = regions.find((x) => x.name === b.name);
          expect(r, b.name).toBeDefined();
          if (r!.memory === "arena") expect(r!.start, b.name).toBe(b.offset);
        }
        expect(clashes(regions.filter((r) => r.memory === "arena"), (name) => life.of.get(name), { graph, plan })).toEqual([]);
        // The output overlaps no other region.
        const out = plan.buffers.find((b) => b.what === "output");
        if (out !== undefined) {
          const o = regions.find((r) => r.name === out.name)!;
          expect(regions.filter((r) => r !== o && r.memory === o.memory && r.start < o.end && o.start < r.end).map((r) => r.name)).toEqual([]);
        }
        // meta.bytes: params, grads and moments, and the arena.
        const model = loadModule(code).createModel();
        expect(model.meta.bytes).toBe(allocated(code));
      }
    });

    it(`${c.name}: wasm kernels' memory`, () => {
      const ts = build(c.program);
      const life = lifetimes(ts.graph, ts.code);
      const { code, plan } = build(c.program, { kernels: "wasm" });
      const views = [...code.matchAll(/const (\w+) = new (Float32|Float64|Int32)Array\(heap, (\d+), (\d+)\);/g)].map((m) => ({ name: m[1]!, memory: "heap", start: Number(m[3]), end: Number(m[3]) + BYTES[m[2]!]! * Number(m[4]) }));
      const fixed = views.filter((v) => ["params", "grads", "moments"].includes(v.name));
      const top = Math.max(...fixed.map((v) => v.end));
      // The arena starts after params, grads and moments: find its base from any declared view.
      const declared = views.filter((v) => plan.buffers.some((b) => b.name === v.name));
      const bases = new Set(declared.map((v) => v.start - plan.buffers.find((b) => b.name === v.name)!.offset));
      expect(bases.size).toBeLessThanOrEqual(1);
      const base = [...bases][0] ?? top;
      expect(base).toBeGreaterThanOrEqual(top);
      // Values: the lifetimes from the TypeScript module's code (a kernel reads the operands its
      // TypeScript fallback would). Scratch: one step (the input copy and the packed named inputs aside), and no more than
      // the plan says.
      const live = (name: string): readonly [number, number] | undefined => {
        const b = plan.buffers.find((x) => x.name === name)!;
        if (b.what !== "scratch") return life.of.get(name);
        if (name !== "xIn" && name !== "xPacked") expect(b.first, name).toBe(b.last);
        return [b.first, b.last];
      };
      const regions = plan.buffers.map((b) => ({ name: b.name, memory: "arena", start: b.offset, end: b.offset + b.elements * BYTES[{ float32: "Float32", float64: "Float64", int32: "Int32" }[b.type]]! }));
      expect(clashes(regions, live, { graph: ts.graph, plan })).toEqual([]);
      // The input copy is made at the start of run.
      const xIn = plan.buffers.find((b) => b.name === "xIn");
      if (xIn !== undefined) expect(xIn.first).toBe(-1);
      // Everything is in the kernels' memory: the module allocates no arrays of its own.
      const model = loadModule(code).createModel();
      expect(allocated(code)).toBe(0);
      expect(model.meta.bytes % 65536).toBe(0);
      expect(model.meta.bytes).toBeGreaterThanOrEqual(base + plan.bytes);
    });
  }
});

describe("buffer plan: memory", () => {
  it("fashion-cnn: the arena is the peak of its lifetimes, at most half of its buffers unshared", () => {
    const p = program(readFileSync(join(root, "examples", "fashion-cnn.nn"), "utf8"));
    for (const kernels of ["js", "wasm"] as const) {
      const ts = build(p);
      const life = lifetimes(ts.graph, ts.code);
      const { plan } = build(p, { kernels });
      const bytes = (b: (typeof plan.buffers)[number]): number => b.elements * (b.type === "float64" ? 8 : 4);
      const span = (b: (typeof plan.buffers)[number]): readonly [number, number] => (b.what === "scratch" ? [b.first, b.last] : life.of.get(b.name)!);
      // The least any allocation can take: the most bytes live at one step.
      let peak = 0;
      for (let s = -1; s < plan.schedule.length; s++) peak = Math.max(peak, plan.buffers.filter((b) => overlap(span(b), [s, s])).reduce((t, b) => t + bytes(b), 0));
      expect(plan.bytes).toBeLessThanOrEqual(peak + 16 * plan.buffers.length);
      // Nothing of the convolutions' unfolded windows outlives its op (one sample's rows, in
      // scratch), and a max pool's positions share bytes with the float values: the ReLU
      // outputs that the backward pass reads, with their adjoints, are the peak.
      expect(plan.bytes).toBeLessThanOrEqual(plan.unsharedBytes / 2);
    }
  });
});

describe("buffer plan: behaviour", () => {
  const run = (model: CompiledModel): number[] => {
    const n = model.meta.maxBatch;
    const out: number[] = [];
    for (const rows of [n, Math.min(3, n), 1]) {
      const x = Float32Array.from({ length: n * model.meta.inputSize }, (_, i) => (Math.sin(i * 1.7) > 0.2 ? Math.cos(i * 0.37) : 0));
      const y = new Float32Array(n * model.meta.outputSize);
      for (let r = 0; r < n; r++) y[r * model.meta.outputSize + (r % model.meta.outputSize)] = 1;
      // Appended value by value: a large model's arrays would overflow the stack as spread arguments.
      const parts = [[model.trainStep(x, y, rows, 0.01)], model.output(), model.grads, model.forward(x, rows, true), model.predict(x, rows), [model.loss(x, y, rows)]];
      for (const part of parts) for (let i = 0; i < part.length; i++) out.push(part[i] as number);
    }
    for (let i = 0; i < model.params.length; i++) out.push(model.params[i] as number);
    return out;
  };
  for (const c of cases) {
    it(`${c.name}: shared buffers train bit-identically to a buffer each (TypeScript and wasm kernels)`, () => {
      for (const kernels of ["js", "wasm"] as const) {
        // At most 8 samples: the plan is the same at any batch, and a language model's steps make every sample costly.
        const maxBatch = Math.min(c.program.train.batch, 8);
        const shared = loadModule(build(c.program, { kernels, maxBatch }).code).createModel();
        const own = loadModule(build(c.program, { kernels, maxBatch, shareBuffers: false }).code).createModel();
        expect(shared.meta.bytes).toBeLessThanOrEqual(own.meta.bytes);
        const [a, b] = [run(shared), run(own)];
        expect(a.length).toBe(b.length);
        expect(a.every((v, i) => Object.is(v, b[i])), `${c.name} ${kernels}`).toBe(true);
      }
    });
  }
});
