/**
 * The row and pointwise kernels (`codegen/wasm/rows.ts`, `pointwise.ts`) against the TypeScript
 * lowerings they replace: the kernels' exp against Math.exp, and whole models compiled both
 * ways (attention with its causal mask and softmax, layer normalization's means, broadcasts and
 * sums, the heads' transposes and slices, ReLU's gradient, a per-step dense layer's weight
 * gradient summed sample by sample) giving the same loss, gradients and updated weights from
 * the same start — with widths that are and are not multiples of 4.
 */
import { describe, expect, it } from "vitest";
import { relative } from "./relative.js";
import { checkSource } from "../../compiler/check.js";
import { compileProgram } from "../../compiler/compile.js";
import { loadModule } from "../../compiler/load.js";
import { Body, encodeModule } from "../../compiler/codegen/wasm/encode.js";
import { expOnStack } from "../../compiler/codegen/wasm/rows.js";

declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
};

describe("the kernels' exp", () => {
  it("is within 2 float32 ulp of Math.exp, 0 at −Infinity and below −88", () => {
    // exp of 4 floats at 0 into 16.. , n times 4 at a time
    const f = new Body(["i32"], ["n"]);
    const at = f.local("i32", "at");
    const t = ["x", "k", "r"].map((x) => f.local("v128", x)) as [number, number, number];
    f.i32(0).set(at).loop();
    f.get(at).get(at).v128Load(0);
    expOnStack(f, t);
    f.v128Store(1 << 16);
    f.get(at).i32(16).i32Add().tee(at).get(0).i32LtU().brIf(0).end();
    const inst = new WebAssembly.Instance(new WebAssembly.Module(encodeModule(3, [{ name: "exp", body: f }])), {});
    const mem = new Float32Array((inst.exports["memory"] as { buffer: ArrayBuffer }).buffer);
    const xs: number[] = [-Infinity, -100, -88.5, 0, 1, -1, 0.5, 1e-8, -1e-8, 80, 87];
    for (let i = 0; xs.length < 4000; i++) xs.push(-87 + (174 * i) / 3989);
    xs.forEach((x, i) => (mem[i] = x));
    (inst.exports["exp"] as (n: number) => void)(xs.length * 4);
    let worst = 0;
    xs.forEach((x, i) => {
      const got = mem[(1 << 14) + i] as number;
      const want = Math.fround(Math.exp(Math.fround(x)));
      if (x < -88) return expect(got).toBe(0);
      const ulp = Math.max(Math.abs(want) * 2 ** -23, 2 ** -149);
      worst = Math.max(worst, Math.abs(got - want) / ulp);
    });
    expect(worst).toBeLessThanOrEqual(2);
  });
});

const source = (t: number, d: number, heads: number, hidden: number, classes: number): string => `
block decoder(heads, hidden) {
  x = input
  attention heads, causal: true
  add       x
  y = layernorm
  dense     hidden, relu
  dense     ${d}
  add       y
  layernorm
}

model Rows {
  seed       5
  input      ${t}
  embedding  ${classes}, ${d}
  positional
  decoder ${heads}, ${hidden}
  dense      ${classes}, softmax
}

loss      cross_entropy
optimizer adam(lr: 1e-2)

train {
  batch 6
}
`;

function compiled(src: string, kernels: "js" | "wasm"): { code: string; model: ReturnType<ReturnType<typeof loadModule>["createModel"]> } {
  const checked = checkSource(src);
  if (!checked.value) throw new Error(JSON.stringify(checked.diagnostics));
  const r = compileProgram(checked.value, { target: "js", kernels, maxBatch: 6 });
  if (!r.value) throw new Error(JSON.stringify(r.diagnostics));
  return { code: r.value.code, model: loadModule(r.value.code).createModel() };
}

describe("row and pointwise wasm kernels in a model", () => {
  for (const [t, d, heads, hidden, classes] of [
    [8, 16, 4, 32, 12],
    [7, 12, 3, 20, 9],
    [5, 6, 2, 10, 7],
  ] as [number, number, number, number, number][]) {
    it(`agree with the TypeScript lowering: T ${t}, D ${d}, ${heads} heads, hidden ${hidden}, ${classes} classes`, () => {
      const src = source(t, d, heads, hidden, classes);
      const ts = compiled(src, "js");
      const wasm = compiled(src, "wasm");
      // Softmax and its gradient run as kernels (rows of any width from 4, the last m % 4 values one by one), the mask when T is a multiple of 4.
      const rowKernels = (wasm.code.match(/= (softmax|softmax_grad|causal_mask)\(.*\n\s*\{\n\s*kernels\.\w+\(n\);/g) ?? []).length;
      expect(rowKernels).toBe((t % 4 === 0 ? 4 : 2) + 1);
      for (const op of ["transpose", "slice_grad", "mean", "sum_to", "broadcast", "rsqrt"]) expect(wasm.code).toMatch(new RegExp(`= ${op}\\(.*\\n\\s*\\{\\n\\s*kernels\\.\\w+\\(n\\);`));
      expect(wasm.code).toMatch(/per sample, .*added up over the batch/);
      expect((wasm.code.match(/causal: up to the diagonal/g) ?? []).length).toBe(t % 4 === 0 ? 2 : 0);
      wasm.model.params.set(ts.model.params);
      const n = 6;
      const x = new Float32Array(n * t).map((_, i) => (i * 7 + 3) % classes);
      const y = new Float32Array(n * t * classes).map((_, i) => (Math.floor(i / classes) * 5 + 2) % classes === i % classes ? 1 : 0);
      for (let step = 0; step < 3; step++) {
        const lossTs = ts.model.trainStep(x, y, n, 1e-2);
        const lossWasm = wasm.model.trainStep(x, y, n, 1e-2);
        expect(Math.abs(lossWasm - lossTs) / lossTs).toBeLessThan(1e-5);
        expect(relative(ts.model.grads, wasm.model.grads)).toBeLessThan(1e-4);
      }
      expect(relative(ts.model.params, wasm.model.params)).toBeLessThan(1e-4);
      // The predictions (the softmax over classes) agree too.
      ts.model.forward(x, n);
      wasm.model.forward(x, n);
      expect(relative(ts.model.output(), wasm.model.output())).toBeLessThan(1e-5);
    });
  }
});
