/**
 * Learning rate per step: linear warm-up over the first `warmup` epochs (per step, from
 * base/steps up to base), then the schedule, evaluated per epoch counting from the end of warm-up.
 * `reduce_on_plateau` depends on the run's figures, not only on the epoch: its state
 * (`PlateauState`) is advanced by the trainer after each epoch and saved in checkpoints.
 */
import type { PlateauSchedule, Schedule } from "../compiler/program.js";

export interface LrPlan {
  readonly base: number;
  readonly schedule: Schedule;
  readonly warmup: number;
  readonly epochs: number;
  readonly stepsPerEpoch: number;
}

/**
 * Learning rate for batch `batch` (0-based) of epoch `epoch` (0-based). `plateau`: the state of
 * a `reduce_on_plateau` schedule (its rate), absent for the others.
 */
export function learningRate(p: LrPlan, epoch: number, batch: number, plateau?: PlateauState): number {
  if (epoch < p.warmup) {
    const total = p.warmup * p.stepsPerEpoch;
    return (p.base * (epoch * p.stepsPerEpoch + batch + 1)) / total;
  }
  return scheduled(p, epoch - p.warmup, plateau);
}

/** The schedule's rate for epoch `e` counted after warm-up. */
export function scheduled(p: LrPlan, e: number, plateau?: PlateauState): number {
  const s = p.schedule;
  switch (s.kind) {
    case "constant":
      return p.base;
    case "step":
      return p.base * Math.pow(s.gamma, Math.floor(e / Math.max(1, s.every)));
    case "exponential":
      return p.base * Math.pow(s.gamma, e);
    case "cosine": {
      // Reaches min_lr one epoch after the last, so the last epoch still learns.
      const t = Math.min(1, e / Math.max(1, p.epochs - p.warmup));
      return s.minLr + ((p.base - s.minLr) * (1 + Math.cos(Math.PI * t))) / 2;
    }
    case "reduce_on_plateau":
      return plateau?.lr ?? p.base;
  }
}

/** Where `reduce_on_plateau` stands: plain JSON (a checkpoint's header holds it). */
export interface PlateauState {
  /** The rate from now on. */
  readonly lr: number;
  /** The best monitored value so far; null before the first. */
  readonly best: number | null;
  /** Epochs since the last improvement (reset by a reduction and during a cooldown). */
  readonly wait: number;
  /** Epochs of cooldown left. */
  readonly cooldown: number;
}

export function plateauStart(base: number): PlateauState {
  return { lr: base, best: null, wait: 0, cooldown: 0 };
}

/**
 * The state after an epoch whose monitored value is `value`, as Keras' `ReduceLROnPlateau.on_epoch_end`:
 * a cooldown epoch counts down and resets the wait; an improvement (by more than `min_delta`,
 * in the monitor's direction) becomes the best; otherwise, outside a cooldown, the wait grows,
 * and at `patience` the rate is multiplied by `factor` (not below `min_lr`; nothing happens when
 * it is already there), the wait resets and a cooldown starts. A missing or NaN value changes
 * nothing (Keras warns and skips).
 */
export function plateauUpdate(s: PlateauSchedule, state: PlateauState, value: number | undefined, mode: "min" | "max"): PlateauState {
  if (value === undefined || Number.isNaN(value)) return state;
  let { lr, best, wait, cooldown } = state;
  if (cooldown > 0) {
    cooldown--;
    wait = 0;
  }
  const improved = best === null || (mode === "min" ? value < best - s.minDelta : value > best + s.minDelta);
  if (improved) {
    best = value;
    wait = 0;
  } else if (cooldown === 0) {
    wait++;
    if (wait >= s.patience && lr > s.minLr) {
      lr = Math.max(lr * s.factor, s.minLr);
      cooldown = s.cooldown;
      wait = 0;
    }
  }
  return { lr, best, wait, cooldown };
}

/** What is wrong with a saved `PlateauState`, or undefined. */
export function plateauProblem(x: unknown): string | undefined {
  if (typeof x !== "object" || x === null || Array.isArray(x)) return "it is not an object";
  const o = x as Record<string, unknown>;
  const finite = (v: unknown): boolean => typeof v === "number" && Number.isFinite(v);
  if (!finite(o["lr"]) || (o["lr"] as number) < 0) return "`lr` is not a number ≥ 0";
  if (o["best"] !== null && !finite(o["best"])) return "`best` is neither null nor a number";
  for (const k of ["wait", "cooldown"]) if (!Number.isSafeInteger(o[k]) || (o[k] as number) < 0) return `\`${k}\` is not a whole number ≥ 0`;
  return undefined;
}
