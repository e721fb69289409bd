/**
 * `nnc train`, `eval` and `predict` end to end, including a real child `nnc train` killed with
 * SIGKILL while it writes a checkpoint: the resumed run ends with the same weights as an
 * uninterrupted one.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { decodeCheckpoint } from "../../runtime/checkpoint.js";
import { nncInProcess } from "../cli/in-process.js";
import { CLI, ensureBuilt } from "../cli/run-cli.js";
import { ROOT } from "./helpers.js";

/** Runs the CLI in-process; returns the exit code and what it printed. */
const nnc = nncInProcess;

afterEach(() => vi.restoreAllMocks());

const dir = (): string => mkdtempSync(join(tmpdir(), "nnc-cli-"));

const spiralish = (epochs: number) => `model S {
  seed 1
  input 2
  dense 16, relu
  dense 2, softmax
}
loss cross_entropy
optimizer adam(lr: 0.01)
metrics accuracy
data {
  train spiral(size: 400, noise: 0.05, seed: 3)
  test 20%
  shuffle seed 9
}
train {
  epochs ${epochs}
  batch 32
  checkpoint every 1
}
`;

describe("nnc train / eval / predict", () => {
  it("train writes weights, a checkpoint and an HTML report; eval and predict use the weights", async () => {
    const d = dir();
    const out = join(d, "run");
    const t = await nnc("train", join(ROOT, "examples/iris.nn"), "--out", out, "--json");
    expect(t.code).toBe(0);
    const events = t.out.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.filter((e) => e["event"] === "epoch")).toHaveLength(100);
    const done = events.at(-1)!;
    expect(done["event"]).toBe("done");
    expect((done["test"] as { accuracy: number }).accuracy).toBeGreaterThanOrEqual(0.93);
    const report = readFileSync(join(out, "report.html"), "utf8");
    expect(report).toContain("<svg");
    expect(report).toContain("Confusion matrix");

    const e = await nnc("eval", join(ROOT, "examples/iris.nn"), "--weights", join(out, "weights.json"));
    expect(e.code).toBe(0);
    expect(e.out).toMatch(/^test: 30 samples\n {2}loss {7}\d/);
    expect(e.out).toContain("confusion matrix (rows: true class, columns: predicted)");
    const acc = Number(/accuracy +([\d.]+)/.exec(e.out)![1]);
    expect(acc).toBeCloseTo((done["test"] as { accuracy: number }).accuracy, 3);

    const input = join(d, "in.csv");
    writeFileSync(input, "sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n7.7,3.0,6.1,2.3\n");
    const p = await nnc("predict", join(ROOT, "examples/iris.nn"), "--weights", join(out, "weights.json"), "--input", input);
    expect(p.code).toBe(0);
    const rows = p.out.trim().split("\n");
    expect(rows[0]).toBe("prediction,p_setosa,p_versicolor,p_virginica");
    expect(rows.slice(1).map((r) => r.split(",")[0])).toEqual(["setosa", "virginica"]);

    const j = await nnc("predict", join(ROOT, "examples/iris.nn"), "--weights", join(out, "weights.json"), "--input", input, "--format", "json");
    expect((JSON.parse(j.out) as { prediction: string }[]).map((r) => r.prediction)).toEqual(["setosa", "virginica"]);
  });

  it("a weights file loads into the generated module alone", async () => {
    const d = dir();
    await nnc("train", join(ROOT, "examples/xor.nn"), "--out", d, "--quiet");
    const w = JSON.parse(readFileSync(join(d, "weights.json"), "utf8")) as { params: number[] };
    const { compileProgram } = await import("../../compiler/compile.js");
    const { loadModule } = await import("../../compiler/load.js");
    const { programOf, example } = await import("./helpers.js");
    const mod = loadModule(compileProgram(programOf(example("xor")), { target: "js" }).value!.code);
    const m = mod.createModel();
    m.params.set(w.params);
    const y = m.predict(new Float32Array([0, 0, 0, 1, 1, 0, 1, 1]), 4);
    expect(Array.from(y).map((v) => (v >= 0.5 ? 1 : 0))).toEqual([0, 1, 1, 0]);
  });

  it("--kernels: wasm (the default) and js train to the same accuracy, and their weights are interchangeable", async () => {
    const d = dir();
    writeFileSync(join(d, "s.nn"), spiralish(30));
    const runs: Record<string, number> = {};
    for (const k of ["wasm", "js"]) {
      const t = await nnc("train", join(d, "s.nn"), "--out", join(d, k), "--json", "--kernels", k);
      expect(t.code).toBe(0);
      const done = JSON.parse(t.out.trim().split("\n").at(-1)!) as { test: { accuracy: number } };
      runs[k] = done.test.accuracy;
      expect(done.test.accuracy).toBeGreaterThanOrEqual(0.9);
    }
    expect(Math.abs(runs["wasm"]! - runs["js"]!)).toBeLessThanOrEqual(0.05);
    // Weights trained with the wasm kernels, evaluated with the TypeScript ones: the same figure.
    const e = await nnc("eval", join(d, "s.nn"), "--weights", join(d, "wasm", "weights.json"), "--kernels", "js");
    expect(e.code).toBe(0);
    expect(Number(/accuracy +([\d.]+)/.exec(e.out)![1])).toBeCloseTo(runs["wasm"]!, 3);

    const bad = await nnc("train", join(d, "s.nn"), "--kernels", "gpu");
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("--kernels must be js or wasm, but is `gpu`");

    const c = await nnc("compile", join(ROOT, "examples/fashion-mnist.nn"), "--kernels", "wasm", "--target", "js");
    expect(c.code).toBe(0);
    const { loadModule } = await import("../../compiler/load.js");
    const m = loadModule(c.out).createModel();
    expect(m.forward(new Float32Array(784).fill(0.5), 1)).toHaveLength(10);
    expect(c.out).toMatch(/kernels\.dw2\(n\);/);
  });

  it("bad inputs end non-zero with the file, line and a hint", async () => {
    const d = dir();
    writeFileSync(join(d, "bad.csv"), "a,b,y\n1,2,0\n3,oops,1\n");
    writeFileSync(join(d, "m.nn"), `model M {\n  input 2\n  dense 2, softmax\n}\nloss cross_entropy\noptimizer sgd(lr: 0.1)\ndata {\n  train csv("bad.csv")\n}\n`);
    const r = await nnc("train", join(d, "m.nn"), "--out", join(d, "o"));
    expect(r.code).toBe(1);
    expect(r.err).toContain("bad.csv:3:3 - error NN4003: column `b` holds `oops`, which is not a number");
    expect(r.err).toContain("3 │ 3,oops,1");
    expect(r.err).toMatch(/hint: declare the column categorical/);

    writeFileSync(join(d, "m2.nn"), `model M {\n  input 3\n  dense 2, softmax\n}\nloss cross_entropy\noptimizer sgd(lr: 0.1)\ndata {\n  train csv("missing.csv")\n}\n`);
    const r2 = await nnc("train", join(d, "m2.nn"));
    expect(r2.code).toBe(1);
    expect(r2.err).toMatch(/m2\.nn:8:9 - error NN4001: cannot read .*missing\.csv: no such file/);

    const r3 = await nnc("eval", join(ROOT, "examples/iris.nn"), "--weights", join(d, "nope.json"));
    expect(r3.code).toBe(1);
    expect(r3.err).toContain("NN4001");

    const other = join(d, "other");
    await nnc("train", join(ROOT, "examples/xor.nn"), "--out", other, "--quiet");
    const r4 = await nnc("eval", join(ROOT, "examples/iris.nn"), "--weights", join(other, "weights.json"));
    expect(r4.code).toBe(1);
    expect(r4.err).toMatch(/NN5004: the weights file .* does not fit this model/);
    const r5 = await nnc("train", join(ROOT, "examples/iris.nn"), "--out", other, "--resume");
    expect(r5.code).toBe(1);
    expect(r5.err).toMatch(/NN5002: the checkpoint .*checkpoint\.nnck was written for a different model/);
    const ck = join(other, "checkpoint.nnck");
    writeFileSync(ck, readFileSync(ck).subarray(0, 200));
    const r6 = await nnc("train", join(ROOT, "examples/xor.nn"), "--out", other, "--resume");
    expect(r6.code).toBe(1);
    expect(r6.err).toMatch(/NN5003: the checkpoint .*checkpoint\.nnck is damaged: its checksum does not match/);
  });

  it("a diverging run exits 1 with NN5001 pointing at the optimizer and writes no weights", async () => {
    const d = dir();
    const src = readFileSync(join(ROOT, "examples/sine.nn"), "utf8").replace("adam(lr: 0.01)", "sgd(lr: 10)");
    writeFileSync(join(d, "sine.nn"), src);
    const r = await nnc("train", join(d, "sine.nn"), "--out", join(d, "o"));
    expect(r.code).toBe(1);
    const line = src.split("\n").findIndex((l) => l.includes("sgd(lr: 10)")) + 1;
    expect(r.err).toMatch(new RegExp(`sine\\.nn:${line}:\\d+ - error NN5001: training diverged: the loss became (NaN|Infinity) at epoch 1, batch \\d+`));
    expect(r.err).toMatch(/hint: lower the learning rate \(now 10; try 1\)/);
    expect(existsSync(join(d, "o", "weights.json"))).toBe(false);
  });

  it("SIGKILL during a checkpoint write, then --resume: the same final weights as an uninterrupted run", async () => {
    const d = dir();
    const nn = join(d, "s.nn");
    writeFileSync(nn, spiralish(8));
    const full = join(d, "full");
    expect((await nnc("train", nn, "--out", full, "--quiet")).code).toBe(0);

    // The child sleeps half-way through every checkpoint write; kill it inside the second one,
    // when a good checkpoint (epoch 1) exists and the next is half on disk.
    const cut = join(d, "cut");
    ensureBuilt(); // the bundled CLI (dist/nnc.mjs), as a user runs it
    const child = spawn(process.execPath, [CLI, "train", nn, "--out", cut, "--json"], {
      env: { ...process.env, NNC_CHECKPOINT_WRITE_DELAY_MS: "1000" },
      stdio: "ignore",
    });
    const exited = new Promise<NodeJS.Signals | null>((res) => child.on("exit", (_c, sig) => res(sig)));
    const temps = (): string[] => (existsSync(cut) ? readdirSync(cut).filter((f) => f.includes(".tmp-")) : []);
    let killedDuringWrite = false;
    const deadline = Date.now() + 90_000; // generous: a loaded machine starts processes slowly
    while (Date.now() < deadline) {
      if (existsSync(join(cut, "checkpoint.nnck")) && temps().length > 0) {
        child.kill("SIGKILL");
        killedDuringWrite = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(killedDuringWrite).toBe(true);
    expect(await exited).toBe("SIGKILL");
    expect(temps()).toHaveLength(1);
    const saved = decodeCheckpoint(readFileSync(join(cut, "checkpoint.nnck")));
    if (typeof saved === "string") throw new Error(saved);
    expect(saved.state.epoch).toBe(1);
    expect(existsSync(join(cut, "weights.json"))).toBe(false);

    const resumed = await nnc("train", nn, "--out", cut, "--resume");
    expect(resumed.code).toBe(0);
    expect(resumed.out).toContain("resuming from");
    expect(temps()).toHaveLength(0);
    const a = JSON.parse(readFileSync(join(full, "weights.json"), "utf8")) as { params: number[]; epochs: number };
    const b = JSON.parse(readFileSync(join(cut, "weights.json"), "utf8")) as { params: number[]; epochs: number };
    expect(b.epochs).toBe(8);
    expect(b.params).toEqual(a.params);
  }, 120_000);
});
