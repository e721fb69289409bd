/**
 * A search file read for `nnc search`: its dimensions and its `search` settings, with every
 * problem of the ranges and the settings reported (NN2071–NN2075, NN2xxx of the settings).
 * Whether each range's values fit the setting it stands in is checked by substituting them
 * (`runtime/search.ts`), so that the one checker of settings says it.
 */
import type { SourceFile } from "../../grammar/ast.js";
import { hasErrors, type Result } from "../../grammar/diagnostics.js";
import { Checker } from "../check/checker.js";
import { findDims, type Dim } from "./space.js";
import { checkSearch, DEFAULT_SEARCH, type SearchSettings } from "./settings.js";

export * from "./space.js";
export * from "./settings.js";

export interface SearchFile {
  readonly dims: readonly Dim[];
  readonly settings: SearchSettings;
}

export function readSearch(file: SourceFile): Result<SearchFile | undefined> {
  const ck = new Checker();
  const dims = findDims(ck, file);
  const blocks = file.statements.filter((s) => s.keyword.name === "search");
  // A second `search` block is reported by the checker of the whole file.
  const first = blocks[0];
  const settings = first === undefined ? DEFAULT_SEARCH : checkSearch(ck, first);
  if (settings === undefined || hasErrors(ck.diagnostics)) return { value: undefined, diagnostics: ck.diagnostics };
  return { value: { dims, settings }, diagnostics: ck.diagnostics };
}
