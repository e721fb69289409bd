/**
 * Nothing trusted (issue 22, items 6 and 7), through the real CLI as a child process:
 *
 * - item 7: inputs that used to crash with a stack trace (exit 70) — CSV columns named
 *   `__proto__` / `constructor`, a JSON value nested 100,000 deep, checkpoints whose checksum is
 *   valid but whose header, history or optimizer state is malformed — now train, or end with
 *   one clear message;
 * - item 6: ESC, BEL, CR and C1 bytes from CSV cells, header names, class labels, and `.nn`
 *   strings never reach stdout or stderr raw (`runtime/inert.ts`, applied where text reaches
 *   the terminal: `cli/render.ts`, the progress printer, the confusion matrix).
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fnv32 } from "../../runtime/hash.js";
import { inert } from "../../runtime/inert.js";
import { expectOneClearError, pool, run, type ChildResult } from "./cli-child.js";

const ROOT_DIR = mkdtempSync(join(tmpdir(), "nnc-untrusted-"));
let dirs = 0;
function folder(files: Record<string, string>): string {
  const dir = join(ROOT_DIR, `case-${dirs++}`);
  mkdirSync(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const model = (data: string, opts: { input?: number; metrics?: string; optimizer?: string; epochs?: number } = {}) => `model M {
  seed 1
  input ${opts.input ?? 2}
  dense 4, relu
  dense 2, softmax
}
loss cross_entropy
optimizer ${opts.optimizer ?? "sgd(lr: 0.1)"}
metrics ${opts.metrics ?? "accuracy"}
data {
  ${data}
}
train {
  epochs ${opts.epochs ?? 2}
  batch 4
}
`;

const rows = (label: (i: number) => string, n = 16) => Array.from({ length: n }, (_, i) => `${(i % 4) / 4},${(i % 3) / 3},${label(i)}`).join("\n") + "\n";

/** No byte a terminal acts on (ESC, BEL, CR, C1 controls, other C0 controls but tab and LF). */
function expectInert(r: ChildResult, what: string): void {
  for (const [name, text] of [["stdout", r.stdout], ["stderr", r.stderr]] as const) {
    const bad = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.exec(text);
    expect(bad, `${what}: ${name} holds U+${bad?.[0].charCodeAt(0).toString(16).padStart(4, "0")} raw:\n${JSON.stringify(text).slice(0, 2000)}`).toBeNull();
  }
}

function expectNoCrash(r: ChildResult, what: string): void {
  const all = r.stdout + r.stderr;
  expect(r.code, `${what}: exit code\n${all}`).not.toBe(70);
  expect(all, `${what}: no internal error`).not.toMatch(/internal error/);
  expect(all, `${what}: no stack trace`).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
}

