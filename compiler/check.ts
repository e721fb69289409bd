/**
 * AST → checked `Program`: names, kinds, settings and ranges (NN2xxx). Every problem of the
 * file is reported in one pass; the program is returned only when there are no errors. Each
 * part of the file is checked in `check/` (`model.ts`, `training.ts` for loss, optimizer and
 * metrics, `data.ts`, `train.ts`) with the tools of `check/checker.ts`. Shape checks (NN3xxx)
 * belong to `lower.ts`, which knows the shapes.
 */
import type { SourceFile } from "../grammar/ast.js";
import { hasErrors, sortDiagnostics, type Result } from "../grammar/diagnostics.js";
import { parse } from "../grammar/index.js";
import { FILE_START } from "../grammar/span.js";
import { TOP_LEVEL } from "./vocabulary.js";
import type { Metric, Optimizer, Program } from "./program.js";
import { Checker, uniqueStatements } from "./check/checker.js";
import { checkModel } from "./check/model.js";
import { checkBlocks } from "./check/blocks.js";
import { checkLoss, checkMetrics, checkOptimizer, DEFAULT_OPTIMIZER } from "./check/training.js";
import { checkCausal, checkData, checkEmbeddingFits, checkGeneratorFits, linkInputs } from "./check/data.js";
import { checkMonitor, checkTrain, DEFAULT_TRAIN } from "./check/train.js";
import { checkClassWeightLoss, checkTargetLoss } from "./check/train-fit.js";
import { findDims, firstConfig, replaceRanges, valueText } from "./search/space.js";
import { checkSearch } from "./search/settings.js";
import { checkQuantizable } from "./quantize/setting.js";

export function check(given: SourceFile): Result<Program | undefined> {
  const ck = new Checker();
  // Ranges are for `nnc search` (`docs/search.md`): here each is an error, and the rest of the
  // file is checked with every range at its low end or first option.
  const dims = findDims(ck, given);
  for (const d of dims) ck.report("rangeOutsideSearch", d.span, [d.kind], `run \`nnc search FILE\` to choose it, or write one value here, e.g. \`${valueText(d, d.start ?? firstConfig([d])[0]!)}\``);
  const searchS = given.statements.find((s) => s.keyword.name === "search");
  if (searchS !== undefined) checkSearch(ck, searchS);
  const file = replaceRanges(given, dims, firstConfig(dims));
  const blocks = checkBlocks(ck, file.statements.filter((s) => s.keyword.name === "block"));
  const top = uniqueStatements(ck, file.statements.filter((s) => s.keyword.name !== "block"), TOP_LEVEL, undefined);
  const modelS = top.get("model");
  const lossS = top.get("loss");
  const model = modelS === undefined ? undefined : checkModel(ck, modelS, blocks);
  if (modelS === undefined) ck.report("missingBlock", FILE_START, ["model"], "start with e.g. `model Net {` … `}`");
  const loss = lossS === undefined ? undefined : checkLoss(ck, lossS);
  if (lossS === undefined) ck.report("missingBlock", FILE_START, ["loss"], "add e.g. `loss cross_entropy` (classes) or `loss mse` (regression)");
  const optS = top.get("optimizer");
  const optimizer: Optimizer | undefined =
    optS === undefined
      ? DEFAULT_OPTIMIZER
      : checkOptimizer(ck, optS);
  const metS = top.get("metrics");
  const metrics: Metric[] = metS === undefined ? [{ kind: "loss", span: FILE_START }] : checkMetrics(ck, metS);
  const dataS = top.get("data");
  const checkedData = dataS === undefined ? undefined : checkData(ck, dataS);
  const data = checkedData === undefined || model === undefined || dataS === undefined ? checkedData : linkInputs(ck, model, checkedData, dataS);
  if (data !== undefined && model !== undefined) {
    checkEmbeddingFits(ck, model, data);
    checkGeneratorFits(ck, model, data);
    checkCausal(ck, model, data);
  }
  const trainS = top.get("train");
  const train = trainS === undefined ? DEFAULT_TRAIN : checkTrain(ck, trainS);
  if (train !== undefined) checkMonitor(ck, train, metrics);
  if (train !== undefined) checkClassWeightLoss(ck, train, loss);
  if (train?.quantize !== undefined && model !== undefined) checkQuantizable(ck, train.quantize, model);
  checkTargetLoss(ck, data, loss);
  const ds = ck.diagnostics;
  if (hasErrors(ds) || model === undefined || loss === undefined || optimizer === undefined || train === undefined || (dataS !== undefined && data === undefined)) {
    return { value: undefined, diagnostics: ds };
  }
  return { value: { model, loss, optimizer, metrics, data, train }, diagnostics: ds };
}

/** Parse and check: the front end in one call. */
export function checkSource(source: string): Result<Program | undefined> & { readonly ast: SourceFile } {
  const parsed = parse(source);
  const checked = check(parsed.value);
  const diagnostics = sortDiagnostics([...parsed.diagnostics, ...checked.diagnostics]);
  const value = hasErrors(parsed.diagnostics) ? undefined : checked.value;
  return { value, diagnostics, ast: parsed.value };
}
