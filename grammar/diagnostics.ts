/**
 * Diagnostics are data: a stable code, a severity, a message, a span, and a hint. Every
 * message nnc can print is one row of `MESSAGES`, referenced by name; a message's text takes
 * `{0}`, `{1}` … arguments. Codes are banded:
 *
 *   NN1xxx  syntax (tokens, structure)
 *   NN2xxx  names, kinds, settings and ranges
 *   NN3xxx  shapes (layers that cannot follow one another, loss against output)
 *   NN4xxx  data (files, columns, records)
 *   NN5xxx  training runs (divergence, checkpoints, weights)
 *
 * Nothing here is rendered: see `render.ts` for the terminal and JSON, and the playground for
 * editor markers.
 */
import type { Span } from "./span.js";

export type Severity = "error" | "warning" | "info";

export interface RelatedInfo {
  readonly message: string;
  readonly span: Span;
}

export interface Diagnostic {
  readonly code: string;
  readonly severity: Severity;
  readonly message: string;
  readonly span: Span;
  readonly hint?: string;
  /** Other places that explain this one ("first defined here"). */
  readonly related?: readonly RelatedInfo[];
  /** Path of the file, when known; filled in at the edge. */
  readonly file?: string;
}

interface MessageRow {
  readonly code: string;
  readonly severity: Severity;
  readonly text: string;
}

const row = (code: string, text: string, severity: Severity = "error"): MessageRow => ({
  code,
  severity,
  text,
});

