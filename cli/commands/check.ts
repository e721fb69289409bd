import { Option, type Command } from "commander";
import { hasErrors, type Diagnostic } from "../../grammar/diagnostics.js";
import type { OpenedData } from "../../runtime/session.js";
import { loadFile, modelShape, renderFor, staticCheck, type OutputFormat } from "../load.js";
import { summary, toJson, wantColor } from "../render.js";
import { checkData, renderRun } from "../session.js";

/** What `nnc check` found in one file. */
export interface FileCheck {
  readonly diagnostics: readonly Diagnostic[];
  /** Rendered problems (text format). */
  readonly text: string;
  /** With `--data`, when the data opened: what training would see. */
  readonly data?: OpenedData;
}

/**
 * Every static check of one file: syntax, names and settings, then the shapes and limits
 * `nnc compile` checks (the same lowering, the file's batch); with `data`, also opens the data
 * as `nnc train` does before its first epoch. Prints nothing.
 */
export async function checkOne(file: string, opts: { data?: boolean; format?: OutputFormat } = {}): Promise<FileCheck> {
  const format = opts.format ?? "text";
  const loaded = loadFile(file);
  if ("error" in loaded) return { diagnostics: [loaded.error], text: format === "text" ? renderFor([loaded.error], undefined, format, process.stderr) : "" };
  const checked = staticCheck(loaded);
  const diagnostics: Diagnostic[] = [...checked.diagnostics];
  let text = format === "text" && diagnostics.length > 0 ? renderFor(diagnostics, loaded.source, format, process.stderr) + "\n" : "";
  if (!opts.data || checked.program === undefined || checked.graph === undefined) return { diagnostics, text };
  const opened = await checkData(file, checked.program, modelShape(checked.program, checked.graph));
  const found = opened.diagnostics.map((d) => (d.file === undefined ? { ...d, file } : d));
  for (const d of found) diagnostics.push(d);
  if (format === "text" && found.length > 0) text += renderRun(found, file, loaded.source) + "\n";
  return { diagnostics, text, ...(opened.value ? { data: opened.value } : {}) };
}

/** `nnc check FILE... [--data]`: every problem of every file; exit 1 on any error. */
export function registerCheck(program: Command): void {
  program
    .command("check")
    .description("check .nn files for errors (every check `compile` makes) without compiling them")
    .argument("<files...>", ".nn files to check")
    .option("--data", "also open each file's data as `nnc train` would (paths, columns, features, labels), without training")
    .addOption(new Option("--format <format>", "how to print problems").choices(["text", "json"]).default("text"))
    .action(async (files: string[], opts: { format: string; data?: boolean }) => {
      const format: OutputFormat = opts.format === "json" ? "json" : "text";
      const all: Diagnostic[] = [];
      let out = "";
      let notes = "";
      for (const file of files) {
        const r = await checkOne(file, { format, ...(opts.data ? { data: true } : {}) });
        for (const d of r.diagnostics) all.push(d);
        out += r.text;
        if (r.data && !hasErrors(r.diagnostics)) notes += `${file}: data ${describeData(r.data)}\n`;
      }
      if (format === "json") process.stdout.write(JSON.stringify(all.map(toJson), null, 2) + "\n");
      else {
        process.stderr.write(out + summary(all, files.length, wantColor(process.stderr)));
        if (!hasErrors(all)) process.stdout.write(notes + `${files.length === 1 ? files[0] : `${files.length} files`}: no errors\n`);
      }
      process.exitCode = hasErrors(all) ? 1 : 0;
    });
}

/** "120 training, 30 test samples of 4 features; 3 classes". */
function describeData(o: OpenedData): string {
  const d = o.data;
  const splits = [
    `${d.train.n} training`,
    ...(d.validation ? [`${d.validation.n} validation`] : []),
    ...(d.test ? [`${d.test.n} test`] : []),
  ];
  const t = o.task;
  const what = t.kind === "multiclass" ? `; ${t.classes} classes` : t.kind === "binary" ? "; 2 classes" : "";
  return `${splits.join(", ")} samples of ${d.train.features} feature${d.train.features === 1 ? "" : "s"}${what}`;
}
