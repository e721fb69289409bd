/**
 * A tagger's data: `tagged(…)` sources. Every split is tagged sentences (a separate file or a
 * share), and their words are read as the file gives them (`tokenize words`).
 */
import type { DataSource, Tokenize } from "../program.js";
import type { Checker } from "./checker.js";

/** False after reporting a problem. `tokenize` is null when it was reported already. */
export function checkTagged(ck: Checker, sources: readonly DataSource[], tokenize: Tokenize | null | undefined, train: DataSource | undefined): boolean {
  const tagged = sources.filter((d) => d.kind === "tagged");
  if (tagged.length === 0) return true;
  if (tagged.length < sources.length) {
    // Point at the odd one out: the untagged source beside a tagged training file, else the tagged one.
    const odd = train?.kind === "tagged" ? sources.find((d) => d.kind !== "tagged") : tagged[0];
    const other = sources.find((d) => d.kind !== "tagged");
    const what = other?.kind === "generator" ? "generated samples" : `a \`${other?.kind ?? "other"}(…)\` source`;
    ck.report("taggedMixed", (odd ?? tagged[0]!).span, [what], "read every split with `tagged(…)`, or give the held-out splits as shares (`test 10%`)");
    return false;
  }
  if (tokenize !== undefined && tokenize !== null && tokenize.kind === "chars") {
    ck.report("taggedChars", tokenize.span, [], "write `tokenize words, length: …`: each word gets an id and a tag", [{ message: "the tagged sentences", span: tagged[0]!.span }]);
    return false;
  }
  return true;
}
