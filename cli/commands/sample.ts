/**
 * `nnc sample FILE [--weights W] --prompt TEXT [--length N] [--temperature T] [--seed S]`: text
 * from a trained language model (a `text(…)` source, an output [steps, tokens]), read with the
 * tokenizer saved in the weights, seeded (`runtime/sample.ts`).
 */
import type { Command } from "commander";
import { inert } from "../../runtime/inert.js";
import { sample } from "../../runtime/sample.js";
import { tokens } from "../../runtime/text.js";
import { compileModel } from "../../runtime/node/model.js";
import { readWeights } from "../../runtime/node/weights-file.js";
import { intOption, KERNELS_HELP, kernelsOption, numberOption, seedOption } from "../options.js";
import { failOnErrors, weightsPathOf } from "../session.js";
import { CliError } from "../errors.js";
import { diag } from "../../grammar/diagnostics.js";
import { FILE_START } from "../../grammar/span.js";
import { loadProgram } from "../load.js";

interface SampleCliOptions {
  weights?: string;
  prompt: string;
  length: string;
  temperature: string;
  seed: string;
  kernels?: string;
}

export function registerSample(program: Command): void {
  program
    .command("sample")
    .description("write text with a trained language model")
    .argument("<file>", ".nn file of a language model (a `text(…)` source)")
    .option("--weights <file>", "weights file written by `nnc train` (default: runs/<file name>/weights.json)")
    .requiredOption("--prompt <text>", "the text to go on from")
    .option("--length <n>", "tokens to add", "200")
    .option("--temperature <t>", "1 samples the model's distribution, lower is safer, 0 always takes the likeliest token", "0.8")
    .option("--seed <n>", "seed of the draws", "1")
    .option("--kernels <kind>", KERNELS_HELP)
    .action((file: string, opts: SampleCliOptions) => {
      run(file, opts);
    });
}

function run(file: string, opts: SampleCliOptions): void {
  const length = intOption(opts.length, "--length", 1, 100_000)!;
  const temperature = numberOption(opts.temperature, "--temperature", 0, 100)!;
  const seed = seedOption(opts.seed)!;
  const { program, source } = loadProgram(file);
  const compiled = compileModel(program, "float32", kernelsOption(opts.kernels, "sample"));
  failOnErrors(compiled.diagnostics, file, source);
  const model = compiled.value!;
  const w = readWeights(weightsPathOf(file, opts.weights, source), model);
  failOnErrors(w.diagnostics, file, source);
  const tok = w.value!.preprocess.tokenizer;
  const shape = model.meta.outputShape;
  if (tok === undefined || shape.length !== 2 || shape[0] !== tok.length || program.data?.train.kind === "tagged") {
    const hint = "train it on a `text(…)` source (docs/sequences.md, \"Language models\"); for a classifier use `nnc predict`";
    failOnErrors([diag("notALanguageModel", FILE_START, [`[${shape.join(", ")}]`], { hint })], file, source);
    return;
  }
  if (tokens(opts.prompt, tok.kind, tok.lowercase).length === 0) {
    throw new CliError(`nnc sample: --prompt has no ${tok.kind === "chars" ? "character" : "word"} to start from\nhint: e.g. --prompt "Call me"`, 2);
  }
  const text = sample(model, tok, { prompt: opts.prompt, length, temperature, seed });
  // The tokens come from the training text: on a terminal they are made inert.
  process.stdout.write((process.stdout.isTTY ? inert(text, { keepNewlines: true }) : text) + "\n");
}
