#!/usr/bin/env node
/**
 * The `nnc` executable: a thin shim over the library. Each command lives in its own file under
 * `commands/` and registers itself on the program; user errors end in a rendered diagnostic
 * and a non-zero exit, never a stack trace.
 */
import { Command } from "commander";
import { readFileSync, realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { registerCheck } from "./commands/check.js";
import { registerFmt } from "./commands/fmt.js";
import { registerCompile } from "./commands/compile.js";
import { registerGradcheck } from "./commands/gradcheck.js";
import { registerTrain } from "./commands/train.js";
import { registerEval } from "./commands/eval.js";
import { registerPredict } from "./commands/predict.js";
import { registerSample } from "./commands/sample.js";
import { registerExport } from "./commands/export.js";
import { registerSearch } from "./commands/search.js";
import { registerExplain } from "./commands/explain.js";
import { registerFeatures } from "./commands/features.js";
import { registerQuantize } from "./commands/quantize.js";
import { CliError } from "./errors.js";

function packageVersion(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of ["..", "../.."]) {
    try {
      return (JSON.parse(readFileSync(join(here, up, "package.json"), "utf8")) as { version: string }).version;
    } catch {
      // try the next folder up (running from dist/cli or from cli/)
    }
  }
  return "0.0.0";
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name("nnc")
    .description("Compile and train neural networks described in .nn files")
    .version(packageVersion(), "-v, --version", "print the version")
    .helpOption("-h, --help", "show help")
    .showHelpAfterError("(run `nnc --help` for usage)")
    .configureHelp({ sortSubcommands: false });
  registerCheck(program);
  registerFmt(program);
  registerCompile(program);
  registerGradcheck(program);
  registerTrain(program);
  registerEval(program);
  registerPredict(program);
  registerSample(program);
  registerExport(program);
  registerSearch(program);
  registerExplain(program);
  registerFeatures(program);
  registerQuantize(program);
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync([...argv], { from: "user" });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (e) {
    if (e instanceof CliError) {
      process.stderr.write(e.rendered.endsWith("\n") ? e.rendered : e.rendered + "\n");
      return e.exitCode;
    }
    const ce = e as { code?: string; exitCode?: number };
    if (typeof ce.code === "string" && ce.code.startsWith("commander.")) {
      return ce.exitCode ?? 1;
    }
    throw e;
  }
}

const isEntry = process.argv[1] !== undefined && realpathSync(fileURLToPath(import.meta.url)) === realpathSync(process.argv[1]);
if (isEntry) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`nnc: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.stderr.write("This is a bug in nnc, not in your file. Please report it with the file that caused it.\n");
      process.exitCode = 70;
    },
  );
}