/** Every message, by name. Keep codes stable: tests, docs and users refer to them. */
export const MESSAGES = {
  // ── NN1xxx syntax ──────────────────────────────────────────────────────────
  unexpectedCharacter: row("NN1001", "unexpected character {0}"),
  unterminatedString: row("NN1002", "unterminated string"),
  badEscape: row("NN1003", "unknown escape sequence {0} in string"),
  badNumber: row("NN1004", "malformed number {0}"),
  unexpectedToken: row("NN1010", "unexpected {0}"),
  expectedToken: row("NN1011", "expected {0} but found {1}"),
  missingCloseBrace: row("NN1012", "missing `}` to close the `{0}` block"),
  unmatchedCloseBrace: row("NN1013", "`}` without a matching `{`"),
  expectedValue: row("NN1014", "expected a value after {0}"),
  missingComma: row("NN1015", "missing `,` between arguments"),
  trailingComma: row("NN1016", "trailing `,` with nothing after it"),
  missingCloseParen: row("NN1017", "missing `)` to close the argument list of `{0}`"),
  missingCloseBracket: row("NN1018", "missing `]` to close the list"),
  nestingTooDeep: row("NN1019", "nesting too deep (more than {0} levels)"),
  singleQuoted: row("NN1020", "strings take double quotes, not single quotes"),
  expressionTooLong: row("NN1021", "expression too long (more than {0} operators)"),
  colonAfterSetting: row("NN1022", "no `{0}` is needed after `{1}`", "warning"),
  semicolon: row("NN1023", "statements end at the end of the line; `;` is not needed", "warning"),
  divisionByZero: row("NN1024", "division by zero"),

  // ── NN2xxx names, kinds, settings ──────────────────────────────────────────
  unknownBlock: row("NN2001", "unknown top-level setting `{0}`"),
  unknownKey: row("NN2002", "unknown setting `{0}` in the `{1}` block"),
  unknownLayer: row("NN2003", "unknown layer `{0}`"),
  unknownActivation: row("NN2004", "unknown activation `{0}`"),
  unknownLoss: row("NN2005", "unknown loss `{0}`"),
  unknownOptimizer: row("NN2006", "unknown optimizer `{0}`"),
  unknownMetric: row("NN2007", "unknown metric `{0}`"),
  unknownInitializer: row("NN2008", "unknown initializer `{0}`"),
  unknownSource: row("NN2009", "unknown data source `{0}`"),
  unknownArgument: row("NN2010", "`{0}` has no argument `{1}`"),
  unknownOption: row("NN2011", "unknown value `{0}` for `{1}`"),
  duplicateBlock: row("NN2012", "`{0}` is declared more than once"),
  duplicateArgument: row("NN2013", "argument `{0}` is given more than once"),
  duplicateLayerName: row("NN2014", "two layers are named `{0}`"),
  missingRequired: row("NN2015", "`{0}` needs {1}"),
  missingBlock: row("NN2016", "the file has no `{0}`"),
  wrongType: row("NN2017", "`{0}` expects {1}, but got {2}"),
  tooManyArguments: row("NN2018", "`{0}` takes at most {1} positional argument{2}"),
  outOfRange: row("NN2019", "`{0}` must be {1}, but is {2}"),
  notInteger: row("NN2020", "`{0}` must be a whole number, but is {1}"),
  blockExpected: row("NN2021", "`{0}` expects a `{ … }` block"),
  noBlockExpected: row("NN2022", "`{0}` takes no `{ … }` block"),
  inputNotFirst: row("NN2023", "`input` must come before the first layer"),
  missingInput: row("NN2024", "the model has no `input` shape"),
  noLayers: row("NN2025", "the model has no layers"),
  conflictingSettings: row("NN2026", "{0}"),
  ignoredSetting: row("NN2027", "{0}", "warning"),
  badName: row("NN2028", "`{0}` is not a valid layer name"),
  // graphs: named values, merges, blocks
  unknownValue: row("NN2030", "no value is named `{0}`"),
  valueUsedBeforeDefined: row("NN2031", "`{0}` is used before it is defined (line {1}): a value can only take earlier values, so the graph cannot have a cycle"),
  duplicateValueName: row("NN2032", "two values are named `{0}`"),
  unusedValue: row("NN2033", "the value `{0}` is never used", "warning"),
  unusedOutput: row("NN2034", "the output of `{0}` is never used", "warning"),
  unusedInput: row("NN2035", "the input `{0}` is never used", "warning"),
  tooManySources: row("NN2036", "`{0}` takes one value, but is given {1}"),
  mergeNeedsValues: row("NN2037", "`{0}` merges two or more values, but is given {1}"),
  inputNeedsName: row("NN2038", "a model with several inputs must name each of them"),
  blockRecursive: row("NN2039", "the block `{0}` uses itself"),
  blockInputCount: row("NN2040", "the block `{0}` takes {1} value{2}, but is given {3}"),
  unusedBlockParam: row("NN2041", "the block parameter `{0}` is never used", "warning"),
  unusedBlock: row("NN2042", "the block `{0}` is never used", "warning"),
  graphTooLarge: row("NN2043", "the model has more than {0} layers once its blocks and repeats are expanded"),
  notInBlock: row("NN2044", "`{0}` belongs in the model, not in a block"),
  badBlockHeader: row("NN2045", "a block is declared as `block name(parameters) { … }`"),
  unknownInputName: row("NN2046", "the model has no input named `{0}`"),
  looksAhead: row("NN2047", "a language model must not read later steps: {0}", "warning"),
  labelIsFeature: row("NN2048", "the label column `{0}` is also one of the features", "warning"),
  taggedChars: row("NN2050", "`tagged(…)` reads each sentence's words as its file gives them, so it takes `tokenize words`, not `tokenize chars`"),
  taggedMixed: row("NN2051", "`tagged(…)` sentences and {0} do not mix: a tagger reads every split as tagged sentences"),
  rangeOutsideSearch: row("NN2070", "`{0}(…)` is a search range: only `nnc search` chooses its value"),
  rangeArguments: row("NN2071", "`{0}` takes {1}"),
  rangeStart: row("NN2049", "`start: {0}` must be {1}"),
  rangeEmpty: row("NN2072", "`{0}({1}, {2})` is empty: the low end must be below the high end"),
  rangeNotPositive: row("NN2073", "`loguniform` needs a low end above 0, but is given {0}"),
  rangeNotInteger: row("NN2074", "`int` takes whole numbers, but is given {0}"),
  rangeNested: row("NN2075", "a range inside another range: `{0}(…)` in `{1}(…)`"),
  searchMetric: row("NN2076", "the search cannot optimize `{0}`: {1}"),
  searchBudgetRange: row("NN2077", "`epochs` cannot be a range with `{0}`: the epochs are its budget"),
  searchNoRanges: row("NN2078", "the file has no range to search: every trial is the same configuration", "warning"),
  searchGridCut: row("NN2079", "the grid has {0} configurations; `trials {1}` tries the first {1}", "warning"),
  pruneWindow: row("NN2081", "`prune` runs from the end of epoch {0} to the end of epoch {1}, which must lie within the run's {2} epochs, start first"),
  quantizeLayer: row("NN2082", "`quantize` cannot run layer `{0}` ({1}) after training: {2}"),
  quantizeNothing: row("NN2083", "`quantize` finds no dense or conv2d layer to run in int8: every step stays float ({0})", "warning"),
  searchRangeValue: row("NN2080", "the range `{0}` reaches a value the setting does not take: {1}"),
  // explanations (`nnc explain`, `nnc features`)
  noLayerNamed: row("NN2060", "the model has no layer named `{0}`"),
  unknownExplainMethod: row("NN2061", "`{0}` is not an attribution method"),
  badExplainTarget: row("NN2062", "the target `{0}` is not an output of this model: {1}"),
  badExplainOption: row("NN2063", "the option {0} must be {1}, but is `{2}`"),

  // ── NN3xxx shapes ──────────────────────────────────────────────────────────
  layerNeedsFlatInput: row("NN3001", "`{0}` needs a flat input, but gets shape {1}"),
  layerNeedsImageInput: row("NN3002", "`{0}` needs an image input [h, w, c], but gets shape {1}"),
  kernelTooLarge: row("NN3003", "{0} {1} is larger than its input {2}"),
  strideMismatch: row("NN3004", "stride {0} does not divide the input {1} evenly"),
  lossOutputMismatch: row("NN3005", "`{0}` does not fit the model's output: {1}"),
  softmaxNotLast: row("NN3006", "`softmax` is only supported on the last layer", "error"),
  emptyOutput: row("NN3008", "`{0}` produces an empty output of shape {1}"),
  tooManyParameters: row("NN3009", "the model has {0} parameters; the limit is {1}"),
  inputShapeInvalid: row("NN3010", "the input shape {0} is not supported: {1}"),
  bufferTooLarge: row("NN3011", "the model needs {0} of buffers at batch {1}; the limit is {2}"),
  layerNotCompiled: row("NN3012", "`{0}` layers are not supported by the compiler yet"),
  badCompileOption: row("NN3013", "the compile option {0} must be {1}, but is {2}"),
  wasmMemoryTooLarge: row("NN3014", "the wasm kernels would need {0} of memory at batch {1}; the limit is {2}, so the TypeScript kernels run instead", "warning"),
  noWasmSimd: row("NN3015", "this JavaScript engine has no WebAssembly SIMD, so the TypeScript kernels run instead", "warning"),
  optimizerNotInWasm: row("NN3016", "`{0}` has no wasm kernel: its update runs in TypeScript", "info"),
  mergeShapeMismatch: row("NN3017", "`{0}` cannot merge {1}"),
  layerNeedsSequenceInput: row("NN3018", "`{0}` needs a sequence input [steps, features], but gets shape {1}"),
  headsDoNotDivide: row("NN3019", "`{0}`: {1} heads do not divide the {2} features of each step"),
  maskNeedsEmbedding: row("NN3020", "`{0}` with `mask: true` needs an `embedding` before it, whose id 0 marks the padding"),
  noInputGradient: row("NN3031", "no gradient reaches the model's input: {0}"),
  gradcamNeedsImage: row("NN3032", "Grad-CAM needs an image layer [height, width, channels], but {0}"),
  onnxOpRefused: row("NN3040", "the ONNX target cannot export op `{0}` of {1}: it {2}"),
  pytorchNoLowering: row("NN3045", "the PyTorch target cannot carry {0}: {1}"),
  pytorchNotCarried: row("NN3046", "the PyTorch script leaves out {0}: {1}", "warning"),

  // ── NN4xxx data ────────────────────────────────────────────────────────────
  fileNotFound: row("NN4001", "cannot read {0}: {1}"),
  csvColumnCount: row("NN4002", "row has {0} columns, but the header has {1}"),
  csvNotNumeric: row("NN4003", "column `{0}` holds `{1}`, which is not a number"),
  csvMissingValue: row("NN4004", "column `{0}` has no value here ({1})"),
  csvNoColumn: row("NN4005", "there is no column `{0}`"),
  labelOutOfRange: row("NN4006", "label {0} is outside the {1} classes of the model"),
  idxTruncated: row("NN4007", "the IDX file is truncated: {0}"),
  idxBadMagic: row("NN4008", "not an IDX file: {0}"),
  dataShapeMismatch: row("NN4009", "samples have {0} features, but the model's input {1} needs {2}"),
  jsonInvalid: row("NN4010", "invalid JSON data: {0}"),
  emptyData: row("NN4011", "the data set is empty"),
  noData: row("NN4012", "the file declares no `data` block to {0}"),
  recordCountMismatch: row("NN4013", "{0} holds {1} records, but {2} holds {3}"),
  labelWidthMismatch: row("NN4014", "labels have {0} values per sample, but the model's output needs {1}"),
  noSplit: row("NN4015", "the data block declares no {0} split"),
  notUtf8: row("NN4016", "{0} is not UTF-8 text: {1}"),
  sideRowsMismatch: row("NN4017", "the side columns have {0} rows, but there are {1} images"),
  unknownCategory: row("NN4018", "column `{0}` holds `{1}`, a category the training data does not have"),
  unnormalizedFeatures: row("NN4019", "`{0}` spans {1} … {2} and is not normalized", "warning"),
  csvNoHeader: row("NN4020", "the file's first row holds numbers, not the names of the {0} columns it needs"),
  notFloat32: row("NN4040", "{0} holds {1}, which is not a finite float32 number (nnc trains in float32: at most ±3.4e38)"),
  csvDuplicateColumn: row("NN4043", "the header names `{0}` twice (columns {1} and {2})"),
  csvUnclosedQuote: row("NN4044", "this quote opens a cell that is never closed: the rest of the file went into it"),
  unknownClass: row("NN4042", "the labels hold {0}, which the weights do not know; their classes are {1}"),
  mixedLabels: row("NN4041", "the labels mix class numbers ({0}) and class names ({1})"),
  languageModelShape: row("NN4021", "a language model over {0} steps of {1} token ids does not fit a model with input {2} and {3} outputs"),
  taggedNoTag: row("NN4050", "`{0}` has no tag: each token of a tagged sentence is `word/TAG`"),
  unknownTag: row("NN4051", "the tag `{0}` is not one of the training sentences' tags ({1})"),
  taggerShape: row("NN4052", "a tagger over {0} steps with {1} tags does not fit a model with input {2} and {3} outputs"),
  classWithoutSamples: row("NN4030", "class `{0}` has no samples in the training split, so `class_weight balanced` cannot weigh it"),

  // ── NN5xxx runs, checkpoints, weights ──────────────────────────────────────
  diverged: row("NN5001", "training diverged: the loss became {0} at epoch {1}, batch {2}"),
  checkpointOtherModel: row("NN5002", "the checkpoint {0} was written for a different model"),
  checkpointCorrupt: row("NN5003", "the checkpoint {0} is damaged: {1}"),
  weightsMismatch: row("NN5004", "the weights file {0} does not fit this model: {1}"),
  cannotWrite: row("NN5005", "cannot write {0}: {1}"),
  noCheckpoint: row("NN5006", "no checkpoint to resume in {0}; starting from the beginning", "warning"),
  outputInUse: row("NN5007", "the output folder {0} is in use: {1}"),
  staleLock: row("NN5008", "took over the lock of {0}: {1}", "warning"),
  checkpointOtherRun: row("NN5009", "the checkpoint {0} belongs to another run: {1}"),
  lowSpace: row("NN5010", "{0} has {1} free, and this run writes about {2} there", "warning"),
  interrupted: row("NN5011", "interrupted by {0} {1}; the run so far is saved in {2}", "warning"),
  stoppedUnsaved: row("NN5012", "stopped at once by a second {0}: {1}", "warning"),
  workerLost: row("NN5013", "a training thread stopped in epoch {0}, batch {1}: {2}"),
  notALanguageModel: row("NN5014", "`nnc sample` needs a language model (a `text(…)` source with `tokenize`, one distribution per step), but this model's output is {0}"),
  predictLanguageModel: row("NN5015", "`nnc predict` reads samples for a classifier or a regression, but this is a language model (one distribution per step)"),
  onnxUntrained: row("NN5040", "no --weights given: {0} holds the model's initial weights (seed {1}), not trained ones", "warning"),
  searchLogTorn: row("NN5030", "the trial log {0} ends in an incomplete line; that trial runs again", "warning"),
  searchLogOther: row("NN5031", "the trial log {0} belongs to another search: {1}"),
  searchLogDamaged: row("NN5032", "the trial log {0} is damaged at line {1}: {2}"),
  trialFailed: row("NN5033", "trial {0} failed: {1}", "warning"),
  searchNoTrial: row("NN5034", "no trial of the search finished: {0}"),
  searchTimeUp: row("NN5035", "the search's time budget ({0} s) ran out after {1} trials", "info"),
  searchLogExists: row("NN5036", "{0} already holds a trial log"),
  pytorchData: row("NN5045", "the PyTorch target cannot prepare this run's data: {0}"),
  quantizeCalibrate: row("NN5050", "`--calibrate` takes a whole number of training samples from 1 to {1}, but is `{0}`"),
  quantizeCalibration: row("NN5051", "`--calibration` takes `minmax` or `percentile`, but is `{0}`"),
  quantizeCalibrateSplit: row("NN5053", "`quantize calibrate {0}` asks for more samples than the training split holds ({1})"),
  quantizeUnsupported: row("NN5052", "`nnc quantize` has neither an int8 kernel nor a float fallback for layer `{0}` ({1}): {2}"),
  searchWorkerLost: row("NN5060", "the search stopped: {0}"),
  incomplete: row("NN5020", "integrated gradients miss completeness by {0} (worst sample {1}): their sum is not F(x) − F(baseline)", "warning"),
} as const satisfies Record<string, MessageRow>;