describe("item 7: no crash on hostile names, deep nesting, malformed checkpoints", () => {
  it("CSV columns named __proto__ and constructor train, and predict and eval read them back", async () => {
    const csv = "__proto__,constructor,toString\n" + rows((i) => String(i % 2));
    const dir = folder({
      "d.csv": csv,
      "t.csv": csv,
      "in.csv": "__proto__,constructor\n0.5,0.25\n0.75,0\n",
      "m.nn": model('train csv("d.csv", label: toString)\n  test csv("t.csv", label: toString)'),
      "c.nn": model('train csv("d.csv", label: toString, categorical: ["__proto__"])', { input: 5 }),
    });
    const out = join(dir, "out");
    const train = await run(["train", join(dir, "m.nn"), "--out", out]);
    expectNoCrash(train, "train");
    expect(train.code, train.stderr).toBe(0);
    const weights = join(out, "weights.json");
    const [predict, evaluate, categorical] = await pool([
      () => run(["predict", join(dir, "m.nn"), "--weights", weights, "--input", join(dir, "in.csv")]),
      () => run(["eval", join(dir, "m.nn"), "--weights", weights, "--data", "test"]),
      () => run(["train", join(dir, "c.nn"), "--out", join(dir, "out-c")]),
    ]);
    for (const [what, r] of [["predict", predict], ["eval", evaluate], ["categorical __proto__", categorical]] as const) {
      expectNoCrash(r!, what);
      expect(r!.code, `${what}\n${r!.stdout}${r!.stderr}`).toBe(0);
    }
    expect(predict!.stdout.trim().split("\n").length).toBeGreaterThanOrEqual(2);
  });

  it("a JSON value nested 100,000 deep is walked without recursion: one clear message for x, a label for y", async () => {
    const deep = "[".repeat(100_000) + "1" + "]".repeat(100_000);
    const dir = folder({
      "x.json": `[{"x": ${deep}, "y": 0}, {"x": [1, 2], "y": 1}]`,
      "y.json": `{"x": [[1, 2], [3, 4]], "y": [${deep}, 1]}`,
      "m.nn": model('train json("x.json")'),
      "n.nn": model('train json("y.json")'),
    });
    const [rx, ry] = await pool([() => run(["train", join(dir, "m.nn"), "--out", join(dir, "o1")]), () => run(["train", join(dir, "n.nn"), "--out", join(dir, "o2")])]);
    expectOneClearError(rx!, /^NN4\d{3}$/, "100,000-deep x");
    // A label nested 100,000 deep still holds one number: it trains.
    expectNoCrash(ry!, "100,000-deep y");
    expect(ry!.code, ry!.stderr).toBe(0);
  });

  /** A checkpoint rebuilt with an edited header (and body), its checksum made valid again. */
  function reframe(bytes: Uint8Array, edit: (h: Record<string, unknown>) => unknown, body?: (b: Uint8Array, h: Record<string, unknown>) => Uint8Array): Uint8Array {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const version = view.getUint32(4, true);
    const headLen = view.getUint32(8, true);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headLen))) as Record<string, unknown>;
    const start = (12 + headLen + 7) & ~7;
    const oldBody = bytes.slice(start, bytes.length - 4);
    const newBody = body ? body(oldBody, header) : oldBody;
    const head = new TextEncoder().encode(JSON.stringify(edit(header)));
    const at = (12 + head.length + 7) & ~7;
    const out = new Uint8Array(at + newBody.length + 4);
    const v = new DataView(out.buffer);
    out.set([0x4e, 0x4e, 0x43, 0x4b], 0);
    v.setUint32(4, version, true);
    v.setUint32(8, head.length, true);
    out.set(head, 12);
    out.set(newBody, at);
    v.setUint32(at + newBody.length, fnv32(out.subarray(0, at + newBody.length)), true);
    return out;
  }

  it("a checkpoint with a valid checksum but a malformed header, history or optimizer state is one NN5003, left as it is", async () => {
    const dir = folder({ "d.csv": "a,b,y\n" + rows((i) => String(i % 2)), "m.nn": model('train csv("d.csv")', { optimizer: "adam(lr: 0.01)", epochs: 3 }) });
    const first = await run(["train", join(dir, "m.nn"), "--out", join(dir, "good"), "--epochs", "2"]);
    expect(first.code, first.stderr).toBe(0);
    const good = new Uint8Array(readFileSync(join(dir, "good", "checkpoint.nnck"))); // a copy: Buffer#slice would share memory
    const set = (k: string, v: unknown) => (h: Record<string, unknown>) => ({ ...h, [k]: v });
    const cases: [string, Uint8Array][] = [
      ["the header is a list", reframe(good, () => [])],
      ["history is not a list", reframe(good, set("history", "oops"))],
      ["history has a hole", reframe(good, (h) => ({ ...h, history: [null, ...(h["history"] as unknown[]).slice(1)] }))],
      ["a history value is text", reframe(good, (h) => ({ ...h, history: (h["history"] as Record<string, unknown>[]).map((r) => ({ ...r, values: { loss: "low" } })) }))],
      ["history longer than the epochs", reframe(good, set("epoch", 1))],
      ["a negative epoch", reframe(good, set("epoch", -1))],
      ["a fractional step", reframe(good, set("step", 1.5))],
      ["no lengths", reframe(good, set("lengths", undefined))],
      ["an unknown dtype", reframe(good, set("dtype", "float16"))],
      ["best of the wrong shape", reframe(good, set("best", { value: "x" }))],
      ["stopped is not a boolean", reframe(good, set("stopped", "no"))],
      ["a malformed position", reframe(good, set("position", { batch: 3 }))],
      [
        "an optimizer state one value short",
        reframe(
          good,
          (h) => ({ ...h, lengths: { ...(h["lengths"] as object), optimizer: (h["lengths"] as { optimizer: number }).optimizer - 1 } }),
          (b) => b.slice(0, b.length - 4),
        ),
      ],
      [
        "a NaN in the optimizer state",
        reframe(
          good,
          (h) => h,
          (b, h) => {
            const p = (h["lengths"] as { params: number }).params;
            const c = b.slice();
            new DataView(c.buffer).setFloat32((p + 1) * 4, NaN, true);
            return c;
          },
        ),
      ],
    ];
    const results = await pool(
      cases.map(([name, bytes], i) => async () => {
        const out = join(dir, `bad-${i}`);
        mkdirSync(out);
        writeFileSync(join(out, "checkpoint.nnck"), bytes);
        const r = await run(["train", join(dir, "m.nn"), "--out", out, "--resume"]);
        return { name, r, out, bytes };
      }),
      4,
    );
    for (const { name, r, out, bytes } of results) {
      expectOneClearError(r, "NN5003", name);
      expect(Buffer.compare(readFileSync(join(out, "checkpoint.nnck")), Buffer.from(bytes)), `${name}: checkpoint left as it was`).toBe(0);
    }
    // The untouched checkpoint still resumes.
    const resumed = await run(["train", join(dir, "m.nn"), "--out", join(dir, "good"), "--resume"]);
    expect(resumed.code, resumed.stderr).toBe(0);
  }, 120_000);

  // Open until cli/commands/check.ts stops spreading all diagnostics into `push(...)` (the
  // other half of item 7, owned by the language work): flip to `it` when it passes.
  it("`nnc check` on a one-line file with 200,000 diagnostics ends with its errors, not a stack overflow", async () => {
    const dir = folder({ "one.nn": "model M { input 2 " + "@ ".repeat(200_000) + "}\n" });
    const r = await run(["check", "--format", "json", join(dir, "one.nn")]);
    expectNoCrash(r, "check");
    expect(r.code).toBe(1);
  }, 120_000);
});

