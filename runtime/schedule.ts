/**
 * Learning rate per step: linear warm-up over the first `warmup` epochs (per step, from
 * base/steps up to base), then the schedule, evaluated per epoch counting from the end of warm-up.
 */
import type { Schedule } from "../compiler/program.js";

export interface LrPlan {
  readonly base: number;
  readonly schedule: Schedule;
  readonly warmup: number;
  readonly epochs: number;
  readonly stepsPerEpoch: number;
}

/** Learning rate for batch `batch` (0-based) of epoch `epoch` (0-based). */
export function learningRate(p: LrPlan, epoch: number, batch: number): number {
  if (epoch < p.warmup) {
    const total = p.warmup * p.stepsPerEpoch;
    return (p.base * (epoch * p.stepsPerEpoch + batch + 1)) / total;
  }
  return scheduled(p, epoch - p.warmup);
}

/** The schedule's rate for epoch `e` counted after warm-up. */
export function scheduled(p: LrPlan, e: number): number {
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
  }
}
