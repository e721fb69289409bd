/** Mean squared error: mean of (p − t)². */
import { lossOp, type LossDef } from "./loss.js";

export const mseDef: LossDef = {
  kind: "mse",
  term: (p, t) => `(${p} - ${t}) * (${p} - ${t})`,
  grad: (p, t) => `2 * (${p} - ${t})`,
  mean: "all",
};

export const mse = lossOp(mseDef);
