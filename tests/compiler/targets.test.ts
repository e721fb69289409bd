/**
 * Every target covers every op of the registry, and names no op the registry does not know:
 *
 * - TypeScript (`codegen/ts/lowering.ts`): a lowering for every op, and code for every
 *   elementwise activation and every loss.
 * - WebAssembly (`codegen/wasm/lowering.ts`): every op either in its table (it has kernels) or
 *   named in its TypeScript fallback list — never both, never neither.
 *
 * A new target is a new table and a new block here. Failures print the op's doc line.
 */
import { describe, expect, it } from "vitest";
import { allOps, isElementwiseActivation } from "../../compiler/ops/registry.js";
import { LOSS_KINDS } from "../../compiler/ops/losses.js";
import { TS_LOWERINGS } from "../../compiler/codegen/ts/lowering.js";
import { ACTIVATION_KINDS } from "../../compiler/codegen/ts/activations.js";
import { LOSS_CODE_KINDS } from "../../compiler/codegen/ts/losses.js";
import { TS_FALLBACK, WASM_LOWERINGS } from "../../compiler/codegen/wasm/lowering.js";

const ops = allOps();
const known = new Set(ops.map((o) => o.name));
/** `name: doc` of the ops for which `lacks` holds. */
const missing = (lacks: (op: string) => boolean): string[] => ops.filter((o) => lacks(o.name)).map((o) => `${o.name}: ${o.doc}`);
const unknown = (names: Iterable<string>): string[] => [...names].filter((n) => !known.has(n));

describe("the TypeScript target", () => {
  it("lowers every op", () => {
    expect(missing((op) => !TS_LOWERINGS.has(op))).toEqual([]);
  });

  it("lowers no op the registry lacks", () => {
    expect(unknown(TS_LOWERINGS.keys())).toEqual([]);
  });

  it("has code for every elementwise activation and every loss, and for nothing else", () => {
    const activations = ops.map((o) => o.name).filter(isElementwiseActivation);
    expect([...ACTIVATION_KINDS].sort()).toEqual([...activations].sort());
    expect([...LOSS_CODE_KINDS].sort()).toEqual([...LOSS_KINDS].sort());
  });
});

describe("the WebAssembly target", () => {
  it("lowers every op or names it as a TypeScript fallback", () => {
    expect(missing((op) => !WASM_LOWERINGS.has(op) && !TS_FALLBACK.has(op))).toEqual([]);
  });

  it("does not both lower an op and name it as a fallback", () => {
    expect([...WASM_LOWERINGS.keys()].filter((op) => TS_FALLBACK.has(op))).toEqual([]);
  });

  it("names no op the registry lacks", () => {
    expect(unknown([...WASM_LOWERINGS.keys(), ...TS_FALLBACK])).toEqual([]);
  });
});