export type MessageName = keyof typeof MESSAGES;

/** Longest piece of user text quoted in a message; longer text is cut with `…`. */
const MAX_QUOTED = 160;

function format(text: string, args: readonly (string | number)[]): string {
  return text.replace(/\{(\d)\}/g, (_, i: string) => {
    const arg = String(args[Number(i)] ?? "");
    return arg.length > MAX_QUOTED ? `${arg.slice(0, MAX_QUOTED - 1)}…` : arg;
  });
}

/** Builds a diagnostic from a row of the table. */
export function diag(
  name: MessageName,
  span: Span,
  args: readonly (string | number)[] = [],
  extra: { hint?: string; related?: readonly RelatedInfo[] } = {},
): Diagnostic {
  const m = MESSAGES[name];
  const d: Diagnostic = {
    code: m.code,
    severity: m.severity,
    message: format(m.text, args),
    span,
    ...(extra.hint !== undefined ? { hint: extra.hint } : {}),
    ...(extra.related !== undefined && extra.related.length > 0 ? { related: extra.related } : {}),
  };
  return d;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === "error");
}

/** Every stage returns its value with what it found; user errors are never thrown. */
export interface Result<T> {
  readonly value: T;
  readonly diagnostics: readonly Diagnostic[];
}

/** Sorts by position, then code, so output is stable. */
export function sortDiagnostics(ds: readonly Diagnostic[]): Diagnostic[] {
  return [...ds].sort((a, b) => a.span.start - b.span.start || a.code.localeCompare(b.code));
}
