import type { Command } from "commander";
import { writeFileSync } from "node:fs";
import { hasErrors } from "../../grammar/diagnostics.js";
import { parse } from "../../grammar/index.js";
import { printFile } from "../../grammar/print.js";
import { readSource, renderFor } from "../load.js";

/** `nnc fmt FILE...`: canonical layout. Skips (and reports) files with syntax errors rather than lose text. */
export function registerFmt(program: Command): void {
  program
    .command("fmt")
    .description("print .nn files in canonical layout (or rewrite them with --write)")
    .argument("<files...>", ".nn files to format")
    .option("-w, --write", "rewrite the files in place")
    .option("--check", "exit 1 if a file is not formatted, without changing it")
    .action((files: string[], opts: { write?: boolean; check?: boolean }) => {
      let unformatted = 0;
      let broken = 0;
      for (const file of files) {
        const read = readSource(file);
        if ("error" in read) {
          process.stderr.write(renderFor([{ ...read.error, file }], undefined, "text", process.stderr));
          broken++;
          continue;
        }
        const parsed = parse(read.source);
        if (hasErrors(parsed.diagnostics)) {
          const ds = parsed.diagnostics.map((d) => ({ ...d, file }));
          process.stderr.write(renderFor(ds, read.source, "text", process.stderr) + `\n${file}: not formatted because of syntax errors\n`);
          broken++;
          continue;
        }
        const text = printFile(parsed.value);
        if (opts.check === true) {
          if (text !== read.source) {
            unformatted++;
            process.stdout.write(`${file}: not formatted\n`);
          }
        } else if (opts.write === true) {
          if (text !== read.source) writeFileSync(file, text);
        } else process.stdout.write(text);
      }
      process.exitCode = unformatted > 0 || broken > 0 ? 1 : 0;
    });
}
