/** Mean absolute error: mean of |p − t| (derivative 0 exactly at p = t). */
import { lossOp, type LossDef } from "./loss.js";

export const maeDef: LossDef = {
  kind: "mae",
  term: (p, t) => `Math.abs(${p} - ${t})`,
  grad: (p, t) => `${p} > ${t} ? 1 : ${p} < ${t} ? -1 : 0`,
  mean: "all",
};

export const mae = lossOp(maeDef);
