/** Shape and setting checks of `lower` (NN3xxx): exact codes, spans, hints; all problems at once. */
import { describe, expect, it } from "vitest";
import { compileProgram } from "../../compiler/compile.js";
import { program, source } from "./programs.js";

function problems(src: string, maxBatch?: number) {
  const r = compileProgram(program(src), maxBatch === undefined ? {} : { maxBatch });
  expect(r.value).toBeUndefined();
  return r.diagnostics.map((d) => ({ code: d.code, line: d.span.line, message: d.message, hint: d.hint }));
}

describe("lower: shape checks", () => {
  it("cross_entropy after a 1-unit sigmoid", () => {
    const ds = problems(source({ layers: ["dense 4, relu", "dense 1, sigmoid"], loss: "cross_entropy" }));
    expect(ds).toEqual([
      {
        code: "NN3005",
        line: 7,
        message: "`cross_entropy` does not fit the model's output: it needs class probabilities from a `softmax` output layer",
        hint: "for two classes with 1 sigmoid unit, use `binary_cross_entropy`",
      },
    ]);
  });

  it("binary_cross_entropy after a 10-way softmax", () => {
    const ds = problems(source({ layers: ["dense 4, relu", "dense 10, softmax"], loss: "binary_cross_entropy" }));
    expect(ds).toEqual([
      {
        code: "NN3005",
        line: 7,
        message: "`binary_cross_entropy` does not fit the model's output: it needs a `sigmoid` output, not a 10-way softmax",
        hint: "use `cross_entropy` with softmax, or a `sigmoid` output",
      },
    ]);
  });

  it("softmax over one unit", () => {
    expect(problems(source({ layers: ["dense 1, softmax"], loss: "cross_entropy" })).map((d) => d.message)).toEqual([
      "`cross_entropy` does not fit the model's output: a softmax over 1 unit is always 1",
    ]);
  });

  it("reports every problem: softmax not last, dense fed an image, loss mismatch", () => {
    const ds = problems(source({ input: "[4, 4]", layers: ["dense 8, softmax", "dense 3, relu"], loss: "cross_entropy" }));
    expect(ds.map((d) => [d.code, d.line])).toEqual([
      ["NN3001", 4],
      ["NN3006", 4],
      ["NN3005", 7],
    ]);
    expect(ds[0]!.message).toBe("`dense` needs a flat input, but gets shape [4,4]");
    expect(ds[0]!.hint).toBe("add a `flatten` layer before it");
  });

  it("a model that ends in an image", () => {
    const ds = problems(source({ input: "[2, 3]", layers: ["dropout 0.1"], loss: "mse" }));
    expect(ds.map((d) => d.code)).toEqual(["NN3005"]);
    expect(ds[0]!.message).toContain("the output has shape [2,3]");
  });

  it("too many parameters, and buffers too large for the batch", () => {
    const ds = problems(source({ layers: ["dense 10000, relu", "dense 10000, relu", "dense 1"], loss: "mse" }));
    expect(ds.map((d) => d.code)).toEqual(["NN3009", "NN3011"]);
    expect(ds[0]!.message).toBe("the model has 100060001 parameters; the limit is 50000000");
    const big = problems(source({ input: "10", layers: ["dense 100000, relu", "dense 1"], loss: "mse" }), 1000);
    expect(big.map((d) => d.code)).toEqual(["NN3011"]);
  });

  it("a bad max batch", () => {
    const r = compileProgram(program(source({ layers: ["dense 1"], loss: "mse" })), { maxBatch: 0 });
    expect(r.diagnostics.map((d) => d.code)).toEqual(["NN3013"]);
  });

  it("accepts every example-like model without diagnostics", () => {
    const r = compileProgram(program(source({ input: "[28, 28]", layers: ["flatten", "dense 16, relu", "dropout 0.2", "dense 10, softmax"], loss: "cross_entropy" })));
    expect(r.diagnostics).toEqual([]);
    expect(r.value?.code).toContain("export function createModel()");
  });
});
