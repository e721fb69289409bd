import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { nnc } from "./run-cli.js";

describe("nnc check", () => {
  it("passes every example and exits 0", () => {
    const r = nnc(["check", "examples/xor.nn", "examples/spiral.nn", "examples/iris.nn", "examples/sine.nn", "examples/fashion-mnist.nn"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("5 files: no errors\n");
    expect(r.code).toBe(0);
  });

  it("prints every problem with file:line:col, a code frame and a hint, and exits 1", () => {
    const dir = mkdtempSync(join(tmpdir(), "nnc-check-"));
    const file = join(dir, "bad.nn");
    writeFileSync(file, readFileSync("examples/spiral.nn", "utf8").replace("dense 32, relu", "dense 32, rleu").replace("adam(", "adma("));
    const r = nnc(["check", file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${file}:5:13 - error NN2004: unknown activation \`rleu\``);
    expect(r.stderr).toContain("5 │   dense 32, rleu\n  │             ~~~~\nhint: did you mean `relu`?");
    expect(r.stderr).toContain(`${file}:11:11 - error NN2006: unknown optimizer \`adma\``);
    expect(r.stderr).toContain("Found 2 errors in 1 file.");
    expect(r.stderr).not.toMatch(/\x1b\[/); // no colour when not a terminal
  });

  it("prints JSON with --format json", () => {
    const dir = mkdtempSync(join(tmpdir(), "nnc-check-"));
    const file = join(dir, "bad.nn");
    writeFileSync(file, "model M {\n  input 2\n  dense 1, sigmod\n}\nloss mse\n");
    const r = nnc(["check", "--format", "json", file]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual([
      {
        file,
        code: "NN2004",
        severity: "error",
        message: "unknown activation `sigmod`",
        line: 3,
        column: 12,
        endLine: 3,
        endColumn: 18,
        hint: "did you mean `sigmoid`?",
      },
    ]);
  });

  it("refuses an unknown --format", () => {
    const r = nnc(["check", "--format", "xml", "examples/xor.nn"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Allowed choices are text, json");
  });

  it("reports a missing file without a stack trace", () => {
    const r = nnc(["check", "no/such/file.nn"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error NN4001: cannot read no/such/file.nn: no such file");
    expect(r.stderr).not.toContain("    at ");
  });
});

describe("nnc itself", () => {
  it("--version prints the package version", () => {
    const r = nnc(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(JSON.parse(readFileSync("package.json", "utf8")).version);
  });

  it("--help lists every command", () => {
    const r = nnc(["--help"]);
    expect(r.code).toBe(0);
    for (const c of ["check", "fmt", "compile", "gradcheck", "train", "eval", "predict"]) expect(r.stdout).toMatch(new RegExp(`^  ${c} `, "m"));
  });

  it("an unknown command exits 1 with a pointer to --help", () => {
    const r = nnc(["chek", "x.nn"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("unknown command 'chek'");
    expect(r.stderr).toContain("(Did you mean check?)");
  });
});

describe("nnc fmt", () => {
  it("--check passes on the examples", () => {
    const r = nnc(["fmt", "--check", "examples/xor.nn", "examples/iris.nn"]);
    expect(r.stdout).toBe("");
    expect(r.code).toBe(0);
  });
  it("formats the good files and reports the broken ones, exit 1", () => {
    const dir = mkdtempSync(join(tmpdir(), "nnc-fmt-"));
    const bad = join(dir, "bad.nn");
    writeFileSync(bad, "model M {\n  input [2\n");
    const r = nnc(["fmt", bad, "examples/xor.nn"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${bad}: not formatted because of syntax errors`);
    expect(r.stdout).toBe(readFileSync("examples/xor.nn", "utf8"));
  });

  it("rewrites a messy file into canonical layout, keeping comments", () => {
    const dir = mkdtempSync(join(tmpdir(), "nnc-fmt-"));
    const file = join(dir, "m.nn");
    writeFileSync(file, "# a model\nmodel   M{\ninput 2 # two\n      dense 1,sigmoid}\nloss   mse\n");
    expect(nnc(["fmt", "--check", file]).code).toBe(1);
    expect(nnc(["fmt", "--write", file]).code).toBe(0);
    expect(readFileSync(file, "utf8")).toBe("# a model\nmodel M {\n  input 2  # two\n  dense 1, sigmoid\n}\n\nloss mse\n");
    expect(nnc(["fmt", "--check", file]).code).toBe(0);
  });
});
