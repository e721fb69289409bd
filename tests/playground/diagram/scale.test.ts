/**
 * The pure parts of the diagram's live view (issue 17): which unit a dot stands for, the
 * diverging colour of a unit's map, and an edge's stroke from its weight.
 */
import { describe, expect, it } from "vitest";
import { unitOfDot } from "../../../playground/src/diagram/layout.js";
import { diverging, edgeStyle } from "../../../playground/src/diagram/scale.js";

describe("the diagram's live view", () => {
  it("maps dots to units: all of a small layer, the first five and the last of a wide one", () => {
    expect([0, 1, 2].map((k) => unitOfDot(k, 3, 3))).toEqual([0, 1, 2]);
    expect([0, 1, 2, 3, 4, 5, 6].map((k) => unitOfDot(k, 7, 32))).toEqual([0, 1, 2, 3, 4, undefined, 31]);
    expect(unitOfDot(0, 0, 0)).toBeUndefined();
  });

  it("colours a map blue below zero, white at zero, orange above, saturating at ±1", () => {
    expect(diverging(0)).toEqual([255, 255, 255]);
    expect(diverging(-1)).toEqual([14, 116, 196]);
    expect(diverging(1)).toEqual([234, 128, 12]);
    expect(diverging(5)).toEqual(diverging(1));
    const half = diverging(-0.5);
    expect(half[2]).toBeGreaterThan(half[0]);
  });

  it("strokes an edge by its weight's sign and thickens it with |w|", () => {
    expect(edgeStyle(-0.3, 1).stroke).toBe("rgb(14,116,196)");
    expect(edgeStyle(0.3, 1).stroke).toBe("rgb(234,128,12)");
    expect(edgeStyle(0.9, 1).width).toBeGreaterThan(edgeStyle(-0.3, 1).width);
    expect(edgeStyle(-1, 1).width).toBe(edgeStyle(1, 1).width);
    expect(edgeStyle(0, 0).width).toBeGreaterThan(0);
  });
});