describe("item 6: no terminal escape from a file reaches the terminal raw", () => {
  const ESC_LABEL = "\u001b[31mred\u0007";
  const ESC_HEADER = "a\u001b]0;pwned\u0007";

  it("class labels (epoch lines, confusion matrix, test line) are shown inert", async () => {
    const dir = folder({
      "d.csv": "a,b,label\n" + rows((i) => (i % 2 ? ESC_LABEL : "blue\u009b2J"), 24),
      "m.nn": model('train csv("d.csv", label: label)\n  test 25%', { metrics: "accuracy, confusion_matrix" }),
    });
    const r = await run(["train", join(dir, "m.nn"), "--out", join(dir, "out")]);
    expect(r.code, r.stderr).toBe(0);
    expectInert(r, "train with escape labels");
    expect(r.stdout).toContain(inert(ESC_LABEL));
    const ev = await run(["eval", join(dir, "m.nn"), "--weights", join(dir, "out", "weights.json"), "--data", "test"]);
    expect(ev.code, ev.stderr).toBe(0);
    expect(ev.stdout).toContain("confusion matrix");
    expectInert(ev, "eval with escape labels");
  });

  it("header names, cells and .nn strings in messages, hints and code frames are shown inert", async () => {
    const dir = folder({
      "h.csv": `${ESC_HEADER},b,y\n` + rows((i) => String(i % 2)).replace("0,0,0", "0,x\u001b[2J\r,0"),
      "h.nn": model('train csv("h.csv")'),
      "col.nn": model(`train csv("h.csv", label: "nope\u001b[8m")`),
      "path.nn": model(`train csv("missing\u001b]52;c;aGk=\u0007.csv")`),
      "lab.csv": "a,b,y\n" + rows((i) => (i === 5 ? "\u001b[1mbig" : String(i % 2))),
      "lab.nn": model('train csv("lab.csv")', {}).replace("cross_entropy", "mse").replace("dense 2, softmax", "dense 1"),
    });
    const cases = await pool([
      () => run(["train", join(dir, "h.nn"), "--out", join(dir, "o1")]),
      () => run(["train", join(dir, "col.nn"), "--out", join(dir, "o2")]),
      () => run(["train", join(dir, "path.nn"), "--out", join(dir, "o3")]),
      () => run(["check", "--data", join(dir, "col.nn")]),
      () => run(["train", join(dir, "lab.nn"), "--out", join(dir, "o4")]),
    ]);
    const names = ["a cell", "a missing column", "a data path", "check --data", "a label"];
    cases.forEach((r, i) => {
      expect(r!.code, `${names[i]}: refused\n${r!.stderr}`).not.toBe(0);
      expectNoCrash(r!, names[i]!);
      expectInert(r!, names[i]!);
    });
    // The message still says what is wrong, with the escapes shown.
    expect(cases[0]!.stderr).toContain(inert("x\u001b[2J"));
    expect(cases[1]!.stderr).toContain(inert(ESC_HEADER));
    expect(cases[2]!.stderr).toContain("missing\u241b]52;c;aGk=\u2407.csv");
  });

  it("inert() leaves one visible character per unit it replaces, and plain text as it is", () => {
    expect(inert("plain text, ünïcode — 漢字 ok")).toBe("plain text, ünïcode — 漢字 ok");
    expect(inert("\u001b[2J\u0007\r\u009b\u007f\u202e")).toBe("\u241b[2J\u2407\u240d\ufffd\u2421\ufffd");
    expect(inert("a\nb")).toBe("a\u240ab");
    expect(inert("a\nb\rc", { keepNewlines: true })).toBe("a\nb\u240dc");
    expect(inert("a\tb")).toBe("a b");
  });
});
