/**
 * `nnc export`: the module an application imports gives, for raw CSV rows fed as records (text
 * as read from the file, categories, NA), exactly what `nnc predict` prints for the same rows —
 * for 1 row and for 10,000 — for a classifier (iris), a two-input model with categorical
 * columns and missing values (penguins) and a regression (cars); a bad record is a RecordError
 * naming the column; hostile class names, columns and categories stay data.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import ts from "typescript";
import { beforeAll, describe, expect, it } from "vitest";
import { typeCheckModules } from "../fuzz/typecheck.js";
import { nnc, ROOT } from "./run-cli.js";
import { float32Text } from "../../runtime/float-text.js";

type Value = string | number | null;
type Rec = Record<string, Value>;
interface Prediction {
  label?: string | number;
  probabilities?: number[];
  value?: number;
}
interface Predictor {
  classes: readonly (string | number)[];
  inputs: readonly { name: string; columns: string[]; offset: number; size: number }[];
  predictRecord(r: Rec): Prediction;
  predictBatch(rs: readonly Rec[]): Prediction[];
}
interface AppModule {
  createPredictor(weights?: unknown): Predictor;
  RecordError: new (...a: never[]) => Error;
  classes: readonly unknown[];
  columns: readonly { name: string; offset: number; categories?: string[] }[];
  preprocessing: { shift: number[]; divide: number[] };
}

const tmp = mkdtempSync(join(tmpdir(), "nnc-export-"));
const example = (name: string): string => join(ROOT, "examples", name);
let imports = 0;

/** Imports a written module as an application would: .js as it is, .ts after transpiling. */
async function importApp(path: string): Promise<AppModule> {
  let js = readFileSync(path, "utf8");
  if (path.endsWith(".ts")) js = ts.transpileModule(js, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022 } }).outputText;
  const file = join(tmp, `import-${imports++}.mjs`);
  writeFileSync(file, js);
  return (await import(pathToFileURL(file).href)) as AppModule;
}

function ok(args: string[], cwd = tmp): string {
  const r = nnc(args, { cwd });
  if (r.code !== 0) throw new Error(`nnc ${args.join(" ")} exited ${r.code}:\n${r.stderr}`);
  return r.stdout;
}

/** A CSV without quoted cells → header and records of text cells, as a simple app reads it. */
function readCsv(text: string): { header: string; lines: string[]; records: Rec[] } {
  const [header, ...lines] = text.trim().split("\n");
  const names = header!.split(",");
  return { header: header!, lines, records: lines.map((l) => Object.fromEntries(l.split(",").map((c, i) => [names[i]!, c]))) };
}

/** The predictions as `nnc predict` prints its CSV. */
function asPredictCsv(ps: readonly Prediction[]): string[] {
  return ps.map((p) =>
    p.value !== undefined ? float32Text(p.value) : [String(p.label), ...p.probabilities!.map(float32Text)].join(","),
  );
}

/** `nnc predict` on these rows and the module on the same rows as records: the same lines. */
function samePredictions(predictor: Predictor, nn: string, weights: string, header: string, lines: string[], kernels = "js"): void {
  const input = join(tmp, `rows-${imports++}.csv`);
  writeFileSync(input, [header, ...lines].join("\n") + "\n");
  const printed = ok(["predict", nn, "--weights", weights, "--input", input, "--kernels", kernels]).trim().split("\n").slice(1);
  const { records } = readCsv([header, ...lines].join("\n"));
  const got = asPredictCsv(predictor.predictBatch(records));
  expect(got.length).toBe(lines.length);
  expect(got).toEqual(printed);
  if (lines.length === 1) expect(asPredictCsv([predictor.predictRecord(records[0]!)])).toEqual(printed);
}

const repeat = (lines: readonly string[], n: number): string[] => Array.from({ length: n }, (_, i) => lines[i % lines.length]!);

