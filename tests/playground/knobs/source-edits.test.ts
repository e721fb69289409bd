/**
 * The knobs edit the text and read it back: every edit keeps the text a program the checker
 * accepts, and the knob then reads the value it wrote.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkSource } from "../../../compiler/check.js";
import { csvColumns, csvShape, guessLabel } from "../../../playground/src/csv-columns.js";
import { adaptShape, applyEdits, canSet, KNOBS, readDataset, readKnob, readShape, setDataset, setKnob, trainOnFile, type Knob } from "../../../playground/src/knobs/source-edits.js";

const ROOT = join(import.meta.dirname, "../../..");
const SPIRAL = readFileSync(join(ROOT, "examples/spiral.nn"), "utf8");
const XOR = readFileSync(join(ROOT, "examples/xor.nn"), "utf8");

const set = (source: string, knob: Knob, value: string): string => applyEdits(source, setKnob(source, knob, value));

describe("knobs over the source", () => {
  it("read what the spiral example says", () => {
    expect(Object.fromEntries(KNOBS.map((k) => [k, readKnob(SPIRAL, k)]))).toEqual({
      lr: "0.01",
      activation: "relu",
      weightDecay: "0",
      noise: "0.03",
      batch: "32",
      test: "20",
    });
    expect(readDataset(SPIRAL)).toBe("spiral");
  });

  it("write each knob as one edit that checks and reads back", () => {
    const values: Record<Knob, string> = { lr: "0.3", activation: "tanh", weightDecay: "0.001", noise: "0.2", batch: "8", test: "40" };
    for (const source of [SPIRAL, XOR]) {
      let text = source;
      for (const k of KNOBS) {
        expect(canSet(text, k)).toBe(true);
        text = set(text, k, values[k]);
        expect(readKnob(text, k)).toBe(values[k]);
      }
      const checked = checkSource(text);
      expect(checked.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
      const p = checked.value!;
      expect(p.optimizer.lr).toBe(0.3);
      expect(p.optimizer.weightDecay).toBe(0.001);
      expect(p.train.batch).toBe(8);
      expect(p.data!.test).toBeCloseTo(0.4);
      expect(p.data!.train).toMatchObject({ kind: "generator", noise: 0.2 });
      // Hidden layers take the activation; the output layer keeps its own.
      const acts = p.model.nodes.map((n) => n.layer.activation?.kind);
      expect(acts.slice(0, -1).every((a) => a === "tanh")).toBe(true);
      expect(acts.at(-1)).toBe(source === SPIRAL ? "softmax" : "sigmoid");
    }
  });

  it("leave the rest of the text as it was", () => {
    const text = set(SPIRAL, "lr", "0.003");
    expect(text).toBe(SPIRAL.replace("adam(lr: 0.01)", "adam(lr: 0.003)"));
    expect(set("optimizer adam\n", "lr", "0.1")).toBe("optimizer adam(lr: 0.1)\n");
    expect(set("optimizer sgd(momentum: 0.9)\n", "lr", "0.1")).toBe("optimizer sgd(lr: 0.1, momentum: 0.9)\n");
    expect(set("optimizer sgd(momentum: 0.9)\n", "weightDecay", "0.01")).toBe("optimizer sgd(momentum: 0.9, weight_decay: 0.01)\n");
    // Not written, the weight decay is the optimizer's default.
    expect(readKnob("optimizer adamw(lr: 0.001)\n", "weightDecay")).toBe("0.01");
    expect(readKnob("optimizer sgd\n", "weightDecay")).toBe("0");
    // A source without a test share gets one, under its generator.
    const noTest = XOR.replace(/^\s*test.*\n/m, "");
    expect(readKnob(noTest, "test")).toBeUndefined();
    expect(readKnob(set(noTest, "test", "30"), "test")).toBe("30");
  });

  it("pick a data set by name, keeping its arguments", () => {
    const text = applyEdits(SPIRAL, setDataset(SPIRAL, "moons"));
    expect(text).toContain("train      moons(size: 1000, noise: 0.03, seed: 3)");
    expect(checkSource(text).diagnostics).toEqual([]);
  });

  it("say when the text has no place for a knob", () => {
    const csvModel = readFileSync(join(ROOT, "examples/iris.nn"), "utf8");
    expect(canSet(csvModel, "noise")).toBe(false);
    expect(setKnob(csvModel, "noise", "0.1")).toEqual([]);
    expect(readDataset(csvModel)).toBeUndefined();
  });
});

describe("a dropped CSV file", () => {
  const csv = "species,petal_length,petal_width,colour\nsetosa,1.4,0.2,red\nversicolor,4.7,1.4,blue\nvirginica,6.0,2.5,red\n";

  it("has its text label guessed, its text features one-hot, and the model adapted to it", () => {
    const { columns, delimiter } = csvColumns(csv);
    expect(delimiter).toBe(",");
    expect(guessLabel(columns)).toBe("colour"); // two text columns: the last one
    expect(guessLabel(csvColumns("a,b,kind\n1,2,x\n").columns)).toBe("kind");
    expect(csvShape(columns, "species")).toEqual({ features: 2 + 2, classes: 3 });
    const edits = adaptShape(SPIRAL, 4, 3);
    const adapted = applyEdits(SPIRAL, edits);
    expect(readShape(adapted)).toEqual({ input: 4, units: 3, activation: "softmax" });
    expect(adapted.split("\n").filter((l, i) => l !== SPIRAL.split("\n")[i])).toEqual(["  input 4", "  dense 3, softmax"]);
    // Trained on the file, the adapted model no longer meets the generator's width check (NN4009).
    expect(checkSource(adapted).diagnostics.map((d) => d.code)).toEqual(["NN4009"]);
    const onFile = trainOnFile(adapted);
    expect(onFile).toContain('train      csv("dropped.csv")\n');
    expect(checkSource(onFile).diagnostics).toEqual([]);
  });
});
