/**
 * `nnc compile FILE [-o OUT] [--target ts|js|onnx] [--weights W] [--emit ast|ir|fused|wat] [--max-batch N] [--float64] [--kernels js|wasm] [--explain]`:
 * writes the generated module (formatted with prettier), or prints a dump of a stage; an ONNX
 * file with `--target onnx` (`compile-onnx.ts`).
 */
import type { Command } from "commander";
import { compileProgram, MAX_BATCH_LIMIT, type CompileOutput } from "../../compiler/compile.js";
import type { Program } from "../../compiler/program.js";
import { formatCode } from "../../compiler/format.js";
import { dumpAst } from "../../grammar/print.js";
import { diag, hasErrors, type Result } from "../../grammar/diagnostics.js";
import { FILE_START } from "../../grammar/span.js";
import { statSync } from "node:fs";
import { writeFileAtomic } from "../../runtime/node/atomic.js";
import { CliError } from "../errors.js";
import { loadProgram, renderFor } from "../load.js";
import { intOption } from "../options.js";
import { compileOnnx } from "./compile-onnx.js";
import { compilePytorch } from "./compile-pytorch.js";

export interface CompileFlags {
  output?: string;
  target: string;
  emit?: string;
  maxBatch?: string;
  float64?: boolean;
  kernels: string;
  /** Also generate the explain methods (input gradients, layer activations). */
  explain?: boolean;
  /** With `--target onnx`: the weights file to export (default: the seeded initial weights). */
  weights?: string;
}

/** The flags' defaults, as `nnc compile FILE` runs with none given. */
export const DEFAULT_COMPILE_FLAGS: CompileFlags = { target: "ts", kernels: "js" };

/** Compiles a checked program as `nnc compile` does with these flags; diagnostics carry `file`. A bad `--max-batch` is a CliError. */
export function compileChecked(file: string, program: Program, flags: CompileFlags): Result<CompileOutput | undefined> {
  const maxBatch = intOption(flags.maxBatch, "--max-batch", 1, MAX_BATCH_LIMIT);
  const result = compileProgram(program, {
    target: flags.target as "ts" | "js",
    dtype: flags.float64 === true ? "float64" : "float32",
    kernels: flags.kernels as "js" | "wasm",
    ...(maxBatch !== undefined ? { maxBatch } : {}),
    ...(flags.explain === true ? { explain: true } : {}),
    emit: flags.emit === "ir" || flags.emit === "fused" || flags.emit === "wat" ? [flags.emit] : [],
  });
  return { value: result.value, diagnostics: result.diagnostics.map((d) => ({ ...d, file })) };
}

export function registerCompile(program: Command): void {
  program
    .command("compile")
    .description("compile a .nn file to a standalone TypeScript (or JavaScript) module")
    .argument("<file>", "the .nn file")
    .option("-o, --output <file>", "write the module here (default: print it)")
    .option("--target <target>", "ts, js, onnx (an .onnx file for inference; needs -o; docs/onnx.md) or pytorch (a PyTorch script and its prepared data, with -o; docs/interop.md)", DEFAULT_COMPILE_FLAGS.target)
    .option("--weights <file>", "with --target onnx: the weights.json `nnc train` wrote (default: the initial weights)")
    .option("--emit <stage>", "print a stage instead: ast, ir (after autodiff), fused, or wat (the wasm kernels, with --kernels wasm)")
    .option("--max-batch <n>", "largest batch the module accepts (default: the file's batch)")
    .option("--float64", "use Float64Array (for gradient checks)")
    .option("--kernels <kind>", "js (all TypeScript) or wasm (matrix products as WebAssembly SIMD kernels nnc writes into the module)", DEFAULT_COMPILE_FLAGS.kernels)
    .option("--explain", "also generate the explain methods: input gradients and every layer's activations (docs/explain.md)")
    .action(async (file: string, flags: CompileFlags) => {
      const bad = (what: string, expected: string, got: string): never => {
        throw new CliError(renderFor([diag("badCompileOption", FILE_START, [what, expected, got])], undefined, "text", process.stderr));
      };
      if (flags.target === "pytorch") {
        if (flags.output === undefined) bad("--output", "given with --target pytorch (the script and its data file are written there)", "missing");
        if (sameFile(file, flags.output as string)) bad("--output", "a file other than the .nn source (it would be overwritten)", flags.output as string);
        if (flags.weights !== undefined) bad("--weights", "given with --target onnx only (the PyTorch script starts from the seeded initial weights, or `--init W` when run)", flags.weights);
        const loaded = loadProgram(file);
        return compilePytorch(file, loaded.source, loaded.program, flags.output as string);
      }
      if (flags.target !== "ts" && flags.target !== "js" && flags.target !== "onnx") bad("--target", "ts, js, onnx or pytorch", flags.target);
      if (flags.emit !== undefined && !["ast", "ir", "fused", "wat"].includes(flags.emit)) bad("--emit", "ast, ir, fused or wat", flags.emit);
      if (flags.emit === "wat" && flags.kernels !== "wasm") bad("--emit", "wat together with --kernels wasm", flags.emit);
      if (flags.kernels !== "js" && flags.kernels !== "wasm") bad("--kernels", "js or wasm", flags.kernels);
      if (flags.kernels === "wasm" && flags.float64 === true) bad("--kernels", "js with --float64 (the wasm kernels are float32)", flags.kernels);
      if (flags.output !== undefined && sameFile(file, flags.output)) bad("--output", "a file other than the .nn source (it would be overwritten)", flags.output);
      if (flags.target === "onnx") return compileOnnx(file, flags, program.version() ?? "");
      if (flags.weights !== undefined) bad("--weights", "given with --target onnx only", flags.weights);
      const loaded = loadProgram(file);
      if (flags.emit === "ast") {
        process.stdout.write(dumpAst(loaded.ast));
        return;
      }
      const result = compileChecked(file, loaded.program, flags);
      const diagnostics = result.diagnostics;
      if (result.value === undefined || hasErrors(diagnostics)) {
        throw new CliError(renderFor(diagnostics, loaded.source, "text", process.stderr));
      }
      if (diagnostics.length > 0) process.stderr.write(renderFor(diagnostics, loaded.source, "text", process.stderr));
      if (flags.emit === "ir" || flags.emit === "fused" || flags.emit === "wat") {
        process.stdout.write(result.value[flags.emit] ?? "");
        return;
      }
      const code = await formatCode(result.value.code);
      if (flags.output === undefined) {
        process.stdout.write(code);
        return;
      }
      const failed = writeFileAtomic(flags.output, code);
      if (failed) throw new CliError(renderFor([failed], undefined, "text", process.stderr));
      process.stderr.write(`wrote ${flags.output}\n`);
    });
}

/** Whether two paths name the same existing file (through links, `./` and case of the path as written). */
function sameFile(a: string, b: string): boolean {
  try {
    const [x, y] = [statSync(a), statSync(b)];
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}
