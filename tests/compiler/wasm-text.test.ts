/**
 * `nnc compile --emit wat` prints the kernels in the WebAssembly text format. The reference
 * assembler (wabt, the WebAssembly binary toolkit) must turn that text into exactly the bytes
 * nnc's own writer embeds: the listing is the real program, and the writer agrees with the
 * specification's encoding instruction for instruction.
 */
import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import initWabt from "wabt";
import { checkSource } from "../../compiler/check.js";
import { Body, encodeModule, printModule } from "../../compiler/codegen/wasm/encode.js";
import { compileProgram } from "../../compiler/compile.js";

const root = join(import.meta.dirname, "..", "..");

/** The hex string the generated module embeds, as bytes. */
function embedded(code: string): Uint8Array {
  const m = /const kernelHex = \[([\s\S]*?)\]\.join\(""\);/.exec(code);
  if (m === null) throw new Error("no kernelHex in the module");
  const hex = (m[1] as string).replace(/[^0-9a-f]/g, "");
  return Uint8Array.from({ length: hex.length / 2 }, (_, i) => parseInt(hex.slice(2 * i, 2 * i + 2), 16));
}

describe("the wasm kernels' text format", () => {
  const examples = readdirSync(join(root, "examples")).filter((f) => f.endsWith(".nn"));
  for (const f of examples) {
    it(`${basename(f, ".nn")}: wabt assembles the listing into the embedded bytes`, async () => {
      const wabt = await initWabt();
      const program = checkSource(readFileSync(join(root, "examples", f), "utf8")).value!;
      const r = compileProgram(program, { target: "js", kernels: "wasm", emit: ["wat"] }).value!;
      expect(r.wat).toMatch(/^\(module\n {2}\(memory \(export "memory"\) \d+ \d+\)/);
      const parsed = wabt.parseWat(`${f}.wat`, r.wat!, { simd: true });
      parsed.validate();
      const { buffer } = parsed.toBinary({});
      parsed.destroy();
      expect(Buffer.from(buffer).equals(Buffer.from(embedded(r.code)))).toBe(true);
    });
  }

  it("constants print as their exact float32 values: -0, values between two floats, infinities", async () => {
    const wabt = await initWabt();
    const body = new Body(["f32"], ["x"]);
    for (const c of [-0, 0.1, 1.0000000596046448, 1e-7, 3.4e38, -Infinity]) body.get(0).f32(c).f32Add().drop();
    body.f32x4Const([-0, 0.1, Infinity, -1.0000000596046448]).drop();
    const fn = [{ name: "f", body }];
    const parsed = wabt.parseWat("consts.wat", printModule(1, fn), { simd: true });
    const { buffer } = parsed.toBinary({});
    parsed.destroy();
    expect(Buffer.from(buffer).equals(Buffer.from(encodeModule(1, fn)))).toBe(true);
  });
});
