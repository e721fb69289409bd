/**
 * Issue 22, "schema fuzzing of weights.json and checkpoints with valid checksums": a valid file,
 * one field replaced by an arbitrary JSON value (fast-check), is either still a valid file or
 * refused with one message — never an exception, never NaN weights or a wrong length let in.
 * Checkpoints are re-sealed after the edit (their checksum is valid), so the header's own checks
 * are what is exercised, not the checksum.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeCheckpoint, encodeCheckpoint } from "../../runtime/checkpoint.js";
import { fnv32 } from "../../runtime/hash.js";
import type { TrainerState } from "../../runtime/train.js";
import { decodeWeights, encodeWeights } from "../../runtime/weights.js";
import { fixtureModel } from "../runtime/fixtures/mlp.js";
import { example, programOf } from "../runtime/helpers.js";

const program = programOf(example("iris"));
const pre = { scale: 1, normalize: "standard" as const, shift: [1, 2, 3, 4], divide: [1, 1, 1, 1], classes: ["a", "b", "c"] };

/** Every path to a value in a JSON document (arrays: their first, last and one middle element). */
function paths(v: unknown, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(at);
  if (Array.isArray(v)) {
    for (const i of new Set([0, v.length >> 1, v.length - 1])) if (i >= 0 && i < v.length) paths(v[i], [...at, i], out);
  } else if (v !== null && typeof v === "object") {
    for (const k of Object.keys(v)) paths((v as Record<string, unknown>)[k], [...at, k], out);
  }
  return out;
}

/** A copy of `doc` with the value at `path` replaced (or the key deleted when `value` is undefined). */
function edited(doc: unknown, path: readonly (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const copy: unknown = structuredClone(doc);
  let o = copy as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (value === undefined && !Array.isArray(o)) delete o[last];
  else o[last] = value;
  return copy;
}

/** Values a hand-edit or a hostile file may hold where another was. */
const replacement = fc.oneof(
  fc.constantFrom(undefined, null, true, "", "x", 0, -1, 1e308, -1e308, 0.5, 1e999.toString(), [], {}, [1, 2], { a: 1 }),
  fc.integer(),
  fc.double({ noNaN: true }),
  fc.string({ maxLength: 8 }),
  fc.array(fc.oneof(fc.double({ noNaN: true }), fc.string({ maxLength: 3 })), { maxLength: 6 }),
  fc.jsonValue({ maxDepth: 3 }),
);

describe("schema fuzzing", () => {
  it("a weights.json with any one field replaced: valid (finite, full length) or one NN5004, never an exception", () => {
    const m = fixtureModel(program);
    m.init(3);
    const doc = JSON.parse(encodeWeights(m, pre, { kind: "multiclass", classes: 3 }, 100)) as unknown;
    const all = paths(doc);
    let refused = 0;
    fc.assert(
      fc.property(fc.nat(all.length - 1), replacement, (i, value) => {
        const text = JSON.stringify(edited(doc, all[i]!, value)) ?? "null";
        const target = fixtureModel(program);
        const r = decodeWeights(text, target, "w.json");
        if (r.value === undefined) {
          refused++;
          expect(r.diagnostics.map((d) => d.code)).toEqual(["NN5004"]);
        } else {
          expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
          expect(r.value.params.length).toBe(target.params.length);
          for (const p of r.value.params) expect(Number.isFinite(p)).toBe(true);
          for (const d of r.value.preprocess.divide) expect(Number.isFinite(d) && d !== 0).toBe(true);
        }
      }),
      { numRuns: 400, seed: 22 },
    );
    // The fuzzing reached the checks: most edits of a weights file are refused.
    expect(refused).toBeGreaterThan(200);
  });

  it("a checkpoint whose header has any one field replaced, re-sealed with a valid checksum: decoded or refused with a reason, never an exception", () => {
    const m = fixtureModel(program);
    m.init(5);
    const state: TrainerState = {
      epoch: 7,
      model: { ...m.getState(), step: 42, rng: 123456789 },
      history: [{ epoch: 1, lr: 0.01, seconds: 0.1, samplesPerSecond: 10, values: { loss: 1.5 } }],
      best: { value: 0.25, epoch: 5, params: new Float32Array(m.params) },
      wait: 2,
      stopped: false,
    };
    const bytes = encodeCheckpoint(state, "abc", "Iris", pre);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const headLength = view.getUint32(8, true);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headLength))) as unknown;
    const body = bytes.subarray(align8(12 + headLength), bytes.length - 4);
    const all = paths(header);
    let refused = 0;
    fc.assert(
      fc.property(fc.nat(all.length - 1), replacement, (i, value) => {
        const c = decodeCheckpoint(reseal(bytes, edited(header, all[i]!, value), body));
        if (typeof c === "string") {
          refused++;
          expect(c.length).toBeGreaterThan(0);
        } else {
          expect(c.state.model.params.length).toBe(m.params.length);
          for (const p of c.state.model.params) expect(Number.isFinite(p)).toBe(true);
        }
      }),
      { numRuns: 400, seed: 22 },
    );
    expect(refused).toBeGreaterThan(100);
  });
});

function align8(n: number): number {
  return (n + 7) & ~7;
}

/** The checkpoint `bytes` with another header and the same body, its checksum made valid again. */
function reseal(bytes: Uint8Array, header: unknown, body: Uint8Array): Uint8Array {
  const head = new TextEncoder().encode(JSON.stringify(header) ?? "null");
  const start = align8(12 + head.length);
  const out = new Uint8Array(start + body.length + 4);
  out.set(bytes.subarray(0, 8), 0);
  new DataView(out.buffer).setUint32(8, head.length, true);
  out.set(head, 12);
  out.set(body, start);
  new DataView(out.buffer).setUint32(start + body.length, fnv32(out.subarray(0, start + body.length)), true);
  return out;
}
