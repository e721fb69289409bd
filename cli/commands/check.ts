import { Option, type Command } from "commander";
import { hasErrors, type Diagnostic } from "../../grammar/diagnostics.js";
import { loadFile, renderFor, type OutputFormat } from "../load.js";
import { summary, toJson, wantColor } from "../render.js";

/** `nnc check FILE...`: every problem of every file; exit 1 on any error. */
export function registerCheck(program: Command): void {
  program
    .command("check")
    .description("check .nn files for errors without compiling them")
    .argument("<files...>", ".nn files to check")
    .addOption(new Option("--format <format>", "how to print problems").choices(["text", "json"]).default("text"))
    .action((files: string[], opts: { format: string }) => {
      const format: OutputFormat = opts.format === "json" ? "json" : "text";
      const all: Diagnostic[] = [];
      let out = "";
      for (const file of files) {
        const loaded = loadFile(file);
        if ("error" in loaded) {
          all.push(loaded.error);
          if (format === "text") out += renderFor([loaded.error], undefined, format, process.stderr);
          continue;
        }
        all.push(...loaded.diagnostics);
        if (format === "text" && loaded.diagnostics.length > 0) out += renderFor(loaded.diagnostics, loaded.source, format, process.stderr) + "\n";
      }
      if (format === "json") process.stdout.write(JSON.stringify(all.map(toJson), null, 2) + "\n");
      else {
        process.stderr.write(out + summary(all, files.length, wantColor(process.stderr)));
        if (!hasErrors(all)) process.stdout.write(`${files.length === 1 ? files[0] : `${files.length} files`}: no errors\n`);
      }
      process.exitCode = hasErrors(all) ? 1 : 0;
    });
}
