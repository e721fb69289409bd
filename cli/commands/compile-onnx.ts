/**
 * `nnc compile FILE --target onnx -o model.onnx [--weights W]`: the model as an ONNX file for
 * inference (opset 17; `compiler/codegen/onnx/`, `docs/onnx.md`), holding the weights of a
 * weights file that `nnc train` wrote — checked against the model as `predict` checks them — or,
 * without `--weights`, the seeded initial weights (NN5040 says so). The bytes go through the
 * one atomic write.
 */
import { compileToModule } from "../../compiler/load.js";
import { exportOnnx } from "../../compiler/codegen/onnx/model.js";
import { diag } from "../../grammar/diagnostics.js";
import { FILE_START } from "../../grammar/span.js";
import { writeFileAtomic } from "../../runtime/node/atomic.js";
import { readWeights } from "../../runtime/node/weights-file.js";
import { CliError } from "../errors.js";
import { loadProgram, renderFor } from "../load.js";
import { failOnErrors } from "../session.js";
import type { CompileFlags } from "./compile.js";

export async function compileOnnx(file: string, flags: CompileFlags & { weights?: string }, version: string): Promise<void> {
  const bad = (what: string, expected: string, got: string): never => {
    throw new CliError(renderFor([diag("badCompileOption", FILE_START, [what, expected, got])], undefined, "text", process.stderr));
  };
  if (flags.output === undefined) bad("--output", "a file with --target onnx (an .onnx model is binary)", "missing");
  if (flags.emit !== undefined) bad("--emit", "absent with --target onnx", flags.emit);
  if (flags.float64 === true) bad("--float64", "absent with --target onnx (the file is float32)", "given");
  if (flags.kernels !== "js") bad("--kernels", "absent with --target onnx (ONNX Runtime brings its own)", flags.kernels);
  if (flags.explain === true) bad("--explain", "absent with --target onnx", "given");
  if (flags.maxBatch !== undefined) bad("--max-batch", "absent with --target onnx (the batch dimension is dynamic)", flags.maxBatch);
  const output = flags.output as string;

  const { program, source } = loadProgram(file);
  // The module is the weights' reference: its layout says where each tensor sits.
  const compiled = compileToModule(program, { maxBatch: 1, kernels: "js" });
  failOnErrors(compiled.diagnostics.map((d) => ({ ...d, file })), file, source);
  const model = compiled.value!.createModel();
  let classes: readonly string[] | undefined;
  if (flags.weights !== undefined) {
    const read = readWeights(flags.weights, model);
    failOnErrors(read.diagnostics, file, source);
    classes = read.value!.preprocess.classes?.map(String);
  } else {
    model.init(program.model.seed);
    // Pointing at the model's first line (`model Name {`), not its whole block.
    const m = program.model.span;
    const eol = source.indexOf("\n", m.start);
    const end = eol < 0 || eol > m.end ? m.end : eol;
    const head = { ...m, end, endLine: m.line, endColumn: m.column + (end - m.start) };
    failOnErrors([diag("onnxUntrained", head, [output, program.model.seed], { hint: "pass --weights runs/<name>/weights.json (written by `nnc train`)" })], file, source);
  }
  const exported = exportOnnx(program, { layout: model.layout, params: model.params }, { version, ...(classes !== undefined ? { classes } : {}) });
  failOnErrors(exported.diagnostics.map((d) => ({ ...d, file })), file, source);
  const { bytes, graph } = exported.value!;
  const failed = writeFileAtomic(output, bytes);
  if (failed) throw new CliError(renderFor([failed], undefined, "text", process.stderr));
  process.stderr.write(`wrote ${output} (ONNX opset 17: ${graph.nodes.length} nodes, ${model.params.length} parameters)\n`);
}