describe("nnc export", () => {
  const iris = readCsv(readFileSync(example("data/iris.csv"), "utf8"));
  beforeAll(() => {
    // Trained as a user would: runs/<name>/weights.json under the working directory.
    ok(["train", example("iris.nn"), "--epochs", "2", "--quiet"]);
    ok(["train", example("penguins.nn"), "--epochs", "2", "--quiet"]);
    ok(["train", example("cars-resmlp.nn"), "--epochs", "2", "--quiet"]);
  }, 120_000);

  it("iris: a .ts module (weights loaded at run time, --weights defaulting to runs/iris) predicts as `nnc predict`, 1 and 10,000 rows", async () => {
    ok(["export", example("iris.nn"), "-o", "iris-app.ts"]);
    const code = readFileSync(join(tmp, "iris-app.ts"), "utf8");
    expect(typeCheckModules(new Map([["iris_app", code]]))).toEqual([]);
    expect(code).not.toMatch(/^import /m);
    const app = await importApp(join(tmp, "iris-app.ts"));
    const weights = readFileSync(join(tmp, "runs/iris/weights.json"), "utf8");
    const predictor = app.createPredictor(weights);
    expect(predictor.classes).toEqual(["setosa", "versicolor", "virginica"]);
    expect(app.createPredictor(JSON.parse(weights)).predictRecord(iris.records[0]!)).toEqual(predictor.predictRecord(iris.records[0]!));
    const nn = example("iris.nn");
    const w = join(tmp, "runs/iris/weights.json");
    samePredictions(predictor, nn, w, iris.header, [iris.lines[60]!]);
    samePredictions(predictor, nn, w, iris.header, repeat(iris.lines, 10_000));
    // Numbers as numbers, the label column ignored.
    const r = iris.records[60]!;
    const numeric = Object.fromEntries(Object.entries(r).map(([k, v]) => [k, k === "species" ? v : Number(v)]));
    expect(predictor.predictRecord(numeric)).toEqual(predictor.predictRecord(r));
    // Other weights than the module's model or preprocessing are refused.
    expect(() => app.createPredictor(readFileSync(join(tmp, "runs/penguins/weights.json"), "utf8"))).toThrow(/parameters/);
    expect(() => app.createPredictor("{}")).toThrow(/not an nnc weights file/);
  });

  it("iris: --kernels wasm --embed-weights as .js matches `nnc predict` with its default kernels", async () => {
    ok(["export", example("iris.nn"), "-o", "iris-wasm.js", "--kernels", "wasm", "--embed-weights"]);
    const app = await importApp(join(tmp, "iris-wasm.js"));
    const predictor = app.createPredictor();
    samePredictions(predictor, example("iris.nn"), join(tmp, "runs/iris/weights.json"), iris.header, repeat(iris.lines, 10_000), "wasm");
  });

  it("iris with `normalize none`: identity preprocessing, never a division by 0", async () => {
    const nn = join(tmp, "iris-none.nn");
    writeFileSync(nn, readFileSync(example("iris.nn"), "utf8").replace("normalize standard", "normalize none").replace('"data/iris.csv"', JSON.stringify(example("data/iris.csv"))));
    ok(["train", nn, "--epochs", "2", "--quiet", "--out", "none"]);
    expect(JSON.parse(readFileSync(join(tmp, "none/weights.json"), "utf8")).preprocess.shift).toEqual([]);
    ok(["export", nn, "--weights", "none/weights.json", "-o", "none.js", "--embed-weights"]);
    const app = await importApp(join(tmp, "none.js"));
    expect(app.preprocessing.shift).toEqual([0, 0, 0, 0]);
    expect(app.preprocessing.divide).toEqual([1, 1, 1, 1]);
    const predictor = app.createPredictor();
    expect(predictor.predictRecord(iris.records[0]!).probabilities!.every(Number.isFinite)).toBe(true);
    samePredictions(predictor, nn, join(tmp, "none/weights.json"), iris.header, iris.lines);
    // The weights file loads too: its empty shift and divide are the identity.
    expect(() => app.createPredictor(readFileSync(join(tmp, "none/weights.json"), "utf8"))).not.toThrow();
  });

  it("penguins: two inputs and categorical columns; NA, unseen categories and missing columns are RecordErrors naming the column", async () => {
    ok(["export", example("penguins.nn"), "-o", "penguins.js", "--embed-weights"]);
    const app = await importApp(join(tmp, "penguins.js"));
    const predictor = app.createPredictor();
    expect(predictor.inputs.map((i) => [i.name, i.columns, i.offset, i.size])).toEqual([
      ["body", ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"], 0, 4],
      ["place", ["island", "sex"], 4, 5],
    ]);
    expect(app.columns.find((c) => c.name === "island")!.categories).toEqual(["Biscoe", "Dream", "Torgersen"]);
    const data = readCsv(readFileSync(example("data/penguins.csv"), "utf8"));
    // `missing: drop`: `nnc predict` drops rows with NA; the module refuses them, by column.
    const complete = data.lines.filter((l) => !l.split(",").includes("NA"));
    const nn = example("penguins.nn");
    const w = join(tmp, "runs/penguins/weights.json");
    samePredictions(predictor, nn, w, data.header, [complete[100]!]);
    samePredictions(predictor, nn, w, data.header, repeat(complete, 10_000));

    const good = readCsv([data.header, complete[0]!].join("\n")).records[0]!;
    const error = (f: () => unknown): Error & { column?: string; index?: number } => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(app.RecordError);
        return e as Error;
      }
      throw new Error("no error");
    };
    const na = error(() => predictor.predictRecord({ ...good, sex: "NA" }));
    expect(na.column).toBe("sex");
    expect(na.message).toContain('column "sex" is missing');
    const unseen = error(() => predictor.predictBatch([good, { ...good, island: "Atlantis" }]));
    expect([unseen.column, unseen.index]).toEqual(["island", 1]);
    expect(unseen.message).toBe('record 1: column "island" holds "Atlantis", a category not seen in training (known: "Biscoe", "Dream", "Torgersen")');
    const { body_mass_g: _, ...noMass } = good;
    expect(error(() => predictor.predictRecord(noMass)).message).toMatch(/^column "body_mass_g" is missing from the record/);
    expect(error(() => predictor.predictRecord({ ...good, bill_depth_mm: "deep" })).message).toBe('column "bill_depth_mm" holds "deep", which is not a number');
  });

  it("cars: a regression returns the value, as `nnc predict` prints it", async () => {
    ok(["export", example("cars-resmlp.nn"), "-o", "cars.ts", "--embed-weights"]);
    const code = readFileSync(join(tmp, "cars.ts"), "utf8");
    expect(typeCheckModules(new Map([["cars_app", code]]))).toEqual([]);
    const app = await importApp(join(tmp, "cars.ts"));
    const predictor = app.createPredictor();
    const data = readCsv(readFileSync(example("data/cars.csv"), "utf8"));
    const complete = data.lines.filter((l) => !l.split(",").includes("NA"));
    const nn = example("cars-resmlp.nn");
    const w = join(tmp, "runs/cars-resmlp/weights.json");
    samePredictions(predictor, nn, w, data.header, [complete[0]!]);
    samePredictions(predictor, nn, w, data.header, repeat(complete, 10_000));
    expect(typeof predictor.predictRecord(data.records[0]!).value).toBe("number");
  });

  it("names: a text model reads the text through the tokenizer fitted in training, as `nnc predict` does; a language model is refused", async () => {
    ok(["train", example("names.nn"), "--epochs", "1", "--quiet"]);
    ok(["export", example("names.nn"), "-o", "names-app.ts", "--embed-weights"]);
    const code = readFileSync(join(tmp, "names-app.ts"), "utf8");
    expect(typeCheckModules(new Map([["names_app", code]]))).toEqual([]);
    const app = await importApp(join(tmp, "names-app.ts"));
    const predictor = app.createPredictor();
    const names = readFileSync(example("data/names.csv"), "utf8").trim().split("\n");
    // Names with unknown characters, longer than the 16 ids, in another case: the same rows `nnc predict` reads.
    const rows = [...names.slice(1, 400), "ZOË,female", "Jean-Émile,male", "Maximilianoalexandros,male", "o'neil,female"].map((l) => l.split(","));
    const records = rows.map(([name, sex]) => ({ name: name!, sex: sex! }));
    samePredictions(predictor, example("names.nn"), join(tmp, "runs/names/weights.json"), "name,sex", rows.map((r) => r.join(",")));
    expect(predictor.predictBatch(records).length).toBe(rows.length);
    expect(() => predictor.predictRecord({ name: 3 as unknown as string })).toThrow(/column "name" holds number/);
    // Weights with another vocabulary are refused (the names are read another way).
    const weights = JSON.parse(readFileSync(join(tmp, "runs/names/weights.json"), "utf8"));
    weights.preprocess.tokenizer.tokens = [...weights.preprocess.tokenizer.tokens].reverse();
    expect(() => app.createPredictor(weights)).toThrow(/other preprocessing/);
  });

  it("without weights to read: NN4001 naming runs/<name>/weights.json", () => {
    const r = nnc(["export", example("xor.nn"), "-o", "xor.js"], { cwd: tmp });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("NN4001");
    expect(r.stderr).toContain(join("runs", "xor", "weights.json"));
    expect(nnc(["export", example("xor.nn"), "-o", "xor.txt"], { cwd: tmp }).stderr).toContain("NN3013");
  });

  it("hostile class names, column names and categories stay data: nothing runs on import, labels come back intact", async () => {
    const pwn = '"</script>"; globalThis.pwned=1; //';
    const names = [pwn, "a\u2028globalThis.pwned=2;//", "__proto__"];
    const column = "x\"]; globalThis.pwned=3; //";
    const category = "*/ globalThis.pwned=4; /*";
    const q = (s: string): string => `"${s.replace(/"/g, '""')}"`;
    const rows = [`${q(column)},b,${q("c*/")},label`];
    for (let i = 0; i < 60; i++) rows.push(`${i % 3},${(i * 7) % 5},${q(i % 2 ? category : "plain")},${q(names[i % 3]!)}`);
    writeFileSync(join(tmp, "hostile.csv"), rows.join("\n") + "\n");
    const nn = join(tmp, "hostile.nn");
    writeFileSync(nn, `model H {\n  input 4\n  dense 8, relu\n  dense 3, softmax\n}\nloss cross_entropy\noptimizer adam(lr: 0.05)\ndata {\n  train csv("hostile.csv", label: label, categorical: ["c*/"])\n  normalize standard\n}\ntrain {\n  epochs 30\n  batch 8\n}\n`);
    ok(["train", nn, "--quiet"]);
    for (const out of ["hostile.js", "hostile.ts"]) {
      ok(["export", nn, "-o", out, "--embed-weights"]);
      const code = readFileSync(join(tmp, out), "utf8");
      expect(code).not.toContain("</script>");
      if (out.endsWith(".ts")) expect(typeCheckModules(new Map([["hostile", code]]))).toEqual([]);
      const app = await importApp(join(tmp, out));
      expect((globalThis as { pwned?: unknown }).pwned).toBeUndefined();
      const predictor = app.createPredictor();
      expect(predictor.classes).toEqual([...names].sort());
      expect(app.columns.map((c) => c.name)).toEqual([column, "b", "c*/"]);
      const records = rows.slice(1).map((l, i) => ({ [column]: l.split(",")[0]!, b: l.split(",")[1]!, "c*/": i % 2 ? category : "plain" }));
      const labels = predictor.predictBatch(records).map((p) => p.label);
      for (const l of labels) expect(names).toContain(l);
      expect(new Set(labels).size).toBeGreaterThan(1);
      expect((globalThis as { pwned?: unknown }).pwned).toBeUndefined();
    }
  });
});
