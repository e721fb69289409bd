/** The losses by kind. */
import type { LossDef } from "./loss.js";
import { mseDef } from "./mse.js";
import { maeDef } from "./mae.js";
import { huberDef } from "./huber.js";
import { binaryCrossEntropyDef } from "./binary_cross_entropy.js";
import { crossEntropyDef } from "./cross_entropy.js";

const LOSSES: ReadonlyMap<string, LossDef> = new Map(
  [mseDef, maeDef, huberDef, binaryCrossEntropyDef, crossEntropyDef].map((d) => [d.kind, d]),
);

export function lossDef(kind: string): LossDef {
  const l = LOSSES.get(kind);
  if (l === undefined) throw new Error(`bug: unknown loss ${kind}`);
  return l;
}
