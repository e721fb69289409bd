import type { Command } from "commander";
import { hasErrors } from "../../grammar/diagnostics.js";
import { parse } from "../../grammar/index.js";
import { printFile } from "../../grammar/print.js";
import { writeFileAtomic } from "../../runtime/node/atomic.js";
import { readSource, renderFor } from "../load.js";

/**
 * `nnc fmt FILE...`: canonical layout. Changes only the layout: a file with syntax errors, or
 * that is not UTF-8, is reported and left alone rather than lose text; a byte-order mark and
 * CRLF line ends are kept. `--write` replaces each file atomically (`writeFileAtomic`): a full
 * disk or a read-only folder is one message, and the file stays as it was.
 */
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
        const read = readSource(file, { strictUtf8: true });
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
        const text = keepEncoding(read.source, printFile(parsed.value));
        if (opts.check === true) {
          if (text !== read.source) {
            unformatted++;
            process.stdout.write(`${file}: not formatted\n`);
          }
        } else if (opts.write === true) {
          if (text === read.source) continue;
          // A linked source file is rewritten where it lives; the link stays.
          const failed = writeFileAtomic(file, text, { followLink: true });
          if (failed) {
            process.stderr.write(renderFor([failed], undefined, "text", process.stderr));
            broken++;
          }
        } else process.stdout.write(text);
      }
      process.exitCode = unformatted > 0 || broken > 0 ? 1 : 0;
    });
}

/** The printed text with the source's byte-order mark and CRLF line ends, when it had them. */
export function keepEncoding(source: string, printed: string): string {
  const bom = source.startsWith("\ufeff") && !printed.startsWith("\ufeff") ? "\ufeff" : "";
  const firstEnd = source.search(/\r?\n/);
  const crlf = firstEnd >= 0 && source[firstEnd] === "\r";
  return bom + (crlf ? printed.replace(/\r?\n/g, "\r\n") : printed);
}
