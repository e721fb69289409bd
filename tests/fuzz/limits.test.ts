/**
 * The front end at its limits: 10 MB files, and the crashes fuzzing found (each written up in
 * /work/notes/fuzz-crashes.md, fixed, and guarded here).
 */
import { describe, it } from "vitest";
import { expectContract } from "./frontend-oracle.js";

const MB10 = 10 * 1024 * 1024;

describe("10 MB files", () => {
  it("one 10 MB comment", () => {
    expectContract("# " + "x".repeat(MB10));
  });
  it("256 KB of stray characters and 256 KB of U+2028 line separators", () => {
    expectContract("@".repeat(1 << 18) + "\u2028".repeat(1 << 18));
  });
  // fuzz-crashes.md #3: the StringLiteral regex overflowed V8's stack on a ~10 M character string (now a plain loop).
  it("a 10 MB string literal", () => {
    expectContract(`model M { input 2\n dense 1, name: "${"a".repeat(MB10)}" }\nloss mse`);
  });
});

describe("regressions", () => {
  // fuzz-crashes.md #1: a long chain of unary minus overflowed the checker's recursion (now NN1021).
  it("a chain of 50 000 unary minus signs", () => {
    expectContract(`model M { input ${"-".repeat(50_000)}1\n dense 1 }\nloss mse`);
  });
  // fuzz-crashes.md #2: a long `1+1+…` chain overflowed Checker.fold the same way (now NN1021).
  it("a chain of 25 000 additions", () => {
    expectContract(`model M { input ${"1+".repeat(25_000)}1\n dense 1 }\nloss mse`);
  });
});
