/**
 * Magnitude pruning during training (`prune` in `train { … }`): at the end of each epoch from
 * `start` to `end`, the smallest weights of the weight matrices (dense, conv2d, … every
 * parameter named `.weight` with two or more axes; never biases or normalization) are masked,
 * the share masked rising on TF Model Optimization's polynomial schedule (power 3):
 *
 *     s(e) = S · (1 − (1 − (e − start + 1) / (end − start + 1))³),  s(end) = S
 *
 * ranked across all layers (`global`) or within each (`layer`). Exactly round(s · count)
 * weights are masked (ties broken by position); a masked weight stays masked (it is zero, and
 * ranks first). The masks are applied after every update, so masked weights stay exactly zero
 * through the rest of training (masked fine-tuning), and they are part of the trainer's state,
 * so a resumed run masks the same weights.
 */
import type { CompiledModel, Floats, ParamEntry } from "../compiler/model-api.js";
import type { Prune } from "../compiler/program.js";

/** The masks as saved in a checkpoint: one bit per prunable weight (1 = masked), base64. */
export interface PruneState {
  readonly masked: string;
  readonly count: number;
}

interface Tensor {
  readonly offset: number;
  readonly size: number;
}

export class Pruner {
  private readonly tensors: readonly Tensor[];
  /** Per prunable weight in tensor order: 1 when masked. */
  private readonly mask: Uint8Array;
  private readonly total: number;

  constructor(
    model: CompiledModel,
    readonly config: Prune,
  ) {
    this.tensors = prunable(model).map((p) => ({ offset: p.offset, size: p.size }));
    this.total = this.tensors.reduce((a, t) => a + t.size, 0);
    this.mask = new Uint8Array(this.total);
  }

  /** The share the schedule asks for at the end of (1-based) epoch e. */
  target(e: number): number {
    const { start, end, sparsity } = this.config;
    if (e < start) return 0;
    if (e >= end) return sparsity;
    const f = (e - start + 1) / (end - start + 1);
    return sparsity * (1 - Math.pow(1 - f, 3));
  }

  /** No weight masked (a fresh run). */
  reset(): void {
    this.mask.fill(0);
  }

  /** Zeroes the masked weights (after every update). */
  apply(params: Floats): void {
    let k = 0;
    for (const t of this.tensors) {
      for (let i = 0; i < t.size; i++) if (this.mask[k + i] === 1) params[t.offset + i] = 0;
      k += t.size;
    }
  }

  /** At the end of epoch e: masks grow to the schedule's share (within the window), then apply. */
  endEpoch(e: number, params: Floats): void {
    if (e >= this.config.start && e <= this.config.end) {
      const s = this.target(e);
      if (this.config.scope === "global") this.rank(params, 0, this.tensors.length, s);
      else for (let j = 0; j < this.tensors.length; j++) this.rank(params, j, j + 1, s);
    }
    this.apply(params);
  }

  /** Masks the round(s · count) smallest weights of tensors [from, to): masked ones first, then by magnitude, then by position. */
  private rank(params: Floats, from: number, to: number, s: number): void {
    let k0 = 0;
    for (let j = 0; j < from; j++) k0 += this.tensors[j]!.size;
    const ts = this.tensors.slice(from, to);
    const count = ts.reduce((a, t) => a + t.size, 0);
    const key = new Float64Array(count);
    let k = 0;
    for (const t of ts) for (let i = 0; i < t.size; i++, k++) key[k] = this.mask[k0 + k] === 1 ? -1 : Math.abs(params[t.offset + i] as number);
    const order = Array.from({ length: count }, (_, i) => i).sort((a, b) => key[a]! - key[b]! || a - b);
    const masked = Math.round(s * count);
    for (let i = 0; i < masked; i++) this.mask[k0 + order[i]!] = 1;
  }

  /** The share of the prunable weights that are zero now, and how many there are. */
  sparsity(params: Floats): { readonly zero: number; readonly count: number } {
    let zero = 0;
    for (const t of this.tensors) for (let i = 0; i < t.size; i++) if (params[t.offset + i] === 0) zero++;
    return { zero: this.total > 0 ? zero / this.total : 0, count: this.total };
  }

  /** Masked weights now, as a share. */
  masked(): number {
    let m = 0;
    for (const b of this.mask) m += b;
    return this.total > 0 ? m / this.total : 0;
  }

  save(): PruneState {
    const bits = new Uint8Array(Math.ceil(this.total / 8));
    for (let i = 0; i < this.total; i++) if (this.mask[i] === 1) bits[i >> 3]! |= 1 << (i & 7);
    let text = "";
    for (let i = 0; i < bits.length; i += 0x8000) text += String.fromCharCode(...bits.subarray(i, i + 0x8000));
    return { masked: btoa(text), count: this.total };
  }

  load(s: PruneState | undefined): void {
    this.reset();
    if (s === undefined || s.count !== this.total) return;
    const text = atob(s.masked);
    for (let i = 0; i < this.total; i++) this.mask[i] = (text.charCodeAt(i >> 3) >> (i & 7)) & 1;
  }
}

/** What is wrong with a checkpoint's `prune` field, or undefined (the model hash vouches for the count). */
export function pruneProblem(v: unknown): string | undefined {
  if (typeof v !== "object" || v === null) return "not an object";
  const o = v as Record<string, unknown>;
  const count = o["count"];
  if (typeof count !== "number" || !Number.isInteger(count) || count < 0) return "`count` is not a whole number";
  const masked = o["masked"];
  if (typeof masked !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(masked) || Math.floor((masked.length * 3) / 4) < Math.ceil(count / 8)) return "`masked` is not the base64 of one bit per weight";
  return undefined;
}

/** The tensors pruning ranks: trainable weight matrices and kernels (`.weight`, two or more axes). */
function prunable(model: CompiledModel): readonly ParamEntry[] {
  return model.layout.filter((p) => p.trainable && p.name.endsWith(".weight") && p.shape.length >= 2);
}

/** The sparsity reached, for the run's summary and report: "80.0% of 109184 weights zero (target 80%, global, epochs 2–6)". */
export function describeSparsity(p: Pruner, params: Floats): string {
  const { zero, count } = p.sparsity(params);
  const c = p.config;
  return `${(100 * zero).toFixed(1)}% of ${count} weights zero (target ${+(100 * c.sparsity).toFixed(2)}%, ${c.scope}, epochs ${c.start}–${c.end})`;
}
