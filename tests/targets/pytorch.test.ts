/**
 * `nnc compile --target pytorch`: the generated script, run by Debian's torch, trains as nnc
 * does (the same losses for 100 steps from the same initial weights and batches, dense and
 * conv, and for every sequence layer), trains on 2 DDP ranks as on one process, and writes weights that `nnc eval` scores as
 * the script did; the lowering table covers every layer kind, loss and optimizer or refuses it
 * with NN3045; a hostile layer name stays a string literal. The torch tests skip, saying why,
 * where `python3-torch` is missing.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { PYTHON, torchEnv, torchMissing } from "../../bench/systems/torch.js";
import { compilePytorch, openPytorchSession } from "../../cli/commands/compile-pytorch.js";
import type { Session } from "../../runtime/session.js";
import { loadProgram } from "../../cli/load.js";
import { emitPytorch } from "../../compiler/codegen/pytorch/index.js";
import { PYTORCH_LAYERS } from "../../compiler/codegen/pytorch/layers.js";
import { PYTORCH_LOSSES, PYTORCH_OPTIMIZERS } from "../../compiler/codegen/pytorch/training.js";
import { LAYER_DEFS } from "../../compiler/layers/index.js";
import { OPTIMIZER_DEFS } from "../../compiler/optimizers/index.js";
import { LOSS_KINDS } from "../../compiler/ops/losses.js";
import { check } from "../../compiler/check.js";
import { parse } from "../../grammar/index.js";
import { evaluate } from "../../runtime/batches.js";
import { nncInProcess } from "../cli/in-process.js";
import { decodeWeights } from "../../runtime/weights.js";

const ROOT = join(import.meta.dirname, "../..");
const missing = torchMissing();
if (missing !== undefined) console.warn(`tests/targets/pytorch.test.ts: the PyTorch runs skip: ${missing}`);
const tmp = mkdtempSync(join(tmpdir(), "nnc-pytorch-"));

/** Compiles an example (or a file) to `dir/model.py` + `dir/model.nndata`; the session (float32, TypeScript kernels) trains it in nnc. */
async function compileTo(file: string, dir: string): Promise<{ script: string; session: Session }> {
  const loaded = loadProgram(file);
  const out = join(dir, "model.py");
  const session = await openPytorchSession(file, loaded.source, loaded.program);
  const err = process.stderr.write;
  process.stderr.write = () => true;
  try {
    await compilePytorch(file, loaded.source, loaded.program, out, session);
  } finally {
    process.stderr.write = err;
  }
  return { script: out, session };
}

