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
});
