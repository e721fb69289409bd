/** A file dropped on the page: a weights file goes to ⬆ weights, anything else is a CSV to train on. */
import { describe, expect, it } from "vitest";
import { isWeightsFile } from "../../playground/src/csv-columns.js";

describe("isWeightsFile", () => {
  it("takes a .json name or JSON text for weights, and a CSV for data", () => {
    expect(isWeightsFile("spiral.weights.json", "")).toBe(true);
    expect(isWeightsFile("WEIGHTS.JSON", "x,y\n1,2\n")).toBe(true);
    expect(isWeightsFile("weights", '\n  {"format": "nnc-weights"}')).toBe(true);
    expect(isWeightsFile("iris.csv", "sepal_length,species\n5.1,setosa\n")).toBe(false);
    expect(isWeightsFile("data.json.csv", "a,b\n1,2\n")).toBe(false);
    expect(isWeightsFile("notes.txt", "")).toBe(false);
  });
});