function python(args: readonly string[], env: NodeJS.ProcessEnv = {}): string {
  const r = spawnSync(PYTHON, args, { env: { ...torchEnv(), ...env }, encoding: "utf8", timeout: 60_000 });
  if (r.status !== 0) throw new Error(`python ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** nnc's own losses for the first `steps` batches, from its seeded initial weights. */
function nncLosses(s: Session, steps: number): number[] {
  s.trainer.init();
  const losses: number[] = [];
  while (losses.length < steps && !s.trainer.done) {
    s.trainer.beginEpoch();
    for (let b = s.trainer.step(); b && losses.length < steps; b = s.trainer.step()) losses.push(b.loss);
    s.trainer.endEpoch();
  }
  return losses;
}

function worstRelative(a: readonly number[], b: readonly number[]): number {
  expect(a.length).toBe(b.length);
  return Math.max(...a.map((x, i) => Math.abs(x - (b[i] as number)) / Math.max(1e-12, Math.abs(x))));
}

const example = (name: string): string => join(ROOT, "examples", name);

/** Iris compiled once; one 100-step run of its script on one process serves the parity, DDP and weights tests. */
const iris: { dir: string; script: string; session?: Session; figures?: Figures } = { dir: "", script: "" };
beforeAll(async () => {
  if (missing !== undefined) return;
  iris.dir = mkdtempSync(join(tmp, "iris-"));
  ({ script: iris.script, session: iris.session } = await compileTo(example("iris.nn"), iris.dir));
  iris.figures = lastJson(python([iris.script, "--steps", "100", "--out", join(iris.dir, "one"), "--losses", join(iris.dir, "losses.txt")]));
}, 60_000);

function lastJson(out: string): Figures {
  const lines = out.trim().split("\n");
  return JSON.parse(lines[lines.length - 1] as string) as Figures;
}

interface Figures {
  split: string;
  loss: number;
  accuracy: number;
}

describe("the PyTorch script trains as nnc does", () => {
  // The dense and conv examples for 100 steps; this folder's fixtures (every sequence layer; uneven
  // `same` padding, batchnorm, SGD with clipping and a schedule over 3 epochs) for 50 and 60; the
  // other losses, Lion and several inputs for 30.
  const cases = [
    { name: "iris.nn", steps: 100 },
    { name: "digits-cnn.nn", steps: 100 },
    { name: "../tests/targets/fixtures/names-seq.nn", steps: 50 },
    { name: "../tests/targets/fixtures/digits-pads.nn", steps: 60 },
    // the layers' l1/l2 penalties, in the loss and its gradient, under norm clipping
    { name: "../tests/targets/fixtures/digits-penalties.nn", steps: 60 },
    // binary cross-entropy; mse with a residual `add`; Lion; two inputs joined by `concat`
    { name: "xor.nn", steps: 30 },
    { name: "penguins.nn", steps: 30 },
    { name: "cars-resmlp.nn", steps: 30 },
    { name: "digits-mlp.nn", steps: 30 },
  ];
  for (const { name, steps } of cases) {
    it.skipIf(missing !== undefined)(`${name}: ${steps} steps, losses within 1e-4 relative`, async () => {
      let [dir, session] = [iris.dir, iris.session as Session];
      let torchRun: Promise<{ code: number | null; err: string }> | undefined;
      if (name !== "iris.nn") {
        dir = mkdtempSync(join(tmp, "parity-"));
        const compiled = await compileTo(example(name), dir);
        session = compiled.session;
        // PyTorch trains while nnc does.
        torchRun = run([compiled.script, "--steps", String(steps), "--out", dir, "--losses", join(dir, "losses.txt")], {});
      }
      const ours = nncLosses(session, steps);
      const done = await torchRun;
      expect(done?.code ?? 0, done?.err).toBe(0);
      const torch = readFileSync(join(dir, "losses.txt"), "utf8").trim().split("\n").map(Number).slice(0, steps);
      const worst = worstRelative(ours, torch);
      console.log(`${name}: worst relative loss difference over ${steps} steps ${worst.toExponential(2)} (loss ${ours[0]?.toFixed(4)} → ${ours[steps - 1]?.toFixed(4)})`);
      expect(ours).toHaveLength(steps);
      expect(worst).toBeLessThan(1e-4);
      // Training moved: the last ten losses are below the first ten.
      const mean = (a: readonly number[]): number => a.reduce((t, v) => t + v, 0) / a.length;
      expect(mean(ours.slice(-10))).toBeLessThan(mean(ours.slice(0, 10)) * 0.98);
    });
  }
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function run(args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(PYTHON, args, { env: { ...torchEnv(), ...env }, stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => p.kill(), 60_000);
    p.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, err });
    });
  });
}

const paramsOf = (path: string): number[] => (JSON.parse(readFileSync(path, "utf8")) as { params: number[] }).params;

describe("DistributedDataParallel", () => {
  it.skipIf(missing !== undefined)("2 ranks (gloo, 127.0.0.1) reach the weights of 1 process with the same global batch", async () => {
    const port = String(await freePort());
    const ranks = await Promise.all(
      [0, 1].map((rank) => run([iris.script, "--steps", "100", "--out", join(iris.dir, "two")], { MASTER_ADDR: "127.0.0.1", MASTER_PORT: port, WORLD_SIZE: "2", RANK: String(rank) })),
    );
    for (const r of ranks) expect(r.code, r.err).toBe(0);
    const [two, one] = [paramsOf(join(iris.dir, "two", "weights.json")), paramsOf(join(iris.dir, "one", "weights.json"))];
    expect(two).toHaveLength(one.length);
    const worst = Math.max(...one.map((v, i) => Math.abs(v - (two[i] as number))));
    const scale = Math.max(...one.map(Math.abs));
    console.log(`DDP 2 ranks vs 1 process after 100 steps of iris: largest weight difference ${worst.toExponential(2)} (weights up to ${scale.toFixed(2)})`);
    expect(worst).toBeLessThan(1e-5 * scale);
  });
});

describe("weights both ways", () => {
  it.skipIf(missing !== undefined)("weights.json from the PyTorch run: nnc eval gives the script's own test loss and accuracy, and back", async () => {
    const theirs = iris.figures as Figures;
    const weights = join(iris.dir, "one", "weights.json");
    const s = iris.session as Session;
    s.trainer.init();
    const initial = Float32Array.from(s.model.params);
    const w = decodeWeights(readFileSync(weights, "utf8"), s.model, "weights.json");
    expect(w.diagnostics).toEqual([]);
    s.model.params.set(w.value!.params);
    expect(s.model.params).not.toEqual(initial);
    const ours = evaluate(s.model, s.data.test!, s.task, ["accuracy"]);
    console.log(`iris after 100 PyTorch steps: script test accuracy ${theirs.accuracy}, loss ${theirs.loss}; nnc eval of its weights.json ${ours["accuracy"]}, ${ours["loss"]}`);
    expect(theirs.split).toBe("test");
    expect(ours["accuracy"]).toBe(theirs.accuracy);
    expect(Math.abs((ours["loss"] as number) - theirs.loss)).toBeLessThan(1e-5 * Math.max(1, theirs.loss));
    expect(theirs.accuracy).toBeGreaterThan(0.85);
    // And back: the weights.json loads into the module (load_nnc_weights) and scores the same there.
    const back = lastJson(python([iris.script, "--init", weights, "--eval-only"]));
    expect(back.accuracy).toBe(theirs.accuracy);
    expect(Math.abs(back.loss - theirs.loss)).toBeLessThan(1e-6);
  });
});

describe("the lowering table", () => {
  it("covers every layer kind, loss and optimizer, or refuses it with its reason", () => {
    for (const d of LAYER_DEFS) {
      const r = PYTORCH_LAYERS[d.word];
      expect(r, `layer ${d.word} has no entry in compiler/codegen/pytorch/layers.ts`).toBeDefined();
      if (r !== undefined && "refuse" in r) expect(r.refuse.length).toBeGreaterThan(20);
    }
    for (const d of OPTIMIZER_DEFS) expect(PYTORCH_OPTIMIZERS[d.word], `optimizer ${d.word}`).toBeDefined();
    for (const k of LOSS_KINDS) expect(PYTORCH_LOSSES[k], `loss ${k}`).toBeDefined();
  });

  it("a refused layer is NN3045 at its line, with the reason", () => {
    const program = checked(readFileSync(example("names-lstm.nn"), "utf8"));
    const r = emitPytorch(program, { dataFile: "m.nndata", script: "m.py", source: "names-lstm.nn" });
    expect(r.value).toBeUndefined();
    const d = r.diagnostics.find((x) => x.code === "NN3045" && x.message.includes("`lstm`"));
    expect(d?.message).toMatch(/cannot carry `lstm`: `mask: true`/);
    expect(d?.span.line).toBe(lineOf(readFileSync(example("names-lstm.nn"), "utf8"), /^\s*lstm/));
  });
});

describe("every example", () => {
  it("becomes a script Python parses, or is refused with NN3045 at the layers it cannot carry", () => {
    const dir = mkdtempSync(join(tmp, "examples-"));
    const written: string[] = [];
    for (const name of readdirSync(join(ROOT, "examples")).filter((f) => f.endsWith(".nn"))) {
      const r = emitPytorch(checked(readFileSync(example(name), "utf8")), { dataFile: "m.nndata", script: "m.py", source: name });
      const errors = r.diagnostics.filter((d) => d.severity === "error");
      if (r.value === undefined) {
        expect(errors.length, name).toBeGreaterThan(0);
        expect(errors.every((d) => d.code === "NN3045"), name).toBe(true);
        continue;
      }
      expect(errors, name).toEqual([]);
      const path = join(dir, name.replace(/\.nn$/, ".py"));
      writeFileSync(path, r.value);
      written.push(path);
    }
    expect(written.length).toBeGreaterThanOrEqual(10);
    const out = spawnSync(PYTHON, ["-c", "import ast, sys\nfor p in sys.argv[1:]: ast.parse(open(p, encoding='utf-8').read(), p)", ...written], { encoding: "utf8" });
    expect(out.status, out.stderr).toBe(0);
  });
});

describe("nnc compile --target pytorch on the command line", () => {
  it("a layer the target refuses: NN3045 at file:line:col, a non-zero exit, nothing written", async () => {
    const out = join(mkdtempSync(join(tmp, "cli-")), "model.py");
    const r = await nncInProcess("compile", example("names-lstm.nn"), "--target", "pytorch", "-o", out);
    expect(r.code).not.toBe(0);
    const line = lineOf(readFileSync(example("names-lstm.nn"), "utf8"), /^\s*lstm/);
    expect(r.err).toMatch(new RegExp(`names-lstm\\.nn:${line}:\\d+.*NN3045`));
    expect(r.err).not.toMatch(/\n\s+at /);
    expect(existsSync(out)).toBe(false);
  });

  const spiral = (train: string): string => `model S {
  input 2
  dense 8, relu
  dense 3, softmax
}
loss cross_entropy
optimizer adam
data {
  train spiral(size: 120, seed: 1)
  validation 20%
}
train {
  epochs 2
  batch  16
${train}
}
`;

  it("early_stop: the NN3046 warning at its line, and the script is written", async () => {
    const dir = mkdtempSync(join(tmp, "cli-"));
    writeFileSync(join(dir, "s.nn"), spiral("  early_stop patience 3"));
    const r = await nncInProcess("compile", join(dir, "s.nn"), "--target", "pytorch", "-o", join(dir, "s.py"));
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/s\.nn:15:3 - warning NN3046: the PyTorch script leaves out `early_stop`/);
    expect(existsSync(join(dir, "s.py")) && existsSync(join(dir, "s.nndata"))).toBe(true);
  });

  it("class_weight: the NN3046 warning at its line, and the script is written", async () => {
    const dir = mkdtempSync(join(tmp, "cli-"));
    writeFileSync(join(dir, "s.nn"), spiral("  class_weight [1, 2, 1]"));
    const r = await nncInProcess("compile", join(dir, "s.nn"), "--target", "pytorch", "-o", join(dir, "s.py"));
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/s\.nn:15:3 - warning NN3046: the PyTorch script leaves out `class_weight`: the script weighs every sample alike/);
    expect(existsSync(join(dir, "s.py"))).toBe(true);
  });

  it("reduce_on_plateau: NN5045 at its line, nothing written", async () => {
    const dir = mkdtempSync(join(tmp, "cli-"));
    writeFileSync(join(dir, "s.nn"), spiral("  schedule reduce_on_plateau"));
    const r = await nncInProcess("compile", join(dir, "s.nn"), "--target", "pytorch", "-o", join(dir, "s.py"));
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/s\.nn:15:12 - error NN5045: .*`reduce_on_plateau`/);
    expect(existsSync(join(dir, "s.py"))).toBe(false);
  });

  it("without -o: NN3013, since the script and its data file are two files", async () => {
    const r = await nncInProcess("compile", example("iris.nn"), "--target", "pytorch");
    expect(r.code).not.toBe(0);
    expect(r.err).toContain("NN3013");
    expect(r.err).toContain("--output");
  });
});

function checked(source: string): import("../../compiler/program.js").Program {
  const parsed = parse(source);
  const c = check(parsed.value);
  expect(c.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return c.value!;
}

function lineOf(source: string, re: RegExp): number {
  return source.split("\n").findIndex((l) => re.test(l)) + 1;
}

describe("text from the file stays data", () => {
  const hostile = 'x"""\\nimport os; os.system(\'touch /tmp/pwned\')\\n"""';
  const source = `model M {
  input 4
  dense 8, relu, name: "${hostile.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"
  dense 3, softmax
}
loss cross_entropy
optimizer adam
`;
  it("a hostile layer name is one string literal in valid Python", () => {
    const program = checked(source);
    const name = program.model.layers[0]!.name;
    expect(name).toContain('"""');
    const r = emitPytorch(program, { dataFile: 'd"\n.nndata', script: "m.py", source: "evil\n\"\"\"import os.nn" });
    expect(r.diagnostics).toEqual([]);
    const dir = mkdtempSync(join(tmp, "hostile-"));
    writeFileSync(join(dir, "m.py"), r.value!);
    // Parse it (no torch needed) and read back what the file's text became: string constants only.
    const out = spawnSync(
      PYTHON,
      [
        "-c",
        `import ast, json, sys
tree = ast.parse(open(sys.argv[1], encoding="utf-8").read())
imports = sorted({a.name for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names})
tensors = next(n.value for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == "NNC_TENSORS")
data = next(n.value for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == "DATA")
print(json.dumps({"imports": imports, "keys": [k.value for k in tensors.keys], "data": data.args[1].value}))`,
        join(dir, "m.py"),
      ],
      { encoding: "utf8" },
    );
    expect(out.status, out.stderr).toBe(0);
    const seen = JSON.parse(out.stdout) as { imports: string[]; keys: string[]; data: string };
    expect(seen.imports).toEqual(["argparse", "json", "numpy", "os", "torch", "torch.distributed", "torch.nn", "torch.nn.functional"]);
    expect(seen.keys).toContain(`${name}.weight`);
    expect(seen.data).toBe('d"\n.nndata');
  });
});
